//! `/api/contacts/imports`: CSV imports of contacts — upload a file (command) and follow its
//! progress (query on the `contact_imports` read model).

mod commands;
mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
