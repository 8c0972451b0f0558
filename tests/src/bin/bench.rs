//! `caseyos-bench`: the CaseyOS benchmark, all in one run.
//!
//! ```text
//! cargo run --release -p caseyos-tests --bin caseyos-bench            # full sizes
//! cargo run --release -p caseyos-tests --bin caseyos-bench -- --quick # a small smoke run
//! cargo run --release -p caseyos-tests --bin caseyos-bench -- --only duplicates
//! cargo run --release -p caseyos-tests --bin caseyos-bench -- --only import
//! ```
//!
//! `--only SECTION[,SECTION]` runs some sections: `server` (phases 0–5 and 7), `rebuild`
//! (phase 6), `duplicates` (phase 8), `import` (phase 9), `deals`, `loop` (phase 10).
//!
//! It creates its own databases on `CASEYOS_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`; connections to a loopback server skip TLS,
//! as the server's own do), starts the real server as a child process (`caseyos-bench serve`
//! is the `caseyos` CLI) on 127.0.0.1, and measures, printing one table at the end. Every
//! ceiling a number is compared with is measured in the same run, and its ratio printed:
//!
//! 0. start-up of the server process to its first `200` from `/health` (new database);
//! 1. the machine's durable single-row INSERT ceiling (1 and 16 clients, autocommit);
//! 2. propose over HTTP (16 clients), as a fraction of the 16-client INSERT ceiling;
//! 3. approve over HTTP (16 clients), likewise;
//! 4. projection lag under that load (the server's own samples, from `/metrics`), and that
//!    no acknowledged approval is missing from the read model;
//! 5. `GET /health` at 32 connections (the web server's ceiling), then
//!    `GET /api/queue/today` at 32 connections with 10,000 pending items (seeded through the
//!    propose endpoint), as a fraction of it: briefly with the planner statistics the load
//!    left, then after ANALYZE with `?consistency=eventual` and with the default (strong)
//!    consistency; and the server's RSS (peak and now);
//! 7. a 10,000-event aggregate (1 proposal + edits, copied into the store, the last edit
//!    through the command bus, which writes the snapshot): a command without a snapshot,
//!    audit replay (`audit::history`), and loading it for a new command from the snapshot;
//! 6. last, once the server has stopped, on a database of its own: 1,000,000 synthetic but
//!    well-formed events (500,000 items proposed and approved, COPY) and a timed
//!    `rebuild::rebuild` of the `queue` projector over them;
//! 8. first, in this process and without a database: duplicate detection
//!    (`hygiene::find_candidates`) over 100,000 synthetic contacts with known duplicates
//!    (`caseyos_tests::contacts_data`): seconds (and the CPU seconds of the thread, which a
//!    busy machine does not inflate), pairs compared, candidates, precision and recall
//!    against the generator's truth, recall per kind of duplicate;
//! 9. on a database of its own, a CSV import of 100,000 of the same synthetic contacts
//!    (`contacts_data::write_csv`) through the spool and the import worker — every contact
//!    created by a command, 1,000 per append — in rows/s, then the same file again (nothing
//!    created).
//!
//! 10. the loop (`closed_loop.rs`): approve → executed through a local Gmail stand-in, p50
//!     and p99 against the approval's latency plus the provider's round trip, and signals
//!     ingested per second against the INSERT ceiling, then processed per second.
//!
//! Progress goes to stderr, the table to stdout. Every number is measured; percentiles are
//! nearest-rank over every recorded latency. Every loop is bounded by a count or a time.
//! The databases are dropped at the end (best effort).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use caseyos_backend::auth::tokens::create_token;
use caseyos_backend::auth::Role;
use caseyos_domain::deals::{Deal, DealEvent};
use caseyos_domain::kernel::{Actor, Text};
use caseyos_domain::queue::aps::{Aps, ApsOverrides};
use caseyos_domain::queue::{
    ActionType, EditQueueItem, QueueDomain, QueueItem, QueueItemApproved, QueueItemCommand,
    QueueItemEdited, QueueItemEvent, QueueItemProposed, Source, Target, MAX_TITLE_CHARS,
};
use caseyos_projections::runner::{checkpoints, quantile};
use caseyos_projections::{projector_named, rebuild};
use caseyos_store::event::{self, read_history};
use caseyos_store::history::{self as audit, state_of, Point};
use caseyos_store::{now, CommandMeta};
use caseyos_tests::process::{self, Server};
use reqwest::Client;
use serde_json::{json, Value};
use sqlx::postgres::{PgPoolCopyExt, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[path = "bench/closed_loop.rs"]
mod closed_loop;

/// HTTP command clients (phases 1–3) and query connections (phase 5).
const COMMAND_CLIENTS: usize = 16;
const QUERY_CLIENTS: usize = 32;
/// The longest any count-bounded phase may run before it stops with what it has.
const PHASE_CAP: Duration = Duration::from_secs(180);
/// The longest we wait for the queue projection to catch up.
const CATCH_UP_CAP: Duration = Duration::from_secs(120);

/// How big a run is.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    quick: bool,
    insert_for: Duration,
    proposals: usize,
    pending: usize,
    get_for: Duration,
    get_cold_for: Duration,
    rebuild_items: usize,
    rebuild_chunk: usize,
    replay_events: usize,
    bus_edits: usize,
    duplicate_contacts: usize,
    import_rows: usize,
    deals: usize,
    deal_events: usize,
    as_of_requests: usize,
}

impl Sizes {
    fn full() -> Self {
        Sizes {
            quick: false,
            insert_for: Duration::from_secs(5),
            proposals: 8_000,
            pending: 10_000,
            get_for: Duration::from_secs(10),
            get_cold_for: Duration::from_secs(3),
            rebuild_items: 500_000,
            rebuild_chunk: 50_000,
            replay_events: 10_000,
            bus_edits: 500,
            duplicate_contacts: 100_000,
            import_rows: 100_000,
            deals: 10_000,
            deal_events: 200_000,
            as_of_requests: 20,
        }
    }

