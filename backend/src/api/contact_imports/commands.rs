//! Uploading a CSV file of contacts: the body is spooled to the database as it streams in
//! (never held whole in memory), then the import starts and the answer is `202` at once;
//! the import worker does the rest.

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use caseyos_domain::api::{ContactImportResponse, ErrorEnvelope};
use futures::StreamExt;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Role;
use crate::commands::contact_imports::{start_import, Spool, SpoolError};
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::ApiQuery;
use crate::http::response::command_response;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    // The file is spooled as it arrives and its size is checked against
    // `contact_import_max_bytes` there, not against the JSON body limit.
    OpenApiRouter::new()
        .routes(routes!(import_contacts))
        .layer(DefaultBodyLimit::disable())
}

/// The upload's options.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The file's name, shown with the import (a multipart upload's own file name wins).
    #[param(example = "contacts.csv")]
    pub file_name: Option<String>,
}

/// The form of a multipart upload.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Only documents the form `spool_form` reads.
pub struct ImportForm {
    /// The CSV file (its file name is kept with the import).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Import contacts from a CSV file: a `text/csv` body, or `multipart/form-data` with the
/// file in a part named `file`. The first line is the header: columns are matched
/// case-insensitively after trimming — `email` (`email_address`, `e-mail`, `emailaddress`),
/// `first_name` (`firstname`, `first`, `given_name`), `last_name` (`lastname`, `last`,
/// `surname`, `family_name`), `company` (`company_name`, `organization`, `org`),
/// `job_title` (`title`, `position`, `jobtitle`, `role`), `phone` (`phone_number`,
/// `telephone`, `mobile`), `company_domain`, `lifecycle_stage`, `owner`, `crm_id`
/// (`hubspot_id`, `record_id`), `last_contacted_at`; `linkedin` / `linkedin_url` /
/// `linkedin_profile` and `industry` / `sector` and every other column become custom
/// properties. A header needs an email or a CRM id column. Each row is matched to a
/// contact on its CRM id, then its email: new ones are created, matched ones get the
/// row's non-empty values (empty cells never clear a field), rows that change nothing are
/// skipped, and a row that cannot be read fails alone with its line and reason. Importing
/// the same file again creates nothing. The answer comes at once (`202`); follow the
/// import at `GET /api/contacts/imports/{id}`.
#[utoipa::path(
    post,
    path = "/api/contacts/imports",
    tag = "contacts",
    params(ImportQuery),
    request_body(
        description = "The CSV file (UTF-8, `,`-separated, quoted fields may span lines), as the body or as the `file` part of a form",
        content(
            (String = "text/csv", example = "email,first_name,last_name,company\nada@example.com,Ada,Lovelace,Analytical Engines\n"),
            (ImportForm = "multipart/form-data"),
        ),
    ),
    responses(
        (status = 202, description = "Spooled and started; `status` is `running`", body = ContactImportResponse,
         headers(("Location" = String, description = "Where to follow the import"))),
        (status = 400, description = "The upload broke off or the form cannot be read (`contact_import.upload`)", body = ErrorEnvelope),
        (status = 401, description = "Not signed in", body = ErrorEnvelope),
        (status = 403, description = "Viewers cannot import", body = ErrorEnvelope),
        (status = 413, description = "Larger than `contact_import_max_bytes` (`contact_import.too_large`)", body = ErrorEnvelope),
        (status = 415, description = "Neither `text/csv` nor `multipart/form-data` (`contact_import.unsupported_type`)", body = ErrorEnvelope),
        (status = 422, description = "The file is empty, or the form has no `file` part (`contact_import.empty`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn import_contacts(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiQuery(query): ApiQuery<ImportQuery>,
    request: Request,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let mut spool = Spool::new(state.pool.clone(), state.config.contact_import_max_bytes);
    let mut file_name = query.file_name;
    let spooled = match content_type.as_str() {
        "text/csv" => spool_body(&mut spool, request).await,
        "multipart/form-data" => match Multipart::from_request(request, &state).await {
            Ok(form) => spool_form(&mut spool, form, &mut file_name).await,
            Err(rejection) => Err(upload_error(rejection.body_text())),
        },
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "contact_import.unsupported_type",
            "send the file as text/csv or as the `file` part of multipart/form-data",
        )),
    };
    if let Err(error) = spooled {
        spool.discard().await;
        return Err(error);
    }
    let import_id = spool.import_id();
    let size = match spool.finish().await {
        Ok(size) => size,
        Err(error) => {
            crate::commands::contact_imports::discard(&state.pool, import_id)
                .await
                .ok();
            return Err(spool_error(error));
        }
    };
    let meta = ctx.meta.clone();
    let committed = start_import(
        &state.bus,
        import_id,
        file_name.as_deref(),
        size,
        ctx.principal.actor(),
        &meta,
    )
    .await?;
    let view = committed
        .state
        .import
        .ok_or_else(|| ApiError::internal("the import was not recorded"))?;
    Ok(command_response(
        StatusCode::ACCEPTED,
        false,
        Some(format!("/api/contacts/imports/{import_id}")),
        ContactImportResponse::from(view),
    ))
}

/// Spools a `text/csv` body as it streams in.
async fn spool_body(spool: &mut Spool, request: Request) -> Result<(), ApiError> {
    let mut body = request.into_body().into_data_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| upload_error(e.to_string()))?;
        spool.write(&chunk).await.map_err(spool_error)?;
    }
    Ok(())
}

/// Spools the `file` part of a form as it streams in (other parts are ignored).
async fn spool_form(
    spool: &mut Spool,
    mut form: Multipart,
    file_name: &mut Option<String>,
) -> Result<(), ApiError> {
    let mut found = false;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| upload_error(e.body_text()))?
    {
        if field.name() != Some("file") || found {
            continue;
        }
        found = true;
        if let Some(name) = field.file_name() {
            *file_name = Some(name.to_string());
        }
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| upload_error(e.body_text()))?
        {
            spool.write(&chunk).await.map_err(spool_error)?;
        }
    }
    if found {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "contact_import.empty",
            "the form has no `file` part",
        ))
    }
}

fn upload_error(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("contact_import.upload", message)
}

fn spool_error(error: SpoolError) -> ApiError {
    match error {
        SpoolError::TooLarge { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "contact_import.too_large",
            error.to_string(),
        ),
        SpoolError::Empty => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "contact_import.empty",
            error.to_string(),
        ),
        SpoolError::Database(e) => ApiError::internal(e),
    }
}
