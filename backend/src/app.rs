//! Start-up: the router with its layers, the OpenAPI document, the background workers
//! (projection runner, schedules), and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};
use caseyos_projections::runner::ProjectionMetrics;
use caseyos_projections::ProjectionRunner;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::auth::Principal;
use crate::commands::CommandBus;
use crate::config::Config;
use crate::db::Database;
use crate::error::{envelope_middleware, method_not_allowed, route_not_found, ApiError};
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::{audit, health, queue, scheduler};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CaseyOS API",
        description = "The go-to-market command center: Today's Moves, audit replay and operations. \
                       Every error is `{\"error\": {\"code\", \"message\", \"request_id\", \"details\"}}`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "queue", description = "Today's Moves: proposed moves awaiting a decision"),
        (name = "audit", description = "History and time travel of any aggregate"),
        (name = "ops", description = "Health, readiness, metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `caseyos token create`"))
                    .build(),
            ),
        );
    }
}

/// Every documented route: the router and the OpenAPI document come from this one list.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(queue::router())
        .merge(audit::router())
        .merge(health::router())
}

/// The router, serving the OpenAPI document generated from its own routes.
pub fn router(state: AppState) -> Router {
    let (routes, mut api) = api_routes().split_for_parts();
    api.paths.paths.insert(
        "/api/openapi.json".into(),
        utoipa::openapi::path::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .tag("ops")
                .summary(Some("This document"))
                .response(
                    "200",
                    utoipa::openapi::Response::new("The OpenAPI document"),
                )
                .build(),
        ),
    );
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
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            crate::metrics::track,
        ))
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| -> Response {
                ApiError::internal("a handler panicked").into_response()
            },
        ))
        .layer(middleware::from_fn(envelope_middleware))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// The OpenAPI document as JSON (for the CLI and tests).
pub fn openapi_json() -> serde_json::Value {
    let (_, api) = api_routes().split_for_parts();
    serde_json::to_value(api).unwrap_or_default()
}

/// A running CaseyOS: HTTP server, projection runner and schedules.
pub struct Application {
    listener: TcpListener,
    router: Router,
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
        let shutdown = CancellationToken::new();
        let metrics = Arc::new(Metrics::default());
        let instance = format!("{}:{}", hostname(), std::process::id());
        let runner = ProjectionRunner::new(
            pool.clone(),
            caseyos_projections::all_projectors(),
            instance,
        );
        let projection_metrics: Arc<ProjectionMetrics> = runner.metrics();
        let projection_progress = runner.progress();
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
        let listener = TcpListener::bind(config.bind).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}: {e} (set --bind or CASEYOS_BIND)",
                config.bind
            )
        })?;
        let state = AppState {
            pool,
            bus,
            config: Arc::new(config),
            metrics,
            projection_metrics,
            projection_progress,
        };
        Ok(Application {
            router: router(state.clone()),
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
