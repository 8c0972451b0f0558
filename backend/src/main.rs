#[tokio::main]
async fn main() -> anyhow::Result<()> {
    caseyos_backend::cli::main().await
}
