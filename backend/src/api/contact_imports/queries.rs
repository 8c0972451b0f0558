//! An import's progress, from the `contact_imports` read model.

use axum::extract::State;
use axum::Json;
use caseyos_domain::api::{ContactImportResponse, ErrorEnvelope};
use caseyos_projections::contact_imports as imports;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::consistency::ReadQuery;
use crate::http::error::ApiError;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

pub(super) const IMPORT_VIEWS: &[&str] = &["contact_imports"];

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_contact_import))
}

/// An import's progress: rows read so far by outcome and the failed rows with their line
/// numbers and reasons (the first 1,000). Poll it until `status` is `completed` or
/// `failed`.
#[utoipa::path(
    get,
    path = "/api/contacts/imports/{id}",
    tag = "contacts",
    params(("id" = Uuid, Path, description = "The import's id, from the upload's answer"), ReadQuery),
    responses(
        (status = 200, description = "The import", body = ContactImportResponse),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 404, description = "No such import, or another operator's (`contact_import.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_contact_import(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<ContactImportResponse>, ApiError> {
    query.settle(&state, IMPORT_VIEWS).await?;
    let import = imports::get(&state.pool, id)
        .await?
        .filter(|import| principal.may_read(&import.started_by))
        .ok_or_else(|| ApiError::not_found("contact_import.not_found", "no import with this id"))?;
    Ok(Json(import.into()))
}