    fn quick() -> Self {
        Sizes {
            quick: true,
            insert_for: Duration::from_secs(1),
            proposals: 800,
            pending: 1_000,
            get_for: Duration::from_secs(2),
            get_cold_for: Duration::from_secs(1),
            rebuild_items: 10_000,
            rebuild_chunk: 5_000,
            replay_events: 1_000,
            bus_edits: 100,
            duplicate_contacts: 10_000,
            import_rows: 5_000,
            deals: 500,
            deal_events: 10_000,
            as_of_requests: 5,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The report

struct Row {
    metric: String,
    value: String,
    unit: &'static str,
    /// The value as a fraction of the ceiling it is compared with, measured in this run.
    ratio: String,
    note: String,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
}

impl Report {
    fn add(&mut self, metric: impl Into<String>, value: String, unit: &'static str, note: String) {
        self.add_ratio(metric, value, unit, String::new(), note);
    }

    /// A row compared with a ceiling: `ratio` is `value / ceiling`, named after the ceiling.
    fn add_ratio(
        &mut self,
        metric: impl Into<String>,
        value: String,
        unit: &'static str,
        ratio: String,
        note: String,
    ) {
        let row = Row {
            metric: metric.into(),
            value,
            unit,
            ratio,
            note,
        };
        eprintln!(
            "  → {}: {} {} {} {}",
            row.metric, row.value, row.unit, row.ratio, row.note
        );
        self.rows.push(row);
    }

    fn print(&self, header: &str) {
        println!();
        println!("{header}");
        println!(
            "{:<58} {:>10}  {:<8} {:<22} note",
            "metric", "value", "unit", "ratio to ceiling"
        );
        println!("{}", "-".repeat(130));
        for row in &self.rows {
            println!(
                "{:<58} {:>10}  {:<8} {:<22} {}",
                row.metric, row.value, row.unit, row.ratio, row.note
            );
        }
    }
}

/// A number with thousands separators, no decimals.
fn int(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".into();
    }
    let rounded = value.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let first = match digits.len() % 3 {
        0 => 3,
        n => n,
    };
    let mut out = digits[..first].to_string();
    let mut rest = &digits[first..];
    while !rest.is_empty() {
        out.push(',');
        out.push_str(&rest[..3]);
        rest = &rest[3..];
    }
    if rounded < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Milliseconds, with decimals that matter.
fn ms(value: f64) -> String {
    if !value.is_finite() {
        "n/a".into()
    } else if value >= 100.0 {
        int(value)
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// `value / ceiling` named after the ceiling, e.g. `0.41 × INSERT×16`.
fn ratio(value: f64, ceiling: f64, name: &str) -> String {
    if ceiling > 0.0 && value.is_finite() {
        format!("{:.2} × {name}", value / ceiling)
    } else {
        "n/a".into()
    }
}

fn ms_opt(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), ms)
}

fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

fn elapsed_ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

fn median(samples: &[f64]) -> Option<f64> {
    quantile(samples.to_vec(), 0.5)
}

// ---------------------------------------------------------------------------------------
// Load driver

/// How long a load phase runs.
#[derive(Clone, Copy)]
enum Limit {
    /// Exactly this many operations (stopping early only at `PHASE_CAP`).
    Count(usize),
    /// As many as fit in this long.
    For(Duration),
}

/// What a load phase did.
struct Run {
    elapsed: Duration,
    /// Latencies of the successful operations, in milliseconds.
    latencies: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
    /// What successful operations returned, by operation index.
    outputs: Vec<(usize, String)>,
}

impl Run {
    fn ok(&self) -> usize {
        self.latencies.len()
    }

    fn rate(&self) -> f64 {
        per_second(self.ok(), self.elapsed)
    }

    fn p(&self, q: f64) -> Option<f64> {
        quantile(self.latencies.clone(), q)
    }

    /// `p50 … ms, p99 … ms` of the successful operations.
    fn percentiles(&self) -> String {
        format!(
            "p50 {} ms, p99 {} ms",
            ms_opt(self.p(0.5)),
            ms_opt(self.p(0.99))
        )
    }

    fn error_note(&self) -> String {
        match &self.first_error {
            None => String::new(),
            Some(first) => format!("; {} errors, first: {first}", self.errors),
        }
    }
}

/// Runs `op(0..)` from `clients` concurrent tasks until the limit, timing each call.
async fn drive<F, Fut>(clients: usize, limit: Limit, op: F) -> Run
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<String>, String>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let (count, deadline) = match limit {
        Limit::Count(n) => (n, started + PHASE_CAP),
        Limit::For(d) => (usize::MAX, started + d.min(PHASE_CAP)),
    };
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let op = op.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut outputs = Vec::new();
                let mut errors = 0;
                let mut first_error = None;
                while Instant::now() < deadline {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    let t = Instant::now();
                    let result = op(i).await;
                    let took = elapsed_ms(t);
                    match result {
                        Ok(output) => {
                            latencies.push(took);
                            if let Some(output) = output {
                                outputs.push((i, output));
                            }
                        }
                        Err(error) => {
                            errors += 1;
                            first_error.get_or_insert(error);
                        }
                    }
                }
                (latencies, outputs, errors, first_error)
            })
        })
        .collect();
    let mut run = Run {
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
        outputs: Vec::new(),
    };
    for task in futures::future::join_all(tasks).await {
        match task {
            Ok((latencies, outputs, errors, first_error)) => {
                run.latencies.extend(latencies);
                run.outputs.extend(outputs);
                run.errors += errors;
                if run.first_error.is_none() {
                    run.first_error = first_error;
                }
            }
            Err(join) => {
                run.errors += 1;
                run.first_error
                    .get_or_insert(format!("a client task failed: {join}"));
            }
        }
    }
    run.elapsed = started.elapsed();
    run.outputs.sort_by_key(|(i, _)| *i);
    run
}

/// An HTTP client for one phase.
fn http_client() -> anyhow::Result<Client> {
    Ok(Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(QUERY_CLIENTS * 2)
        .tcp_nodelay(true)
        .build()?)
}

