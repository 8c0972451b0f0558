//! Reliability with a real process: `kill -9` under load loses no acknowledged command, and
//! the read models converge after a restart (DESIGN §2, §3, §9).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use caseyos_domain::api::QueueItemResponse;
use caseyos_tests::{admin_token, dto, Api};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::support::process::{caseyos, Server};

const CLIENTS: usize = 16;
/// Requests per client at most (a bound; the kill ends the load long before).
const MAX_REQUESTS_PER_CLIENT: usize = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Command {
    Propose,
    Approve,
}

impl Command {
    fn event_type(self) -> &'static str {
        match self {
            Command::Propose => "QueueItemProposed",
            Command::Approve => "QueueItemApproved",
        }
    }
}

/// A request the server answered with 2xx.
#[derive(Clone, Debug)]
struct Acknowledged {
    command: Command,
    item: String,
}

#[derive(Default)]
struct Load {
    acknowledged: std::sync::Mutex<Vec<Acknowledged>>,
    started: AtomicUsize,
    finished: AtomicUsize,
    refused: AtomicUsize,
    failed_before_kill: AtomicUsize,
    failed_after_kill: AtomicUsize,
    killed: AtomicBool,
}

impl Load {
    fn acknowledged(&self) -> Vec<Acknowledged> {
        self.acknowledged
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn in_flight(&self) -> usize {
        self.started
            .load(Ordering::SeqCst)
            .saturating_sub(self.finished.load(Ordering::SeqCst))
    }
}

/// Sends one command; `Ok(Some(id))` when acknowledged, `Ok(None)` when answered
/// otherwise, `Err` when the connection failed.
async fn send(
    load: &Load,
    request: reqwest::RequestBuilder,
    command: Command,
) -> Result<Option<String>, reqwest::Error> {
    load.started.fetch_add(1, Ordering::SeqCst);
    let outcome = async {
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        Ok::<_, reqwest::Error>((status, body))
    }
    .await;
    load.finished.fetch_add(1, Ordering::SeqCst);
    let (status, body) = outcome?;
    if !status.is_success() {
        load.refused.fetch_add(1, Ordering::SeqCst);
        eprintln!("{command:?} answered {status}: {body}");
        return Ok(None);
    }
    // A 2xx answer names its item.
    let id = dto::<QueueItemResponse>(&body).item.id.to_string();
    load.acknowledged
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Acknowledged {
            command,
            item: id.clone(),
        });
    Ok(Some(id))
}

