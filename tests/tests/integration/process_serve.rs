//! `caseyos serve` as a real process: the embedded database, graceful shutdown on SIGTERM,
//! and clear start-up errors (DESIGN §8).

use std::time::{Duration, Instant};

use caseyos_domain::api::QueueItemResponse;
use caseyos_domain::queue::QueueStatus;
use caseyos_tests::{admin_token, dto, event_count, expect_dto, Api};
use serde_json::json;

use crate::support::process::{caseyos, run, DataDir, Server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_database_url_runs_on_the_embedded_postgres_and_keeps_data_across_restarts() {
    let dir = DataDir::new("serve-embedded");
    let make = || {
        let mut command = caseyos(None);
        command.arg("--data-dir").arg(&dir.path);
        command
    };

    // First run: initialises the cluster and prints a first-run admin token.
    let first_started = Instant::now();
    let mut server = Server::start(make, Duration::from_secs(180)).await;
    println!(
        "first start (initdb included) answered /health after {} ms",
        first_started.elapsed().as_millis()
    );
    if server
        .stdout_line(|l| l.contains("First run"), Duration::from_secs(10))
        .await
        .is_none()
    {
        panic!(
            "the first run prints no first-run token\n{}",
            server.output()
        );
    }
    let token = server
        .stdout_line(|_| true, Duration::from_secs(10))
        .await
        .map(|l| l.trim().to_string())
        .unwrap_or_default();
    assert!(
        token.starts_with("cos_"),
        "the line after `First run` is the token, got `{token}`\n{}",
        server.output()
    );

    let (status, body) = Api::new(&server.address, &token)
        .post_json(
            "/api/queue",
            &json!({"action_type": "send_email", "title": "survives restarts"}),
        )
        .await;
    assert_eq!(status, 201, "the first-run token can propose");
    let QueueItemResponse {
        item, consistency, ..
    } = dto(&body);
    let id = item.id;

    let took = server
        .stop_cleanly(
            Duration::from_secs(30),
            "SIGTERM ends the server successfully",
        )
        .await;
    println!("first run stopped {} ms after SIGTERM", took.as_millis());
    assert!(
        !dir.postgres_pid_file_exists(),
        "the server stops the embedded PostgreSQL it started when it shuts down\n{}",
        server.output()
    );
    drop(server);

    // Second run on the same folder: the move is still there, and no new token.
    let second_started = Instant::now();
    let mut server = Server::start(make, Duration::from_secs(120)).await;
    println!(
        "second start answered /health after {} ms",
        second_started.elapsed().as_millis()
    );
    let (status, body) = Api::new(&server.address, &token)
        .get_json(&format!("/api/queue/{id}?after={consistency}"))
        .await;
    assert_eq!(status, 200, "the move survives the restart: {body}");
    let item = dto::<QueueItemResponse>(&body).item;
    assert_eq!(item.title, "survives restarts");
    assert_eq!(item.status, QueueStatus::Pending);

    server
        .stop_cleanly(Duration::from_secs(30), "second run exits cleanly")
        .await;
    server.drain_stdout(Duration::from_secs(10)).await;
    assert!(
        !server
            .stdout_seen()
            .iter()
            .any(|l| l.contains("First run") || l.trim().starts_with("cos_")),
        "a restart prints no new first-run token\n{}",
        server.output()
    );
    assert!(
        server
            .stdout_seen()
            .iter()
            .any(|l| l.contains("CaseyOS is running at")),
        "the second run still prints where it runs\n{}",
        server.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_gracefully_and_quickly() {
    let (pool, url) = caseyos_tests::fresh_database().await;
    let token = admin_token(&pool, "sigterm-admin", "admin").await;
    let mut server = Server::start(|| caseyos(Some(&url)), Duration::from_secs(60)).await;

    // A few requests, leaving keep-alive connections open in the client.
    let api = Api::new(&server.address, &token);
    for i in 0..5 {
        let body = json!({"action_type": "send_email", "title": format!("before shutdown {i}")});
        expect_dto::<QueueItemResponse>(&api.post_json("/api/queue", &body).await, 201);
    }
    let (status, _) = api.get_json("/api/queue/today").await;
    assert_eq!(status, 200);

    let took = server
        .stop_cleanly(
            Duration::from_secs(20),
            "SIGTERM ends the server with success",
        )
        .await;
    println!("graceful shutdown took {} ms", took.as_millis());
    assert!(
        server.stderr().contains("shutting down"),
        "the server logs that it is shutting down\n{}",
        server.output()
    );
    // The work was committed before the process exited.
    assert_eq!(event_count(&pool).await, 5);
    drop(api);
    pool.close().await;
}

#[tokio::test]
async fn a_missing_database_is_a_clear_error() {
    let name = format!("caseyos_missing_{}", uuid::Uuid::new_v4().simple());
    let url = caseyos_tests::database_url(&name);
    let mut command = caseyos(Some(&url));
    command.args(["serve", "--bind", "127.0.0.1:0"]);
    let finished = run(command, Duration::from_secs(60)).await;
    println!("{}", finished.describe());
    finished.assert_failure("a missing database fails start-up");
    finished.assert_stderr_has("cannot connect to PostgreSQL", "stderr names the problem");
    finished.assert_stderr_has(&name, "stderr names the database");
    finished.assert_stderr_has("does not exist", "stderr says what is wrong with it");
    finished.assert_stdout_lacks("CaseyOS is running", "it does not claim to run");
}

#[tokio::test]
async fn an_invalid_configuration_is_rejected_at_start_up() {
    let mut command = caseyos(Some(&caseyos_tests::admin_url()));
    command
        .env("CASEYOS_DEFAULT_TIMEZONE", "Mars/Olympus")
        .args(["serve", "--bind", "127.0.0.1:0"]);
    let finished = run(command, Duration::from_secs(60)).await;
    println!("{}", finished.describe());
    finished.assert_failure("an invalid time zone fails start-up");
    finished.assert_stderr_has("default_timezone", "stderr names the setting");
    finished.assert_stderr_has("Mars/Olympus", "stderr names the value");
    finished.assert_stdout_lacks("CaseyOS is running", "it does not start");
}
