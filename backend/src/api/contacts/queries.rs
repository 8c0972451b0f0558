//! Reading contacts: the searched, filtered and sorted list, one contact, and the CSV
//! export. Read models only; every signed-in role reads contacts (they are the team's).

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use caseyos_domain::api::{
    ContactListResponse, ContactResponse, ContactsQuery, ErrorEnvelope, CONTACT_EXPORT_COLUMNS,
};
use caseyos_projections::contacts::{self as views, ContactFilter, Cursor, InvalidQuery};
use caseyos_projections::export::csv_record;
use futures::StreamExt;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::consistency::{read_token, ReadQuery};
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::pagination::{cursor, limit};
use crate::http::response::csv_download;
use crate::state::AppState;

/// The read models these queries depend on.
const CONTACT_VIEWS: &[&str] = &["contacts"];
const MAX_PAGE: i64 = 200;
const DEFAULT_PAGE: i64 = 50;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_contacts))
        .routes(routes!(export_contacts))
        .routes(routes!(get_contact))
}

fn invalid_query(error: InvalidQuery) -> ApiError {
    ApiError::bad_request("request.invalid_query", error.to_string())
}

/// Contacts, searched (`q` over name, emails and company), filtered, sorted and paginated
/// with stable keyset cursors. Only active contacts unless `status` says otherwise.
#[utoipa::path(
    get,
    path = "/api/contacts",
    tag = "contacts",
    params(ContactsQuery, ReadQuery),
    responses(
        (status = 200, description = "A page of contacts", body = ContactListResponse,
         example = json!({"items": [{
             "id": "0193a8c0-0000-7000-8000-000000000001", "status": "active", "name": "Dana Lee",
             "primary_email": "dana@acme.io", "phone": "+14155550100", "company_name": "Acme",
             "company_domain": "acme.io", "job_title": "VP Sales", "lifecycle_stage": "salesqualifiedlead",
             "owner": "casey", "crm_id": "501", "valid": true, "issues": 0,
             "last_contacted_at": "2026-11-02T08:30:00Z", "updated_at": "2026-11-30T09:00:00Z",
             "source": "manual", "demo": false}],
             "next_cursor": null, "total": 1})),
        (status = 400, description = "Unknown filter value or sort (`request.invalid_query`), or a cursor this list did not issue (`request.invalid_cursor`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "request.invalid_query", "message": "sort: must be name, created_at, updated_at or last_contacted_at, optionally prefixed with -", "request_id": "req-1"}})),
        (status = 503, description = "`after` not reached in time (`consistency.timeout`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_contacts(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<ContactsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<ContactListResponse>, ApiError> {
    let filter = ContactFilter::from_query(&query).map_err(invalid_query)?;
    let sort = views::sort_of(&query).map_err(invalid_query)?;
    let cursor = cursor(query.cursor.as_deref(), |raw| Cursor::decode(raw, sort))?;
    let limit = limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    read.settle(&state, CONTACT_VIEWS).await?;
    let page = views::list(&state.pool, &filter, sort, cursor.as_ref(), limit).await?;
    Ok(Json(ContactListResponse {
        items: page.items,
        next_cursor: page.next.map(|c| c.encode()),
        total: page.total,
    }))
}

/// One contact.
#[utoipa::path(
    get,
    path = "/api/contacts/{id}",
    tag = "contacts",
    params(("id" = Uuid, Path), ReadQuery),
    responses(
        (status = 200, description = "The contact", body = ContactResponse,
         example = json!(super::commands::example_contact_response())),
        (status = 404, description = "No such contact (`contact.not_found`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "contact.not_found", "message": "contact not found", "request_id": "req-1"}})),
        (status = 503, description = "`after` not reached in time (`consistency.timeout`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_contact(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    _principal: Principal,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<ContactResponse>, ApiError> {
    read.settle(&state, CONTACT_VIEWS).await?;
    let contact = views::get(&state.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("contact.not_found", "contact not found"))?;
    Ok(Json(ContactResponse {
        contact,
        consistency: read_token(&state, CONTACT_VIEWS).await?,
    }))
}

/// Every contact the filters match, as CSV (`text/csv`, UTF-8, CRLF records, RFC 4180
/// quoting), streamed from the read model in the list's sort order. Takes every filter and
/// the sort of `GET /api/contacts`; `cursor` and `limit` are not used (the file has every
/// matching contact). Cells that a spreadsheet would run as a formula (starting with `=`,
/// `+`, `-` or `@`) are prefixed with `'`. The header is one the CSV import reads back:
/// `email` is the primary address, `other_emails` and `phone` hold `;`-separated lists.
#[utoipa::path(
    get,
    path = "/api/contacts/export.csv",
    tag = "contacts",
    params(ContactsQuery, ReadQuery),
    responses(
        (status = 200, description = "The contacts as CSV (`Content-Disposition: attachment; filename=\"contacts-<date>.csv\"`)",
         content_type = "text/csv", body = String,
         example = json!("id,first_name,last_name,email,other_emails,phone,job_title,company_name,company_domain,lifecycle_stage,owner,crm_id,last_contacted_at,status,valid,created_at,updated_at\r\n0193a8c0-0000-7000-8000-000000000001,Dana,Lee,dana@acme.io,,+14155550100,VP Sales,Acme,acme.io,salesqualifiedlead,casey,501,2026-11-02T08:30:00Z,active,true,2026-11-30T09:00:00Z,2026-11-30T09:00:00Z\r\n")),
        (status = 400, description = "Unknown filter value or sort, or a `limit` out of the list's range (`request.invalid_query`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "request.invalid_query", "message": "status: `gone` is not a known value", "request_id": "req-1"}})),
        (status = 503, description = "`after` not reached in time (`consistency.timeout`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn export_contacts(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(query): ApiQuery<ContactsQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Response, ApiError> {
    let filter = ContactFilter::from_query(&query).map_err(invalid_query)?;
    let sort = views::sort_of(&query).map_err(invalid_query)?;
    // The file has every row, but a `limit` out of the list's range is refused as there.
    limit(query.limit, DEFAULT_PAGE, MAX_PAGE)?;
    read.settle(&state, CONTACT_VIEWS).await?;
    let records = views::export(state.pool.clone(), filter, sort)
        .map(|row| row.map(|row| csv_record(&row.csv_cells())))
        .boxed();
    Ok(csv_download("contacts", CONTACT_EXPORT_COLUMNS, records))
}
