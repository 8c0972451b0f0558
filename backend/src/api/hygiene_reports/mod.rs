//! The daily hygiene report over HTTP (`GET /api/hygiene/reports`) and the dashboard's
//! hygiene card (`GET /api/dashboard/hygiene`): read models only.

mod queries;

pub(crate) use queries::{hygiene_card, REPORT_VIEWS};

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    queries::router()
}
