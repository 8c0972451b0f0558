//! The CRM sync over HTTP: its health (`not_connected` when HubSpot is not configured)
//! and its last runs, at `/api/hygiene/sync`. Read models only; the sync itself is
//! `workers::hubspot_sync`.

mod queries;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    queries::router()
}
