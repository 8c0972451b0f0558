//! Signals over HTTP: a person records a manual signal; anyone signed in lists them with
//! what each produced (the move's id and title, or why none). Other signals arrive through
//! the webhooks (`/api/webhooks/hubspot`, `/api/webhooks/forms/{form}`), the Gmail poller
//! and the rule sweep (`workers::signals`); their history is at `/api/audit/signal/{id}`.

mod commands;
mod queries;

pub use queries::STATUS_FILTERS;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
