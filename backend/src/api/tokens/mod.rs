//! `/api/tokens`: API tokens, for admins. List them (never their secrets), create one (its
//! secret is in that answer only), revoke one (which also ends the browser sessions signed
//! in with it). The same as `caseyos token list|create|revoke`; storage is
//! `auth::tokens`.

mod commands;
mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