/// One client: propose, and approve every other proposal it got acknowledged, until the
/// server is gone.
async fn client(n: usize, address: String, token: String, load: Arc<Load>) {
    let api = Api::new(&address, &token);
    for i in 0..MAX_REQUESTS_PER_CLIENT {
        let propose = api.post(
            "/api/queue",
            &json!({"action_type": "send_email", "title": format!("load {n}-{i}")}),
        );
        let proposed = match send(&load, propose, Command::Propose).await {
            Ok(id) => id,
            Err(error) => {
                if load.killed.load(Ordering::SeqCst) {
                    load.failed_after_kill.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                load.failed_before_kill.fetch_add(1, Ordering::SeqCst);
                eprintln!("client {n}: propose failed before the kill: {error}");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Some(id) = proposed else { continue };
        if i % 2 == 1 {
            let approve = api.post(
                &format!("/api/queue/{id}/approve"),
                &json!({"note": "load"}),
            );
            if let Err(error) = send(&load, approve, Command::Approve).await {
                if load.killed.load(Ordering::SeqCst) {
                    load.failed_after_kill.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                load.failed_before_kill.fetch_add(1, Ordering::SeqCst);
                eprintln!("client {n}: approve failed before the kill: {error}");
            }
        }
    }
}

/// Every queue item's status as the events say: the last status-changing event wins.
async fn fold_statuses(pool: &PgPool) -> BTreeMap<String, String> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select aggregate_id, event_type from events \
         where aggregate_type = 'queue_item' order by aggregate_id, sequence",
    )
    .fetch_all(pool)
    .await
    .expect("read the events");
    let mut statuses = BTreeMap::new();
    for (id, event_type) in rows {
        let status = match event_type.as_str() {
            "QueueItemProposed" | "QueueItemSnoozeEnded" => "pending",
            "QueueItemApproved" => "approved",
            "QueueItemRejected" => "rejected",
            "QueueItemSnoozed" => "snoozed",
            "QueueItemExpired" => "expired",
            "QueueItemEdited" => continue,
            other => panic!("an event type this test does not know: {other}"),
        };
        statuses.insert(id, status.to_string());
    }
    statuses
}

fn counts_of(statuses: &BTreeMap<String, String>) -> Value {
    let count = |s: &str| statuses.values().filter(|v| v.as_str() == s).count();
    json!({
        "pending": count("pending"),
        "snoozed": count("snoozed"),
        "approved": count("approved"),
        "rejected": count("rejected"),
        "expired": count("expired"),
        "total": statuses.len(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_server_under_load_loses_no_acknowledged_command() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let token = admin_token(&pool, "load-admin", "loadtester").await;
    let mut server = Server::start(|| caseyos(Some(&url)), Duration::from_secs(60)).await;

    // Load from 16 clients, then kill -9 while requests are in flight.
    let load = Arc::new(Load::default());
    let load_started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(client(
                n,
                server.address.clone(),
                token.clone(),
                load.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // On a slow machine, wait (bounded) until some commands were acknowledged.
    for _ in 0..600 {
        if load.acknowledged().len() >= 32 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let in_flight = load.in_flight();
    load.killed.store(true, Ordering::SeqCst);
    server.kill();
    let killed_after = load_started.elapsed();
    let stderr_before_kill = server.stderr();
    drop(server);
    for client in clients {
        tokio::time::timeout(Duration::from_secs(60), client)
            .await
            .expect("a client stops within 60 s of the kill")
            .expect("a client does not panic");
    }
    let acknowledged = load.acknowledged();
    let proposals = acknowledged
        .iter()
        .filter(|a| a.command == Command::Propose)
        .count();
    let approvals = acknowledged.len() - proposals;
    println!(
        "killed after {} ms with ~{in_flight} requests in flight; {} requests sent, \
         {proposals} proposals and {approvals} approvals acknowledged, {} refused, \
         {} connection failures before the kill, {} after",
        killed_after.as_millis(),
        load.started.load(Ordering::SeqCst),
        load.refused.load(Ordering::SeqCst),
        load.failed_before_kill.load(Ordering::SeqCst),
        load.failed_after_kill.load(Ordering::SeqCst),
    );
    assert!(
        proposals > 0,
        "the load produced no acknowledged proposal before the kill; server stderr:\n{stderr_before_kill}"
    );
    assert_eq!(
        load.refused.load(Ordering::SeqCst),
        0,
        "no command of this load should be refused"
    );

    // Every acknowledged command's event is in the event store.
    let stored: HashSet<(String, String)> = sqlx::query_as(
        "select aggregate_id, event_type from events where aggregate_type = 'queue_item'",
    )
    .fetch_all(&pool)
    .await
    .expect("read the events")
    .into_iter()
    .collect();
    let lost: Vec<&Acknowledged> = acknowledged
        .iter()
        .filter(|a| !stored.contains(&(a.item.clone(), a.command.event_type().to_string())))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged commands have no event: {lost:?}",
        lost.len()
    );
    let statuses = fold_statuses(&pool).await;
    println!(
        "the event store holds {} events for {} queue items (committed but unacknowledged: \
         {} items)",
        stored.len(),
        statuses.len(),
        statuses.len() - proposals
    );

    // Restart on the same database: ready, and the read model converges to the events.
    let server = Server::start(|| caseyos(Some(&url)), Duration::from_secs(60)).await;
    let api = Api::new(&server.address, &token);
    let restarted = Instant::now();
    let mut ready = None;
    for _ in 0..600 {
        let (status, body) = api.get_json("/ready").await;
        if status == 200 {
            ready = Some(restarted.elapsed());
            break;
        }
        eprintln!("/ready answered {status}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = ready.unwrap_or_else(|| {
        panic!(
            "/ready did not answer 200 within 60 s of the restart\n{}",
            server.output()
        )
    });
    println!(
        "/ready answered 200 {} ms after the restart",
        ready.as_millis()
    );

    let expected = counts_of(&statuses);
    let mut last = Value::Null;
    let mut converged = None;
    for _ in 0..600 {
        let (status, counts) = api.get_json("/api/queue/counts?owner=*").await;
        assert_eq!(status, 200);
        // The whole body, raw: exactly these fields.
        last = counts;
        if last == expected {
            converged = Some(restarted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let converged = converged.unwrap_or_else(|| {
        panic!(
            "the queue counts did not converge within 60 s: the events say {expected}, \
             the read model says {last}\n{}",
            server.output()
        )
    });
    println!(
        "the queue read model converged {} ms after the restart: {expected}",
        converged.as_millis()
    );

    let rows: HashMap<String, String> =
        sqlx::query_as::<_, (uuid::Uuid, String)>("select id, status from queue_items")
            .fetch_all(&pool)
            .await
            .expect("read queue_items")
            .into_iter()
            .map(|(id, status)| (id.to_string(), status))
            .collect();
    assert_eq!(
        rows.len(),
        statuses.len(),
        "one queue_items row per proposed item"
    );
    for (id, status) in &statuses {
        assert_eq!(
            rows.get(id),
            Some(status),
            "queue item {id}: the read model disagrees with its events"
        );
    }
    for ack in &acknowledged {
        let status = rows.get(&ack.item).map(String::as_str);
        match ack.command {
            Command::Propose => assert!(
                status.is_some(),
                "acknowledged proposal {} is missing from queue_items",
                ack.item
            ),
            Command::Approve => assert_eq!(
                status,
                Some("approved"),
                "acknowledged approval of {} is not approved in queue_items",
                ack.item
            ),
        }
    }

    let mut server = server;
    server
        .stop_cleanly(
            Duration::from_secs(20),
            "the restarted server exits cleanly",
        )
        .await;
    pool.close().await;
}
