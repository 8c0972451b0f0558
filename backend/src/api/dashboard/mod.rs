//! `/api/dashboard`: every widget in one answer, and each on its own path — now (live
//! over the read models) or as of an instant (folded from the log up to it).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use caseyos_domain::api::{
    ActivityEntry, AgentPerformance, ConnectorState, DashboardResponse, DashboardStats,
    PipelineHealth,
};
use caseyos_domain::queue::QueueItemView;
use caseyos_projections::dashboard::{self as model, Settings, Widgets};
use caseyos_store::now;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::hygiene_reports::{hygiene_card, REPORT_VIEWS};
use crate::auth::Principal;
use crate::http::consistency::{answer_once, ReadQuery};
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard))
        .routes(routes!(dashboard_stats))
        .routes(routes!(dashboard_top_moves))
        .routes(routes!(dashboard_agents))
        .routes(routes!(dashboard_pipelines))
        .routes(routes!(dashboard_activity))
        .routes(routes!(dashboard_connectors))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DashboardParams {
    /// The dashboard as it stood at this instant (RFC 3339): folded from the log up to the
    /// position of the last event recorded at or before it.
    as_of: Option<DateTime<Utc>>,
}

/// The widgets at one position of the log, and that position and instant.
async fn widgets(
    state: &AppState,
    principal: &Principal,
    params: &DashboardParams,
) -> Result<(Widgets, DateTime<Utc>, i64), ApiError> {
    let settings = Settings {
        risk: state.config.deal_risk.clone(),
        currency: state.config.forecast().currency,
        owner: principal.read_scope().map(|a| a.id),
        connectors: state
            .credentials
            .describe_all(now())
            .await?
            .into_iter()
            .map(|c| ConnectorState {
                name: c.name.as_str().to_string(),
                status: c.status.as_str().to_string(),
                last_good_call: c.last_good_call_at,
                expires_at: c.expires_at,
            })
            .collect(),
    };
    let (at, (inputs, position)) = match params.as_of {
        Some(at) => (at, model::inputs_as_of(&state.pool, &settings, at).await?),
        None => {
            let at = now();
            (at, model::inputs_now(&state.pool, &settings, at).await?)
        }
    };
    Ok((model::widgets(inputs, &settings, at), at, position))
}

/// What the dashboard reads now: its widgets' read models and the hygiene card's.
fn views() -> Vec<&'static str> {
    [model::DASHBOARD_VIEWS, REPORT_VIEWS].concat()
}

/// How long a dashboard answer is kept while nothing it reads changes: its risk flags and
/// its 24-hour window move with the clock.
const HOLD_SECS: i64 = 30;

/// The future a widget's answer is picked in.
type Pick<'a, T> = futures::future::BoxFuture<'a, Result<T, ApiError>>;

/// Answers one widget (or all): now, computed at most once per state of what it reads (and
/// at most [`HOLD_SECS`] apart, the answer saying when it was computed); as of an instant,
/// folded from the log.
async fn answer<'a, T: Serialize>(
    state: &'a AppState,
    principal: &'a Principal,
    params: &'a DashboardParams,
    read: &'a ReadQuery,
    name: &str,
    pick: impl FnOnce(Widgets, DateTime<Utc>, i64, &'a AppState) -> Pick<'a, T>,
) -> Result<Response, ApiError> {
    // Also with `as_of`, and before a kept answer is served: the read's parameters are
    // checked the same way every time (waiting costs little).
    read.settle(state, &views()).await?;
    let compute = async {
        let (widgets, at, position) = widgets(state, principal, params).await?;
        pick(widgets, at, position, state).await
    };
    if params.as_of.is_some() {
        return Ok(axum::Json(compute.await?).into_response());
    }
    let key = format!("dashboard|{name}|{:?}", principal.read_scope());
    answer_once(
        state,
        &key,
        &views(),
        Some(chrono::Duration::seconds(HOLD_SECS)),
        compute,
    )
    .await
}

/// Every widget of the dashboard in one answer: quick stats, the top five moves, agent
/// performance over 24 hours, pipeline health, the activity feed, the hygiene card and
/// the connectors — now, or as of an instant (without the hygiene card, which is not
/// folded from the log). Now, an answer is computed once per state of the read models and
/// kept for at most 30 seconds (its `as_of` says when it was computed).
#[utoipa::path(
    get,
    path = "/api/dashboard",
    tag = "dashboard",
    params(DashboardParams, ReadQuery),
    responses((status = 200, description = "The dashboard", body = DashboardResponse)),
    security(("bearer" = []))
)]
async fn dashboard(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<DashboardParams>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Response, ApiError> {
    let historical = params.as_of.is_some();
    answer(
        &state,
        &principal,
        &params,
        &read,
        "all",
        |w, as_of, position, state| {
            Box::pin(async move {
                let hygiene = if historical {
                    None
                } else {
                    Some(hygiene_card(state).await?)
                };
                Ok(DashboardResponse {
                    as_of,
                    position,
                    stats: w.stats,
                    top_moves: w.top_moves,
                    agents: w.agents,
                    pipelines: w.pipelines,
                    activity: w.activity,
                    hygiene,
                    connectors: w.connectors,
                })
            })
        },
    )
    .await
}

/// One widget's own path: the same answer as the dashboard's, picked.
macro_rules! widget {
    ($name:ident, $field:ident, $ty:ty, $path:literal, $doc:literal, $description:literal) => {
        #[doc = $doc]
        #[utoipa::path(
                            get,
                            path = $path,
                            tag = "dashboard",
                            params(DashboardParams, ReadQuery),
                            responses((status = 200, description = $description, body = $ty)),
                            security(("bearer" = []))
                        )]
        async fn $name(
            State(state): State<AppState>,
            principal: Principal,
            ApiQuery(params): ApiQuery<DashboardParams>,
            ApiQuery(read): ApiQuery<ReadQuery>,
        ) -> Result<Response, ApiError> {
            let field = stringify!($field);
            answer(&state, &principal, &params, &read, field, |w, _, _, _| {
                Box::pin(async move { Ok(w.$field) })
            })
            .await
        }
    };
}

widget!(
    dashboard_stats,
    stats,
    DashboardStats,
    "/api/dashboard/stats",
    "The quick-stats bar.",
    "The quick stats"
);
widget!(
    dashboard_top_moves,
    top_moves,
    Vec<QueueItemView>,
    "/api/dashboard/top-moves",
    "The five highest-priority moves of Today's Moves (the caller's).",
    "The top moves"
);
widget!(
    dashboard_agents,
    agents,
    AgentPerformance,
    "/api/dashboard/agents",
    "Agent performance over the last 24 hours.",
    "Agent performance"
);
widget!(
    dashboard_pipelines,
    pipelines,
    Vec<PipelineHealth>,
    "/api/dashboard/pipeline",
    "Pipeline health: each pipeline's open deals by stage and its at-risk deals.",
    "Pipeline health"
);
widget!(
    dashboard_activity,
    activity,
    Vec<ActivityEntry>,
    "/api/dashboard/activity",
    "The last 20 events across every context, newest first.",
    "The activity feed"
);
widget!(
    dashboard_connectors,
    connectors,
    Vec<ConnectorState>,
    "/api/dashboard/connectors",
    "The connectors: Gmail, Google Calendar, HubSpot and the LLM, their status (`expiring` when a token expires within 24 hours and cannot be refreshed), expiry and last good call.",
    "The connectors"
);
