//! `/api/queue`: Today's Moves over HTTP — propose, decide, snooze, edit (commands) and the
//! ranked, filtered and counted views (queries on the `queue` read models).

mod commands;
mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
