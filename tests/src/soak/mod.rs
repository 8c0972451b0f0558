//! The soak run: two `caseyos serve` processes on one fresh database under mixed load for a
//! bounded time, one of them SIGKILLed and started again on a schedule (alternating);
//! afterwards every acknowledged write is looked up in the event store. `caseyos-soak`
//! prints the [`Report`]; a test runs a short soak and asserts on it.
//!
//! Everything is bounded: the run's duration, every request (a timeout, a fixed number of
//! attempts), every wait (start-up, readiness, catching up, shutdown). Everything listens
//! on 127.0.0.1. The database is dropped at the end, also after a failure or a panic.

mod check;
mod fleet;
mod load;
mod report;
mod samples;

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use caseyos_domain::api::AgentsResponse;
use futures::FutureExt;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

pub use check::{AckCheck, ReadModelCheck};
pub use fleet::{Ending, Generation, NAMES};
pub use load::{Ack, Counts, NoAnswer, OpCount, Unanswered, Write};
pub use report::Report;
pub use samples::{Lag, Window};

use fleet::{Fleet, Launch};
use load::{Load, Tally};

/// What a soak run does.
#[derive(Clone, Debug)]
pub struct SoakConfig {
    /// How long the load runs.
    pub duration: Duration,
    /// One instance is SIGKILLed this often (A first, then B, …) …
    pub kill_every: Duration,
    /// … and started again this long after.
    pub down_for: Duration,
    /// Concurrent clients, each a closed loop over both instances.
    pub clients: usize,
    /// The report's windows (RSS, lag, requests).
    pub window: Duration,
    /// Each request's timeout.
    pub request_timeout: Duration,
    /// After the load, how long the read models and agent runs may take to settle.
    pub settle_for: Duration,
    /// The `caseyos` binary the instances run, and extra environment for it.
    pub server: PathBuf,
    pub server_env: Vec<(String, String)>,
    /// Each instance's `database_max_connections`.
    pub database_connections: u32,
}

impl SoakConfig {
    /// The documented run: 10 minutes, a kill every 2 minutes, 8 clients.
    pub fn standard(server: PathBuf) -> SoakConfig {
        SoakConfig {
            duration: Duration::from_secs(600),
            kill_every: Duration::from_secs(120),
            down_for: Duration::from_secs(5),
            clients: 8,
            window: Duration::from_secs(10),
            request_timeout: Duration::from_secs(15),
            settle_for: Duration::from_secs(90),
            server,
            server_env: Vec::new(),
            database_connections: 16,
        }
    }
}

