//! Start-up: the router with its layers, the OpenAPI document, the background workers
//! (projection runner, schedules, stored agent schedules, live updates), the web app, and
//! graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::HttpBody;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};
use caseyos_agents::Agents;
use caseyos_projections::runner::ProjectionMetrics;
use caseyos_projections::ProjectionRunner;
use caseyos_store::CommandBus;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::api::routes_and_document;
use crate::auth::Principal;
use crate::config::{Config, HubSpotConfig};
use crate::connectors::credentials::Credentials;
use crate::connectors::hubspot::HubSpotClient;
use crate::connectors::sealing::SealingKey;
use crate::http::error::{envelope_middleware, method_not_allowed, route_not_found, ApiError};
use crate::http::response::json_headers;
use crate::http::trace::request_span;
use crate::http::{metrics, web};
use crate::infra::db::Database;
use crate::infra::metrics::Metrics;
use crate::infra::web::WebApp;
use crate::state::{AppState, Shared};
use crate::workers::agent_runs::Workers;
use crate::workers::contact_imports::ContactImports;
use crate::workers::schedules::{self, Scheduler};
use crate::workers::{
    connector_tokens, contact_merges, hubspot_sync, hubspot_webhooks, live, scheduler, signals,
};

/// What compression is for: text, JSON and wasm. Never `text/event-stream`: a compressor
/// would hold live updates back until its buffer fills.
#[derive(Clone, Copy)]
struct Compressible;

impl Predicate for Compressible {
    fn should_compress<B: HttpBody>(&self, response: &axum::http::Response<B>) -> bool {
        let media = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        matches!(
            media.as_str(),
            "text/html"
                | "text/css"
                | "text/javascript"
                | "application/javascript"
                | "application/json"
                | "application/wasm"
                | "image/svg+xml"
                | "text/plain"
        )
    }
}

/// Requests no route matched: unknown API routes get the JSON 404; any other GET or HEAD
/// is the web app's (a file, or `index.html` for a deep link).
async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    let is_api = ["/api", "/health", "/ready", "/metrics"]
        .iter()
        .any(|prefix| {
            path == *prefix
                || path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        });
    if is_api || !matches!(*request.method(), Method::GET | Method::HEAD) {
        return route_not_found().await.into_response();
    }
    web::serve(&state.web, request).await
}

/// The router, serving the OpenAPI document generated from its own routes.
pub fn router(state: AppState) -> Router {
    let (routes, api) = routes_and_document();
    let mcp = crate::api::mcp::router(state.clone(), &api);
    let api = Arc::new(api);
    let max_body = state.config.max_body_bytes;
    routes
        .route(
            "/api/openapi.json",
            get(move |_principal: Principal| {
                let api = api.clone();
                async move { Json(api.as_ref().clone()) }
            }),
        )
        .merge(mcp)
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::track,
        ))
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| -> Response {
                ApiError::internal("a handler panicked").into_response()
            },
        ))
        .layer(middleware::from_fn(envelope_middleware))
        .layer(middleware::from_fn(json_headers))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(
            CompressionLayer::new().compress_when(
                SizeAbove::default()
                    .and(NotForContentType::SSE)
                    .and(Compressible),
            ),
        )
        .layer(TraceLayer::new_for_http().make_span_with(request_span::<axum::body::Body>))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// A running CaseyOS: HTTP server, projection runner and schedules.
pub struct Application {
    listener: TcpListener,
    router: Router,
    /// What `AppState::api` refers to, for as long as the application lives.
    #[allow(dead_code)]
    api_router: Arc<dyn std::any::Any + Send + Sync>,
    state: AppState,
    shutdown: CancellationToken,
    background: Vec<JoinHandle<()>>,
    database: Option<Database>,
}