/// Proposes `count` moves over HTTP from `clients` clients; the outputs are the new ids.
async fn propose_over_http(
    client: &Client,
    base: &str,
    token: &str,
    clients: usize,
    count: usize,
    tag: &str,
) -> Run {
    let client = client.clone();
    let url: Arc<str> = format!("{base}/api/queue").into();
    let token: Arc<str> = token.into();
    let tag: Arc<str> = tag.into();
    drive(clients, Limit::Count(count), move |i| {
        let client = client.clone();
        let url = url.clone();
        let token = token.clone();
        let body = json!({
            "action_type": "send_email",
            "title": format!("Follow up with prospect {tag}-{i}"),
            "payload": {
                "to": format!("prospect{i}@example.com"),
                "subject": "Following up on our call",
                "body": "Hi — thanks for your time today. As promised, here is the deck and next steps.",
            },
        });
        async move {
            let response = client
                .post(&*url)
                .bearer_auth(&*token)
                .json(&body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let text = response.text().await.map_err(|e| e.to_string())?;
            if status.as_u16() != 201 {
                return Err(format!("{status}: {text}"));
            }
            let value: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            let id = value["item"]["id"]
                .as_str()
                .ok_or_else(|| format!("no item.id in {text}"))?;
            Ok(Some(id.to_string()))
        }
    })
    .await
}

/// Hammers GET `url` from `QUERY_CLIENTS` connections for `run_for`, with the bearer token
/// when one is given.
async fn get_load(client: &Client, url: String, token: Option<&str>, run_for: Duration) -> Run {
    let client = client.clone();
    let url: Arc<str> = url.into();
    let token: Option<Arc<str>> = token.map(Into::into);
    drive(QUERY_CLIENTS, Limit::For(run_for), move |_| {
        let client = client.clone();
        let url = url.clone();
        let token = token.clone();
        async move {
            let mut request = client.get(&*url);
            if let Some(token) = &token {
                request = request.bearer_auth(&**token);
            }
            let response = request.send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let body = response.bytes().await.map_err(|e| e.to_string())?;
            if status.as_u16() != 200 {
                return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
            }
            Ok(None)
        }
    })
    .await
}

/// The plan PostgreSQL picks for Today's Moves (the query of
/// `caseyos_projections::queue::today`, copied here), e.g.
/// `Limit > Sort > Index Scan(queue_items_owner_status_idx)`.
async fn today_plan(pool: &PgPool) -> String {
    fn walk(node: &Value, out: &mut Vec<String>) {
        let kind = node["Node Type"].as_str().unwrap_or("?");
        out.push(match node["Index Name"].as_str() {
            Some(index) => format!("{kind}({index})"),
            None => kind.to_string(),
        });
        if let Some(children) = node["Plans"].as_array() {
            for child in children {
                walk(child, out);
            }
        }
    }
    let plan: Result<Value, sqlx::Error> = sqlx::query_scalar(
        "explain (format json) select doc from queue_items \
         where status in ('pending', 'snoozed') \
           and (status = 'pending' or snoozed_until <= $1) \
           and ($2::text is null or owner = $2) \
           and ($3::text is null or domain = $3) \
         order by aps_centi desc, coalesce(due_by, '9999-12-31 00:00:00+00'::timestamptz), id \
         limit $4",
    )
    .bind(now())
    .bind("admin")
    .bind(None::<String>)
    .bind(50i64)
    .fetch_one(pool)
    .await;
    match plan {
        Ok(plan) => {
            let mut nodes = Vec::new();
            walk(&plan[0]["Plan"], &mut nodes);
            nodes.join(" > ")
        }
        Err(error) => format!("unknown ({error})"),
    }
}

// ---------------------------------------------------------------------------------------
// Database helpers

/// Waits until the queue projection has applied everything committed so far.
async fn catch_up(pool: &PgPool) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let head = event::head(pool).await?;
    loop {
        let cp = checkpoints(pool, &["queue"]).await?;
        if cp[0] >= head {
            return Ok(started.elapsed());
        }
        if started.elapsed() > CATCH_UP_CAP {
            bail!(
                "the queue projection did not catch up within {} s (at {:?}, head {:?})",
                CATCH_UP_CAP.as_secs(),
                cp[0],
                head
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The database name in a URL.
fn database_name(url: &str) -> String {
    let path = url.split('?').next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path).to_string()
}

async fn drop_database(name: &str) {
    match caseyos_tests::drop_database(name).await {
        Ok(()) => eprintln!("dropped database {name}"),
        Err(error) => eprintln!("could not drop database {name}: {error:#}"),
    }
}

// ---------------------------------------------------------------------------------------
// The server under test: the real CLI (`caseyos serve`) in a child process of its own, so
// its memory and start-up are its own. `caseyos-bench serve ...` is that CLI.

struct ServerProcess {
    server: Server,
    base: String,
    /// From spawning the process to the first `200` from `/health`.
    start_up: Duration,
}

impl ServerProcess {
    async fn start(database_url: &str) -> anyhow::Result<ServerProcess> {
        let binary = std::env::current_exe()?;
        let make = || {
            let mut command = process::command(&binary, Some(database_url));
            command.env("CASEYOS_LOG", "warn");
            command
        };
        let started = Instant::now();
        let server = Server::try_start(make, None, Duration::from_secs(60))
            .await
            .map_err(|why| anyhow!(why))?;
        Ok(ServerProcess {
            base: server.address.clone(),
            start_up: started.elapsed(),
            server,
        })
    }

    /// A KiB line of the process's status in MB (`VmRSS` now, `VmHWM` the peak so far).
    fn memory_mb(&self, field: &str) -> String {
        process::status_kib(self.server.pid(), field)
            .map_or_else(|| "n/a".into(), |kib| format!("{:.1}", kib as f64 / 1024.0))
    }

    /// Stops it with SIGTERM (a graceful shutdown); SIGKILL if it lingers.
    async fn stop(mut self) {
        if let Err(why) = self.server.shut_down(Duration::from_secs(10)).await {
            eprintln!("the server did not stop cleanly: {why}");
        }
    }
}

/// One sample of a Prometheus text exposition, e.g.
/// `caseyos_projection_apply_lag_milliseconds{projection="queue",quantile="0.99"}`.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

// ---------------------------------------------------------------------------------------
// Phase 1: the durable INSERT ceiling

async fn insert_ceiling(url: &str, clients: usize, run_for: Duration) -> anyhow::Result<Run> {
    // Connected exactly as the server connects (the same TLS decision).
    let pool = PgPoolOptions::new()
        .max_connections(clients as u32)
        .min_connections(clients as u32)
        .connect_with(caseyos_backend::infra::db::connect_options(url)?)
        .await?;
    // Open every connection before the clock starts.
    let warm: Vec<_> = (0..clients)
        .map(|_| {
            let pool = pool.clone();
            async move { sqlx::query("select 1").execute(&pool).await }
        })
        .collect();
    for result in futures::future::join_all(warm).await {
        result?;
    }
    let payload = json!({
        "to": "prospect@example.com",
        "subject": "Following up on our call",
        "body": "Hi — thanks for your time today. As promised, here is the deck and next steps.",
    });
    let op_pool = pool.clone();
    let run = drive(clients, Limit::For(run_for), move |_| {
        let pool = op_pool.clone();
        let payload = payload.clone();
        async move {
            sqlx::query("insert into bench_insert (payload) values ($1)")
                .bind(payload)
                .execute(&pool)
                .await
                .map_err(|e| e.to_string())?;
            Ok(None)
        }
    })
    .await;
    pool.close().await;
    Ok(run)
}

// ---------------------------------------------------------------------------------------
// Phase 6: rebuild over synthetic events

/// The events of one synthetic item, proposed then approved, as the domain serializes them.
struct SyntheticItem {
    proposed: QueueItemProposed,
    approved: QueueItemApproved,
}

impl SyntheticItem {
    fn template() -> Self {
        let at = now();
        let actor = Actor::user("admin");
        SyntheticItem {
            proposed: QueueItemProposed {
                item_id: Uuid::nil(),
                title: String::new(),
                title_derived: false,
                action_type: ActionType::SendEmail,
                domain: QueueDomain::Sales,
                target: Target::default(),
                payload: json!({
                    "to": "prospect@example.com",
                    "subject": "Following up on our call",
                    "body": "Hi — thanks for your time today. As promised, here is the deck and next steps.",
                }),
                owner: "admin".into(),
                due_by: None,
                expires_at: None,
                source: Source::Manual,
                aps: Aps::for_action(ActionType::SendEmail, &ApsOverrides::default()),
                rationale: None,
                draft: None,
                demo: false,
                proposed_by: actor.clone(),
                proposed_at: at,
            },
            approved: QueueItemApproved {
                approved_by: actor,
                approved_at: at + chrono::TimeDelta::seconds(1),
                note: None,
            },
        }
    }
}

/// One line of `COPY events (...) FROM STDIN` (text format).
fn copy_line(
    out: &mut Vec<u8>,
    id: &str,
    sequence: usize,
    event: &QueueItemEvent,
) -> anyhow::Result<()> {
    fn escaped(out: &mut Vec<u8>, text: &str) {
        // Compact JSON has no raw tabs or newlines; only backslashes need escaping.
        for byte in text.bytes() {
            if byte == b'\\' {
                out.push(b'\\');
            }
            out.push(byte);
        }
    }
    let request = Uuid::new_v4();
    let metadata = json!({
        "actor": "user:admin",
        "request_id": request,
        "correlation_id": request,
        "causation_id": request,
        "command_id": request,
    });
    out.extend_from_slice(b"queue_item\t");
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(format!("\t{sequence}\t{}\t1\t", event.name()).as_bytes());
    escaped(out, &serde_json::to_string(event)?);
    out.push(b'\t');
    escaped(out, &metadata.to_string());
    out.push(b'\n');
    Ok(())
}

/// Appends `items` items of two events each (proposed, approved) with COPY: each chunk of
/// items is one COPY, so one transaction, with every item's proposal before its approval;
/// two connections copy chunks in parallel. Returns the number of events written.
async fn append_synthetic(pool: &PgPool, items: usize, chunk: usize) -> anyhow::Result<usize> {
    const COPY: &str = "copy events (aggregate_type, aggregate_id, sequence, event_type, \
                        event_version, payload, metadata) from stdin";
    const SEND_BYTES: usize = 4 << 20;
    let chunks: Vec<(usize, usize)> = (0..items)
        .step_by(chunk.max(1))
        .map(|start| (start, (start + chunk).min(items)))
        .collect();
    let chunks = Arc::new(chunks);
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let pool = pool.clone();
            let chunks = chunks.clone();
            let next = next.clone();
            tokio::spawn(async move {
                let mut template = SyntheticItem::template();
                let mut written = 0usize;
                loop {
                    let Some(&(start, end)) = chunks.get(next.fetch_add(1, Ordering::Relaxed))
                    else {
                        return anyhow::Ok(written);
                    };
                    let ids: Vec<Uuid> = (start..end).map(|_| Uuid::new_v4()).collect();
                    let mut copy = pool.copy_in_raw(COPY).await?;
                    let mut buffer = Vec::with_capacity(SEND_BYTES + 4096);
                    for (sequence, proposals) in [(1, true), (2, false)] {
                        for (n, id) in ids.iter().enumerate() {
                            let event = if proposals {
                                template.proposed.item_id = *id;
                                template.proposed.title =
                                    format!("Follow up with prospect {}", start + n);
                                QueueItemEvent::QueueItemProposed(Box::new(
                                    template.proposed.clone(),
                                ))
                            } else {
                                QueueItemEvent::QueueItemApproved(template.approved.clone())
                            };
                            copy_line(&mut buffer, &id.to_string(), sequence, &event)?;
                            if buffer.len() >= SEND_BYTES {
                                copy.send(std::mem::take(&mut buffer)).await?;
                                buffer.reserve(SEND_BYTES + 4096);
                            }
                        }
                    }
                    if !buffer.is_empty() {
                        copy.send(buffer).await?;
                    }
                    written += copy.finish().await? as usize;
                    eprintln!("  appended items {start}..{end}");
                }
            })
        })
        .collect();
    let mut written = 0usize;
    for worker in futures::future::join_all(workers).await {
        written += worker.context("a COPY worker failed")??;
    }
    // The events must read back as the domain's: decode and fold one aggregate.
    let first: String =
        sqlx::query_scalar("select aggregate_id from events order by global_position limit 1")
            .fetch_one(pool)
            .await?;
    let events = read_history::<QueueItem>(pool, &first).await?;
    let item: QueueItem = state_of(&events)?;
    match &item.item {
        Some(view) if view.id.to_string() == first && events.len() == 2 => {}
        other => bail!("synthetic events do not fold as expected: {other:?}"),
    }
    Ok(written)
}

async fn rebuild_phase(
    sizes: Sizes,
    report: &mut Report,
    databases: &mut Vec<String>,
) -> anyhow::Result<()> {
    eprintln!(
        "phase 6: rebuild over {} synthetic events",
        int((sizes.rebuild_items * 2) as f64)
    );
    let (pool, url) = caseyos_tests::fresh_database().await;
    databases.push(database_name(&url));
    let result = async {
        let started = Instant::now();
        let written = append_synthetic(&pool, sizes.rebuild_items, sizes.rebuild_chunk).await?;
        let append_elapsed = started.elapsed();
        // Fresh statistics for the planner, as a long-running database would have.
        sqlx::query("analyze events").execute(&pool).await?;
        let copy_rate = per_second(written, append_elapsed);
        report.add(
            "COPY into the events table, 2 connections (ceiling)",
            int(copy_rate),
            "events/s",
            format!(
                "{} synthetic events in {:.1} s: the rebuild's input",
                int(written as f64),
                append_elapsed.as_secs_f64()
            ),
        );

        let projector = projector_named("queue").ok_or_else(|| anyhow!("no queue projector"))?;
        // Reads of the live read model go on throughout, switch-over included: none may fail.
        let reading = CancellationToken::new();
        let reader = {
            let pool = pool.clone();
            let reading = reading.clone();
            tokio::spawn(async move {
                let (mut ok, mut failed, mut first) = (0usize, 0usize, None);
                while !reading.is_cancelled() {
                    match caseyos_projections::queue::today(&pool, None, None, now(), None, 50)
                        .await
                    {
                        Ok(_) => ok += 1,
                        Err(error) => {
                            failed += 1;
                            first.get_or_insert(format!("{error:#}"));
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                (ok, failed, first)
            })
        };
        let started = Instant::now();
        let mut last_print = Instant::now();
        let progress = rebuild::rebuild(&pool, projector, |p| {
            if last_print.elapsed() >= Duration::from_secs(10) {
                last_print = Instant::now();
                eprintln!(
                    "  rebuilt {} of {} events",
                    p.events_processed, p.events_total
                );
            }
        })
        .await;
        let elapsed = started.elapsed();
        reading.cancel();
        let (reads, failed_reads, first_failure) = reader.await?;
        let progress = progress?;
        let (rows, approved): (i64, i64) = sqlx::query_as(
            "select count(*), count(*) filter (where status = 'approved') from queue_items",
        )
        .fetch_one(&pool)
        .await?;
        if rows as usize != sizes.rebuild_items || approved != rows {
            bail!(
                "the rebuilt read model has {rows} rows ({approved} approved), expected {}",
                sizes.rebuild_items
            );
        }
        let rebuild_rate = per_second(progress.events_processed as usize, elapsed);
        report.add_ratio(
            format!(
                "rebuild `queue` over {} events",
                int(progress.events_processed as f64)
            ),
            int(rebuild_rate),
            "events/s",
            ratio(rebuild_rate, copy_rate, "COPY"),
            format!(
                "{:.1} s; {} items, all approved after the switch-over; {} reads of Today's Moves meanwhile, {failed_reads} failed{}",
                elapsed.as_secs_f64(),
                int(rows as f64),
                int(reads as f64),
                first_failure.map_or_else(String::new, |f| format!(" (first: {f})"))
            ),
        );
        if failed_reads > 0 {
            bail!("{failed_reads} reads of the read model failed during the rebuild");
        }
        anyhow::Ok(())
    }
    .await;
    pool.close().await;
    result
}

// ---------------------------------------------------------------------------------------
// Phase 7: a long aggregate

async fn replay_phase(pool: &PgPool, sizes: Sizes, report: &mut Report) -> anyhow::Result<()> {
    let target = sizes.replay_events.max(2);
    eprintln!(
        "phase 7: one aggregate of {} events (COPY, then the last through the command bus)",
        int(target as f64)
    );
    // The bus as the server builds it (snapshots every 100 events).
    let bus = caseyos_tests::command_bus(pool, 3);
    let snapshot_every = caseyos_backend::config::Config::default().snapshot_every;
    let actor = Actor::user("admin");
    let meta = CommandMeta::system("bench");
    let id = Uuid::now_v7();
    let aggregate_id = id.to_string();
    // Consecutive events always change the title, as real edits would.
    let title = |sequence: usize| {
        if sequence & 1 == 0 {
            "Long-lived move (even edit)".to_string()
        } else {
            "Long-lived move (odd edit)".to_string()
        }
    };
    let edit = |title: String| {
        QueueItemCommand::Edit(EditQueueItem {
            title: Some(Text::parse(&title, MAX_TITLE_CHARS).expect("a bench title")),
            by: Some(actor.clone()),
            at: Some(now()),
            ..EditQueueItem::default()
        })
    };

    // Sequences 1..target-1, well-formed, straight into the store: 1 proposal and edits.
    let started = Instant::now();
    let mut template = SyntheticItem::template();
    template.proposed.item_id = id;
    template.proposed.title = title(1);
    let base = template.proposed.proposed_at;
    let mut buffer = Vec::new();
    copy_line(
        &mut buffer,
        &aggregate_id,
        1,
        &QueueItemEvent::QueueItemProposed(Box::new(template.proposed.clone())),
    )?;
    for sequence in 2..target {
        let edited = QueueItemEdited {
            title: Some(title(sequence)),
            payload: None,
            due_by: None,
            owner: None,
            rationale: None,
            aps: None,
            edited_by: actor.clone(),
            edited_at: base + chrono::TimeDelta::milliseconds(sequence as i64),
        };
        copy_line(
            &mut buffer,
            &aggregate_id,
            sequence,
            &QueueItemEvent::QueueItemEdited(edited),
        )?;
    }
    let mut copy = pool
        .copy_in_raw(
            "copy events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
             payload, metadata) from stdin",
        )
        .await?;
    copy.send(buffer).await?;
    let copied = copy.finish().await? as usize;
    eprintln!(
        "  copied {copied} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The last event through the bus: no snapshot exists yet, so this load folds every
    // event; crossing a multiple of `snapshot_every`, the commit writes the snapshot.
    let t = Instant::now();
    let committed = bus
        .execute::<QueueItem>(id, edit(title(target)), &meta)
        .await
        .map_err(|e| anyhow!("the last edit: {e}"))?;
    let first_command = elapsed_ms(t);
    if committed.events != 1 {
        bail!(
            "the last edit wrote {} events, expected 1",
            committed.events
        );
    }
    let events: i64 = sqlx::query_scalar(
        "select count(*) from events where aggregate_type = 'queue_item' and aggregate_id = $1",
    )
    .bind(&aggregate_id)
    .fetch_one(pool)
    .await?;
    let events = events as usize;
    let snapshot: Option<i64> = sqlx::query_scalar(
        "select last_sequence from snapshots where aggregate_type = 'queue_item' \
         and aggregate_id = $1",
    )
    .bind(&aggregate_id)
    .fetch_optional(pool)
    .await?;
    report.add(
        format!(
            "command on a {}-event aggregate, no snapshot",
            int(events as f64)
        ),
        ms(first_command),
        "ms",
        format!(
            "bus: fold all {} prior events, decide, append; snapshot now at {}",
            int((events - 1) as f64),
            snapshot.map_or_else(|| "none".to_string(), |s| int(s as f64))
        ),
    );
    catch_up(pool).await?;

    // Audit replay: the first page of the history with the state after each of its events,
    // and the state now, from one streamed fold of every event.
    let page = audit::Page {
        after: 0,
        limit: caseyos_backend::api::audit::DEFAULT_AUDIT_PAGE,
    };
    let mut replays = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let history = audit::history(pool, "queue_item", &aggregate_id, Point::default(), page)
            .await
            .map_err(|e| anyhow!("audit history: {} {e}", e.code()))?
            .page;
        replays.push(elapsed_ms(t));
        let shown = events.min(page.limit as usize);
        if history.total_events as usize != events || history.events.len() != shown {
            bail!(
                "history returned {} of {} events, expected {shown} of {events}",
                history.events.len(),
                history.total_events
            );
        }
        if history.state["title"].as_str() != Some(title(target).as_str()) {
            bail!("history folded to the wrong state: {}", history.state);
        }
    }
    report.add(
        format!("audit replay, {}-event aggregate", int(events as f64)),
        ms_opt(median(&replays)),
        "ms",
        format!(
            "audit::history, first page of 100 with the state after each, streamed fold of all; median of 3 (min {})",
            ms(replays.iter().copied().fold(f64::INFINITY, f64::min))
        ),
    );

    // Loading it for a new command: a no-op edit (the title it already has) is a load from
    // the snapshot plus the events after it, a decision, and no write.
    let mut loads = Vec::new();
    for _ in 0..21 {
        let t = Instant::now();
        let committed = bus
            .execute::<QueueItem>(id, edit(title(target)), &meta)
            .await
            .map_err(|e| anyhow!("no-op edit: {e}"))?;
        loads.push(elapsed_ms(t));
        if committed.events != 0 {
            bail!("the no-op edit wrote {} events", committed.events);
        }
    }
    report.add(
        format!(
            "load for a new command, {}-event aggregate",
            int(events as f64)
        ),
        ms_opt(median(&loads)),
        "ms",
        format!(
            "a no-op command through the bus: snapshot + tail (snapshot every {}), decide, token lookup; median of 21",
            snapshot_every
        ),
    );

    // Then real edits on it, one client: the per-command cost without HTTP.
    let mut latencies = Vec::new();
    let started = Instant::now();
    for n in 1..=sizes.bus_edits {
        if started.elapsed() > PHASE_CAP {
            break;
        }
        let t = Instant::now();
        let committed = bus
            .execute::<QueueItem>(id, edit(title(target + n)), &meta)
            .await
            .map_err(|e| anyhow!("edit: {e}"))?;
        latencies.push(elapsed_ms(t));
        if committed.events != 1 {
            bail!("an edit wrote {} events, expected 1", committed.events);
        }
    }
    report.add(
        "edit one item through the bus, 1 client",
        int(per_second(latencies.len(), started.elapsed())),
        "cmd/s",
        format!(
            "p50 {} ms, p99 {} ms; {} edits after the measurements above",
            ms_opt(median(&latencies)),
            ms_opt(quantile(latencies.clone(), 0.99)),
            latencies.len()
        ),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The run

async fn server_phases(
    sizes: Sizes,
    report: &mut Report,
    databases: &mut Vec<String>,
) -> anyhow::Result<()> {
    // 0. Start-up: the server process on an empty database (its migrations included).
    let (_, url) = caseyos_tests::empty_database("caseyos_test").await;
    databases.push(database_name(&url));
    eprintln!("phase 0: start the server process");
    let server = ServerProcess::start(&url).await?;
    let pool = caseyos_backend::infra::db::connect(&url, 8).await?;
    let idle_rss = server.memory_mb("VmRSS");
    report.add(
        "start-up to /health (new database, migrations included)",
        ms(server.start_up.as_secs_f64() * 1000.0),
        "ms",
        format!("`caseyos serve` as a process; RSS then {idle_rss} MB"),
    );
    let result = load_phases(sizes, report, &server, &pool, &url).await;
    server.stop().await;
    pool.close().await;
    result
}

async fn load_phases(
    sizes: Sizes,
    report: &mut Report,
    server: &ServerProcess,
    pool: &PgPool,
    url: &str,
) -> anyhow::Result<()> {
    // 1. The durable INSERT ceiling.
    eprintln!("phase 1: durable single-row INSERT ceiling");
    sqlx::query(
        "create table bench_insert (id bigserial primary key, payload jsonb not null, \
         created_at timestamptz not null default now())",
    )
    .execute(pool)
    .await?;
    let one = insert_ceiling(url, 1, sizes.insert_for).await?;
    report.add(
        "durable INSERT, 1 client (ceiling)",
        int(one.rate()),
        "rows/s",
        format!(
            "{}; autocommit, {:.0} s{}",
            one.percentiles(),
            one.elapsed.as_secs_f64(),
            one.error_note()
        ),
    );
    let many = insert_ceiling(url, COMMAND_CLIENTS, sizes.insert_for).await?;
    let ceiling = many.rate();
    let ceiling_name = format!("INSERT×{COMMAND_CLIENTS}");
    report.add(
        format!("durable INSERT, {COMMAND_CLIENTS} clients (ceiling)"),
        int(ceiling),
        "rows/s",
        format!(
            "{}; autocommit, {:.0} s{}",
            many.percentiles(),
            many.elapsed.as_secs_f64(),
            many.error_note()
        ),
    );
    sqlx::query("drop table bench_insert").execute(pool).await?;

    let base = server.base.clone();
    let token = create_token(pool, "bench-admin", "admin", Role::Admin)
        .await
        .map_err(|e| anyhow!("create the admin token: {e}"))?;
    let client = http_client()?;

    // Warm up: connections, prepared statements, the projector's lead.
    let warm = propose_over_http(&client, &base, &token, COMMAND_CLIENTS, 64, "warm").await;
    if warm.errors > 0 {
        bail!("warm-up proposals failed{}", warm.error_note());
    }
    catch_up(pool).await?;

    // 2–4. Propose, approve, projection lag.
    eprintln!(
        "phase 2: propose over HTTP, {} requests from {COMMAND_CLIENTS} clients",
        int(sizes.proposals as f64)
    );
    let proposed = propose_over_http(
        &client,
        &base,
        &token,
        COMMAND_CLIENTS,
        sizes.proposals,
        "p",
    )
    .await;
    let propose_rate = proposed.rate();
    report.add_ratio(
        format!("propose over HTTP, {COMMAND_CLIENTS} clients"),
        int(propose_rate),
        "cmd/s",
        ratio(propose_rate, ceiling, &ceiling_name),
        format!(
            "{}; {} ok{}",
            proposed.percentiles(),
            int(proposed.ok() as f64),
            proposed.error_note()
        ),
    );

    eprintln!(
        "phase 3: approve over HTTP, {} requests from {COMMAND_CLIENTS} clients",
        int(proposed.outputs.len() as f64)
    );
    let ids: Arc<Vec<String>> =
        Arc::new(proposed.outputs.iter().map(|(_, id)| id.clone()).collect());
    let approved = {
        let client = client.clone();
        let base: Arc<str> = base.clone().into();
        let token: Arc<str> = token.clone().into();
        let ids = ids.clone();
        drive(COMMAND_CLIENTS, Limit::Count(ids.len()), move |i| {
            let client = client.clone();
            let url = format!("{base}/api/queue/{}/approve", ids[i]);
            let token = token.clone();
            async move {
                let response = client
                    .post(url)
                    .bearer_auth(&*token)
                    .json(&json!({}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status();
                let text = response.text().await.map_err(|e| e.to_string())?;
                if status.as_u16() != 200 {
                    return Err(format!("{status}: {text}"));
                }
                Ok(None)
            }
        })
        .await
    };
    report.add_ratio(
        format!("approve over HTTP, {COMMAND_CLIENTS} clients"),
        int(approved.rate()),
        "cmd/s",
        ratio(approved.rate(), ceiling, &ceiling_name),
        format!(
            "{}; {} ok{}",
            approved.percentiles(),
            int(approved.ok() as f64),
            approved.error_note()
        ),
    );
    let settle = catch_up(pool).await?;
    // Nothing skipped: every acknowledged approval is in the read model.
    let approved_rows: i64 =
        sqlx::query_scalar("select count(*) from queue_items where status = 'approved'")
            .fetch_one(pool)
            .await?;
    let metrics = client
        .get(format!("{base}/metrics"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let lag = |q: &str| {
        metric(
            &metrics,
            &format!(
                "caseyos_projection_apply_lag_milliseconds{{projection=\"queue\",quantile=\"{q}\"}}"
            ),
        )
    };
    let samples = metric(
        &metrics,
        "caseyos_projection_apply_lag_milliseconds_count{projection=\"queue\"}",
    )
    .unwrap_or(0.0);
    let skipped = approved.ok() as i64 - approved_rows;
    report.add(
        "projection lag p50 (propose + approve load)",
        ms_opt(lag("0.5")),
        "ms",
        format!(
            "recorded_at → read-model commit, from the server's /metrics; {} events (64 of them warm-up); caught up {} ms after the last approve",
            int(samples),
            ms(settle.as_secs_f64() * 1000.0)
        ),
    );
    report.add(
        "projection lag p99 (propose + approve load)",
        ms_opt(lag("0.99")),
        "ms",
        format!(
            "max {} ms; skipped {skipped} ({} approvals acknowledged, {} approved rows)",
            ms_opt(lag("1")),
            int(approved.ok() as f64),
            int(approved_rows as f64)
        ),
    );
    let rss_after_commands = server.memory_mb("VmRSS");

    // 5. Today's Moves with many pending items, beside /health on the same server.
    let pending: i64 =
        sqlx::query_scalar("select count(*) from queue_items where status = 'pending'")
            .fetch_one(pool)
            .await?;
    let missing = sizes.pending.saturating_sub(pending as usize);
    eprintln!(
        "phase 5: seeding {} pending items over HTTP, then GET /health and /api/queue/today",
        int(missing as f64)
    );
    let seeded = propose_over_http(&client, &base, &token, COMMAND_CLIENTS, missing, "s").await;
    if seeded.errors > 0 {
        bail!("seeding failed{}", seeded.error_note());
    }
    catch_up(pool).await?;
    let pending: i64 =
        sqlx::query_scalar("select count(*) from queue_items where status = 'pending'")
            .fetch_one(pool)
            .await?;
    // One checked request: the list is full and ranked.
    let check: Value = client
        .get(format!("{base}/api/queue/today"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let listed = check["items"].as_array().map_or(0, Vec::len);
    if listed == 0 {
        bail!("GET /api/queue/today listed nothing: {check}");
    }
    let health = get_load(&client, format!("{base}/health"), None, sizes.get_for).await;
    let health_rate = health.rate();
    report.add(
        format!("GET /health, {QUERY_CLIENTS} conns (ceiling)"),
        int(health_rate),
        "req/s",
        format!(
            "{}; {:.0} s{}",
            health.percentiles(),
            health.elapsed.as_secs_f64(),
            health.error_note()
        ),
    );
    // First as the load left the planner's statistics (a fresh read model may not have
    // been analyzed yet), then after ANALYZE, as autovacuum leaves a long-running one.
    let today = format!("{base}/api/queue/today");
    let plan = today_plan(pool).await;
    let cold = get_load(
        &client,
        format!("{today}?consistency=eventual"),
        Some(&token),
        sizes.get_cold_for,
    )
    .await;
    report.add_ratio(
        format!("GET /api/queue/today, {QUERY_CLIENTS} conns, eventual, pre-ANALYZE"),
        int(cold.rate()),
        "req/s",
        ratio(cold.rate(), health_rate, "/health"),
        format!(
            "{}; {:.0} s; plan: {plan}{}",
            cold.percentiles(),
            cold.elapsed.as_secs_f64(),
            cold.error_note()
        ),
    );
    sqlx::query("analyze queue_items").execute(pool).await?;
    let plan = today_plan(pool).await;
    for (label, query) in [
        ("eventual", "?consistency=eventual"),
        ("strong (default)", ""),
    ] {
        let run = get_load(
            &client,
            format!("{today}{query}"),
            Some(&token),
            sizes.get_for,
        )
        .await;
        report.add_ratio(
            format!("GET /api/queue/today, {QUERY_CLIENTS} conns, {label}"),
            int(run.rate()),
            "req/s",
            ratio(run.rate(), health_rate, "/health"),
            format!(
                "{}; {} pending, {listed} listed; {:.0} s; plan: {plan}{}",
                run.percentiles(),
                int(pending as f64),
                run.elapsed.as_secs_f64(),
                run.error_note()
            ),
        );
    }
    report.add(
        "server RSS under load (peak)",
        server.memory_mb("VmHWM"),
        "MB",
        format!(
            "VmHWM of the server process after phases 2–5; {rss_after_commands} MB after the commands, {} MB now",
            server.memory_mb("VmRSS")
        ),
    );

    // 7. A long aggregate (on this database; the server's projector follows it).
    replay_phase(pool, sizes, report).await
}

/// The generator's seed for phase 8 (the same contacts every run).
const DUPLICATES_SEED: u64 = 42;

/// The CPU time this thread has used (Linux: `/proc/thread-self/schedstat`), if known.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// 8. Duplicate detection over synthetic contacts with known duplicates.
fn duplicates_phase(sizes: Sizes, report: &mut Report) {
    use caseyos_domain::hygiene::matching::{find_candidates_with_stats, BLOCK_CAP};
    use caseyos_tests::contacts_data::{generate, quality, DUPLICATE_FRACTION};

    let count = sizes.duplicate_contacts;
    eprintln!(
        "phase 8: duplicate detection over {} contacts",
        int(count as f64)
    );
    let started = Instant::now();
    let data = generate(count, DUPLICATES_SEED);
    let records = data.match_records();
    let generated = started.elapsed();
    let cpu_before = thread_cpu();
    let started = Instant::now();
    let (candidates, stats) = find_candidates_with_stats(&records);
    let elapsed = started.elapsed();
    let cpu = thread_cpu()
        .zip(cpu_before)
        .map_or("n/a".into(), |(after, before)| {
            format!("{:.2}", (after - before).as_secs_f64())
        });
    let q = quality(&candidates, &data.duplicates);
    let all_pairs = count as f64 * (count as f64 - 1.0) / 2.0;
    report.add(
        format!("duplicate detection, {} contacts", int(count as f64)),
        format!("{:.2}", elapsed.as_secs_f64()),
        "s",
        format!(
            "{cpu} s CPU of the thread; aim ≤ 10 s; {} blocks, {} over {BLOCK_CAP} split by name; \
             contacts generated in {:.1} s (seed {DUPLICATES_SEED})",
            int(stats.blocks as f64),
            stats.oversized_blocks,
            generated.as_secs_f64()
        ),
    );
    report.add(
        "duplicate detection: pairs compared",
        int(stats.pairs_compared as f64),
        "pairs",
        format!(
            "{:.4}% of all {} pairs",
            stats.pairs_compared as f64 / all_pairs * 100.0,
            int(all_pairs)
        ),
    );
    report.add(
        "duplicate detection: candidates",
        int(q.candidates as f64),
        "pairs",
        format!(
            "{} true pairs made ({:.0}% of the contacts are duplicates), {} found",
            int(q.true_pairs as f64),
            DUPLICATE_FRACTION * 100.0,
            int(q.found as f64)
        ),
    );
    report.add(
        "duplicate detection: precision",
        format!("{:.4}", q.precision),
        "",
        format!(
            "{} of {} candidates are pairs the generator made",
            q.found, q.candidates
        ),
    );
    report.add(
        "duplicate detection: recall",
        format!("{:.4}", q.recall),
        "",
        q.by_kind
            .iter()
            .map(|(kind, found, made)| format!("{} {found}/{made}", kind.label()))
            .collect::<Vec<_>>()
            .join(", "),
    );
}

async fn header() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let settings = async {
        let mut admin = PgConnection::connect(&caseyos_tests::admin_url()).await?;
        let version: String = sqlx::query_scalar("show server_version")
            .fetch_one(&mut admin)
            .await?;
        let sync: String = sqlx::query_scalar("show synchronous_commit")
            .fetch_one(&mut admin)
            .await?;
        let fsync: String = sqlx::query_scalar("show fsync")
            .fetch_one(&mut admin)
            .await?;
        admin.close().await?;
        anyhow::Ok((version, sync, fsync))
    }
    .await;
    let postgres = match settings {
        Ok((version, sync, fsync)) => format!(
            "PostgreSQL {} (synchronous_commit={sync}, fsync={fsync})",
            version.split_whitespace().next().unwrap_or(&version)
        ),
        Err(_) => "PostgreSQL (version unknown)".into(),
    };
    let build = if cfg!(debug_assertions) {
        "DEBUG build (numbers are not representative)"
    } else {
        "release build"
    };
    format!("CaseyOS benchmark — {cores} cores, {postgres}, {build}")
}

/// 9. A CSV import through the spool and the worker, as the API and the CLI run it.
async fn import_phase(
    sizes: Sizes,
    report: &mut Report,
    databases: &mut Vec<String>,
) -> anyhow::Result<()> {
    use caseyos_backend::commands::contact_imports::{start_import, Spool};
    use caseyos_backend::workers::contact_imports::ContactImports;
    use caseyos_domain::contact_import::ContactImport;

    eprintln!(
        "phase 9: CSV import of {} contacts through commands",
        int(sizes.import_rows as f64)
    );
    let (pool, url) = caseyos_tests::fresh_database().await;
    databases.push(database_name(&url));
    let data = caseyos_tests::contacts_data::generate(sizes.import_rows, DUPLICATES_SEED);
    let mut csv = Vec::new();
    caseyos_tests::contacts_data::write_csv(&data.contacts, &mut csv)?;
    drop(data);
    let bus = Arc::new(caseyos_tests::command_bus(&pool, 16));
    let meta = CommandMeta::system("bench");
    let mut runs = Vec::new();
    for _ in 0..2 {
        let started = Instant::now();
        let mut spool = Spool::new(pool.clone(), u64::MAX);
        for piece in csv.chunks(64 * 1024) {
            spool.write(piece).await?;
        }
        let id = spool.import_id();
        let size = spool.finish().await?;
        let spooled = started.elapsed();
        start_import(
            &bus,
            id,
            Some("bench.csv"),
            size,
            Actor::user("admin"),
            &meta,
        )
        .await
        .map_err(|e| anyhow!("{}: {e}", e.code()))?;
        let worker = ContactImports::new(pool.clone(), bus.clone(), "bench");
        if !worker.claim(id).await? {
            bail!("the import's lease was taken");
        }
        let run = worker.run(id, &CancellationToken::new(), |_| {}).await?;
        let elapsed = started.elapsed();
        let import = state_of::<ContactImport>(
            &read_history::<ContactImport>(&pool, &id.to_string()).await?,
        )?
        .import
        .context("the import was not recorded")?;
        runs.push((import, elapsed, spooled, run.most_records_held));
    }
    let (first, elapsed, spooled, held) = &runs[0];
    let c = &first.counts;
    report.add(
        format!("CSV import, {} rows (1,000 per append)", int(c.rows as f64)),
        int(per_second(c.rows as usize, *elapsed)),
        "rows/s",
        format!(
            "{} created, {} updated, {} skipped (same email in the file), {} failed; {:.1} s in all \
             ({} ms spooling {} MB); at most {} rows held; goal ≥ 10,000 rows/s",
            int(c.created as f64),
            int(c.updated as f64),
            int(c.skipped as f64),
            int(c.failed as f64),
            elapsed.as_secs_f64(),
            int(spooled.as_secs_f64() * 1000.0),
            first.size / 1_000_000,
            int(*held as f64)
        ),
    );
    let (again, elapsed, _, _) = &runs[1];
    let c = &again.counts;
    report.add(
        "CSV import, the same file again (matched, nothing new)",
        int(per_second(c.rows as usize, *elapsed)),
        "rows/s",
        format!(
            "{} created, {} updated, {} skipped, {} failed",
            int(c.created as f64),
            int(c.updated as f64),
            int(c.skipped as f64),
            int(c.failed as f64)
        ),
    );
    Ok(())
}

/// What `--only` accepts.
const SECTIONS: &[&str] = &["server", "rebuild", "duplicates", "import", "deals", "loop"];

fn usage() -> ! {
    eprintln!(
        "usage: caseyos-bench [--quick] [--only SECTION[,SECTION]]\n\n  \
         --quick  a small smoke run (reduced sizes)\n  \
         --only   run these sections only: server, rebuild, duplicates, import, deals, loop\n\n\
         Uses CASEYOS_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres)."
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    // `caseyos-bench serve ...` is the real CLI: the server process the phases measure.
    caseyos_tests::serve_when_asked().await;
    let mut sizes = Sizes::full();
    let mut only: Option<Vec<String>> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => sizes = Sizes::quick(),
            "--full" => sizes = Sizes::full(),
            "--only" => {
                let Some(list) = args.next() else { usage() };
                let sections: Vec<String> = list.split(',').map(str::to_string).collect();
                if sections.iter().any(|s| !SECTIONS.contains(&s.as_str())) {
                    usage();
                }
                only = Some(sections);
            }
            _ => usage(),
        }
    }
    let runs = |section: &str| only.as_ref().is_none_or(|o| o.iter().any(|s| s == section));
    let header = header().await;
    eprintln!(
        "{header}; {} run",
        if sizes.quick { "quick" } else { "full" }
    );
    let started = Instant::now();
    let mut report = Report::default();
    let mut databases = Vec::new();
    if runs("duplicates") {
        duplicates_phase(sizes, &mut report);
    }
    let mut outcome = Ok(());
    if runs("server") {
        outcome = server_phases(sizes, &mut report, &mut databases).await;
    }
    if outcome.is_ok() && runs("rebuild") {
        outcome = rebuild_phase(sizes, &mut report, &mut databases).await;
    }
    if outcome.is_ok() && runs("import") {
        outcome = import_phase(sizes, &mut report, &mut databases).await;
    }
    if outcome.is_ok() && runs("deals") {
        outcome = deals_phase(sizes, &mut report, &mut databases).await;
    }
    if outcome.is_ok() && runs("loop") {
        outcome = closed_loop::loop_phase(sizes, &mut report, &mut databases).await;
    }
    for name in &databases {
        drop_database(name).await;
    }
    report.print(&header);
    println!(
        "{} run, {:.0} s in all",
        if sizes.quick { "quick" } else { "full" },
        started.elapsed().as_secs_f64()
    );
    if let Err(error) = outcome {
        eprintln!("benchmark failed: {error:#}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------
// Deals: the dashboard and the forecast over many deals, time travel, the rebuild

/// The events of `deals` synthetic deals, `per_deal` events each, decided by the deal
/// aggregate itself (so they fold exactly as real ones do): created in the current quarter,
/// then activities, amount and close-date changes and stage moves, some won and some lost.
fn synthetic_deals(deals: usize, per_deal: usize) -> anyhow::Result<Vec<(Uuid, Vec<DealEvent>)>> {
    use caseyos_domain::aggregate::Aggregate;
    use caseyos_domain::deals::{
        ActivityKind, CreateDeal, DealCommand, DealSource, LogActivity, LoseDeal, MoveDeal, WinDeal,
    };
    use caseyos_domain::kernel::{CrmId, Money, UserName};
    use caseyos_domain::pipelines::Pipeline;
    let pipeline = Pipeline::default_hubspot();
    let open: Vec<CrmId> = pipeline
        .stages()
        .iter()
        .filter(|s| !s.kind.is_closed())
        .map(|s| s.id.clone())
        .collect();
    let owners = ["admin", "sam", "priya", "lee"];
    let actor = Actor::user("admin");
    let today = now().date_naive();
    let mut all = Vec::with_capacity(deals);
    for n in 0..deals {
        let id = Uuid::new_v4();
        let mut deal = Deal::default();
        let mut events = Vec::with_capacity(per_deal);
        fn decide(
            deal: &mut Deal,
            events: &mut Vec<DealEvent>,
            command: DealCommand,
        ) -> anyhow::Result<()> {
            for event in deal.decide(command).map_err(|e| anyhow!("{e}"))? {
                deal.apply(event.clone());
                events.push(event);
            }
            Ok(())
        }
        decide(
            &mut deal,
            &mut events,
            DealCommand::Create(Box::new(CreateDeal {
                id,
                name: Text::parse(&format!("Synthetic deal {n}"), 256).map_err(|e| anyhow!(e))?,
                pipeline: pipeline.clone(),
                stage: open[n % 2].clone(),
                amount: Some(Money::usd(((n % 97) as i64 + 3) * 100_000)),
                close_date: Some(today + chrono::Duration::days((n % 120) as i64 - 30)),
                owner: UserName::parse(owners[n % owners.len()]).map_err(|e| anyhow!(e))?,
                source: DealSource::Manual,
                crm_id: None,
                demo: false,
                by: actor.clone(),
                at: now(),
            })),
        )?;
        let mut stage = n % 2;
        let mut i = 0usize;
        while events.len() < per_deal {
            let remaining = per_deal - events.len();
            let command = if remaining == 1 && n % 7 == 0 {
                DealCommand::Win(Box::new(WinDeal {
                    pipeline: pipeline.clone(),
                    by: actor.clone(),
                    at: now(),
                }))
            } else if remaining == 1 && n % 11 == 0 {
                DealCommand::Lose(Box::new(LoseDeal {
                    reason: Text::parse("Lost on price", 2000).map_err(|e| anyhow!(e))?,
                    pipeline: pipeline.clone(),
                    by: actor.clone(),
                    at: now(),
                }))
            } else {
                match i % 6 {
                    3 => DealCommand::ChangeAmount {
                        amount: Some(Money::usd(((n + i) % 97) as i64 * 100_000 + 50_000)),
                        by: actor.clone(),
                        at: now(),
                    },
                    4 => DealCommand::ChangeCloseDate {
                        close_date: Some(
                            today + chrono::Duration::days(((n + i) % 150) as i64 - 30),
                        ),
                        by: actor.clone(),
                        at: now(),
                    },
                    5 if stage + 1 < open.len() => {
                        stage += 1;
                        DealCommand::Move(Box::new(MoveDeal {
                            stage: open[stage].clone(),
                            lost_reason: None,
                            pipeline: pipeline.clone(),
                            by: actor.clone(),
                            at: now(),
                        }))
                    }
                    _ => DealCommand::LogActivity(LogActivity {
                        activity_id: Uuid::new_v4(),
                        kind: [
                            ActivityKind::Email,
                            ActivityKind::Call,
                            ActivityKind::Meeting,
                        ][i % 3],
                        happened_at: now() - chrono::Duration::days((i % 40) as i64),
                        summary: None,
                        by: actor.clone(),
                        at: now(),
                    }),
                }
            };
            decide(&mut deal, &mut events, command)?;
            i += 1;
        }
        events.truncate(per_deal);
        all.push((id, events));
    }
    Ok(all)
}

/// Appends the deals' events with COPY, a chunk of deals per transaction (each deal's
/// events in order, sequences from 1). Returns the events written.
async fn append_deals(pool: &PgPool, deals: &[(Uuid, Vec<DealEvent>)]) -> anyhow::Result<usize> {
    use caseyos_domain::aggregate::Aggregate;
    const COPY: &str = "copy events (aggregate_type, aggregate_id, sequence, event_type, \
                        event_version, payload, metadata) from stdin";
    let mut written = 0usize;
    for chunk in deals.chunks(1_000) {
        let mut copy = pool.copy_in_raw(COPY).await?;
        let mut buffer = Vec::new();
        for (id, events) in chunk {
            for (n, event) in events.iter().enumerate() {
                let metadata = json!({"actor": "user:admin", "request_id": id, "correlation_id": id,
                                      "causation_id": id, "command_id": id});
                buffer.extend_from_slice(
                    format!(
                        "deal\t{id}\t{}\t{}\t{}\t",
                        n + 1,
                        Deal::event_name(event),
                        <Deal as caseyos_domain::aggregate::Aggregate>::EVENT_VERSION
                    )
                    .as_bytes(),
                );
                for text in [serde_json::to_string(event)?, metadata.to_string()] {
                    for byte in text.bytes() {
                        if byte == b'\\' {
                            buffer.push(b'\\');
                        }
                        buffer.push(byte);
                    }
                    buffer.push(b'\t');
                }
                buffer.pop();
                buffer.push(b'\n');
            }
        }
        copy.send(buffer).await?;
        written += copy.finish().await? as usize;
        // Each chunk its own instant: time travel has history to stand in.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = Deal::TYPE;
    Ok(written)
}

async fn deals_phase(
    sizes: Sizes,
    report: &mut Report,
    databases: &mut Vec<String>,
) -> anyhow::Result<()> {
    let (deals, per_deal) = (sizes.deals, sizes.deal_events / sizes.deals.max(1));
    eprintln!(
        "phase 9: dashboard and forecast over {} deals, {} deal events",
        int(deals as f64),
        int((deals * per_deal) as f64)
    );
    let (_, url) = caseyos_tests::empty_database("caseyos_test").await;
    databases.push(database_name(&url));
    let server = ServerProcess::start(&url).await?;
    let pool = caseyos_backend::infra::db::connect(&url, 8).await?;
    let result = async {
        let synthetic = synthetic_deals(deals, per_deal)?;
        let started = Instant::now();
        let written = append_deals(&pool, &synthetic).await?;
        let copied = started.elapsed();
        // The live runner picks COPYed events up by its poll, as any writer that bypasses
        // the bus.
        let head = event::head(&pool).await?;
        loop {
            if checkpoints(&pool, &["deals"]).await?[0] >= head {
                break;
            }
            if started.elapsed() > CATCH_UP_CAP * 3 {
                bail!("the deals read model did not catch up");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let live = started.elapsed();
        report.add(
            format!("deals read model, live, over {} COPYed events", int(written as f64)),
            int(per_second(written, live)),
            "events/s",
            format!(
                "{deals} deals; COPY took {:.1} s, the live runner had them all {:.1} s after it began",
                copied.as_secs_f64(),
                live.as_secs_f64()
            ),
        );
        sqlx::query("analyze").execute(&pool).await?;
        let token = create_token(&pool, "bench-deals", "admin", Role::Admin)
            .await
            .map_err(|e| anyhow!("create the admin token: {e}"))?;
        let client = http_client()?;
        let base = server.base.clone();
        let health = get_load(&client, format!("{base}/health"), None, sizes.get_for).await;
        let health_rate = health.rate();
        report.add(
            format!("GET /health, {QUERY_CLIENTS} conns (ceiling, deals phase)"),
            int(health_rate),
            "req/s",
            health.percentiles(),
        );
        let period = caseyos_domain::forecast::Period::containing(
            now().date_naive(),
            caseyos_domain::forecast::PeriodKind::Quarter,
            &Default::default(),
        );
        for (label, path) in [
            ("GET /api/dashboard", "/api/dashboard".to_string()),
            ("GET /api/forecast", format!("/api/forecast?period={period}")),
        ] {
            let run = get_load(&client, format!("{base}{path}"), Some(&token), sizes.get_for).await;
            report.add_ratio(
                format!("{label}, {QUERY_CLIENTS} conns, {deals} deals"),
                int(run.rate()),
                "req/s",
                ratio(run.rate(), health_rate, "/health"),
                format!("{}; {:.0} s{}", run.percentiles(), run.elapsed.as_secs_f64(), run.error_note()),
            );
        }
        // Cold: each request right after a write (a quota set), so nothing kept answers it.
        for (label, path) in [
            ("GET /api/dashboard", "/api/dashboard".to_string()),
            ("GET /api/forecast", format!("/api/forecast?period={period}")),
        ] {
            let mut samples = Vec::new();
            for n in 0..sizes.as_of_requests {
                let set = client
                    .post(format!("{base}/api/quotas"))
                    .bearer_auth(&token)
                    .json(&json!({"owner": "admin", "period": period.to_string(),
                                  "amount": {"minor": 1_000_000 + n as i64, "currency": "USD"}}))
                    .send()
                    .await?;
                if !set.status().is_success() {
                    bail!("set a quota: {}", set.status());
                }
                let started = Instant::now();
                let response = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!("{label}: {}", response.status());
                }
                response.bytes().await?;
                samples.push(elapsed_ms(started));
            }
            report.add(
                format!("{label}, cold (right after a write), {deals} deals"),
                ms_opt(median(&samples)),
                "ms",
                format!(
                    "median of {} sequential requests, each after a write; p99 {}; the load \
                     rows above are answers kept per state of the read models",
                    samples.len(),
                    ms_opt(quantile(samples.clone(), 0.99))
                ),
            );
        }
        // As of the instant the middle event was recorded: the log folded up to there.
        let middle: chrono::DateTime<chrono::Utc> = sqlx::query_scalar(
            "select recorded_at from events where aggregate_type = 'deal' \
             order by global_position offset $1 limit 1",
        )
        .bind((written / 2) as i64)
        .fetch_one(&pool)
        .await?;
        let as_of = middle.to_rfc3339().replace('+', "%2B");
        let mut samples = Vec::new();
        for _ in 0..sizes.as_of_requests {
            let started = Instant::now();
            let response = client
                .get(format!("{base}/api/forecast?period={period}&as_of={as_of}"))
                .bearer_auth(&token)
                .send()
                .await?;
            if !response.status().is_success() {
                bail!("as_of forecast: {}", response.status());
            }
            response.bytes().await?;
            samples.push(elapsed_ms(started));
        }
        report.add(
            format!("GET /api/forecast?as_of (the log folded to its middle), {deals} deals"),
            ms_opt(median(&samples)),
            "ms",
            format!(
                "median of {} sequential requests; p99 {}",
                samples.len(),
                ms_opt(quantile(samples.clone(), 0.99))
            ),
        );
        let projector = projector_named("deals").ok_or_else(|| anyhow!("no deals projector"))?;
        let started = Instant::now();
        let progress = rebuild::rebuild(&pool, projector, |_| {}).await?;
        let elapsed = started.elapsed();
        report.add(
            format!(
                "rebuild `deals` (the forecast's read model) over {} events",
                int(progress.events_processed as f64)
            ),
            int(per_second(progress.events_processed as usize, elapsed)),
            "events/s",
            format!("{:.1} s", elapsed.as_secs_f64()),
        );
        anyhow::Ok(())
    }
    .await;
    server.stop().await;
    pool.close().await;
    result
}
