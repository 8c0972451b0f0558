//! Live updates over server-sent events (DESIGN §7): `ready`, then a `projection` event
//! once a read model has applied a change — from whichever instance on the database made
//! or projected it — and streams that end when the server shuts down.

use std::time::Duration;

use caseyos_domain::api::{LiveEvent, QueueItemResponse, QueueListResponse};
use caseyos_domain::kernel::ConsistencyToken;
use caseyos_tests::{
    admin_token, dto, expect_dto, spawn_app, streaming_client, Api, SseEvent, SseReader,
};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::process::{caseyos, Server};

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
            let data: LiveEvent = serde_json::from_str(&event.data).expect("LiveEvent JSON");
            data.projection == "queue" && token_of(&data.consistency) >= after
        })
        .await
}

async fn ready(stream: &mut SseReader) -> ConsistencyToken {
    let first = stream.next_event(GUARD).await.expect("a first event");
    assert_eq!(first.event, "ready", "{first:?}");
    token_of(&first.data)
}

/// Proposes a move through the server at `address`: the write's consistency token.
async fn propose_at(address: &str, token: &str, title: &str) -> ConsistencyToken {
    let body = json!({"action_type": "send_email", "title": title});
    let answer = Api::new(address, token)
        .post_json("/api/queue", &body)
        .await;
    token_of(&expect_dto::<QueueItemResponse>(&answer, 201).consistency)
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
    let token = token_of(&proposed.consistency);
    assert!(token > at_start);
    let event = queue_reaches(&mut stream, token).await;
    // Raw: the event's data is exactly a LiveEvent's two fields.
    let data: Value = serde_json::from_str(&event.data).unwrap();
    assert_eq!(data.as_object().unwrap().len(), 2, "a LiveEvent: {data}");

    // The event's token reads the change.
    let consistency = dto::<LiveEvent>(&data).consistency;
    let today: QueueListResponse = app
        .get_ok(
            &format!("/api/queue/today?after={consistency}&consistency=strong"),
            &olga,
        )
        .await;
    assert_eq!(today.items[0].title, "live");
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
    queue_reaches(&mut stream, token_of(&proposed.consistency)).await;
}

#[tokio::test]
async fn events_reach_the_streams_of_every_instance_on_the_database() {
    let app = spawn_app().await;
    let second = app.another_instance(|_| {}).await;
    let mut first_stream = open_stream(&app.address, &app.admin).await;
    let mut second_stream = open_stream(&second.address, &app.admin).await;
    ready(&mut first_stream).await;
    ready(&mut second_stream).await;

    // One instance leads the projector; both streams hear of its batches, whichever
    // instance took the command.
    for address in [&app.address, &second.address] {
        let token = propose_at(address, &app.admin, &format!("via {address}")).await;
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
    let token = admin_token(&pool, "live-admin", "admin").await;
    let mut server = Server::start(|| caseyos(Some(&url)), Duration::from_secs(60)).await;
    let mut stream = open_stream(&server.address, &token).await;
    ready(&mut stream).await;
    let written = propose_at(&server.address, &token, "before SIGTERM").await;
    queue_reaches(&mut stream, written).await;

    // The hang guard is generous; a stream that kept the server alive would hit it.
    let took = server
        .stop_cleanly(Duration::from_secs(30), "SIGTERM ends the server")
        .await;
    println!(
        "stopped {} ms after SIGTERM with a stream open",
        took.as_millis()
    );
    // The stream ends with the server (next_event panics if it does not).
    while stream.next_event(GUARD).await.is_some() {}
    pool.close().await;
}
