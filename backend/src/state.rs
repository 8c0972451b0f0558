//! What every handler can reach.

use std::sync::Arc;
use std::time::Duration;

use caseyos_agents::Agents;
use caseyos_domain::api::LiveEvent;
use caseyos_projections::runner::ProjectionMetrics;
use caseyos_store::CommandBus;
use sqlx::PgPool;
use tokio::sync::{broadcast, watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::connectors::credentials::Credentials;
use crate::infra::answers::AnswerCache;
use crate::infra::metrics::Metrics;
use crate::infra::token_checks::TokenChecks;
use crate::infra::web::WebApp;

/// Cloned for every request by each extractor that takes it: one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every handler can reach (through [`AppState`]).
pub struct Shared {
    /// The base URL people and HubSpot reach this instance at (`public_url`, else from the
    /// bound address): what webhook signatures are checked against.
    pub public_url: String,
    pub pool: PgPool,
    pub bus: Arc<CommandBus>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub projection_metrics: Arc<ProjectionMetrics>,
    /// Ticks when this instance's projectors commit (read-your-writes waits on it).
    pub projection_progress: watch::Receiver<u64>,
    /// Read-model changes from every instance, for `/api/events`.
    pub live: broadcast::Sender<LiveEvent>,
    /// Cancelled when the server shuts down (long-lived responses end on it).
    pub shutdown: CancellationToken,
    /// The SPA build served at `/`.
    pub web: Arc<WebApp>,
    /// Answers of reads, per read-model version (see `infra::answers`).
    pub answers: Arc<AnswerCache>,
    /// Bearer tokens checked in the last second (see `infra::token_checks`).
    pub tokens: Arc<TokenChecks>,
    /// The agents this instance's workers run (the registry and any extra ones).
    pub agents: Agents,
    /// Connector credentials: the tokens the clients send, sealed at rest.
    pub credentials: Credentials,
    /// Wakes this instance's Gmail poller (a Pub/Sub push at `/api/webhooks/gmail`).
    pub gmail_wake: Arc<Notify>,
    /// The API itself, for requests made on a caller's behalf (`http::dispatch`) and the
    /// assistant's tools: set once the router is built.
    pub api: std::sync::OnceLock<OwnApi>,
}

/// The API's own router and OpenAPI document.
pub struct OwnApi {
    /// The router (`http::dispatch` knows its type), weak, as the router holds this state.
    pub router: std::sync::Weak<dyn std::any::Any + Send + Sync>,
    pub document: Arc<serde_json::Value>,
}

impl Shared {
    pub fn consistency_timeout(&self) -> Duration {
        Duration::from_millis(self.config.consistency_timeout_ms)
    }
}
