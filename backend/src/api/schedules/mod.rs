//! Stored agent schedules over HTTP: each with its cadence, its next slot and its last run.
//! They fire through [`crate::workers::schedules`]; nothing here writes.

mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    queries::router()
}
