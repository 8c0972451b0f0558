//! Auto-approval over HTTP: its rules (anyone signed in reads them; admins create, replace,
//! turn on and off, delete) and the decision on each move, so the move's page can say why
//! it was (not) auto-approved. The emergency stop is `POST /api/admin/auto-approval`
//! (`api/executions`, beside the kill switch: both are switches of `execution_settings`).

mod commands;
mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
