//! The `caseyos` CLI, built inside the tests package so tests can run it as a process.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    caseyos_backend::cli::main().await
}
