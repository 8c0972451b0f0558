//! The context of a command request: who calls, the metadata their events will carry and
//! the idempotency key, gathered once so handlers stay short.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::kernel::{Checkpoint, ConsistencyToken};
use caseyos_store::history::state_at;
use caseyos_store::idempotency::{self, request_hash, IdempotencyKey};
use caseyos_store::{CommandMeta, Committed};
use serde::Serialize;
use sqlx::PgPool;
use tower_http::request_id::RequestId;
use uuid::Uuid;

use super::error::ApiError;
use crate::auth::Principal;
use crate::state::AppState;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const CORRELATION_ID: &str = "x-correlation-id";
pub const CAUSATION_ID: &str = "x-causation-id";

#[derive(Clone)]
pub struct CommandContext {
    pub principal: Principal,
    pub meta: CommandMeta,
    pub method: String,
    pub path: String,
}

/// What a command request answers with: the aggregate's view after it and the consistency
/// token of its last event; `replayed` when a request with the same `Idempotency-Key`
/// already answered it.
pub struct Answer<V> {
    pub replayed: bool,
    pub view: V,
    pub consistency: String,
}

impl CommandContext {
    /// The metadata for this request: the context's, plus the hash of what the request asks
    /// for (so a reused `Idempotency-Key` is recognised).
    pub fn meta_for(&self, request: &impl Serialize) -> CommandMeta {
        let body = serde_json::to_value(request).unwrap_or(serde_json::Value::Null);
        let mut meta = self.meta.clone();
        meta.request_hash = Some(request_hash(&self.method, &self.path, &body));
        meta
    }

    /// Runs a command on an aggregate `A` at most once per `Idempotency-Key`: a repeat is
    /// answered with the aggregate as the first request's last event left it (see
    /// [`idempotency::idempotent`]).
    pub async fn execute_once<A: Aggregate>(
        &self,
        pool: &PgPool,
        request: &impl Serialize,
        execute: impl AsyncFnOnce(&CommandMeta) -> Result<Committed<A>, ApiError>,
    ) -> Result<Answer<A::View>, ApiError> {
        let (replayed, (view, consistency)) = idempotency::idempotent(
            pool,
            &self.meta_for(request),
            async |meta| {
                let committed = execute(meta).await?;
                view_at(committed.state, committed.token)
            },
            async |last| {
                let state: A = state_at(pool, &last.aggregate_id, last.sequence).await?;
                view_at(state, Some(last.checkpoint()))
            },
        )
        .await?;
        Ok(Answer {
            replayed,
            view,
            consistency,
        })
    }
}

/// The view of an aggregate a command left, and the consistency token of that point (`0.0`
/// before any event).
fn view_at<A: Aggregate>(
    state: A,
    token: Option<Checkpoint>,
) -> Result<(A::View, String), ApiError> {
    let view = state.into_view().ok_or_else(|| {
        ApiError::internal(format!(
            "a command succeeded on a {} that does not exist",
            A::TYPE
        ))
    })?;
    Ok((
        view,
        ConsistencyToken(token.unwrap_or(Checkpoint::ZERO)).to_string(),
    ))
}

fn header_id(parts: &Parts, name: &str) -> Result<Option<String>, ApiError> {
    let Some(value) = parts.headers.get(name) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or("").trim();
    if value.is_empty() || value.len() > 128 || !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "request.invalid_header",
            format!("{name} must be 1–128 visible ASCII characters"),
        ));
    }
    Ok(Some(value.to_string()))
}

impl FromRequestParts<AppState> for CommandContext {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let request_id = parts
            .extensions
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .map_or_else(|| Uuid::now_v7().to_string(), str::to_string);
        let idempotency = match parts.headers.get(IDEMPOTENCY_KEY) {
            Some(value) => Some(IdempotencyKey::parse(value.to_str().unwrap_or(""))?),
            None => None,
        };
        let correlation_id =
            header_id(parts, CORRELATION_ID)?.unwrap_or_else(|| request_id.clone());
        let causation_id = header_id(parts, CAUSATION_ID)?.unwrap_or_else(|| request_id.clone());
        Ok(CommandContext {
            meta: CommandMeta {
                actor: principal.actor(),
                request_id,
                correlation_id,
                causation_id,
                idempotency_key: idempotency.as_ref().map(|k| k.as_str().to_string()),
                request_hash: None,
            },
            principal,
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
        })
    }
}
