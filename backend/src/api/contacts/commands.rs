//! Commands on contacts: create, edit, archive, restore. Contacts are the team's shared
//! data: operators and admins change them, viewers only read.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseyos_domain::api::{
    ArchiveContactRequest, ContactResponse, CreateContactRequest, EditContactRequest, ErrorEnvelope,
};
use caseyos_domain::contacts::{
    fields_of, ChangeSource, Contact, ContactCommand, ContactSource, ContactView, CreateContact,
    EditContact,
};
use caseyos_projections::contacts as views;
use caseyos_store::now;
use serde::Serialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Role;
use crate::http::context::{Answer, CommandContext};
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::response::command_response;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_contact))
        .routes(routes!(edit_contact))
        .routes(routes!(archive_contact))
        .routes(routes!(restore_contact))
}

/// A created or changed contact: 200 with it (`created`: 201 with its `Location`).
fn contact_response(created: bool, answer: Answer<ContactView>) -> Response {
    let location = format!("/api/contacts/{}", answer.view.id);
    let body = ContactResponse {
        contact: answer.view,
        consistency: answer.consistency,
    };
    if created {
        command_response(StatusCode::CREATED, answer.replayed, Some(location), body)
    } else {
        command_response(StatusCode::OK, answer.replayed, None, body)
    }
}

/// Runs one command on one contact, honouring `Idempotency-Key`.
async fn run(
    state: &AppState,
    ctx: &CommandContext,
    id: Uuid,
    request: &impl Serialize,
    command: ContactCommand,
) -> Result<Answer<ContactView>, ApiError> {
    let new = matches!(command, ContactCommand::Create(_));
    ctx.execute_once::<Contact>(&state.pool, request, async |meta| {
        let anyone = |_: &Contact| Ok(());
        Ok(if new {
            // The contact's id was made up just now: no events to load.
            state.bus.execute_new(id, command, meta, anyone).await?
        } else {
            state.bus.execute(id, command, meta).await?
        })
    })
    .await
}

/// Create a contact. It needs a name, an email or a phone. Phones are kept as written,
/// with their E.164 form when they parse (a number that does not is kept for validation to
/// flag, never refused).
///
/// A contact whose email (any of them) or CRM id already belongs to an active contact is
/// refused with `409 contact.duplicate`, `details.contact_id` naming the existing one —
/// unless `allow_duplicate` is `true`. Duplicates that differ more subtly (a typo, another
/// address, a nickname) are the duplicate review's to find (`GET /api/hygiene/duplicates`).
#[utoipa::path(
    post,
    path = "/api/contacts",
    tag = "contacts",
    request_body = CreateContactRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Created; `Location` names it", body = ContactResponse,
         example = json!(example_contact_response())),
        (status = 409, description = "An active contact already has one of these emails or this CRM id (`contact.duplicate`, `details.contact_id` names it)", body = ErrorEnvelope,
         example = json!({"error": {"code": "contact.duplicate", "message": "an active contact already has this email", "request_id": "req-1", "details": {"contact_id": "0193a8c0-0000-7000-8000-000000000001", "matched_on": "email"}}})),
        (status = 422, description = "A field breaks a rule (`request.validation`, `details.fields` names each)", body = ErrorEnvelope,
         example = json!({"error": {"code": "request.validation", "message": "emails[0] is not an email address", "request_id": "req-1", "details": {"fields": [{"field": "emails[0]", "message": "is not an email address"}]}}})),
        (status = 403, description = "Viewers cannot create contacts (`auth.forbidden`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "auth.forbidden", "message": "this needs the operator role; you are signed in as viewer", "request_id": "req-1"}})),
    ),
    security(("bearer" = []))
)]
async fn create_contact(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<CreateContactRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let edits = request.edits().map_err(ApiError::validation)?;
    if !request.allow_duplicate {
        let fields = fields_of(edits.clone());
        if let Some((existing, matched_on)) =
            views::find_active_duplicate(&state.pool, &fields.emails, fields.crm_id.as_deref())
                .await?
        {
            let what = if matched_on == "crm_id" {
                "this CRM id"
            } else {
                "this email"
            };
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "contact.duplicate",
                format!(
                    "an active contact already has {what}; send allow_duplicate: true to create it anyway"
                ),
            )
            .with_details(json!({"contact_id": existing, "matched_on": matched_on})));
        }
    }
    let id = Uuid::now_v7();
    let command = ContactCommand::Create(Box::new(CreateContact {
        id,
        fields: edits,
        source: ContactSource::Manual,
        import_id: None,
        demo: false,
        by: ctx.principal.actor(),
        at: now(),
    }));
    let answer = run(&state, &ctx, id, &request, command).await?;
    Ok(contact_response(true, answer))
}

