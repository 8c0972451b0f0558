//! Executions over HTTP: an approved move's execution (list, one, retry, rollback, marking
//! a by-hand move done), the action types and how each is executed, and the guardrails'
//! switches (kill switch, send mode) for admins. Executions are requested by the executor
//! when a move is approved, never by a request.

mod commands;
mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
