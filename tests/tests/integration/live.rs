//! Live updates over server-sent events (DESIGN §7): `ready`, then a `projection` event
//! once a read model has applied a change — from whichever instance on the database made
//! or projected it — and streams that end when the server shuts down.

use std::time::{Duration, Instant};

use crate::support::process::{caseyos, http, Server};
use caseyos_backend::auth::tokens::create_token;
use caseyos_backend::auth::Role;
use caseyos_backend::Application;
use caseyos_domain::kernel::ConsistencyToken;
use caseyos_tests::{spawn_app, streaming_client, SseEvent, SseReader, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// How long a test waits for an event before it calls the stream stuck.
const GUARD: Duration = Duration::from_secs(20);

async fn open_stream(address: &str, token: &str) -> SseReader {
    SseReader::open(
        streaming_client()
            .get(format!("{address}/api/events"))
            .bearer_auth(token)
            // Event streams are never compressed, whatever the client accepts.
            .header("accept-encoding", "gzip, br"),
    )
    .await
}

fn token_of(raw: &str) -> ConsistencyToken {
    raw.parse()
        .unwrap_or_else(|_| panic!("`{raw}` is not a consistency token"))
}

/// The `projection` event that shows the queue read model at or past `after`.
async fn queue_reaches(stream: &mut SseReader, after: ConsistencyToken) -> SseEvent {
    stream
        .wait_for(GUARD, |event| {
            if event.event != "projection" {
                return false;
            }
            let data: Value = serde_json::from_str(&event.data).expect("LiveEvent JSON");
            data["projection"] == "queue"
                && token_of(data["consistency"].as_str().unwrap()) >= after
        })
        .await
}

async fn ready(stream: &mut SseReader) -> ConsistencyToken {
    let first = stream.next_event(GUARD).await.expect("a first event");
    assert_eq!(first.event, "ready", "{first:?}");
    token_of(&first.data)
}

#[tokio::test]
async fn a_stream_hears_ready_then_the_projection_of_another_clients_move() {
    let app = spawn_app().await;
    let mut stream = open_stream(&app.address, &app.admin).await;
    assert!(
        stream.headers().get("content-encoding").is_none(),
        "not compressed: {:?}",
        stream.headers()
    );
    let at_start = ready(&mut stream).await;

    let olga = app.token("olga", "operator").await;
    let proposed = app
        .propose(&olga, json!({"action_type": "check_in", "title": "live"}))
        .await;
    let token = token_of(proposed["consistency"].as_str().unwrap());
    assert!(token > at_start);
    let event = queue_reaches(&mut stream, token).await;
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(data.as_object().unwrap().len(), 2, "a LiveEvent: {data}");

    // The event's token reads the change.
    let consistency = data["consistency"].as_str().unwrap();
    let (status, body) = caseyos_tests::status_and_json(
        app.get(
            &format!("/api/queue/today?after={consistency}&consistency=strong"),
            &olga,
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["items"][0]["title"], "live");
}

#[tokio::test]
async fn the_session_cookie_opens_a_stream_without_any_header() {
    let app = spawn_app().await;
    let session = app.browser_session("casey", "viewer").await;
    let mut stream = SseReader::open(
        app.with_cookie(Method::GET, "/api/events", &session)
            .header("accept", "text/event-stream"),
    )
    .await;
    ready(&mut stream).await;
    let proposed = app.propose_simple("seen through the cookie").await;
    queue_reaches(
        &mut stream,
        token_of(proposed["consistency"].as_str().unwrap()),
    )
    .await;
}

/// A second server in this process on the same database.
struct SecondInstance {
    address: String,
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl SecondInstance {
    async fn start(app: &TestApp) -> SecondInstance {
        let instance = Application::with_pool(
            caseyos_tests::test_config(&app.database_url),
            app.pool.clone(),
        )
        .await
        .expect("build the second instance");
        let address = format!("http://{}", instance.address());
        let shutdown = instance.shutdown_token();
        let handle = tokio::spawn(instance.run_until_stopped());
        SecondInstance {
            address,
            shutdown,
            handle,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.handle).await;
    }
}

#[tokio::test]
async fn events_reach_the_streams_of_every_instance_on_the_database() {
    let app = spawn_app().await;
    let second = SecondInstance::start(&app).await;
    let mut first_stream = open_stream(&app.address, &app.admin).await;
    let mut second_stream = open_stream(&second.address, &app.admin).await;
    ready(&mut first_stream).await;
    ready(&mut second_stream).await;

    // One instance leads the projector; both streams hear of its batches, whichever
    // instance took the command.
    for address in [&app.address, &second.address] {
        let response = app
            .client
            .post(format!("{address}/api/queue"))
            .bearer_auth(&app.admin)
            .json(&json!({"action_type": "send_email", "title": format!("via {address}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        let token = token_of(body["consistency"].as_str().unwrap());
        queue_reaches(&mut first_stream, token).await;
        queue_reaches(&mut second_stream, token).await;
    }
    let leaders: Vec<String> =
        sqlx::query_scalar("select leader from projection_checkpoints where leader is not null")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    println!("queue projector led by {leaders:?}");
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_an_open_event_stream_still_stops_the_server_promptly() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let token = create_token(&pool, "live-admin", "admin", Role::Admin)
        .await
        .expect("an admin token");
    let mut server = Server::start(|| caseyos(Some(&url)), Duration::from_secs(60)).await;
    let mut stream = open_stream(&server.address, &token).await;
    ready(&mut stream).await;
    let response = http()
        .post(format!("{}/api/queue", server.address))
        .bearer_auth(&token)
        .json(&json!({"action_type": "send_email", "title": "before SIGTERM"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    queue_reaches(&mut stream, token_of(body["consistency"].as_str().unwrap())).await;

    let started = Instant::now();
    server.terminate();
    // The hang guard is generous; a stream that kept the server alive would hit it.
    let status = server.wait_for_exit(Duration::from_secs(30)).await;
    println!(
        "stopped {} ms after SIGTERM with a stream open",
        started.elapsed().as_millis()
    );
    assert!(status.success(), "{status}\n{}", server.output());
    // The stream ends with the server (next_event panics if it does not).
    while stream.next_event(GUARD).await.is_some() {}
    pool.close().await;
}
