//! `caseyos serve` as a real process: the embedded database, graceful shutdown on SIGTERM,
//! and clear start-up errors (DESIGN §8).

use std::time::{Duration, Instant};

use crate::support::process::{caseyos, http, run, DataDir, Server};
use caseyos_backend::auth::tokens::create_token;
use caseyos_backend::auth::Role;
use serde_json::{json, Value};

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

    let http = http();
    let response = http
        .post(format!("{}/api/queue", server.address))
        .bearer_auth(&token)
        .json(&json!({"action_type": "send_email", "title": "survives restarts"}))
        .send()
        .await
        .expect("propose");
    assert_eq!(response.status(), 201, "the first-run token can propose");
    let body: Value = response.json().await.expect("a JSON body");
    let id = body["item"]["id"].as_str().expect("an item id").to_string();
    let consistency = body["consistency"]
        .as_str()
        .expect("a consistency token")
        .to_string();

    let stopping = Instant::now();
    server.terminate();
    let status = server.wait_for_exit(Duration::from_secs(30)).await;
    println!(
        "first run stopped {} ms after SIGTERM",
        stopping.elapsed().as_millis()
    );
    assert!(
        status.success(),
        "SIGTERM ends the server successfully: {status}\n{}",
        server.output()
    );
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
    let response = http
        .get(format!(
            "{}/api/queue/{id}?after={consistency}",
            server.address
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("read the move back");
    let status = response.status();
    let body: Value = response.json().await.expect("a JSON body");
    assert_eq!(status, 200, "the move survives the restart: {body}");
    assert_eq!(body["item"]["title"], "survives restarts");
    assert_eq!(body["item"]["status"], "pending");

    server.terminate();
    let status = server.wait_for_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "second run exits cleanly: {status}");
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
    let token = create_token(&pool, "sigterm-admin", "admin", Role::Admin)
        .await
        .expect("an admin token");
    let mut server = Server::start(|| caseyos(Some(&url)), Duration::from_secs(60)).await;

    // A few requests, leaving keep-alive connections open in the client.
    let http = http();
    for i in 0..5 {
        let response = http
            .post(format!("{}/api/queue", server.address))
            .bearer_auth(&token)
            .json(&json!({"action_type": "send_email", "title": format!("before shutdown {i}")}))
            .send()
            .await
            .expect("propose");
        assert_eq!(response.status(), 201);
    }
    let response = http
        .get(format!("{}/api/queue/today", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("today");
    assert_eq!(response.status(), 200);

    let started = Instant::now();
    server.terminate();
    let status = server.wait_for_exit(Duration::from_secs(20)).await;
    let took = started.elapsed();
    println!("graceful shutdown took {} ms", took.as_millis());
    assert!(
        status.success(),
        "SIGTERM ends the server with success: {status}\n{}",
        server.output()
    );
    assert!(
        server.stderr().contains("shutting down"),
        "the server logs that it is shutting down\n{}",
        server.output()
    );
    // The work was committed before the process exited.
    let events: i64 = sqlx::query_scalar("select count(*) from events")
        .fetch_one(&pool)
        .await
        .expect("count events");
    assert_eq!(events, 5);
    drop(http);
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
    assert!(
        !finished.status.success(),
        "a missing database fails start-up\n{}",
        finished.describe()
    );
    assert!(
        finished.stderr.contains("cannot connect to PostgreSQL"),
        "stderr names the problem\n{}",
        finished.describe()
    );
    assert!(
        finished.stderr.contains(&name),
        "stderr names the database\n{}",
        finished.describe()
    );
    assert!(
        finished.stderr.contains("does not exist"),
        "stderr says what is wrong with it\n{}",
        finished.describe()
    );
    assert!(
        !finished.stdout.contains("CaseyOS is running"),
        "it does not claim to run\n{}",
        finished.describe()
    );
}

#[tokio::test]
async fn an_invalid_configuration_is_rejected_at_start_up() {
    let mut command = caseyos(Some(&caseyos_tests::admin_url()));
    command
        .env("CASEYOS_DEFAULT_TIMEZONE", "Mars/Olympus")
        .args(["serve", "--bind", "127.0.0.1:0"]);
    let finished = run(command, Duration::from_secs(60)).await;
    println!("{}", finished.describe());
    assert!(
        !finished.status.success(),
        "an invalid time zone fails start-up\n{}",
        finished.describe()
    );
    assert!(
        finished.stderr.contains("default_timezone"),
        "stderr names the setting\n{}",
        finished.describe()
    );
    assert!(
        finished.stderr.contains("Mars/Olympus"),
        "stderr names the value\n{}",
        finished.describe()
    );
    assert!(
        !finished.stdout.contains("CaseyOS is running"),
        "it does not start\n{}",
        finished.describe()
    );
}
