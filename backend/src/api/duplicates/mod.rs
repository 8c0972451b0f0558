//! Duplicate review: the queue of pairs, one pair side by side, merge (with a dry run), not
//! a duplicate, ignore; and unmerging a contact.

mod commands;
mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
