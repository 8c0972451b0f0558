//! Reading the CRM sync's health and runs.

use axum::extract::State;
use axum::Json;
use caseyos_domain::api::SyncHealthResponse;
use caseyos_domain::crm_sync::SyncObject;
use caseyos_projections::crm_sync as views;
use caseyos_store::now;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::http::consistency::ReadQuery;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::state::AppState;

/// The read models these queries depend on.
const SYNC_VIEWS: &[&str] = &["crm_sync"];
/// Runs listed beside the health.
const RECENT_RUNS: i64 = 20;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_sync_health))
}

/// The HubSpot contact sync's health — `healthy` at most 300 s after the last completed
/// sync, `degraded` up to 900 s, `unhealthy` beyond that or when more than 5% of the last
/// hour's sync calls failed, `never_synced` before the first completed sync,
/// `not_connected` without a HubSpot token — and its last 20 runs, newest first.
#[utoipa::path(
    get,
    path = "/api/hygiene/sync",
    tag = "hygiene",
    params(ReadQuery),
    responses(
        (status = 200, description = "The sync's health and its last runs", body = SyncHealthResponse,
         examples(
            ("healthy" = (summary = "Synced 42 s ago", value = json!({
                "health": {
                    "connected": true, "status": "healthy",
                    "seconds_since_last_good_sync": 42,
                    "last_good_sync": {"id": "0193a6b2-5c1e-7d3a-9f00-1c2d3e4f5a6b", "at": "2026-11-30T09:59:18Z"},
                    "last_started_at": "2026-11-30T09:59:15Z",
                    "calls_last_hour": 24, "failed_calls_last_hour": 0, "failure_rate": 0.0,
                    "last_error": null, "watermark": "2026-11-30T09:58:02.117Z",
                    "thresholds": {"healthy_secs": 300, "degraded_secs": 900, "max_failure_rate": 0.05}
                },
                "runs": []
            }))),
            ("unhealthy" = (summary = "Too many failed calls", value = json!({
                "health": {
                    "connected": true, "status": "unhealthy",
                    "seconds_since_last_good_sync": 610,
                    "last_good_sync": {"id": "0193a6b2-5c1e-7d3a-9f00-1c2d3e4f5a6b", "at": "2026-11-30T09:50:00Z"},
                    "last_started_at": "2026-11-30T09:55:00Z",
                    "calls_last_hour": 20, "failed_calls_last_hour": 4, "failure_rate": 0.2,
                    "last_error": {"run_id": "0193a6c0-0000-7000-8000-000000000001", "at": "2026-11-30T09:55:03Z",
                                   "code": "hubspot.server_error", "message": "HubSpot answered 500 after 4 attempt(s)",
                                   "retryable": true},
                    "watermark": "2026-11-30T09:49:58Z",
                    "thresholds": {"healthy_secs": 300, "degraded_secs": 900, "max_failure_rate": 0.05}
                },
                "runs": []
            }))),
            ("not_connected" = (summary = "No HubSpot token configured", value = json!({
                "health": {
                    "connected": false, "status": "not_connected",
                    "seconds_since_last_good_sync": null, "last_good_sync": null, "last_started_at": null,
                    "calls_last_hour": 0, "failed_calls_last_hour": 0, "failure_rate": 0.0,
                    "last_error": null, "watermark": null,
                    "thresholds": {"healthy_secs": 300, "degraded_secs": 900, "max_failure_rate": 0.05}
                },
                "runs": []
            })))
         )),
    ),
    security(("bearer" = []))
)]
async fn get_sync_health(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<SyncHealthResponse>, ApiError> {
    query.settle(&state, SYNC_VIEWS).await?;
    // Connected by a stored token (private-app or OAuth) or by `hubspot_token`.
    let connected = state
        .credentials
        .is_connected(caseyos_domain::connectors::ConnectorName::Hubspot)
        .await;
    let health = views::sync_health(&state.pool, now(), connected).await?;
    let runs = views::recent_runs(&state.pool, SyncObject::Contacts, RECENT_RUNS).await?;
    Ok(Json(SyncHealthResponse { health, runs }))
}
