//! `/api/forecast`: a period's forecast per owner and in total, now or as of an instant,
//! and its change waterfall between two instants (the `forecast` read model).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use caseyos_domain::api::{ErrorEnvelope, ForecastChangesResponse, ForecastResponse};
use caseyos_domain::forecast::{BucketKind, Period, PeriodKind, WaterfallScope};
use caseyos_projections::forecast::{self as model, ForecastQuery, ForecastQueryError};
use caseyos_store::now;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Principal;
use crate::http::consistency::{answer_once, ReadQuery};
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::pagination::parse_list;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_forecast))
        .routes(routes!(get_forecast_changes))
}

impl From<ForecastQueryError> for ApiError {
    fn from(error: ForecastQueryError) -> Self {
        match error {
            ForecastQueryError::Waterfall(e) => ApiError::bad_request(
                "forecast.reversed_instants",
                format!("{e}: `from` must not be after `to`"),
            ),
            other => ApiError::internal(other),
        }
    }
}

/// The forecast query a request asks for: its period (the current fiscal quarter when
/// absent) and owner (operators: their own).
fn forecast_query(
    state: &AppState,
    principal: &Principal,
    period: Option<&str>,
    owner: Option<String>,
) -> Result<ForecastQuery, ApiError> {
    let config = state.config.forecast();
    let period = match period.filter(|p| !p.is_empty()) {
        Some(raw) => Period::parse(raw)
            .map_err(|e| ApiError::bad_request("request.invalid_query", e.to_string()))?,
        None => Period::containing(now().date_naive(), PeriodKind::Quarter, &config.calendar),
    };
    let owner = match (principal.read_scope(), owner.filter(|o| !o.is_empty())) {
        (Some(me), Some(owner)) if owner != me.id => {
            return Err(ApiError::forbidden("operators see only their own forecast"))
        }
        (Some(me), _) => Some(me.id),
        (None, owner) => owner,
    };
    Ok(ForecastQuery {
        period,
        owner,
        config,
    })
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ForecastParams {
    /// `2026-11` (a month) or `2026-Q4` (a fiscal quarter); default: the current quarter.
    #[param(
        example = "2026-Q4",
        pattern = r"^([1-9][0-9]{3}-(0[1-9]|1[0-2]|[Qq][1-4]))?$"
    )]
    period: Option<String>,
    /// One owner's forecast (operators: their own); default everyone's.
    owner: Option<String>,
    /// The forecast as it stood at this instant (RFC 3339), folded from the log up to the
    /// position of the last event recorded at or before it.
    as_of: Option<DateTime<Utc>>,
}

/// The forecast of a period: per owner and in total, closed won, commit, best case,
/// pipeline, omitted, weighted, quota, attainment and coverage, each with its deals — now,
/// or as of an instant. Now, an answer is computed once per state of the deals and quotas
/// read models (its `as_of` says when).
#[utoipa::path(
    get,
    path = "/api/forecast",
    tag = "forecast",
    params(ForecastParams, ReadQuery),
    responses(
        (status = 200, description = "The forecast", body = ForecastResponse),
        (status = 400, description = "Not a period (`request.invalid_query`)", body = ErrorEnvelope),
        (status = 403, description = "Operators see only their own forecast", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_forecast(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ForecastParams>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Response, ApiError> {
    let query = forecast_query(&state, &principal, params.period.as_deref(), params.owner)?;
    // Also with `as_of`: its parameters are checked the same way (waiting costs little).
    read.settle(&state, model::FORECAST_VIEWS).await?;
    match params.as_of {
        Some(at) => Ok(Json(model::as_of(&state.pool, &query, at).await?).into_response()),
        // Computed once per state of the deals and quotas (its `as_of` says when).
        None => {
            let key = format!("forecast|{}|{:?}", query.period, query.owner);
            answer_once(&state, &key, model::FORECAST_VIEWS, None, async {
                Ok(model::now(&state.pool, &query, now()).await?)
            })
            .await
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ChangesParams {
    /// `2026-11` or `2026-Q4`; default: the current quarter.
    #[param(
        example = "2026-Q4",
        pattern = r"^([1-9][0-9]{3}-(0[1-9]|1[0-2]|[Qq][1-4]))?$"
    )]
    period: Option<String>,
    /// One owner's changes (operators: their own).
    owner: Option<String>,
    /// The earlier instant (RFC 3339).
    from: DateTime<Utc>,
    /// The later instant (RFC 3339); default now (or `from`, when `from` is later).
    to: Option<DateTime<Utc>>,
    /// Comma-separated rows to follow: closed_won, commit, best_case, pipeline, omitted
    /// (default: closed_won,commit,best_case,pipeline — what is forecast to close).
    #[param(
        pattern = r"^((closed_won|commit|best_case|pipeline|omitted)(,(closed_won|commit|best_case|pipeline|omitted))*)?$"
    )]
    rows: Option<String>,
}

fn bucket(raw: &str) -> Option<BucketKind> {
    Some(match raw {
        "closed_won" => BucketKind::ClosedWon,
        "commit" => BucketKind::Commit,
        "best_case" => BucketKind::BestCase,
        "pipeline" => BucketKind::Pipeline,
        "omitted" => BucketKind::Omitted,
        _ => return None,
    })
}

/// How the forecast moved between two instants, from the deals' events, in Gong's
/// vocabulary (new, pulled in, pushed out, amount up and down, won, lost, moved into and
/// out of a category, owner changed, reopened): `start.total + Σ movements = end.total`,
/// every row with its deals and their events.
#[utoipa::path(
    get,
    path = "/api/forecast/changes",
    tag = "forecast",
    params(ChangesParams),
    responses(
        (status = 200, description = "The waterfall", body = ForecastChangesResponse),
        (status = 400, description = "Not a period or a row (`request.invalid_query`), or `from` after `to` (`forecast.reversed_instants`)", body = ErrorEnvelope),
        (status = 403, description = "Operators see only their own forecast", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_forecast_changes(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ChangesParams>,
) -> Result<Json<ForecastChangesResponse>, ApiError> {
    let query = forecast_query(&state, &principal, params.period.as_deref(), params.owner)?;
    let rows = parse_list(params.rows.as_deref(), "rows", bucket)?;
    let scope = if rows.is_empty() {
        WaterfallScope::forecast()
    } else {
        WaterfallScope { rows, owner: None }
    };
    let to = params.to.unwrap_or_else(|| now().max(params.from));
    Ok(Json(
        model::changes(&state.pool, &query, scope, params.from, to).await?,
    ))
}
