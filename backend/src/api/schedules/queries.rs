//! Reading schedules: the stored rows, with each last run's status from the runs read model.

use axum::extract::State;
use axum::Json;
use caseyos_domain::agent_run::RunStatus;
use caseyos_domain::api::{ScheduleKind, ScheduleLastRun, ScheduleListResponse, ScheduleView};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::http::consistency::ReadQuery;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::state::AppState;
use crate::workers::schedules::{self, ScheduleRow};

/// The read models these queries depend on (a last run's status).
const RUN_VIEWS: &[&str] = &["agent_runs"];

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_schedules))
}

/// The stored schedules, each with its cadence, its next slot and its last run. Every
/// schedule fires as an ordinary agent run with trigger `schedule`, once per slot across
/// all instances; after a downtime it fires once, for the latest slot that came.
#[utoipa::path(
    get,
    path = "/api/schedules",
    tag = "schedules",
    params(ReadQuery),
    responses((status = 200, description = "Every stored schedule, in id order", body = ScheduleListResponse)),
    security(("bearer" = []))
)]
async fn list_schedules(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<ScheduleListResponse>, ApiError> {
    query.settle(&state, RUN_VIEWS).await?;
    let rows = schedules::list(&state.pool).await?;
    let items: Vec<ScheduleView> = rows.into_iter().map(|row| view_of(&state, row)).collect();
    Ok(Json(ScheduleListResponse {
        total: items.len() as i64,
        items,
        next_cursor: None,
        scheduler_enabled: state.config.schedules_enabled,
    }))
}

fn view_of(state: &AppState, row: ScheduleRow) -> ScheduleView {
    let cadence = match row.cadence() {
        Ok(cadence) => cadence.describe(),
        Err(error) => format!("unreadable: {error}"),
    };
    let kind = match row.kind.as_str() {
        "daily" => ScheduleKind::Daily,
        "weekly" => ScheduleKind::Weekly,
        "hourly" => ScheduleKind::Hourly,
        _ => ScheduleKind::Every,
    };
    let last_run = match (row.last_run_id, row.last_fired_at, row.last_slot_at) {
        (Some(run_id), Some(fired_at), Some(slot_at)) => Some(ScheduleLastRun {
            run_id,
            status: row.last_run_status.as_deref().and_then(RunStatus::parse),
            requested_at: row.last_run_requested_at.unwrap_or(fired_at),
            slot_at,
            missed_slots: row
                .last_slots_due
                .and_then(|n| u64::try_from(n).ok())
                .unwrap_or(1)
                .saturating_sub(1),
        }),
        _ => None,
    };
    ScheduleView {
        agent_missing: state.agents.find(&row.agent).is_none(),
        id: row.id,
        agent: row.agent,
        input: row.input,
        cadence,
        kind,
        at: row.at,
        time_zone: row.time_zone,
        weekday: row.weekday.and_then(|d| u32::try_from(d).ok()),
        minute: row.minute.and_then(|m| u32::try_from(m).ok()),
        every_secs: row.every_secs.and_then(|s| u32::try_from(s).ok()),
        enabled: row.enabled,
        next_run_at: row.next_due_at,
        last_run,
    }
}
