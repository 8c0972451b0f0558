//! `caseyos-soak`: two `caseyos serve` instances on one fresh database under mixed load,
//! one SIGKILLed and restarted every two minutes; prints what was served, what failed, and
//! whether every acknowledged write's events exist (`caseyos_tests::soak`).
//!
//! ```text
//! cargo run --release -p caseyos-tests --bin caseyos-soak                       # 10 minutes
//! cargo run --release -p caseyos-tests --bin caseyos-soak -- --minutes 2 --kill-every 30s
//! ```
//!
//! The instances run this same binary as the `caseyos` CLI (`caseyos-soak serve ...` is the
//! backend's `cli::main`, as `caseyos-under-test` and `caseyos-bench serve` are), so the soak
//! always runs the server it was built with; `--server PATH` runs another `caseyos` binary. The report goes to stdout,
//! progress to stderr. Exit status: 0 when every check passed, 1 when one failed, 2 when the
//! soak could not run. Ctrl-C ends the load early and still checks, stops both instances
//! and drops the database.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, Context};
use caseyos_tests::soak::{self, SoakConfig};
use clap::Parser;
use tokio_util::sync::CancellationToken;

/// Two `caseyos serve` instances on one database under mixed load, one killed with
/// SIGKILL and restarted on a schedule. Uses CASEYOS_TEST_DATABASE_URL (default
/// postgres://postgres@127.0.0.1:5432/postgres) to create and drop its database.
#[derive(Debug, Parser)]
#[command(name = "caseyos-soak")]
struct Args {
    /// How long the load runs, in minutes (fractions allowed).
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// How often an instance is SIGKILLed (alternating A and B), e.g. `120s`, `2m`.
    #[arg(long, default_value = "120s", value_parser = duration)]
    kill_every: Duration,
    /// How long a killed instance stays down before it is started again.
    #[arg(long, default_value = "5s", value_parser = duration)]
    down_for: Duration,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    clients: u16,
    /// The report's window for RSS, lag and request rates.
    #[arg(long, default_value = "10s", value_parser = duration)]
    window: Duration,
    /// Each request's timeout.
    #[arg(long, default_value = "15s", value_parser = duration)]
    request_timeout: Duration,
    /// How long the read models and agent runs may take to settle after the load.
    #[arg(long, default_value = "90s", value_parser = duration)]
    settle_for: Duration,
    /// Each instance's database_max_connections.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(4..=64))]
    db_connections: u32,
    /// The `caseyos` binary to run (default: this binary, serving as the `caseyos` CLI).
    #[arg(long, value_name = "PATH")]
    server: Option<PathBuf>,
}

/// `500ms`, `30s`, `2m`: a positive duration of at most a day.
fn duration(raw: &str) -> Result<Duration, String> {
    let (number, unit) = raw
        .find(|c: char| !c.is_ascii_digit())
        .map_or((raw, ""), |i| raw.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{raw}`: a whole number and ms, s or m"))?;
    let d = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => return Err(format!("`{raw}`: the unit must be ms, s or m")),
    };
    if d.is_zero() || d > Duration::from_secs(86_400) {
        return Err(format!("`{raw}`: between 1 ms and 24 h"));
    }
    Ok(d)
}

#[tokio::main]
async fn main() {
    // `caseyos-soak serve ...` is the real CLI: the instances the soak drives.
    caseyos_tests::serve_when_asked().await;
    let args = Args::parse();
    match soak_run(args).await {
        Ok(passed) => std::process::exit(if passed { 0 } else { 1 }),
        Err(error) => {
            eprintln!("the soak could not run: {error:#}");
            std::process::exit(2);
        }
    }
}

async fn soak_run(args: Args) -> anyhow::Result<bool> {
    if !(args.minutes > 0.0 && args.minutes <= 24.0 * 60.0) {
        return Err(anyhow!("--minutes must be more than 0 and at most a day"));
    }
    let server = match args.server {
        Some(path) => path,
        None => std::env::current_exe().context("find this binary")?,
    };
    let config = SoakConfig {
        duration: Duration::from_secs_f64(args.minutes * 60.0),
        kill_every: args.kill_every,
        down_for: args.down_for,
        clients: usize::from(args.clients),
        window: args.window,
        request_timeout: args.request_timeout,
        settle_for: args.settle_for,
        database_connections: args.db_connections,
        ..SoakConfig::standard(server)
    };
    let stop = CancellationToken::new();
    tokio::spawn(stop_on_signal(stop.clone()));
    eprintln!(
        "soak: {:.0} s of load, {} clients, SIGKILL every {} s; Ctrl-C stops early (the checks, \
         shutdown and cleanup still run)",
        config.duration.as_secs_f64(),
        config.clients,
        config.kill_every.as_secs()
    );
    let report = soak::run(config, stop).await?;
    println!("{report}");
    Ok(report.failures().is_empty())
}

/// Cancels `stop` on Ctrl-C or SIGTERM.
async fn stop_on_signal(stop: CancellationToken) {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(error) => {
            eprintln!("soak: cannot listen for SIGTERM: {error}");
            let _ = tokio::signal::ctrl_c().await;
            stop.cancel();
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!(
        "soak: stopping the load; checking, stopping the instances and dropping the database"
    );
    stop.cancel();
}
