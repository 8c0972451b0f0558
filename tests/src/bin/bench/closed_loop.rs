//! Phase 10, the loop (`--only loop`): approve → executed through a local Gmail stand-in,
//! and signals ingested.
//!
//! On a database of its own, the server process is configured with Gmail at a stand-in in
//! this process (a minimal HTTP/1.1 server: it answers a send with a message id at once, so
//! what is measured is CaseyOS's own path), a connected Gmail credential, send mode `send`
//! and the guardrails' quotas and quiet hours out of the way. Measured:
//! - the stand-in's own round trip from this process (the provider's ceiling);
//! - approve → executed, per move from its `QueueItemApproved` to its `ExecutionSucceeded`
//!   (the events' `recorded_at`, both written by the server): one move at a time (each
//!   approval waits for its execution), p50 and p99 compared with the approval's own
//!   latency plus the provider's round trip; then a burst of approvals from the command
//!   clients at once, p50 and p99 (the executor takes them in log order, so this is mostly
//!   queueing), and the executions per second;
//! - manual signals over HTTP (`POST /api/signals`) from the command clients, as a fraction
//!   of the durable INSERT ceiling measured here, and the processor's rate until every one
//!   is processed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use caseyos_backend::auth::tokens::create_token;
use caseyos_backend::auth::Role;
use caseyos_domain::connectors::ConnectorName;
use caseyos_domain::executions::execution_id;
use reqwest::Client;
use serde_json::json;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::{
    database_name, drive, elapsed_ms, http_client, insert_ceiling, int, ms, ms_opt, per_second,
    propose_over_http, ratio, Limit, Report, Sizes, COMMAND_CLIENTS,
};
use caseyos_projections::runner::quantile;
use caseyos_tests::process::{self, Server};

/// The longest we wait for the executor or the signal processor to finish.
const SETTLE_CAP: Duration = Duration::from_secs(300);

/// A Gmail stand-in: every request answered 200 at once; a send with a new message id.
struct Provider {
    base: String,
    sends: Arc<AtomicUsize>,
}

async fn provider() -> anyhow::Result<Provider> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let sends = Arc::new(AtomicUsize::new(0));
    let counter = sends.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let _ = connection(socket, counter).await;
            });
        }
    });
    Ok(Provider { base, sends })
}

/// Serves one keep-alive connection: request line, headers, a `Content-Length` body.
async fn connection(socket: tokio::net::TcpStream, sends: Arc<AtomicUsize>) -> std::io::Result<()> {
    socket.set_nodelay(true)?;
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if read.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if read.read_line(&mut header).await? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        read.read_exact(&mut body).await?;
        let answer = if request_line.contains("/messages/send") {
            let n = sends.fetch_add(1, Ordering::SeqCst);
            json!({"id": format!("m-{n}"), "threadId": format!("t-{n}"), "labelIds": ["SENT"]})
        } else {
            json!({"messages": [], "resultSizeEstimate": 0})
        }
        .to_string();
        // One write: a head and a body apart would wait on the client's delayed ACK.
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        write.write_all(response.as_bytes()).await?;
    }
}

pub(super) async fn loop_phase(
    sizes: Sizes,
    report: &mut Report,
    databases: &mut Vec<String>,
) -> anyhow::Result<()> {
    let moves = if sizes.quick { 200 } else { 2_000 };
    let signals = if sizes.quick { 400 } else { 4_000 };
    eprintln!("phase 10: the loop — approve → executed, signals ingested");
    let provider = provider().await?;
    let client = http_client()?;

    // The provider's ceiling: its round trip from here, one request at a time.
    let probe = format!("{}/gmail/v1/users/me/profile", provider.base);
    let mut round_trips = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        client.get(&probe).send().await?.bytes().await?;
        round_trips.push(elapsed_ms(t));
    }
    let provider_p50 = quantile(round_trips.clone(), 0.5).context("no round trips")?;
    report.add(
        "Gmail stand-in round trip, 1 client (ceiling)",
        ms(provider_p50),
        "ms",
        format!("p50; p99 {} ms", ms_opt(quantile(round_trips, 0.99))),
    );

    let (_, url) = caseyos_tests::empty_database("caseyos_test").await;
    databases.push(database_name(&url));
    let settings = std::env::temp_dir().join(format!("caseyos-bench-{}.toml", std::process::id()));
    std::fs::write(
        &settings,
        "[guardrails]\nquiet_start = \"\"\nquiet_end = \"\"\nquiet_weekends = false\n\
         daily_quota = 1000000\nrecipient_weekly_quota = 1000000\n",
    )?;
    let binary = std::env::current_exe()?;
    let make = || {
        let mut command = process::command(&binary, Some(&url));
        command
            .env("CASEYOS_LOG", "warn")
            .env("CASEYOS_GMAIL_BASE_URL", &provider.base)
            .env(
                "CASEYOS_CREDENTIALS_KEY",
                caseyos_tests::TEST_CREDENTIALS_KEY,
            )
            .env("CASEYOS_CONFIG", &settings);
        command
    };
    let started = Server::try_start(make, None, Duration::from_secs(60)).await;
    std::fs::remove_file(&settings).ok();
    let mut server = started.map_err(|why| anyhow!(why))?;
    let load = Load {
        serial_moves: if sizes.quick { 20 } else { 100 },
        moves,
        signals,
        provider_p50,
    };
    let result = measure(&client, &server.address, &url, &provider, load, report).await;
    if let Err(why) = server.shut_down(Duration::from_secs(10)).await {
        eprintln!("the server did not stop cleanly: {why}");
    }
    result
}