/// Runs the soak on a database of its own on the test server (`CASEYOS_TEST_DATABASE_URL`),
/// which is dropped at the end whatever happens. `stop` (Ctrl-C) ends the load early; the
/// rest (checks, shutdown) still runs.
pub async fn run(config: SoakConfig, stop: CancellationToken) -> anyhow::Result<Report> {
    let (name, url) = crate::empty_database("caseyos_soak").await;
    let outcome = AssertUnwindSafe(soak(&config, &url, &name, stop))
        .catch_unwind()
        .await;
    let dropped = match crate::drop_database(&name).await {
        Ok(()) => true,
        Err(error) => {
            eprintln!("could not drop the soak's database {name}: {error}");
            false
        }
    };
    match outcome {
        Ok(Ok(mut report)) => {
            report.database_dropped = dropped;
            Ok(report)
        }
        Ok(Err(error)) => Err(error),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

async fn soak(
    config: &SoakConfig,
    url: &str,
    database: &str,
    stop: CancellationToken,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(url)
        .await
        .context("connect to the soak's database")?;
    caseyos_backend::infra::db::MIGRATOR
        .run(&pool)
        .await
        .context("migrate the soak's database")?;
    let token = crate::admin_token(&pool, "soak", "soak").await;
    let mut env = config.server_env.clone();
    env.push((
        "CASEYOS_DATABASE_MAX_CONNECTIONS".into(),
        config.database_connections.to_string(),
    ));
    let launch = Launch {
        binary: config.server.clone(),
        database_url: url.to_string(),
        token: token.clone(),
        env,
    };
    let mut fleet = Fleet::start(launch, started)
        .await
        .map_err(|why| anyhow!("the instances did not start: {why}"))?;
    let http = reqwest::Client::builder()
        .timeout(config.request_timeout)
        .connect_timeout(Duration::from_secs(2))
        .build()?;
    let agents = example_inputs(&http, &fleet, &token).await?;
    let tally = Arc::new(Tally::default());
    let load = Arc::new(Load {
        slots: fleet.slots.clone(),
        tally: tally.clone(),
        http: http.clone(),
        token: token.clone(),
        agents,
    });

    // The load, the probes and the kill schedule.
    let load_started = fleet.elapsed();
    let stop_load = stop.child_token();
    // Whatever way this function ends, the clients and the probes stop with it.
    let _stop_load_on_return = stop_load.clone().drop_guard();
    let clients: Vec<_> = (0..config.clients)
        .map(|n| tokio::spawn(load::client(n, load.clone(), stop_load.clone())))
        .collect();
    let stop_sampling = CancellationToken::new();
    let _stop_sampling_on_return = stop_sampling.clone().drop_guard();
    let sampler = tokio::spawn(samples::sample(
        fleet.slots.clone(),
        tally.clone(),
        http.clone(),
        token.clone(),
        started,
        config.window,
        stop_sampling.clone(),
    ));
    let load_began = Instant::now();
    let load_ends = load_began + config.duration;
    let mut kills = 0usize;
    loop {
        // Kills at kill_every, 2·kill_every, … strictly before the end of the load.
        // (A restart slower than kill_every delays the next kill, never the end.)
        let next_kill = load_began + config.kill_every * (kills as u32 + 1);
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep_until(next_kill.min(load_ends).into()) => {}
        }
        if Instant::now() >= load_ends {
            break;
        }
        fleet.kill_and_restart(kills % 2, config.down_for).await;
        kills += 1;
    }
    stop_load.cancel();
    let load_ran_for = fleet.elapsed() - load_started;
    for client in clients {
        // Each request is bounded; this bounds a client that would hang anyway.
        if tokio::time::timeout(config.request_timeout * 8, client)
            .await
            .is_err()
        {
            eprintln!("a client did not stop in time");
        }
    }
    fleet.note(format!(
        "load stopped after {:.1} s; every client has finished its last request",
        load_ran_for.as_secs_f64()
    ));

    // The read models catch up and the agent runs finish (bounded), then both instances
    // stop with SIGTERM.
    let settled = if stop.is_cancelled() {
        None
    } else {
        settle(&pool, config.settle_for, &stop).await?
    };
    let interrupted = stop.is_cancelled();
    if let Some(took) = settled {
        fleet.note(format!(
            "read models at the head of the log, no agent run queued or running ({:.2} s)",
            took.as_secs_f64()
        ));
    }
    let final_reads = final_reads(&http, &fleet, &token).await;
    stop_sampling.cancel();
    let windows = sampler.await.unwrap_or_default();
    let stderr_tails = fleet.stderr_tails(30);
    fleet.shut_down().await;

    // Every acknowledged write against the events.
    let counts = tally.take();
    let acks = check::check_acks(&pool, &counts.acks, &counts.unanswered).await?;
    let read_models = check::check_read_models(&pool).await?;
    let events: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    Ok(Report {
        config: config.clone(),
        database: database.to_string(),
        database_dropped: false,
        interrupted,
        load_ran_for,
        kills,
        generations: fleet.generations.clone(),
        timeline: fleet.timeline.clone(),
        restart_failures: fleet.failures.clone(),
        counts,
        windows,
        acks,
        read_models,
        settled,
        final_reads,
        events,
        stderr_tails,
    })
}

/// Every agent and its example input, from `GET /api/agents` on instance A.
async fn example_inputs(
    http: &reqwest::Client,
    fleet: &Fleet,
    token: &str,
) -> anyhow::Result<Vec<(String, serde_json::Value)>> {
    let (address, _) = fleet.slots.target(0);
    let agents: AgentsResponse = http
        .get(format!("{address}/api/agents"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let inputs: Vec<_> = agents
        .agents
        .into_iter()
        .map(|a| (a.name, a.example_input))
        .collect();
    if inputs.is_empty() {
        return Err(anyhow!("GET /api/agents lists no agent"));
    }
    Ok(inputs)
}

/// Waits (polling every 100 ms, at most `guard`, until `stop`) until every projection's
/// checkpoint is at the head of the log and no agent run is queued, running or cancelling.
/// How long it took, or none if it did not get there.
async fn settle(
    pool: &PgPool,
    guard: Duration,
    stop: &CancellationToken,
) -> anyhow::Result<Option<Duration>> {
    let names: Vec<&str> = caseyos_projections::all_projectors()
        .iter()
        .map(|p| p.name())
        .collect();
    let started = Instant::now();
    while started.elapsed() < guard && !stop.is_cancelled() {
        let head = caseyos_store::event::head(pool).await?;
        let checkpoints = caseyos_projections::runner::checkpoints(pool, &names).await?;
        let active: i64 = sqlx::query_scalar(
            "select count(*) from agent_runs where status in ('queued', 'running', 'cancelling')",
        )
        .fetch_one(pool)
        .await?;
        if checkpoints.iter().all(|c| *c >= head) && active == 0 {
            return Ok(Some(started.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(None)
}

/// After the load, each instance answers `/ready` and the counts (as the soak's caller):
/// `(instance, status of /ready, status of GET /api/queue/counts)`; 0 for no answer.
async fn final_reads(http: &reqwest::Client, fleet: &Fleet, token: &str) -> Vec<(usize, u16, u16)> {
    let mut reads = Vec::new();
    for slot in 0..2 {
        if fleet.slots.pid(slot).is_none() {
            continue;
        }
        let (address, _) = fleet.slots.target(slot);
        let status = |path: &'static str| {
            let request = http.get(format!("{address}{path}")).bearer_auth(token);
            async move {
                request
                    .send()
                    .await
                    .map_or(0, |response| response.status().as_u16())
            }
        };
        reads.push((
            slot,
            status("/ready").await,
            status("/api/queue/counts").await,
        ));
    }
    reads
}
