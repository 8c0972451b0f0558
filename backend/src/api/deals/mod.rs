//! `/api/deals`: deals over HTTP — create, move, change, log, win, lose, reopen (commands on
//! the `deal` aggregate) and the filtered list and one deal with its score and flags, now or
//! as of an instant (queries).

mod commands;

pub(crate) use commands::MAX_CONTACTS_PER_REQUEST;
mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
