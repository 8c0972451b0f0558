//! `/api/connectors`: the external services CaseyOS acts through — their state (any
//! signed-in user), connecting them by OAuth 2.0 with PKCE or (HubSpot) a private-app token,
//! and disconnecting them (admins). The OAuth callback is the one route here without our
//! credentials: the provider's redirect carries the single-use `state` instead.

mod commands;
mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    commands::router().merge(queries::router())
}
