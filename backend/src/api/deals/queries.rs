//! Reading deals: the filtered, sorted list (with each deal's score and flags now) and one
//! deal with its score's factors and its flags' evidence, now or as of an instant.

use axum::extract::State;
use axum::Json;
use caseyos_domain::api::{DealDetailResponse, DealListItem, DealListResponse, ErrorEnvelope};
use caseyos_domain::deals::{deal_health, risk_flags, Deal, DealStatus, DealView};
use caseyos_domain::kernel::CrmId;
use caseyos_projections::deals::{self as views, DealCursor, DealFilter, DealSort};
use caseyos_store::event::read_history;
use caseyos_store::history::state_of;
use caseyos_store::log::position_as_of;
use caseyos_store::now;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::consistency::ReadQuery;
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::{cursor, limit, parse_list, NOT_OUR_CURSOR};
use crate::state::AppState;

/// The read models these queries depend on.
pub(super) const DEAL_VIEWS: &[&str] = &["deals"];
const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 25;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deals))
        .routes(routes!(get_deal))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DealsQuery {
    /// A pipeline's id.
    pipeline: Option<String>,
    /// Comma-separated stage ids.
    #[param(pattern = r"^([A-Za-z0-9_-]{1,64}(,[A-Za-z0-9_-]{1,64})*)?$")]
    stage: Option<String>,
    /// One owner's deals (operators see only their own).
    owner: Option<String>,
    /// Comma-separated: open, won, lost (default: every status).
    #[param(pattern = r"^((open|won|lost)(,(open|won|lost))*)?$")]
    status: Option<String>,
    /// Close dates from this date (included).
    close_from: Option<NaiveDate>,
    /// Close dates up to this date (included).
    close_to: Option<NaiveDate>,
    /// `true`: only open deals with at least one risk flag now; `false`: only those with none.
    at_risk: Option<bool>,
    /// `-updated_at` (default), `-created_at`, `close_date` (soonest first, none last),
    /// `-amount` (largest first, none last).
    #[param(pattern = r"^(-?(updated_at|created_at|close_date|amount))?$")]
    sort: Option<String>,
    /// The page size, default 25.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// From the previous page's `next_cursor` (opaque); empty or absent for the first page.
    cursor: Option<String>,
}

/// Deals, filtered and sorted, each with its health score and the kinds of its risk flags
/// now.
#[utoipa::path(
    get,
    path = "/api/deals",
    tag = "deals",
    params(DealsQuery, ReadQuery),
    responses(
        (status = 200, description = "A page of deals", body = DealListResponse),
        (status = 400, description = "A bad filter, sort or cursor (`request.invalid_query`, `request.invalid_cursor`)", body = ErrorEnvelope),
        (status = 403, description = "Operators list only their own deals", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_deals(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<DealsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<DealListResponse>, ApiError> {
    let owner = match (
        principal.read_scope(),
        query.owner.filter(|o| !o.is_empty()),
    ) {
        (Some(me), Some(owner)) if owner != me.id => {
            return Err(ApiError::forbidden("operators list only their own deals"))
        }
        (Some(me), _) => Some(me.id),
        (None, owner) => owner,
    };
    let filter = DealFilter {
        pipeline: query.pipeline.filter(|p| !p.is_empty()),
        stages: parse_list(query.stage.as_deref(), "stage", |s| {
            CrmId::parse(s).ok().map(|id| id.as_str().to_string())
        })?,
        owner,
        statuses: parse_list(query.status.as_deref(), "status", DealStatus::parse)?,
        close_from: query.close_from,
        close_to: query.close_to,
    };
    let sort = match query.sort.as_deref() {
        None | Some("") => DealSort::default(),
        Some(raw) => DealSort::parse(raw).ok_or_else(|| {
            ApiError::bad_request(
                "request.invalid_query",
                format!("sort: `{raw}` is not a known order"),
            )
        })?,
    };
    let limit = limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = cursor(query.cursor.as_deref(), |raw| {
        DealCursor::decode(raw, sort).ok_or(NOT_OUR_CURSOR)
    })?;
    read.settle(&state, DEAL_VIEWS).await?;
    let at = now();
    let risk = &state.config.deal_risk;
    let keep = query.at_risk.map(|wanted| {
        move |deal: &DealView| {
            let at_risk = deal.status.is_open() && !risk_flags(deal, at, risk).is_empty();
            at_risk == wanted
        }
    });
    let keep_ref = keep
        .as_ref()
        .map(|k| k as &(dyn Fn(&DealView) -> bool + Sync));
    let (deals, next, total) =
        views::list(&state.pool, &filter, sort, limit, cursor.as_ref(), keep_ref).await?;
    let items = deals
        .into_iter()
        .map(|deal| DealListItem {
            score: deal_health(&deal, at, &state.config.deal_health)
                .score()
                .map(|s| s.total),
            risks: risk_flags(&deal, at, risk).iter().map(|f| f.kind).collect(),
            deal,
        })
        .collect();
    Ok(Json(DealListResponse {
        items,
        next_cursor: next.map(|c| c.encode()),
        total,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DealQuery {
    /// The deal as it stood at this instant (RFC 3339): its events up to the log position
    /// of the last event recorded at or before it, its score and flags computed then.
    as_of: Option<DateTime<Utc>>,
}

/// One deal with its health score (every factor and its points) and its risk flags (each
/// with the events that raised it), now or as of an instant.
#[utoipa::path(
    get,
    path = "/api/deals/{id}",
    tag = "deals",
    params(("id" = Uuid, Path), DealQuery, ReadQuery),
    responses(
        (status = 200, description = "The deal", body = DealDetailResponse),
        (status = 403, description = "Someone else's deal (operators read their own)", body = ErrorEnvelope),
        (status = 404, description = "No such deal, or none yet at `as_of` (`deal.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_deal(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<DealQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<DealDetailResponse>, ApiError> {
    let not_found = || ApiError::not_found("deal.not_found", "deal not found");
    // Also with `as_of`: its parameters are checked the same way (waiting costs little).
    read.settle(&state, DEAL_VIEWS).await?;
    let (deal, at, position) = match query.as_of {
        None => {
            let deal = views::get(&state.pool, id).await?.ok_or_else(not_found)?;
            let position = caseyos_projections::runner::checkpoints(&state.pool, DEAL_VIEWS)
                .await?
                .first()
                .map_or(0, |c| c.position);
            (deal, now(), position)
        }
        Some(at) => {
            let position = position_as_of(&state.pool, at).await?;
            let history = read_history::<Deal>(&state.pool, &id.to_string()).await?;
            let state: Deal =
                state_of(history.iter().take_while(|e| e.global_position <= position))?;
            (state.deal.ok_or_else(not_found)?, at, position)
        }
    };
    if !principal.may_read_owner(&deal.owner) {
        return Err(ApiError::forbidden("this deal belongs to someone else"));
    }
    Ok(Json(DealDetailResponse {
        health: deal_health(&deal, at, &state.config.deal_health),
        risks: risk_flags(&deal, at, &state.config.deal_risk),
        deal,
        as_of: at,
        position,
    }))
}
