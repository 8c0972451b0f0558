//! Alerts over HTTP: the list (open by default, most severe first) and dismissal. Alerts
//! are raised and resolved by the hygiene agents' runs, never by a request.

mod commands;
mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
