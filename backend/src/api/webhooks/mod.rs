//! Webhooks external services call: HubSpot's at `/api/webhooks/hubspot`, signed form
//! submissions at `/api/webhooks/forms/{form}`, Google Pub/Sub's Gmail pushes at
//! `/api/webhooks/gmail`, Slack's slash command and buttons at `/api/webhooks/slack/…`. No bearer token or session — each is authenticated by its
//! sender's signature (Pub/Sub's push by the configured token in its URL) — and each
//! answers as soon as what it received is stored (or, for Gmail, the poller is woken); the
//! work it causes runs in `workers/`.

mod forms;
mod gmail;
mod hubspot;
mod slack;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    hubspot::router()
        .merge(forms::router())
        .merge(gmail::router())
        .merge(slack::router())
}
