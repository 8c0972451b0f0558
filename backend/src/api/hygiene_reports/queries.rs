//! Reading the hygiene report and the card's checks.

use axum::extract::State;
use axum::Json;
use caseyos_domain::api::{
    ErrorEnvelope, HygieneCheck, HygieneDashboardResponse, HygieneReportListResponse, HygieneStatus,
};
use caseyos_projections::hygiene_reports::{self as views, HygieneNow};
use caseyos_store::now;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::config::HygieneThresholds;
use crate::http::consistency::ReadQuery;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::state::AppState;

/// The read models these queries depend on.
pub(crate) const REPORT_VIEWS: &[&str] = &["hygiene_reports"];
/// Without `from`, the reports of this many days up to `to`.
const DEFAULT_DAYS: i64 = 30;
/// The most reports one answer holds (the newest of the range).
const MAX_ROWS: i64 = 366;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_hygiene_reports))
        .routes(routes!(hygiene_dashboard))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportsQuery {
    /// The first UTC date (`2026-11-01`; default: 29 days before `to`). A range that ends
    /// before it starts holds no reports.
    from: Option<NaiveDate>,
    /// The last UTC date (default: today).
    to: Option<NaiveDate>,
}

/// The daily hygiene reports from `from` to `to` (days with any activity), newest first:
/// at most 366 of them (the newest, when the range holds more).
#[utoipa::path(
    get,
    path = "/api/hygiene/reports",
    tag = "hygiene",
    params(ReportsQuery, ReadQuery),
    responses(
        (status = 200, description = "The days' reports", body = HygieneReportListResponse),
        (status = 400, description = "A date that is not one (`request.invalid_query`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_hygiene_reports(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<ReportsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<HygieneReportListResponse>, ApiError> {
    let to = query.to.unwrap_or_else(|| now().date_naive());
    let from = query
        .from
        .unwrap_or_else(|| to - Duration::days(DEFAULT_DAYS - 1));
    read.settle(&state, REPORT_VIEWS).await?;
    let items = views::reports(&state.pool, from, to, MAX_ROWS).await?;
    Ok(Json(HygieneReportListResponse {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

/// The dashboard's hygiene card: each check with its value, light and thresholds (from the
/// configuration), the worst light, and today's report.
#[utoipa::path(
    get,
    path = "/api/dashboard/hygiene",
    tag = "hygiene",
    params(ReadQuery),
    responses((status = 200, description = "The hygiene card", body = HygieneDashboardResponse)),
    security(("bearer" = []))
)]
async fn hygiene_dashboard(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<HygieneDashboardResponse>, ApiError> {
    read.settle(&state, REPORT_VIEWS).await?;
    Ok(Json(hygiene_card(&state).await?))
}

/// The hygiene card now (the caller settles [`REPORT_VIEWS`] first): also the dashboard's.
pub(crate) async fn hygiene_card(state: &AppState) -> Result<HygieneDashboardResponse, ApiError> {
    let at = now();
    let current = views::now(&state.pool).await?;
    let report = views::report(&state.pool, at.date_naive(), at).await?;
    let checks = checks(&current, &state.config.hygiene_thresholds);
    let status = checks
        .iter()
        .map(|c| c.status)
        .max()
        .unwrap_or(HygieneStatus::Green);
    Ok(HygieneDashboardResponse {
        status,
        checks,
        report,
    })
}

/// The light of `value` against thresholds met at or above.
fn light(value: i64, yellow: i64, red: i64) -> HygieneStatus {
    if value >= red {
        HygieneStatus::Red
    } else if value >= yellow {
        HygieneStatus::Yellow
    } else {
        HygieneStatus::Green
    }
}

/// `part` of `whole` in whole percent (rounded down), none of nothing.
fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| part * 100 / whole)
}

fn numeric(
    name: &str,
    value: Option<i64>,
    yellow: i64,
    red: i64,
    defaults: bool,
    note: Option<String>,
) -> HygieneCheck {
    HygieneCheck {
        name: name.into(),
        value: value.map_or(Value::Null, Value::from),
        status: value.map_or(HygieneStatus::Green, |v| light(v, yellow, red)),
        thresholds: json!({"yellow": yellow, "red": red, "default": defaults}),
        note,
    }
}

/// The card's checks from what the read model counts now.
fn checks(now: &HygieneNow, t: &HygieneThresholds) -> Vec<HygieneCheck> {
    // Thresholds nobody configured are marked as the defaults they are.
    let defaults = *t == HygieneThresholds::default();
    let invalid = percent(now.invalid_contacts, now.validated_contacts);
    let stale = now.stale.and_then(|(_, stale, of)| percent(stale, of));
    let (sync_value, sync_status, sync_note) = match &now.sync {
        None => (
            Value::Null,
            HygieneStatus::Green,
            Some("SyncHealth has not run yet".to_string()),
        ),
        Some((date, status)) => (
            Value::from(status.clone()),
            match status.as_str() {
                "degraded" => HygieneStatus::Yellow,
                "unhealthy" => HygieneStatus::Red,
                _ => HygieneStatus::Green,
            },
            Some(match status.as_str() {
                "not_connected" => format!("HubSpot is not connected (SyncHealth on {date})"),
                _ => format!("from SyncHealth on {date}"),
            }),
        ),
    };
    vec![
        numeric(
            "open_duplicates",
            Some(now.open_duplicates),
            t.open_duplicates_yellow,
            t.open_duplicates_red,
            defaults,
            None,
        ),
        numeric(
            "invalid_percent",
            invalid,
            t.invalid_percent_yellow,
            t.invalid_percent_red,
            defaults,
            Some(match invalid {
                Some(_) => format!(
                    "{} of {} validated active contacts are invalid",
                    now.invalid_contacts, now.validated_contacts
                ),
                None => "no active contact has been validated yet".into(),
            }),
        ),
        numeric(
            "stale_percent",
            stale,
            t.stale_percent_yellow,
            t.stale_percent_red,
            defaults,
            Some(match now.stale {
                Some((date, stale, of)) => format!(
                    "{stale} of {of} active contacts untouched 90+ days (DataDecay on {date})"
                ),
                None => "DataDecay has not run yet".into(),
            }),
        ),
        HygieneCheck {
            name: "sync_status".into(),
            value: sync_value,
            status: sync_status,
            thresholds: json!({"yellow": "degraded", "red": "unhealthy"}),
            note: sync_note,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_check_lights_at_its_thresholds_and_unmeasured_ones_say_so() {
        let t = HygieneThresholds::default();
        // (open pairs, validated, invalid, stale, sync, expected lights)
        let table = [
            (0, 0, 0, None, None, ["green", "green", "green", "green"]),
            (
                10,
                100,
                5,
                Some((25, 100)),
                Some("degraded"),
                ["yellow", "yellow", "yellow", "yellow"],
            ),
            (
                50,
                100,
                15,
                Some((50, 100)),
                Some("unhealthy"),
                ["red", "red", "red", "red"],
            ),
            (
                9,
                100,
                4,
                Some((24, 100)),
                Some("not_connected"),
                ["green"; 4],
            ),
        ];
        for (open, validated, invalid, stale, sync, expected) in table {
            let date = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
            let now = HygieneNow {
                open_duplicates: open,
                active_contacts: validated,
                validated_contacts: validated,
                invalid_contacts: invalid,
                stale: stale.map(|(s, of)| (date, s, of)),
                sync: sync.map(|s| (date, s.to_string())),
            };
            let lights: Vec<String> = checks(&now, &t)
                .iter()
                .map(|c| {
                    serde_json::to_value(c.status)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_string()
                })
                .collect();
            assert_eq!(
                lights, expected,
                "{open} {validated} {invalid} {stale:?} {sync:?}"
            );
        }
    }
}