/// Edit a contact: absent fields stay, `null` clears; `emails` and `phones` replace their
/// lists. The change is recorded with each field's old and new value (see the audit).
#[utoipa::path(
    post,
    path = "/api/contacts/{id}/edit",
    tag = "contacts",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = EditContactRequest,
    responses(
        (status = 200, description = "Edited (or unchanged)", body = ContactResponse,
         example = json!(example_contact_response())),
        (status = 404, description = "No such contact (`contact.not_found`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "contact.not_found", "message": "contact not found", "request_id": "req-1"}})),
        (status = 409, description = "Archived (`contact.archived`), merged into another (`contact.merged`), or the edit would leave it with no name, email or phone (`contact.would_be_empty`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "contact.archived", "message": "this contact is archived; restore it first", "request_id": "req-1"}})),
        (status = 422, description = "A field breaks a rule, or the edit would leave no name, email or phone (`request.validation`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "request.validation", "message": "crm_id must be 1–64 characters of letters, digits, `_` or `-`", "request_id": "req-1", "details": {"fields": [{"field": "crm_id", "message": "must be 1–64 characters of letters, digits, `_` or `-`"}]}}})),
        (status = 403, description = "Viewers cannot edit contacts (`auth.forbidden`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn edit_contact(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<EditContactRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let command = ContactCommand::Edit(EditContact {
        fields: request.edits().map_err(ApiError::validation)?,
        source: ChangeSource::Manual,
        by: ctx.principal.actor(),
        at: now(),
    });
    let answer = run(&state, &ctx, id, &request, command).await?;
    Ok(contact_response(false, answer))
}

/// Archive a contact: it leaves the default list (`status=active`) and cannot be edited
/// until restored. Archiving an archived contact changes nothing.
#[utoipa::path(
    post,
    path = "/api/contacts/{id}/archive",
    tag = "contacts",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = Option<ArchiveContactRequest>, description = "An optional reason"),
    responses(
        (status = 200, description = "Archived", body = ContactResponse,
         example = json!(example_contact_response())),
        (status = 404, description = "No such contact (`contact.not_found`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "contact.not_found", "message": "contact not found", "request_id": "req-1"}})),
        (status = 409, description = "Merged into another (`contact.merged`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "contact.merged", "message": "this contact is merged into another; unmerge it first", "request_id": "req-1"}})),
        (status = 422, description = "The reason breaks a rule (`request.validation`)", body = ErrorEnvelope),
        (status = 403, description = "Viewers cannot archive contacts (`auth.forbidden`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn archive_contact(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<ArchiveContactRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let reason = request
        .reason()
        .map_err(|e| ApiError::validation(vec![e]))?;
    let command = ContactCommand::Archive {
        reason,
        by: ctx.principal.actor(),
        at: now(),
    };
    let answer = run(&state, &ctx, id, &request, command).await?;
    Ok(contact_response(false, answer))
}

/// Restore an archived contact. Restoring an active one changes nothing.
#[utoipa::path(
    post,
    path = "/api/contacts/{id}/restore",
    tag = "contacts",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Restored", body = ContactResponse,
         example = json!(example_contact_response())),
        (status = 404, description = "No such contact (`contact.not_found`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "contact.not_found", "message": "contact not found", "request_id": "req-1"}})),
        (status = 409, description = "Merged into another (`contact.merged`)", body = ErrorEnvelope,
         example = json!({"error": {"code": "contact.merged", "message": "this contact is merged into another; unmerge it first", "request_id": "req-1"}})),
        (status = 403, description = "Viewers cannot restore contacts (`auth.forbidden`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn restore_contact(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let command = ContactCommand::Restore {
        by: ctx.principal.actor(),
        at: now(),
    };
    let request = json!({});
    let answer = run(&state, &ctx, id, &request, command).await?;
    Ok(contact_response(false, answer))
}

/// A contact as the document's examples show it.
pub(super) fn example_contact() -> serde_json::Value {
    json!({
        "id": "0193a8c0-0000-7000-8000-000000000001",
        "status": "active",
        "fields": {
            "first_name": "Dana",
            "last_name": "Lee",
            "emails": ["dana@acme.io"],
            "phones": [{"raw": "(415) 555-0100", "e164": "+14155550100"}],
            "job_title": "VP Sales",
            "company_name": "Acme",
            "company_domain": "acme.io",
            "lifecycle_stage": "salesqualifiedlead",
            "owner": "casey",
            "crm_id": "501",
            "last_contacted_at": "2026-11-02T08:30:00Z",
            "custom": {"lead_source": "webinar"}
        },
        "source": "manual",
        "import_id": null,
        "demo": false,
        "validation": null,
        "merged_into": null,
        "absorbed": [],
        "unmerged": [],
        "archived": null,
        "created_by": {"kind": "user", "id": "casey"},
        "created_at": "2026-11-30T09:00:00Z",
        "updated_at": "2026-11-30T09:00:00Z",
        "version": 1
    })
}

/// A command's or a read's answer as the document's examples show it.
pub(super) fn example_contact_response() -> serde_json::Value {
    let example = ContactResponse {
        contact: serde_json::from_value(example_contact()).expect("the example is a contact"),
        consistency: "7731.42".into(),
    };
    serde_json::to_value(example).expect("the example serializes")
}
