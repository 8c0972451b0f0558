//! Agents and their runs over HTTP: the registry, requesting a run (validated against the
//! agent's input schema, idempotent), run history with filters and cursors, a run's
//! detail, retry / cancel / dismiss, and the numbers for the quick-stats bar. Runs are
//! executed by the [`worker`]s, never by the request that asked for them.

mod commands;
mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
