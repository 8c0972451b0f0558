//! Test and benchmark harnesses: a fresh database per test on the real PostgreSQL, the real
//! router on a random port, typed request helpers.
//!
//! The server under test is `CASEYOS_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates its own database there.
//! Set `TEST_LOG=1` to see the server's logs.

use std::time::{Duration, Instant};

use caseyos_backend::{Application, Config};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The administrative URL tests create their databases through.
pub fn admin_url() -> String {
    std::env::var("CASEYOS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `admin_url` with another database name.
pub fn database_url(name: &str) -> String {
    let admin = admin_url();
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b.to_string(), format!("?{q}")),
        None => (admin.clone(), String::new()),
    };
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => base[..i].to_string(),
        _ => base,
    };
    format!("{base}/{name}{query}")
}

/// Server logs on stderr when `TEST_LOG` is set (once per test binary), filtered by
/// `TEST_LOG_FILTER` (default `info,sqlx=warn`).
pub fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                std::env::var("TEST_LOG_FILTER").unwrap_or_else(|_| "info,sqlx=warn".into()),
            ))
            .with_test_writer()
            .try_init();
    }
}

/// A new, migrated database of its own.
pub async fn fresh_database() -> (PgPool, String) {
    let name = format!("caseyos_test_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url())
        .await
        .expect("PostgreSQL must run for the tests (see README: Tests)");
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .expect("create the test database");
    admin.close().await.ok();
    let url = database_url(&name);
    let pool = caseyos_backend::infra::db::connect(&url, 40)
        .await
        .expect("connect to the test database");
    caseyos_backend::infra::db::MIGRATOR
        .run(&pool)
        .await
        .expect("migrate the test database");
    (pool, url)
}

/// A running server on a random port with its own database.
pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    pub database_url: String,
    pub client: Client,
    /// An admin token for user `admin`.
    pub admin: String,
    shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Configuration for a test server.
pub fn test_config(database_url: &str) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().expect("an address"),
        database_url: Some(database_url.to_string()),
        ..Config::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    init_logs();
    let (pool, url) = fresh_database().await;
    let mut config = test_config(&url);
    configure(&mut config);
    let app = Application::with_pool(config, pool.clone())
        .await
        .expect("build the application");
    let address = format!("http://{}", app.address());
    let shutdown = app.shutdown_token();
    let handle = tokio::spawn(app.run_until_stopped());
    let admin = caseyos_backend::auth::tokens::create_token(
        &pool,
        "test-admin",
        "admin",
        caseyos_backend::auth::Role::Admin,
    )
    .await
    .expect("create the admin token");
    TestApp {
        address,
        pool,
        database_url: url,
        client: Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client"),
        admin,
        shutdown,
        handle: Some(handle),
    }
}