/// How much to do, and the provider's round trip measured before.
struct Load {
    serial_moves: usize,
    moves: usize,
    signals: usize,
    provider_p50: f64,
}

async fn measure(
    client: &Client,
    base: &str,
    url: &str,
    provider: &Provider,
    load: Load,
    report: &mut Report,
) -> anyhow::Result<()> {
    let Load {
        serial_moves,
        moves,
        signals,
        provider_p50,
    } = load;
    let pool = caseyos_backend::infra::db::connect(url, 8).await?;
    let config = caseyos_tests::test_config(url);
    caseyos_tests::store_fake_credential(
        &caseyos_tests::credentials_for(&pool, &config),
        ConnectorName::Gmail,
        "bench-gmail-token",
    )
    .await;
    let token = create_token(&pool, "bench-admin", "admin", Role::Admin)
        .await
        .map_err(|e| anyhow!("create the admin token: {e}"))?;
    let mode = client
        .put(format!("{base}/api/admin/send-mode"))
        .bearer_auth(&token)
        .json(&json!({"mode": "send"}))
        .send()
        .await?;
    if !mode.status().is_success() {
        bail!("send mode: {}", mode.text().await?);
    }

    // One at a time: each approval waits for its execution, so nothing queues behind it.
    let serial = propose_over_http(client, base, &token, 1, serial_moves, "serial").await;
    if serial.errors > 0 {
        bail!("proposals failed{}", serial.error_note());
    }
    let serial_ids: Vec<String> = serial.outputs.into_iter().map(|(_, id)| id).collect();
    let mut approvals = Vec::new();
    for id in &serial_ids {
        let t = Instant::now();
        approve(client, base, &token, id)
            .await
            .map_err(|e| anyhow!(e))?;
        approvals.push(elapsed_ms(t));
        let execution = execution_id(id.parse()?).to_string();
        wait_for(
            &pool,
            "ExecutionSucceeded",
            Some(&execution),
            1,
            "execution",
        )
        .await?;
    }
    let serial_latencies = approve_to_executed(&pool, &serial_ids).await?;
    let ceiling = quantile(approvals.clone(), 0.5).unwrap_or(0.0) + provider_p50;
    let p50 = quantile(serial_latencies.clone(), 0.5).context("no latencies")?;
    report.add_ratio(
        "approve → executed, one move at a time, p50",
        ms(p50),
        "ms",
        ratio(p50, ceiling, "approve + provider"),
        format!(
            "p99 {} ms over {} moves; QueueItemApproved to ExecutionSucceeded (recorded_at); \
             approve p50 {} ms",
            ms_opt(quantile(serial_latencies, 0.99)),
            serial_ids.len(),
            ms_opt(quantile(approvals, 0.5))
        ),
    );

    // A burst: every move approved from the command clients at once.
    let proposed = propose_over_http(client, base, &token, COMMAND_CLIENTS, moves, "burst").await;
    if proposed.errors > 0 {
        bail!("proposals failed{}", proposed.error_note());
    }
    let ids: Arc<Vec<String>> = Arc::new(proposed.outputs.into_iter().map(|(_, id)| id).collect());
    let burst = {
        let client = client.clone();
        let base: Arc<str> = base.into();
        let token: Arc<str> = token.as_str().into();
        let ids = ids.clone();
        move |i: usize| {
            let client = client.clone();
            let base = base.clone();
            let token = token.clone();
            let id = ids[i].clone();
            async move { approve(&client, &base, &token, &id).await.map(|()| None) }
        }
    };
    let started = Instant::now();
    let approved = drive(COMMAND_CLIENTS, Limit::Count(ids.len()), burst).await;
    if approved.errors > 0 {
        bail!("approvals failed{}", approved.error_note());
    }
    let wanted = serial_ids.len() + ids.len();
    wait_for(&pool, "ExecutionSucceeded", None, wanted, "executions").await?;
    let executed_for = started.elapsed();
    let latencies = approve_to_executed(&pool, &ids).await?;
    report.add(
        format!(
            "approve → executed, a burst of {} approvals from {COMMAND_CLIENTS} clients, p50",
            int(ids.len() as f64)
        ),
        ms(quantile(latencies.clone(), 0.5).context("no latencies")?),
        "ms",
        format!(
            "p99 {} ms; the executor takes them in log order; approve {}",
            ms_opt(quantile(latencies, 0.99)),
            approved.percentiles()
        ),
    );
    report.add(
        "executions, the burst's first approval to its last executed",
        int(per_second(ids.len(), executed_for)),
        "exec/s",
        format!(
            "{} executions in {:.1} s; {} sends reached the stand-in in all",
            int(ids.len() as f64),
            executed_for.as_secs_f64(),
            int(provider.sends.load(Ordering::SeqCst) as f64)
        ),
    );
    let sends = provider.sends.load(Ordering::SeqCst);
    if sends != wanted {
        bail!("{sends} sends reached the stand-in for {wanted} executions");
    }

    // Signals in: manual signals from the command clients, then until all are processed.
    sqlx::query(
        "create table bench_insert (id bigserial primary key, payload jsonb not null, \
         created_at timestamptz not null default now())",
    )
    .execute(&pool)
    .await?;
    let insert = insert_ceiling(url, COMMAND_CLIENTS, Duration::from_secs(2)).await?;
    sqlx::query("drop table bench_insert")
        .execute(&pool)
        .await?;
    if insert.errors > 0 {
        bail!("the INSERT ceiling failed{}", insert.error_note());
    }
    let record = {
        let client = client.clone();
        let url: Arc<str> = format!("{base}/api/signals").into();
        let token: Arc<str> = token.as_str().into();
        move |i: usize| {
            let client = client.clone();
            let url = url.clone();
            let token = token.clone();
            async move {
                let response = client
                    .post(&*url)
                    .bearer_auth(&*token)
                    .json(&json!({
                        "title": format!("Call back lead {i}"),
                        "contact_email": format!("lead{i}@example.com"),
                        "dedup_key": format!("bench-{i}"),
                    }))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = response.status();
                if !status.is_success() {
                    return Err(format!(
                        "{status}: {}",
                        response.text().await.unwrap_or_default()
                    ));
                }
                Ok(None)
            }
        }
    };
    let started = Instant::now();
    let recorded = drive(COMMAND_CLIENTS, Limit::Count(signals), record).await;
    if recorded.errors > 0 {
        bail!("signals failed{}", recorded.error_note());
    }
    report.add_ratio(
        format!("signals ingested over HTTP, {COMMAND_CLIENTS} clients"),
        int(recorded.rate()),
        "sig/s",
        ratio(
            recorded.rate(),
            insert.rate(),
            &format!("INSERT×{COMMAND_CLIENTS}"),
        ),
        format!("{}; POST /api/signals (manual)", recorded.percentiles()),
    );
    let processed = wait_for(&pool, "SignalProcessed", None, signals, "signals").await?;
    let processed_for = started.elapsed();
    report.add(
        "signals processed (each a proposed move), first request to last",
        int(per_second(processed, processed_for)),
        "sig/s",
        format!(
            "{} signals in {:.1} s",
            int(processed as f64),
            processed_for.as_secs_f64()
        ),
    );
    pool.close().await;
    Ok(())
}

