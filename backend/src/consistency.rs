//! Read-your-writes for queries.
//!
//! - `?after=<token>` (from a command response) waits until the read model has applied
//!   that write; past the configured bound it is a 503 `consistency.timeout`.
//! - With no `after`, a query first waits (bounded by the same timeout, but without
//!   failing) until the read model has caught up with everything committed before the
//!   query arrived, so a client that writes and then reads sees its write without
//!   handling tokens.
//! - `?consistency=eventual` skips the wait and reads what is there.

use caseyos_projections::runner;
use caseyos_projections::{event, ConsistencyToken};

use crate::error::ApiError;
use crate::state::AppState;

pub async fn settle(
    state: &AppState,
    after: Option<&str>,
    consistency: Option<&str>,
    projectors: &[&str],
) -> Result<(), ApiError> {
    match consistency.map(str::trim) {
        None | Some("") | Some("strong") => {}
        Some("eventual") => return Ok(()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "consistency.invalid_mode",
                "consistency must be `strong` (the default) or `eventual`",
            ))
        }
    }
    let mut progress = state.projection_progress.clone();
    match after.map(str::trim).filter(|a| !a.is_empty()) {
        Some(raw) => {
            let token: ConsistencyToken = raw.parse().map_err(|_| {
                ApiError::bad_request(
                    "consistency.invalid_token",
                    "`after` must be a consistency token from a command response, like `1234.56`",
                )
            })?;
            let caught_up = runner::wait_for(
                &state.pool,
                &mut progress,
                projectors,
                token.0,
                state.consistency_timeout(),
            )
            .await?;
            if caught_up {
                Ok(())
            } else {
                Err(ApiError::unavailable(
                    "consistency.timeout",
                    "the read model has not caught up with that write yet; retry shortly",
                )
                .with_details(serde_json::json!({ "after": raw })))
            }
        }
        None => {
            let head = event::head(&state.pool).await?;
            runner::wait_for(
                &state.pool,
                &mut progress,
                projectors,
                head,
                state.consistency_timeout(),
            )
            .await?;
            Ok(())
        }
    }
}