impl TestApp {
    /// A token for `user` with `role` (`admin`, `operator`, `viewer`).
    pub async fn token(&self, user: &str, role: &str) -> String {
        let role = caseyos_backend::auth::Role::parse(role).expect("a role");
        caseyos_backend::auth::tokens::create_token(
            &self.pool,
            &format!("{user}-{role}-{}", Uuid::new_v4().simple()),
            user,
            role,
        )
        .await
        .expect("create a token")
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self
            .client
            .request(method, format!("{}{path}", self.address));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub fn get(&self, path: &str, token: &str) -> RequestBuilder {
        self.request(Method::GET, path, Some(token))
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> RequestBuilder {
        self.request(Method::POST, path, Some(token)).json(body)
    }

    /// Proposes a move as `token` and returns the response body (asserting 201).
    pub async fn propose(&self, token: &str, body: Value) -> Value {
        let response = self
            .post("/api/queue", token, &body)
            .send()
            .await
            .expect("propose");
        let status = response.status();
        let body = response.json::<Value>().await.expect("a JSON body");
        assert_eq!(status, 201, "propose failed: {body}");
        body
    }

    /// Proposes a plain `send_email` move for `owner` with the given title.
    pub async fn propose_simple(&self, title: &str) -> Value {
        self.propose(
            &self.admin,
            json!({"action_type": "send_email", "title": title, "owner": "admin"}),
        )
        .await
    }

    /// Waits until the queue read model has caught up with everything committed.
    pub async fn settle(&self) {
        let head = caseyos_store::event::head(&self.pool).await.expect("head");
        for _ in 0..500 {
            let cp = caseyos_projections::runner::checkpoints(&self.pool, &["queue"])
                .await
                .expect("checkpoints");
            if cp[0] >= head {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the queue projection did not catch up within 5 s");
    }

    /// A one-time sign-in link's token for `user` with `role`.
    pub async fn sign_in_link(&self, user: &str, role: &str) -> String {
        let role = caseyos_backend::auth::Role::parse(role).expect("a role");
        caseyos_backend::auth::sessions::create_sign_in_link(&self.pool, user, role)
            .await
            .expect("create a sign-in link")
    }

    /// Signs in with a new link for `user` with `role`, as a browser would.
    pub async fn browser_session(&self, user: &str, role: &str) -> BrowserSession {
        let link = self.sign_in_link(user, role).await;
        let response = self
            .request(Method::POST, "/api/session", None)
            .json(&json!({ "link": link }))
            .send()
            .await
            .expect("sign in");
        let cookie = session_cookie(&response).expect("a session cookie");
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, 200, "sign in failed: {body}");
        BrowserSession {
            csrf: body["csrf_token"]
                .as_str()
                .expect("a csrf token")
                .to_string(),
            cookie,
            body,
        }
    }

    /// A request carrying a browser session's cookie (and no Authorization header).
    pub fn with_cookie(
        &self,
        method: Method,
        path: &str,
        session: &BrowserSession,
    ) -> RequestBuilder {
        self.request(method, path, None)
            .header("cookie", format!("caseyos_session={}", session.cookie))
    }

    /// Events of one aggregate, in order.
    pub async fn events_of(&self, aggregate_id: &str) -> Vec<caseyos_store::StoredEvent> {
        caseyos_store::event::read_aggregate(&self.pool, "queue_item", aggregate_id)
            .await
            .expect("events")
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
        self.pool.close().await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The body and status of a response, for assertions.
pub async fn status_and_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// A pool on a database URL (for tests that start their own server process).
pub async fn pool_for(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(8)
        .connect(url)
        .await
        .expect("connect")
}

/// Events in the store.
pub async fn event_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from events")
        .fetch_one(pool)
        .await
        .expect("count events")
}

/// A signed-in browser: its session cookie's value, CSRF token and `SessionResponse`.
#[derive(Clone, Debug)]
pub struct BrowserSession {
    pub cookie: String,
    pub csrf: String,
    pub body: Value,
}

/// The `Set-Cookie` header that sets or clears the session cookie, whole.
pub fn session_set_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("caseyos_session="))
        .map(str::to_string)
}

/// The session cookie's value a response sets, if it sets a non-empty one.
pub fn session_cookie(response: &Response) -> Option<String> {
    let header = session_set_cookie(response)?;
    let value = header
        .strip_prefix("caseyos_session=")?
        .split(';')
        .next()?
        .to_string();
    (!value.is_empty()).then_some(value)
}

/// An HTTP client for long-lived responses (event streams): no overall timeout.
pub fn streaming_client() -> Client {
    Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client")
}

/// One server-sent event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

/// Reads a `text/event-stream` response event by event, skipping comments.
pub struct SseReader {
    response: Response,
    buffer: Vec<u8>,
    /// Comment lines (keep-alives) seen so far.
    pub comments: usize,
}

impl SseReader {
    /// Opens the stream, asserting a 200 `text/event-stream` answer.
    pub async fn open(request: RequestBuilder) -> SseReader {
        let response = request.send().await.expect("open the event stream");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        if status != 200 {
            let body = response.text().await.unwrap_or_default();
            panic!("the event stream answered {status}: {body}");
        }
        assert!(
            content_type.starts_with("text/event-stream"),
            "content type {content_type}"
        );
        SseReader {
            response,
            buffer: Vec::new(),
            comments: 0,
        }
    }

    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        self.response.headers()
    }

    /// The next event, or `None` once the stream has ended; panics if none comes within
    /// `guard` (a hang guard, not a timing assertion).
    pub async fn next_event(&mut self, guard: Duration) -> Option<SseEvent> {
        let deadline = Instant::now() + guard;
        loop {
            if let Some(event) = self.take_event() {
                return Some(event);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.response.chunk()).await {
                Err(_) => panic!("no server-sent event within {guard:?}"),
                Ok(Ok(Some(bytes))) => self.buffer.extend_from_slice(&bytes),
                Ok(Ok(None)) | Ok(Err(_)) => return None,
            }
        }
    }

    /// The first event for which `matches` holds (others are skipped); panics if the
    /// stream ends or none comes within `guard`.
    pub async fn wait_for(
        &mut self,
        guard: Duration,
        matches: impl Fn(&SseEvent) -> bool,
    ) -> SseEvent {
        let deadline = Instant::now() + guard;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left).await {
                Some(event) if matches(&event) => return event,
                Some(_) => {}
                None => panic!("the event stream ended before the event came"),
            }
        }
    }

    fn take_event(&mut self) -> Option<SseEvent> {
        while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
            let block = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
            self.buffer.drain(..end + 2);
            let mut event = None;
            let mut data: Vec<String> = Vec::new();
            for line in block.lines() {
                if line.starts_with(':') {
                    self.comments += 1;
                    continue;
                }
                let (field, value) = match line.split_once(':') {
                    Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                    None => (line, ""),
                };
                match field {
                    "event" => event = Some(value.to_string()),
                    "data" => data.push(value.to_string()),
                    _ => {}
                }
            }
            if event.is_some() || !data.is_empty() {
                return Some(SseEvent {
                    event: event.unwrap_or_else(|| "message".into()),
                    data: data.join("\n"),
                });
            }
        }
        None
    }
}
