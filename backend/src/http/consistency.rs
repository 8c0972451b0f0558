//! Read-your-writes for queries.
//!
//! - `?after=<token>` (from a command response) waits until the read model has applied
//!   that write; past the configured bound it is a 503 `consistency.timeout`.
//! - With no `after`, a query first waits (bounded by the same timeout, but without
//!   failing) until the read model has caught up with everything committed before the
//!   query arrived, so a client that writes and then reads sees its write without
//!   handling tokens.
//! - `?consistency=eventual` skips the wait and reads what is there.

use caseyos_domain::kernel::ConsistencyToken;
use caseyos_projections::runner::{self, ReadVersion};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ApiError;
use crate::state::AppState;

/// Waits as the query asks. Returns the version of the first projector's read model that the
/// read may be answered at, when it was decided on one look without waiting: the read model
/// did not change since unless that version changed. `versioned` asks for it also for
/// eventual reads (at the cost of that one look).
async fn settle(
    state: &AppState,
    after: Option<&str>,
    consistency: Option<&str>,
    projectors: &[&str],
    versioned: bool,
) -> Result<Option<ReadVersion>, ApiError> {
    // Both parameters are checked whatever the mode: a malformed one is a bad request even
    // where it would not be used.
    let after = match after.filter(|a| !a.is_empty()) {
        Some(raw) => Some((
            raw,
            raw.parse::<ConsistencyToken>().map_err(|_| {
                ApiError::bad_request(
                    "consistency.invalid_token",
                    "`after` must be a consistency token from a command response, like `1234.56`",
                )
            })?,
        )),
        None => None,
    };
    match consistency {
        None | Some("strong") => {}
        Some("eventual") if versioned => {
            let (versions, _) = runner::versions_and_head(&state.pool, projectors).await?;
            return Ok(versions.first().copied());
        }
        Some("eventual") => return Ok(None),
        Some(_) => {
            return Err(ApiError::bad_request(
                "consistency.invalid_mode",
                "consistency must be `strong` (the default) or `eventual`",
            ))
        }
    }
    // Mostly the read model has everything already: one look, no wait.
    let (versions, head) = runner::versions_and_head(&state.pool, projectors).await?;
    let seen = versions.first().copied();
    let target = match after {
        Some((raw, token)) => {
            if versions.iter().all(|v| v.checkpoint >= token.0) {
                return Ok(seen);
            }
            // A token past the log's head names no committed write: waiting cannot help.
            if token.0 > head {
                return Err(ApiError::bad_request(
                    "consistency.unknown_token",
                    "no write with this consistency token has been committed",
                ));
            }
            Some((raw, token.0))
        }
        None if versions.iter().all(|v| v.checkpoint >= head) => return Ok(seen),
        None => None,
    };
    let mut progress = state.projection_progress.clone();
    let caught_up = runner::wait_for(
        &state.pool,
        &mut progress,
        projectors,
        target.map_or(head, |(_, token)| token),
        state.consistency_timeout(),
    )
    .await?;
    match target {
        // Without a token the wait is bounded but never fails: the read shows what is there.
        None => Ok(None),
        Some(_) if caught_up => Ok(None),
        Some((raw, _)) => Err(ApiError::unavailable(
            "consistency.timeout",
            "the read model has not caught up with that write yet; retry shortly",
        )
        .with_details(serde_json::json!({ "after": raw }))),
    }
}

/// The read-your-writes parameters of a query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// A consistency token from a command response (`X-Consistency-Token`): wait until the
    /// read model has applied that write. Empty is the same as absent.
    #[param(pattern = r"^([0-9]{1,18}\.[0-9]{1,18})?$", example = "7731.42")]
    pub after: Option<String>,
    /// `strong` (the default: wait until the read model has everything committed before
    /// the query arrived) or `eventual` (read what is there now).
    #[param(value_type = Option<ReadConsistency>, inline)]
    pub consistency: Option<String>,
}

/// How fresh a read must be.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Only documents the values `settle` accepts.
pub enum ReadConsistency {
    Strong,
    Eventual,
}

impl ReadQuery {
    /// Waits as the query asks (see [`settle`]).
    pub async fn settle(&self, state: &AppState, projectors: &[&str]) -> Result<(), ApiError> {
        settle(
            state,
            self.after.as_deref(),
            self.consistency.as_deref(),
            projectors,
            false,
        )
        .await
        .map(|_| ())
    }

    /// Waits as the query asks, and says which version of the first projector's read model
    /// the read may be answered at, when it is known without another look (see
    /// [`settle`]): what a cached answer must have been read at to be served.
    pub async fn settle_versioned(
        &self,
        state: &AppState,
        projectors: &[&str],
    ) -> Result<Option<ReadVersion>, ApiError> {
        settle(
            state,
            self.after.as_deref(),
            self.consistency.as_deref(),
            projectors,
            true,
        )
        .await
    }
}

/// The token of what the first of `projectors` has applied: what a read just returned.
pub async fn read_token(state: &AppState, projectors: &[&str]) -> Result<String, ApiError> {
    let checkpoint = runner::checkpoints(&state.pool, projectors).await?;
    Ok(ConsistencyToken(checkpoint.first().copied().unwrap_or_default()).to_string())
}

/// A JSON answer computed at most once per state of the read models it depends on: the
/// bytes are kept under `key` plus the versions of `views` and the log's head, and served
/// again while none of them changed (and, when the answer also depends on time, for at most
/// `hold`). The answer itself says when it was computed (its `as_of`), so a kept one is
/// still true of that instant. Call it after settling the read.
pub async fn answer_once<T: serde::Serialize>(
    state: &AppState,
    key: &str,
    views: &[&str],
    hold: Option<chrono::Duration>,
    compute: impl std::future::Future<Output = Result<T, ApiError>>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let (versions, head) = runner::versions_and_head(&state.pool, views).await?;
    let version = versions.first().copied().unwrap_or(ReadVersion {
        checkpoint: caseyos_domain::kernel::Checkpoint::ZERO,
        changed_at: None,
    });
    let key = format!("{key}|{versions:?}|{head:?}");
    let at = caseyos_store::now();
    let body = match state.answers.get(&key, version, at) {
        Some(body) => body,
        None => {
            let body: std::sync::Arc<[u8]> = serde_json::to_vec(&compute.await?)
                .map_err(|e| ApiError::internal(format!("serializing an answer: {e}")))?
                .into();
            state
                .answers
                .put(key, version, hold.map(|h| at + h), body.clone());
            body
        }
    };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Bytes::from_owner(body),
    )
        .into_response())
}
