//! `/health` (liveness, public), `/ready` (database, projections and agent workers) and
//! `/metrics` (Prometheus text format).

use std::fmt::Write;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Json;
use caseyos_domain::api::ErrorEnvelope;
use caseyos_projections::status::{horizon_age_seconds, projection_status, ProjectionStatus};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
}

#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    status: &'static str,
}

/// Liveness: the process answers. Needs no authentication.
#[utoipa::path(get, path = "/health", tag = "ops", responses((status = 200, body = HealthResponse)))]
async fn health() -> Json<HealthResponse> {
    Json(HealthResponse { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct ReadyResponse {
    status: &'static str,
    database: &'static str,
    /// Seconds the oldest open transaction has held the projection horizon back.
    horizon_age_seconds: f64,
    #[schema(value_type = Vec<Object>)]
    projections: Vec<ProjectionStatus>,
    agent_workers: AgentWorkers,
}

/// This instance's agent-run workers: how many it keeps running (`agent_workers`) and how
/// many run now. A worker that ended unexpectedly is started again after a second; until
/// then `live` is lower than `configured` and the instance is not ready.
#[derive(Serialize, ToSchema)]
pub struct AgentWorkers {
    configured: usize,
    live: usize,
}

/// Why the instance is not ready; empty when it is.
fn not_ready(projections: &[ProjectionStatus], workers: &AgentWorkers) -> Vec<String> {
    let mut reasons = Vec::new();
    let stalled: Vec<&str> = projections
        .iter()
        .filter(|p| !matches!(p.state.as_str(), "live" | "catching_up" | "rebuilding"))
        .map(|p| p.name.as_str())
        .collect();
    if !stalled.is_empty() {
        reasons.push(format!(
            "projections without a running leader: {}",
            stalled.join(", ")
        ));
    }
    if workers.live < workers.configured {
        reasons.push(format!(
            "agent workers live: {} of {}",
            workers.live, workers.configured
        ));
    }
    reasons
}

/// Readiness: the database answers, every projection has a live leader, and every agent
/// worker this instance is configured with is running (`agent_workers.live` equals
/// `agent_workers.configured`).
#[utoipa::path(
    get,
    path = "/ready",
    tag = "ops",
    responses(
        (status = 200, body = ReadyResponse),
        (status = 503, description = "`service.not_ready`, with the same fields in details", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn ready(
    State(state): State<AppState>,
    _principal: Principal,
) -> Result<Json<ReadyResponse>, ApiError> {
    if let Err(error) = sqlx::query("select 1").execute(&state.pool).await {
        tracing::warn!(error = %error, "readiness: the database does not answer");
        return Err(ApiError::unavailable(
            "service.not_ready",
            "the database does not answer",
        ));
    }
    let projections =
        projection_status(&state.pool, &caseyos_projections::all_projectors()).await?;
    let horizon = horizon_age_seconds(&state.pool).await?;
    let workers = &state.metrics.agent_workers;
    let body = ReadyResponse {
        status: "ready",
        database: "ok",
        horizon_age_seconds: horizon,
        projections,
        agent_workers: AgentWorkers {
            configured: workers.configured(),
            live: workers.live(),
        },
    };
    let reasons = not_ready(&body.projections, &body.agent_workers);
    if !reasons.is_empty() {
        return Err(
            ApiError::unavailable("service.not_ready", reasons.join("; "))
                .with_details(serde_json::to_value(&body).unwrap_or_default()),
        );
    }
    Ok(Json(body))
}

/// Prometheus metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "ops",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")),
    security(("bearer" = []))
)]
async fn metrics(
    State(state): State<AppState>,
    _principal: Principal,
) -> Result<impl IntoResponse, ApiError> {
    let mut out = String::new();
    state.metrics.render(&mut out);
    let statuses = projection_status(&state.pool, &caseyos_projections::all_projectors()).await?;
    let mut family =
        |name: &str, help: &str, kind: &str, value: &dyn Fn(&ProjectionStatus) -> f64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for s in &statuses {
                let _ = writeln!(out, "{name}{{projection=\"{}\"}} {}", s.name, value(s));
            }
        };
    family(
        "caseyos_projection_position",
        "Global position of the last applied event.",
        "gauge",
        &|s| s.position as f64,
    );
    family(
        "caseyos_projection_lag_events",
        "Events not yet applied.",
        "gauge",
        &|s| s.lag_events as f64,
    );
    family(
        "caseyos_projection_lag_seconds",
        "Age of the oldest event not yet applied.",
        "gauge",
        &|s| s.lag_seconds,
    );
    family(
        "caseyos_projection_events_processed",
        "Events applied since the read model was built.",
        "counter",
        &|s| s.events_processed as f64,
    );
    family(
        "caseyos_projection_live",
        "1 when the projection has a live leader.",
        "gauge",
        &|s| {
            f64::from(u8::from(matches!(
                s.state.as_str(),
                "live" | "catching_up" | "rebuilding"
            )))
        },
    );
    let horizon = horizon_age_seconds(&state.pool).await?;
    let _ = writeln!(out, "# HELP caseyos_projection_horizon_age_seconds How long the oldest open transaction has held the horizon back.");
    let _ = writeln!(out, "# TYPE caseyos_projection_horizon_age_seconds gauge");
    let _ = writeln!(out, "caseyos_projection_horizon_age_seconds {horizon}");
    let _ = writeln!(
        out,
        "# HELP caseyos_projection_leader 1 when this instance leads the projection."
    );
    let _ = writeln!(out, "# TYPE caseyos_projection_leader gauge");
    for (name, stats) in state.projection_metrics.snapshot() {
        let _ = writeln!(
            out,
            "caseyos_projection_leader{{projection=\"{name}\"}} {}",
            u8::from(stats.leader)
        );
    }
    let _ = writeln!(out, "# HELP caseyos_projection_idle_checks_total Reads of the event log that found nothing the projection may apply yet (caught up, or held back by an open transaction).");
    let _ = writeln!(out, "# TYPE caseyos_projection_idle_checks_total counter");
    for (name, stats) in state.projection_metrics.snapshot() {
        let _ = writeln!(
            out,
            "caseyos_projection_idle_checks_total{{projection=\"{name}\"}} {}",
            stats.idle_checks
        );
    }
    let _ = writeln!(out, "# HELP caseyos_projection_apply_lag_milliseconds From an event being recorded to its read-model change committing, over the last {} events this instance applied as leader (nearest rank).", caseyos_projections::runner::LAG_SAMPLES);
    let _ = writeln!(
        out,
        "# TYPE caseyos_projection_apply_lag_milliseconds summary"
    );
    for (name, stats) in state.projection_metrics.snapshot() {
        let samples: Vec<f64> = stats.lag_ms.iter().copied().collect();
        for q in [0.5, 0.9, 0.99, 1.0] {
            if let Some(value) = caseyos_projections::runner::quantile(samples.clone(), q) {
                let _ = writeln!(
                    out,
                    "caseyos_projection_apply_lag_milliseconds{{projection=\"{name}\",quantile=\"{q}\"}} {value}"
                );
            }
        }
        let _ = writeln!(
            out,
            "caseyos_projection_apply_lag_milliseconds_count{{projection=\"{name}\"}} {}",
            samples.len()
        );
    }
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn projection(name: &str, state: &str) -> ProjectionStatus {
        ProjectionStatus {
            name: name.into(),
            state: state.into(),
            checkpoint: "0:0".into(),
            position: 0,
            events_processed: 0,
            lag_events: 0,
            lag_seconds: 0.0,
            leader: None,
            leader_heartbeat_at: None,
            last_error: None,
        }
    }

    #[test]
    fn an_instance_is_ready_only_with_led_projections_and_every_worker_live() {
        let led = [
            projection("queue", "live"),
            projection("agent_runs", "catching_up"),
        ];
        let stalled = [
            projection("queue", "stalled"),
            projection("agent_runs", "live"),
        ];
        let workers = |configured, live| AgentWorkers { configured, live };
        for (projections, configured, live, expected) in [
            (&led, 4, 4, vec![]),
            (&led, 0, 0, vec![]),
            (&led, 4, 3, vec!["agent workers live: 3 of 4"]),
            (
                &stalled,
                4,
                4,
                vec!["projections without a running leader: queue"],
            ),
            (
                &stalled,
                2,
                0,
                vec![
                    "projections without a running leader: queue",
                    "agent workers live: 0 of 2",
                ],
            ),
        ] {
            assert_eq!(
                not_ready(projections, &workers(configured, live)),
                expected,
                "{configured} configured, {live} live"
            );
        }
    }
}