/// Approves the move `id`.
async fn approve(client: &Client, base: &str, token: &str, id: &str) -> Result<(), String> {
    let response = client
        .post(format!("{base}/api/queue/{id}/approve"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    if status.as_u16() != 200 {
        return Err(format!(
            "{status}: {}",
            response.text().await.unwrap_or_default()
        ));
    }
    Ok(())
}

/// Per move, from its `QueueItemApproved` to its execution's `ExecutionSucceeded`: the
/// events' `recorded_at`, both written by the server (ms).
async fn approve_to_executed(pool: &PgPool, items: &[String]) -> anyhow::Result<Vec<f64>> {
    let executions: Vec<String> = items
        .iter()
        .map(|id| Ok(execution_id(id.parse()?).to_string()))
        .collect::<anyhow::Result<_>>()?;
    let latencies: Vec<f64> = sqlx::query_scalar(
        "select extract(epoch from (s.recorded_at - a.recorded_at))::float8 * 1000 \
         from unnest($1::text[], $2::text[]) as m(item, execution) \
         join events a on a.aggregate_id = m.item and a.event_type = 'QueueItemApproved' \
         join events s on s.aggregate_id = m.execution and s.event_type = 'ExecutionSucceeded'",
    )
    .bind(items)
    .bind(&executions)
    .fetch_all(pool)
    .await?;
    if latencies.len() != items.len() {
        bail!("{} of {} moves were executed", latencies.len(), items.len());
    }
    Ok(latencies)
}

/// Waits until `wanted` events of `event_type` (of one aggregate, or any) are in the log;
/// answers how many.
async fn wait_for(
    pool: &PgPool,
    event_type: &str,
    aggregate_id: Option<&str>,
    wanted: usize,
    what: &str,
) -> anyhow::Result<usize> {
    let started = Instant::now();
    loop {
        let count: i64 = sqlx::query_scalar(
            "select count(*) from events where event_type = $1 \
             and ($2::text is null or aggregate_id = $2)",
        )
        .bind(event_type)
        .bind(aggregate_id)
        .fetch_one(pool)
        .await?;
        if count as usize >= wanted {
            return Ok(count as usize);
        }
        if started.elapsed() > SETTLE_CAP {
            bail!("only {count} of {wanted} {what} done after {SETTLE_CAP:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
