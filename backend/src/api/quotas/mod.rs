//! `/api/quotas`: what each owner should close in a period — set by admins (commands on the
//! `quota` aggregate), listed from the `quotas` read model. The forecast's attainment and
//! coverage read them.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use caseyos_domain::api::{ErrorEnvelope, QuotaListResponse, QuotaResponse, SetQuotaRequest};
use caseyos_domain::forecast::Period;
use caseyos_domain::kernel::UserName;
use caseyos_domain::quotas::{Quota, QuotaCommand};
use caseyos_store::now;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Principal, Role};
use crate::http::consistency::ReadQuery;
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiQuery};
use crate::http::response::command_response;
use crate::state::AppState;

const QUOTA_VIEWS: &[&str] = &["quotas"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_quotas, set_quota))
}

/// Reads a period as written in a request, naming `field` when it is not one.
pub(crate) fn period(field: &str, raw: &str) -> Result<Period, ApiError> {
    Period::parse(raw).map_err(|e| ApiError::field(field, e.to_string()))
}

/// Set an owner's quota for a period (admins); setting it again replaces it.
#[utoipa::path(
    post,
    path = "/api/quotas",
    tag = "deals",
    request_body = SetQuotaRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Set (or already so)", body = QuotaResponse),
        (status = 403, description = "Admins only", body = ErrorEnvelope),
        (status = 422, description = "An invalid owner, period or a negative amount (`request.validation`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn set_quota(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<SetQuotaRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Admin)?;
    let owner = UserName::parse(&request.owner).map_err(|m| ApiError::field("owner", m))?;
    let period = period("period", &request.period)?;
    let id = Quota::id_of(owner.as_str(), period);
    let command = QuotaCommand::Set {
        owner,
        period,
        amount: request.amount,
        by: ctx.principal.actor(),
        at: now(),
    };
    let answer = ctx
        .execute_once::<Quota>(&state.pool, &request, async |meta| {
            Ok(state.bus.execute::<Quota>(id, command, meta).await?)
        })
        .await?;
    Ok(command_response(
        StatusCode::OK,
        answer.replayed,
        None,
        QuotaResponse {
            quota: answer.view,
            consistency: answer.consistency,
        },
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct QuotasQuery {
    /// `YYYY-MM` or `YYYY-QN`; absent: every period.
    #[param(pattern = r"^([1-9][0-9]{3}-(0[1-9]|1[0-2]|[Qq][1-4]))?$")]
    period: Option<String>,
    /// One owner's quotas.
    owner: Option<String>,
}

/// Quotas, by period then owner.
#[utoipa::path(
    get,
    path = "/api/quotas",
    tag = "deals",
    params(QuotasQuery, ReadQuery),
    responses(
        (status = 200, description = "The quotas", body = QuotaListResponse),
        (status = 400, description = "Not a period (`request.invalid_query`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_quotas(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<QuotasQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<QuotaListResponse>, ApiError> {
    let period = match query.period.as_deref().filter(|p| !p.is_empty()) {
        Some(raw) => Some(
            Period::parse(raw)
                .map_err(|e| ApiError::bad_request("request.invalid_query", e.to_string()))?,
        ),
        None => None,
    };
    read.settle(&state, QUOTA_VIEWS).await?;
    let items = caseyos_projections::quotas::list(
        &state.pool,
        period,
        query.owner.as_deref().filter(|o| !o.is_empty()),
    )
    .await?;
    Ok(Json(QuotaListResponse {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}
