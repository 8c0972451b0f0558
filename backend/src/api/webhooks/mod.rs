//! Webhooks external services call: HubSpot's at `/api/webhooks/hubspot`. No bearer token or
//! session — each is authenticated by its sender's signature — and each answers as soon as
//! what it received is stored; the work it causes runs in `workers/`.

mod hubspot;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    hubspot::router()
}
