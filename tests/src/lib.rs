//! Test, benchmark and soak harnesses: a fresh database per test on the real PostgreSQL, the
//! real router on a random port, typed request helpers; the `caseyos` binary as a process
//! ([`process`]), the soak run ([`soak`]) and synthetic contacts with known duplicates
//! ([`contacts_data`]).
//!
//! The server under test is `CASEYOS_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates its own database there.
//! Set `TEST_LOG=1` to see the server's logs.
//!
//! Answers come back as `(status, body)`; [`dto`] reads a body as one of the shared API
//! types of `caseyos_domain::api`, [`error_of`] and [`assert_error`] read a refusal's
//! `ErrorEnvelope`. Tests about the wire format itself keep the raw JSON.

pub mod contacts_data;
pub mod process;
pub mod soak;

use std::fmt::Display;
use std::time::{Duration, Instant};

use caseyos_backend::connectors::credentials::{Credentials, NewCredential};
use caseyos_backend::connectors::sealing::SealingKey;
use caseyos_backend::{Application, Config};
use caseyos_domain::agent_run::AgentRunView;
use caseyos_domain::api::{
    AgentRunResponse, ErrorBody, ErrorEnvelope, FieldError, QueueItemResponse,
};
use caseyos_domain::connectors::{ConnectorName, CredentialKind};
use caseyos_domain::queue::QueueItemView;
use reqwest::{Client, Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
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

/// A new, empty database named `<prefix>_<random>`; returns its name and URL.
pub async fn empty_database(prefix: &str) -> (String, String) {
    let name = format!("{prefix}_{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&admin_url())
        .await
        .expect("PostgreSQL must run for the tests (see README: Tests)");
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .expect("create the test database");
    admin.close().await.ok();
    let url = database_url(&name);
    (name, url)
}

/// Drops database `name` of the test server, ending any session still on it.
pub async fn drop_database(name: &str) -> Result<(), sqlx::Error> {
    let mut admin = PgConnection::connect(&admin_url()).await?;
    sqlx::query(&format!("drop database if exists {name} with (force)"))
        .execute(&mut admin)
        .await?;
    admin.close().await
}

/// A new, migrated database of its own.
pub async fn fresh_database() -> (PgPool, String) {
    let (_, url) = empty_database("caseyos_test").await;
    let pool = caseyos_backend::infra::db::connect(&url, 40)
        .await
        .expect("connect to the test database");
    caseyos_backend::infra::db::MIGRATOR
        .run(&pool)
        .await
        .expect("migrate the test database");
    (pool, url)
}

/// A new admin API token named `name` for `user`, written straight to the database (for
/// servers a test starts itself).
pub async fn admin_token(pool: &PgPool, name: &str, user: &str) -> String {
    caseyos_backend::auth::tokens::create_token(
        pool,
        name,
        user,
        caseyos_backend::auth::Role::Admin,
    )
    .await
    .expect("create an admin token")
}

/// The command bus as the server builds it (snapshots every 100 events), retrying a
/// conflicting command up to `max_retries` times.
pub fn command_bus(pool: &PgPool, max_retries: u32) -> caseyos_store::CommandBus {
    caseyos_store::CommandBus::new(
        pool.clone(),
        100,
        max_retries,
        std::sync::Arc::new(caseyos_store::bus::Unobserved),
    )
}

/// When this binary was started as `<binary> serve ...`, runs it as the `caseyos` CLI (the
/// server a benchmark or soak run drives is then the one it was built with) and exits.
pub async fn serve_when_asked() {
    if std::env::args().nth(1).as_deref() == Some("serve") {
        if let Err(error) = caseyos_backend::cli::main().await {
            eprintln!("Error: {error:?}");
            std::process::exit(1);
        }
        std::process::exit(0);
    }
}

/// A manual proposal by `admin` of a `send_email` move with this id and title.
pub fn propose_command(id: Uuid, title: &str) -> caseyos_domain::queue::QueueItemCommand {
    use caseyos_domain::kernel::{Actor, Text, UserName};
    use caseyos_domain::queue::{
        ActionType, ProposeQueueItem, QueueItemCommand, Source, Target, MAX_TITLE_CHARS,
    };
    QueueItemCommand::Propose(Box::new(ProposeQueueItem {
        id,
        title: Some(Text::parse(title, MAX_TITLE_CHARS).expect("a valid title")),
        action_type: ActionType::SendEmail,
        domain: None,
        target: Target::default(),
        payload: serde_json::json!({}),
        owner: UserName::parse("admin").expect("a valid name"),
        due_by: None,
        expires_at: None,
        source: Source::Manual,
        aps: Default::default(),
        rationale: None,
        draft: None,
        demo: false,
        learned: Vec::new(),
        by: Actor::user("admin"),
        at: caseyos_store::now(),
    }))
}

/// The key test servers seal connector tokens with (base64 of 32 bytes), so no test writes a
/// key file into the home folder; tests of the key file unset it.
pub const TEST_CREDENTIALS_KEY: &str = "Y2FzZXlvcy10ZXN0cy1jcmVkZW50aWFscy1rZXktMzI=";

/// Configuration for a test server. Stored schedules do not fire (a test that wants them
/// sets `schedules_enabled`), so no scheduled run appears in a test that did not ask; nor
/// do the timed Gmail and Calendar reads (a Gmail push still wakes the poller; tests poll
/// with `gmail_poller::GmailPoller::poll`). Connector tokens are sealed with
/// [`TEST_CREDENTIALS_KEY`].
pub fn test_config(database_url: &str) -> Config {
    Config {
        bind: "127.0.0.1:0".parse().expect("an address"),
        database_url: Some(database_url.to_string()),
        schedules_enabled: false,
        gmail_poll_interval_secs: 0,
        calendar_poll_interval_secs: 0,
        credentials_key: Some(TEST_CREDENTIALS_KEY.into()),
        ..Config::default()
    }
}

/// The connector credentials of a test database as a server configured by `config` sees
/// them (the same sealing key, the same OAuth endpoints).
pub fn credentials_for(pool: &PgPool, config: &Config) -> Credentials {
    let key = SealingKey::load(config).expect("the credentials key");
    Credentials::new(pool.clone(), key, config).expect("the credentials")
}

/// Stores `access_token` for `name` (with a refresh token `fake-refresh-token`) expiring in
/// two hours (past the token worker's refresh horizon), as a completed grant would.
pub async fn store_fake_credential(
    credentials: &Credentials,
    name: ConnectorName,
    access_token: &str,
) {
    let credential = NewCredential {
        kind: CredentialKind::Oauth,
        access_token: access_token.into(),
        refresh_token: Some("fake-refresh-token".into()),
        expires_at: Some(caseyos_store::now() + chrono::Duration::hours(2)),
        scopes: caseyos_backend::connectors::oauth::scopes_of(name)
            .iter()
            .map(|s| s.to_string())
            .collect(),
        account: Some("casey@example.com".into()),
        hub_id: None,
    };
    credentials
        .store(name, credential, "test-admin")
        .await
        .expect("store the fake credential");
}

/// A server built in this process on an existing pool: a test app's own, or another
/// instance on the same database. Dropping it stops the server.
pub struct Instance {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Instance {
    pub async fn start(config: Config, pool: PgPool) -> Instance {
        Instance::start_with_agents(config, pool, caseyos_agents::Agents::registry()).await
    }

    /// [`Instance::start`] with workers that run `agents` (e.g. the registry and a test's
    /// own agents).
    pub async fn start_with_agents(
        config: Config,
        pool: PgPool,
        agents: caseyos_agents::Agents,
    ) -> Instance {
        let app = Application::with_pool_and_agents(config, pool, agents)
            .await
            .expect("build the application");
        let address = format!("http://{}", app.address());
        let shutdown = app.shutdown_token();
        let handle = tokio::spawn(app.run_until_stopped());
        Instance {
            address,
            shutdown,
            handle: Some(handle),
        }
    }

    /// Stops the server and waits (at most 10 s) until it has.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), handle).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A running server on a random port with its own database.
pub struct TestApp {
    /// First, so that dropping the app stops the server before anything else goes.
    server: Instance,
    pub address: String,
    pub pool: PgPool,
    pub database_url: String,
    pub client: Client,
    /// An admin token for user `admin`.
    pub admin: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_agents(caseyos_agents::Agents::registry(), configure).await
}

/// [`spawn_app_with`], its workers running `agents` (the registry and a test's own).
pub async fn spawn_app_with_agents(
    agents: caseyos_agents::Agents,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    init_logs();
    let (pool, url) = fresh_database().await;
    let mut config = test_config(&url);
    configure(&mut config);
    let server = Instance::start_with_agents(config, pool.clone(), agents).await;
    let admin = admin_token(&pool, "test-admin", "admin").await;
    TestApp {
        address: server.address.clone(),
        pool,
        database_url: url,
        client: Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an HTTP client"),
        admin,
        server,
    }
}

/// Sends `request` and reads the answer's status and JSON body.
pub async fn send(request: RequestBuilder) -> (u16, Value) {
    status_and_json(request.send().await.expect("send the request")).await
}

/// A response body read as `T`, one of the API's shared DTOs (`caseyos_domain::api`);
/// panics naming the type and the body when it does not fit.
#[track_caller]
pub fn dto<T: DeserializeOwned>(body: &Value) -> T {
    serde_json::from_value(body.clone()).unwrap_or_else(|e| {
        panic!(
            "the body is not a {}: {e}\n{body:#}",
            std::any::type_name::<T>()
        )
    })
}

/// The answer's body as `T` after asserting its status.
#[track_caller]
pub fn expect_dto<T: DeserializeOwned>(answer: &(u16, Value), status: u16) -> T {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    dto(body)
}

/// A refusal's body read as the shared `ErrorEnvelope`: its `error`.
#[track_caller]
pub fn error_body(body: &Value) -> ErrorBody {
    dto::<ErrorEnvelope>(body).error
}

/// A refused request's error: asserts the status and reads the body as the shared
/// `ErrorEnvelope`.
#[track_caller]
pub fn error_of(answer: &(u16, Value), status: u16) -> ErrorBody {
    expect_dto::<ErrorEnvelope>(answer, status).error
}

/// [`error_of`], also asserting the error's stable code.
#[track_caller]
pub fn assert_error(answer: &(u16, Value), status: u16, code: &str) -> ErrorBody {
    let error = error_of(answer, status);
    assert_eq!(error.code, code, "{}", answer.1);
    error
}

/// The fields a validation error names (`details.fields[].field`), in order.
#[track_caller]
pub fn error_fields(error: &ErrorBody) -> Vec<String> {
    let fields = error
        .details
        .as_ref()
        .and_then(|d| d.get("fields"))
        .unwrap_or_else(|| panic!("the error names no fields: {error:?}"));
    dto::<Vec<FieldError>>(fields)
        .into_iter()
        .map(|f| f.field)
        .collect()
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

    /// The connector credentials of this app's database (sealed with the tests' key).
    pub fn credentials(&self) -> Credentials {
        self.credentials_with(|_| {})
    }

    /// [`credentials`](Self::credentials) configured also by `configure` (OAuth endpoints
    /// and clients, `hubspot_token`).
    pub fn credentials_with(&self, configure: impl FnOnce(&mut Config)) -> Credentials {
        let mut config = test_config(&self.database_url);
        configure(&mut config);
        credentials_for(&self.pool, &config)
    }

    /// Connects `name` to a fake without any OAuth dance: stores `access_token` (with a
    /// refresh token `fake-refresh-token`) expiring in two hours (past the token worker's
    /// refresh horizon), as a completed grant would.
    /// Tests of the clients point the client's base URL at their fake and expect this
    /// token as the bearer.
    pub async fn connect_fake(&self, name: ConnectorName, access_token: &str) {
        store_fake_credential(&self.credentials(), name, access_token).await;
    }

    /// Another server in this process on the same database, configured like this one
    /// and then by `configure`.
    pub async fn another_instance(&self, configure: impl FnOnce(&mut Config)) -> Instance {
        let mut config = test_config(&self.database_url);
        configure(&mut config);
        Instance::start(config, self.pool.clone()).await
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

    /// GETs `path` as `token`: the answer's status and JSON body.
    pub async fn get_json(&self, path: &str, token: &str) -> (u16, Value) {
        send(self.get(path, token)).await
    }

    /// The `/metrics` page, as an admin reads it.
    pub async fn metrics_text(&self) -> String {
        self.get("/metrics", &self.admin)
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("the metrics page")
    }

    /// POSTs `body` to `path` as `token`: the answer's status and JSON body.
    pub async fn post_json(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        send(self.post(path, token, body)).await
    }

    /// GETs `path` as `token`, asserting 200, and reads the body as `T`.
    pub async fn get_ok<T: DeserializeOwned>(&self, path: &str, token: &str) -> T {
        let (status, body) = self.get_json(path, token).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        dto(&body)
    }

    /// Proposes a move as `token` (asserting 201).
    pub async fn propose(&self, token: &str, body: Value) -> QueueItemResponse {
        let (status, body) = self.post_json("/api/queue", token, &body).await;
        assert_eq!(status, 201, "propose failed: {body}");
        dto(&body)
    }

    /// Proposes a plain `send_email` move for `admin` with the given title.
    pub async fn propose_simple(&self, title: &str) -> QueueItemResponse {
        self.propose(
            &self.admin,
            json!({"action_type": "send_email", "title": title, "owner": "admin"}),
        )
        .await
    }

    /// `POST /api/queue/{id}/{what}` (`approve`, `reject`, `snooze`, `edit`) as admin.
    pub async fn queue_command(&self, id: impl Display, what: &str, body: Value) -> (u16, Value) {
        self.post_json(&format!("/api/queue/{id}/{what}"), &self.admin, &body)
            .await
    }

    /// [`TestApp::queue_command`], asserting 200.
    pub async fn queue_command_ok(
        &self,
        id: impl Display,
        what: &str,
        body: Value,
    ) -> QueueItemResponse {
        let (status, answer) = self.queue_command(&id, what, body).await;
        assert_eq!(status, 200, "{what} {id}: {answer}");
        dto(&answer)
    }

    /// The move as the server has it now, read as admin.
    pub async fn queue_item(&self, id: impl Display) -> QueueItemView {
        self.get_ok::<QueueItemResponse>(&format!("/api/queue/{id}"), &self.admin)
            .await
            .item
    }

    /// Asks `agent` for a run of `input` as `token`: the answer's status and JSON body.
    pub async fn request_run(&self, token: &str, agent: &str, input: Value) -> (u16, Value) {
        self.post_json(
            &format!("/api/agents/{agent}/runs"),
            token,
            &json!({ "input": input }),
        )
        .await
    }

    /// [`TestApp::request_run`], asserting 202: the queued run.
    pub async fn request_run_ok(&self, token: &str, agent: &str, input: Value) -> AgentRunView {
        let answer = self.request_run(token, agent, input).await;
        expect_dto::<AgentRunResponse>(&answer, 202).run
    }

    /// The run as the server has it now, read as `token`.
    pub async fn agent_run(&self, token: &str, id: impl Display) -> AgentRunView {
        self.get_ok::<AgentRunResponse>(&format!("/api/agent-runs/{id}"), token)
            .await
            .run
    }

    /// Polls the run (every 100 ms) until `done` holds; panics after `guard`.
    pub async fn wait_for_run(
        &self,
        token: &str,
        id: impl Display,
        guard: Duration,
        done: impl Fn(&AgentRunView) -> bool,
    ) -> AgentRunView {
        let started = Instant::now();
        loop {
            let run = self.agent_run(token, &id).await;
            if done(&run) {
                return run;
            }
            assert!(
                started.elapsed() < guard,
                "run {id} did not get there within {guard:?}: {run:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the queue read model has caught up with everything committed.
    pub async fn settle(&self) {
        settle(&self.pool, Duration::from_secs(5)).await;
    }

    /// A one-time sign-in link's token for `user` with `role`.
    pub async fn sign_in_link(&self, user: &str, role: &str) -> String {
        let role = caseyos_backend::auth::Role::parse(role).expect("a role");
        caseyos_backend::auth::sessions::create_sign_in_link(&self.pool, user, role)
            .await
            .expect("create a sign-in link")
    }

    /// `POST /api/session` with `body` (`{"link"}` or `{"token"}`), as a browser would.
    pub async fn sign_in(&self, body: Value) -> Response {
        self.request(Method::POST, "/api/session", None)
            .json(&body)
            .send()
            .await
            .expect("sign in")
    }

    /// Signs in with a new link for `user` with `role`, as a browser would.
    pub async fn browser_session(&self, user: &str, role: &str) -> BrowserSession {
        let link = self.sign_in_link(user, role).await;
        BrowserSession::from_sign_in(self.sign_in(json!({ "link": link })).await).await
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

    /// Events of one queue item, in order.
    pub async fn events_of(&self, aggregate_id: impl Display) -> Vec<caseyos_store::StoredEvent> {
        caseyos_store::event::read_aggregate(&self.pool, "queue_item", &aggregate_id.to_string())
            .await
            .expect("events")
    }

    /// Events of one aggregate of any type, in order.
    pub async fn events_of_type(
        &self,
        aggregate_type: &str,
        aggregate_id: impl Display,
    ) -> Vec<caseyos_store::StoredEvent> {
        caseyos_store::event::read_aggregate(&self.pool, aggregate_type, &aggregate_id.to_string())
            .await
            .expect("events")
    }

    pub async fn stop(self) {
        self.server.stop().await;
        self.pool.close().await;
    }
}

/// Waits until the queue read model has applied every committed event; panics after
/// `guard`.
pub async fn settle(pool: &PgPool, guard: Duration) {
    let head = caseyos_store::event::head(pool).await.expect("the head");
    // Polls every 10 ms, `guard / 10 ms` times.
    for _ in 0..guard.as_millis() / 10 {
        let checkpoints = caseyos_projections::runner::checkpoints(pool, &["queue"])
            .await
            .expect("checkpoints");
        if checkpoints[0] >= head {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the queue projection did not catch up within {guard:?}");
}

/// A response header's value (empty when absent or not text).
pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// Runs `sql`, which selects one `bigint`.
pub async fn query_i64(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
}

/// The body and status of a response, for assertions.
pub async fn status_and_json(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// The JSON API of a server a test started some other way (a process, another instance),
/// as the caller with `token`.
pub struct Api {
    pub address: String,
    token: String,
    client: Client,
}

impl Api {
    pub fn new(address: &str, token: &str) -> Api {
        Api {
            address: address.to_string(),
            token: token.to_string(),
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
        }
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(&self.token)
    }

    pub fn post(&self, path: &str, body: &Value) -> RequestBuilder {
        self.client
            .post(format!("{}{path}", self.address))
            .bearer_auth(&self.token)
            .json(body)
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        send(self.get(path)).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        send(self.post(path, body)).await
    }
}

/// A pool on a database URL (for tests that start their own server process).
pub async fn pool_for(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(8)
        .connect(url)
        .await
        .expect("connect")
}

/// Events in the store that requests and workers wrote: not the first start's own (the
/// default pipeline, the seed rules), nor what the reactors write in answer to every
/// proposal, approval and execution (auto-approval decisions, executions, outcomes).
pub async fn event_count(pool: &PgPool) -> i64 {
    query_i64(
        pool,
        "select count(*) from events where metadata ->> 'actor' not in \
         ('system:first-start', 'system:auto-approval', 'system:executions', 'system:outcomes')",
    )
    .await
}

/// A signed-in browser: its session cookie's value, CSRF token and `SessionResponse`.
#[derive(Clone, Debug)]
pub struct BrowserSession {
    pub cookie: String,
    pub csrf: String,
    pub body: Value,
}

impl BrowserSession {
    /// The session a successful sign-in answer starts (asserting 200 and a cookie).
    pub async fn from_sign_in(response: Response) -> BrowserSession {
        let cookie = session_cookie(&response).expect("a session cookie");
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, 200, "sign in failed: {body}");
        let session: caseyos_domain::api::SessionResponse = dto(&body);
        BrowserSession {
            csrf: session.csrf_token,
            cookie,
            body,
        }
    }
}

/// The `Set-Cookie` header that sets or clears the session cookie (`caseyos_session`, or
/// `__Host-caseyos_session` when served over HTTPS), whole.
pub fn session_set_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("caseyos_session=") || v.starts_with("__Host-caseyos_session="))
        .map(str::to_string)
}

/// The session cookie's value a response sets, if it sets a non-empty one.
pub fn session_cookie(response: &Response) -> Option<String> {
    let header = session_set_cookie(response)?;
    let value = header.split_once('=')?.1.split(';').next()?.to_string();
    (!value.is_empty()).then_some(value)
}

/// An HTTP client for long-lived responses (event streams): no overall timeout.
pub fn streaming_client() -> Client {
    Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .expect("an HTTP client")
}

pub use caseyos_domain::kernel::sse::SseEvent;

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
        let content_type = header(&response, "content-type");
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
        caseyos_domain::kernel::sse::take_event(&mut self.buffer, &mut self.comments)
    }
}

/// Waits until every read model has applied everything committed, and every reactor
/// (outcomes, auto-approval, the executor, signals, merges) has followed the log to its
/// head, so the events they write in answer are in too — and the log has stopped moving.
pub async fn settle_everything(pool: &PgPool) {
    let all = caseyos_projections::all_projectors();
    let names: Vec<&str> = all.iter().map(|p| p.name()).collect();
    for _ in 0..3000 {
        let head = caseyos_store::event::head(pool)
            .await
            .expect("the log's head");
        let checkpoints = caseyos_projections::runner::checkpoints(pool, &names)
            .await
            .expect("the projectors' checkpoints");
        let reactors: Vec<(i64, i64)> = sqlx::query_as(
            "select checkpoint_tx::text::bigint, checkpoint_position from reactor_checkpoints",
        )
        .fetch_all(pool)
        .await
        .expect("the reactors' checkpoints");
        let reactors_done = reactors.iter().all(|&(tx_id, position)| {
            caseyos_domain::kernel::Checkpoint { tx_id, position } >= head
        });
        let still = caseyos_store::event::head(pool)
            .await
            .expect("the log's head")
            == head;
        if checkpoints.iter().all(|c| *c >= head) && reactors_done && still {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the read models and reactors did not catch up");
}