impl Application {
    /// Opens the database (embedded unless `DATABASE_URL`), migrates, starts workers and
    /// binds the listener (`bind` port 0 picks a free port; see [`Application::address`]).
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let database = Database::open(&config).await?;
        let pool = database.pool.clone();
        let mut app = Application::with_pool(config, pool).await?;
        app.database = Some(database);
        Ok(app)
    }

    /// As [`Application::build`], on an already migrated pool.
    pub async fn with_pool(config: Config, pool: sqlx::PgPool) -> anyhow::Result<Application> {
        Application::with_pool_and_agents(config, pool, Agents::registry()).await
    }

    /// As [`Application::with_pool`], with workers that run `agents` (the registry's and
    /// any extra ones, e.g. a test's).
    pub async fn with_pool_and_agents(
        config: Config,
        pool: sqlx::PgPool,
        agents: Agents,
    ) -> anyhow::Result<Application> {
        let shutdown = CancellationToken::new();
        let metrics = Arc::new(Metrics::default());
        let instance = format!("{}:{}", hostname(), std::process::id());
        let runner = ProjectionRunner::new(
            pool.clone(),
            caseyos_projections::all_projectors(),
            instance.clone(),
        );
        let projection_metrics: Arc<ProjectionMetrics> = runner.metrics();
        let projection_progress = runner.progress();
        let wake = runner.wake();
        let mut background = runner.spawn(shutdown.clone());
        let bus = Arc::new(CommandBus::new(
            pool.clone(),
            config.snapshot_every,
            config.command_retries,
            metrics.clone(),
        ));
        background.push(scheduler::spawn(
            pool.clone(),
            bus.clone(),
            shutdown.clone(),
        ));
        let live = live::channel();
        background.push(live::spawn_listener(
            pool.clone(),
            live.clone(),
            shutdown.clone(),
        ));
        let config = Arc::new(config);
        crate::commands::pipelines::ensure_default(&bus)
            .await
            .map_err(|e| anyhow::anyhow!("defining the default pipeline: {e:#}"))?;
        crate::commands::auto_approval::ensure_seed_rules(&bus)
            .await
            .map_err(|e| anyhow::anyhow!("defining the seed auto-approval rules: {e:#}"))?;
        let operator_zone = config.timezone_of(&config.operator).name().to_string();
        schedules::ensure_defaults(
            &pool,
            &config.schedule_time_zone,
            &operator_zone,
            caseyos_store::now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("inserting the default schedules: {e:#}"))?;
        if config.schedules_enabled {
            let scheduler =
                Scheduler::new(pool.clone(), bus.clone(), config.clone(), agents.clone());
            background.push(Arc::new(scheduler).spawn(shutdown.clone()));
        }
        // The connector credentials: never without the key (configured, or the key file).
        let key = SealingKey::load(&config).map_err(|e| anyhow::anyhow!("{e}"))?;
        let credentials =
            Credentials::new(pool.clone(), key, &config).map_err(|e| anyhow::anyhow!("{e}"))?;
        background.push(connector_tokens::spawn(
            credentials.clone(),
            bus.clone(),
            connector_tokens::TokenSettings::default(),
            shutdown.clone(),
        ));
        // One HubSpot client for every worker that calls it, its token from the
        // credentials (stored, else `hubspot_token`); the workers wait while there is none.
        let hubspot_client = HubSpotClient::with_credentials(
            HubSpotConfig::new(config.hubspot_base_url.trim(), ""),
            credentials.clone(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let hubspot = Some(hubspot_client.clone());
        background.extend(hubspot_sync::spawn(
            pool.clone(),
            bus.clone(),
            hubspot.clone(),
            hubspot_sync::SyncSettings::from_config(&config),
            shutdown.clone(),
        ));
        background.extend(hubspot_webhooks::spawn(
            pool.clone(),
            bus.clone(),
            hubspot.clone(),
            hubspot_webhooks::WebhookSettings::default(),
            shutdown.clone(),
        ));
        background.push(contact_merges::spawn(
            pool.clone(),
            bus.clone(),
            hubspot
                .clone()
                .map(|client| Arc::new(client) as Arc<dyn contact_merges::CrmContacts>),
            wake.clone(),
            shutdown.clone(),
        ));
        background.push(crate::workers::executions::spawn(
            crate::workers::executions::Executor {
                pool: pool.clone(),
                bus: bus.clone(),
                providers: Arc::new(crate::workers::execution_providers::LiveProviders::new(
                    credentials.clone(),
                    config.google(),
                    hubspot_client,
                )),
                config: Arc::new(crate::workers::executions::ExecutorConfig::from_config(
                    &config,
                )),
            },
            wake.clone(),
            shutdown.clone(),
        ));
        // New mail (replies, bounces) and the answers to booked meetings.
        let gmail_wake = Arc::new(tokio::sync::Notify::new());
        background.push(crate::workers::gmail_poller::spawn(
            crate::workers::gmail_poller::GmailPoller {
                pool: pool.clone(),
                bus: bus.clone(),
                credentials: credentials.clone(),
                google: config.google(),
                message_domain: config.message_id_domain.clone(),
            },
            (config.gmail_poll_interval_secs > 0)
                .then(|| Duration::from_secs(config.gmail_poll_interval_secs)),
            gmail_wake.clone(),
            shutdown.clone(),
        ));
        if config.calendar_poll_interval_secs > 0 {
            background.push(crate::workers::calendar_responses::spawn(
                crate::workers::calendar_responses::CalendarResponses {
                    pool: pool.clone(),
                    bus: bus.clone(),
                    credentials: credentials.clone(),
                    google: config.google(),
                },
                Duration::from_secs(config.calendar_poll_interval_secs),
                shutdown.clone(),
            ));
        }
        background.push(crate::workers::outcomes::spawn(
            pool.clone(),
            bus.clone(),
            wake.clone(),
            shutdown.clone(),
        ));
        background.push(crate::workers::reactor::spawn(
            pool.clone(),
            Arc::new(crate::workers::research::Research {
                pool: pool.clone(),
                bus: bus.clone(),
            }),
            crate::workers::research::TICK,
            wake.clone(),
            shutdown.clone(),
        ));
        background.push(crate::workers::reactor::spawn(
            pool.clone(),
            Arc::new(crate::workers::voice::VoiceCollector {
                pool: pool.clone(),
                bus: bus.clone(),
            }),
            crate::workers::voice::TICK,
            wake.clone(),
            shutdown.clone(),
        ));
        background.push(signals::spawn(
            pool.clone(),
            bus.clone(),
            signals::SignalSettings {
                operator: config.operator.clone(),
                sweep_every: Duration::from_secs(config.signal_sweep_interval_secs),
            },
            wake.clone(),
            shutdown.clone(),
        ));
        background.push(crate::workers::auto_approval::spawn(
            pool.clone(),
            bus.clone(),
            wake,
            shutdown.clone(),
        ));
        let workers = Workers::new(
            pool.clone(),
            bus.clone(),
            config.clone(),
            agents.clone(),
            &instance,
        )?;
        background.extend(workers.spawn(&live, shutdown.clone(), metrics.agent_workers.clone()));
        background.push(
            ContactImports::new(pool.clone(), bus.clone(), &instance).spawn(shutdown.clone()),
        );
        let web = Arc::new(WebApp::locate(&config.web_dir));
        if web.is_built() {
            tracing::info!(web.dir = %web.dir.display(), "serving the web app");
        } else {
            tracing::warn!(
                web.dir = %web.dir.display(),
                "the web app is not built (run `trunk build --release`); / answers 503 until it is"
            );
        }
        let listener = TcpListener::bind(config.bind).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}: {e} (set --bind or CASEYOS_BIND)",
                config.bind
            )
        })?;
        let public_url = config.public_url(listener.local_addr()?);
        if let Some(slack) = config.slack() {
            let channels = caseyos_domain::notifications::NotificationKind::ALL
                .iter()
                .map(|k| k.as_str())
                .filter_map(|kind| {
                    config
                        .slack_channel(kind)
                        .map(|c| (kind.to_string(), c.to_string()))
                })
                .collect();
            background.push(crate::workers::slack_notifications::spawn(
                crate::workers::slack_notifications::SlackNotifications {
                    pool: pool.clone(),
                    slack,
                    risk: config.deal_risk.clone(),
                    channels,
                    public_url: public_url.clone(),
                },
                Duration::from_secs(config.slack_post_interval_secs),
                shutdown.clone(),
            ));
        }
        let state = AppState::new(Shared {
            public_url,
            pool,
            bus,
            config,
            metrics,
            projection_metrics,
            projection_progress,
            live,
            shutdown: shutdown.clone(),
            web,
            answers: Default::default(),
            tokens: Default::default(),
            agents,
            credentials,
            gmail_wake,
            api: Default::default(),
        });
        let router = router(state.clone());
        let api_router: Arc<dyn std::any::Any + Send + Sync> = Arc::new(router.clone());
        let _ = state.api.set(crate::state::OwnApi {
            router: Arc::downgrade(&api_router),
            document: Arc::new(crate::api::openapi_json()),
        });
        Ok(Application {
            router,
            api_router,
            listener,
            state,
            shutdown,
            background,
            database: None,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Cancelling it stops the server gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled; then finishes in-flight requests, stops
    /// the workers (each at a batch boundary: their work is transactional) and the embedded
    /// database if this process started it.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let shutdown = self.shutdown.clone();
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await?;
        let stop = futures::future::join_all(self.background);
        if tokio::time::timeout(Duration::from_millis(1500), stop)
            .await
            .is_err()
        {
            tracing::warn!(
                "background workers did not stop within 1.5 s; their transactions roll back"
            );
        }
        if let Some(database) = self.database {
            database.close().await;
        }
        Ok(())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "caseyos".into())
}
