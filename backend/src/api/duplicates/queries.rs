//! Reading duplicate pairs: the review queue and one pair side by side.

use axum::extract::State;
use axum::Json;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::{
    DuplicatePairDetailResponse, DuplicatePairListResponse, ErrorEnvelope, MergePreview,
};
use caseyos_domain::contacts::{diff, merge_fields, Contact, ContactStatus, ContactView};
use caseyos_domain::crm_merges::CrmMerge;
use caseyos_domain::duplicates::PairStatus;
use caseyos_projections::duplicates::{self as views, PairCursor, PairFilter};
use caseyos_store::history::state_at;
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Principal;
use crate::commands::contacts::HUBSPOT_MERGES_ARE_PERMANENT;
use crate::http::consistency::ReadQuery;
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::{cursor, limit, parse_list, NOT_OUR_CURSOR};
use crate::state::AppState;

/// The read models these queries depend on (the queue joins `contacts` for names).
const PAIR_VIEWS: &[&str] = &["duplicate_pairs"];
const MAX_PAGE: i64 = 100;
const DEFAULT_PAGE: i64 = 25;

pub(super) fn pair_not_found() -> ApiError {
    ApiError::not_found("duplicate.not_found", "duplicate pair not found")
}

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_duplicate_pairs))
        .routes(routes!(get_duplicate_pair))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PairsQuery {
    /// Comma-separated: open, merged, not_duplicate, ignored, unmerged. Default `open`;
    /// `all` for every status.
    status: Option<String>,
    /// Only pairs scoring at least this (0–1).
    #[param(minimum = 0, maximum = 1)]
    min_score: Option<f64>,
    /// Only pairs with a reason of this code (`email.same`, `phone.same`, …).
    reason: Option<String>,
    /// Only pairs this contact is in.
    contact: Option<Uuid>,
    /// The page size, default 25.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// From the previous page's `next_cursor` (opaque); empty or absent for the first page.
    cursor: Option<String>,
}

/// The review queue: pairs by score, highest first (open ones unless `status` says
/// otherwise), each with both contacts' name, email and company.
#[utoipa::path(
    get,
    path = "/api/hygiene/duplicates",
    tag = "duplicates",
    params(PairsQuery, ReadQuery),
    responses(
        (status = 200, description = "A page of pairs", body = DuplicatePairListResponse,
         example = json!({"items": [{"id": "0b8e9d2c-6f1a-5c3e-9a47-2d1f0e3b4c5a", "status": "open", "score": 0.93,
           "reasons": [{"code": "email.same", "detail": "ana@acme.com"}], "criteria_version": 1,
           "detected_at": "2026-11-30T06:00:00Z", "found_at": "2026-11-30T06:00:00Z", "decided_at": null,
           "decided_by": null, "merge_id": null, "primary_id": null,
           "a": {"id": "0190f7a0-0000-7000-8000-000000000001", "name": "Ana Lima", "primary_email": "ana@acme.com", "company_name": "Acme", "status": "active"},
           "b": {"id": "0190f7a0-0000-7000-8000-000000000002", "name": "Ana Lima", "primary_email": "ana@acme.com", "company_name": "ACME Inc", "status": "active"}}],
           "next_cursor": null, "total": 1})),
        (status = 400, description = "A bad filter or cursor (`request.invalid_query`, `request.invalid_cursor`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_duplicate_pairs(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<PairsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<DuplicatePairListResponse>, ApiError> {
    let statuses = match query.status.as_deref() {
        None | Some("") => vec![PairStatus::Open],
        Some("all") => Vec::new(),
        raw => parse_list(raw, "status", PairStatus::parse)?,
    };
    if let Some(min) = query.min_score {
        if !(0.0..=1.0).contains(&min) {
            return Err(ApiError::bad_request(
                "request.invalid_query",
                "min_score must be between 0 and 1",
            ));
        }
    }
    let filter = PairFilter {
        statuses,
        min_score: query.min_score,
        reason: query.reason.filter(|r| !r.is_empty()),
        contact: query.contact,
    };
    let limit = limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    let cursor = cursor(query.cursor.as_deref(), |raw| {
        PairCursor::decode(raw).ok_or(NOT_OUR_CURSOR)
    })?;
    read.settle(&state, PAIR_VIEWS).await?;
    let (items, total, next) = views::list(&state.pool, &filter, limit, cursor.as_ref()).await?;
    Ok(Json(DuplicatePairListResponse {
        items,
        next_cursor: next.map(|c| c.encode()),
        total,
    }))
}

/// The fields whose values differ between two contacts.
fn differing_fields(a: &ContactView, b: &ContactView) -> Vec<String> {
    a.fields
        .fields_with(&b.fields)
        .into_iter()
        .filter(|field| a.fields.get(field) != b.fields.get(field))
        .map(|field| field.to_string())
        .collect()
}

/// The default merge (no per-field choice) into the contact created first.
fn default_preview(a: &ContactView, b: &ContactView) -> Option<MergePreview> {
    if a.status != ContactStatus::Active || b.status != ContactStatus::Active {
        return None;
    }
    let (primary, secondary) = if (b.created_at, b.id) < (a.created_at, a.id) {
        (b, a)
    } else {
        (a, b)
    };
    let merged = merge_fields(&primary.fields, &secondary.fields, &BTreeMap::new());
    Some(MergePreview {
        primary: primary.id,
        secondary: secondary.id,
        changes: diff(&primary.fields, &merged),
        merged,
    })
}

async fn contact_of(state: &AppState, id: Uuid) -> Result<Option<ContactView>, ApiError> {
    let contact: Contact = state_at(&state.pool, &id.to_string(), i64::MAX).await?;
    Ok(contact.into_view())
}

/// One pair side by side: both full records, the reasons and score, the fields that
/// differ, the default merge's result, and — once merged — its push to HubSpot.
#[utoipa::path(
    get,
    path = "/api/hygiene/duplicates/{id}",
    tag = "duplicates",
    params(("id" = Uuid, Path), ReadQuery),
    responses(
        (status = 200, description = "The pair side by side", body = DuplicatePairDetailResponse),
        (status = 404, description = "No such pair (`duplicate.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_duplicate_pair(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    _principal: Principal,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<DuplicatePairDetailResponse>, ApiError> {
    read.settle(&state, PAIR_VIEWS).await?;
    let pair = views::get(&state.pool, id)
        .await?
        .ok_or_else(pair_not_found)?;
    let a = contact_of(&state, pair.finding.a).await?;
    let b = contact_of(&state, pair.finding.b).await?;
    let (differing, preview) = match (&a, &b) {
        (Some(a), Some(b)) => (differing_fields(a, b), default_preview(a, b)),
        _ => (Vec::new(), None),
    };
    let crm = match pair.decision.as_ref().and_then(|d| d.merge_id) {
        Some(merge_id) => {
            let crm: CrmMerge = state_at(&state.pool, &merge_id.to_string(), i64::MAX).await?;
            crm.into_view()
        }
        None => None,
    };
    Ok(Json(DuplicatePairDetailResponse {
        pair,
        a,
        b,
        differing_fields: differing,
        preview,
        crm,
        crm_note: HUBSPOT_MERGES_ARE_PERMANENT.to_string(),
    }))
}
