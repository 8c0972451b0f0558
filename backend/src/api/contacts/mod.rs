//! `/api/contacts`: the contact base over HTTP — create, edit, archive, restore (commands)
//! and the searched, filtered and exported views (queries on the `contacts` read model).

mod commands;
mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
