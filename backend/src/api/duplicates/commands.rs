//! Decisions on duplicate pairs — merge (with a dry run), not a duplicate, ignore — and
//! unmerging a contact. Each honours `Idempotency-Key`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::{
    DuplicatePairResponse, ErrorEnvelope, MergePairRequest, MergePairResponse,
    UnmergeContactRequest, UnmergeContactResponse,
};
use caseyos_domain::contacts::{Contact, ContactEvent};
use caseyos_domain::duplicates::{DuplicatePair, DuplicatePairCommand};
use caseyos_domain::kernel::{Checkpoint, ConsistencyToken};
use caseyos_store::history::state_at;
use caseyos_store::idempotency::keyed;
use caseyos_store::{now, StoredEvent};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Role;
use crate::commands::contacts::{
    self as merges, MergeOutcome, MergeTarget, UnmergeOutcome, HUBSPOT_MERGES_ARE_PERMANENT,
};
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::response::command_response;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(merge_duplicate_pair))
        .routes(routes!(mark_not_duplicate))
        .routes(routes!(ignore_duplicate_pair))
        .routes(routes!(unmerge_contact))
}

fn token(checkpoint: Option<Checkpoint>) -> String {
    ConsistencyToken(checkpoint.unwrap_or(Checkpoint::ZERO)).to_string()
}

fn merge_response(outcome: MergeOutcome) -> MergePairResponse {
    MergePairResponse {
        dry_run: outcome.dry_run,
        merge_id: outcome.merge_id,
        pair_id: outcome.pair_id,
        primary: outcome.primary,
        secondary: outcome.secondary,
        merged: outcome.merged,
        changes: outcome.changes,
        choices: outcome
            .choices
            .into_iter()
            .map(|(field, side)| (field.to_string(), side))
            .collect(),
        pair: outcome.pair,
        crm_note: HUBSPOT_MERGES_ARE_PERMANENT.to_string(),
        consistency: (!outcome.dry_run).then(|| token(outcome.token)),
    }
}

async fn contact_view(
    state: &AppState,
    id: Uuid,
) -> Result<caseyos_domain::contacts::ContactView, ApiError> {
    let contact: Contact = state_at(&state.pool, &id.to_string(), i64::MAX).await?;
    contact
        .into_view()
        .ok_or_else(|| ApiError::not_found("contact.not_found", "contact not found"))
}

/// The contact events among those a keyed request wrote, with their contact ids.
fn contact_events(prior: &[StoredEvent]) -> Vec<(Uuid, ContactEvent, &StoredEvent)> {
    prior
        .iter()
        .filter(|e| e.aggregate_type == Contact::TYPE)
        .filter_map(|e| {
            let id = e.aggregate_id.parse().ok()?;
            let event = Contact::decode(e.recorded()).ok()?;
            Some((id, event, e))
        })
        .collect()
}

/// A repeat of a completed merge request, answered from what it did.
async fn replayed_merge(
    state: &AppState,
    prior: &[StoredEvent],
) -> Result<Option<MergePairResponse>, ApiError> {
    let Some((primary, absorbed, stored)) =
        contact_events(prior)
            .into_iter()
            .find_map(|(id, event, stored)| match event {
                ContactEvent::ContactAbsorbed(e) => Some((id, e, stored)),
                _ => None,
            })
    else {
        return Ok(None);
    };
    let pair = match absorbed.pair_id {
        Some(id) => {
            let pair: DuplicatePair = state_at(&state.pool, &id.to_string(), i64::MAX).await?;
            pair.into_view()
        }
        None => None,
    };
    // The primary's fields right after the merge (edits since are not the merge's).
    let at_merge: Contact = state_at(&state.pool, &primary.to_string(), stored.sequence).await?;
    let merged = at_merge.into_view().map(|v| v.fields).unwrap_or_default();
    Ok(Some(merge_response(MergeOutcome {
        dry_run: false,
        merge_id: Some(absorbed.merge_id),
        pair_id: caseyos_domain::duplicates::pair_id(primary, absorbed.absorbed),
        merged,
        changes: absorbed.changes.clone(),
        choices: absorbed.choices.clone(),
        primary: contact_view(state, primary).await?,
        secondary: contact_view(state, absorbed.absorbed).await?,
        pair,
        token: prior.last().map(StoredEvent::checkpoint),
    })))
}

/// Merge a pair: the secondary is absorbed by the primary, field by field.
///
/// Default per field: the primary's value wins and the other fills fields the primary has
/// empty (HubSpot's rule); emails and phones are combined; `last_contacted_at` is the
/// later one. `fields` picks a winner per field. `"dry_run": true` answers the merged record
/// and the changes and writes nothing. A merge is events on both contacts and the pair;
/// it is pushed to HubSpot once, when HubSpot is connected and both have HubSpot ids —
/// HubSpot merges are permanent (unmerging here does not undo one there).
#[utoipa::path(
    post,
    path = "/api/hygiene/duplicates/{id}/merge",
    tag = "duplicates",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = MergePairRequest, description = "The primary, per-field choices, dry run",
        example = json!({"primary": "0190f7a0-0000-7000-8000-000000000001",
                         "fields": {"job_title": "0190f7a0-0000-7000-8000-000000000002"},
                         "dry_run": true})),
    responses(
        (status = 200, description = "Merged (both contacts' new states and the merge id), or for a dry run the merged record and the changes, nothing written", body = MergePairResponse),
        (status = 404, description = "No such pair (`duplicate.not_found`) or contact (`contact.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The pair was merged already (`duplicate.already_merged`), or a contact is merged into another (`contact.merged`) or archived (`contact.archived`)", body = ErrorEnvelope),
        (status = 422, description = "`primary` is not one of the pair's contacts, or `fields` names an unknown field or a contact other than the two (`request.validation`, naming the field)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn merge_duplicate_pair(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<MergePairRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let target = MergeTarget::Pair(id);
    if request.dry_run {
        let outcome = merges::merge(
            &state.bus,
            target,
            request.primary,
            &request.fields,
            true,
            &ctx.meta,
        )
        .await?;
        return Ok(command_response(
            StatusCode::OK,
            false,
            None,
            merge_response(outcome),
        ));
    }
    let meta = ctx.meta_for(&request);
    let (replayed, answer) = keyed(&state.pool, &meta, async |prior: Vec<StoredEvent>| {
        if let Some(answer) = replayed_merge(&state, &prior).await? {
            return Ok::<_, ApiError>((true, answer));
        }
        // No merge under this key yet, or one a crash left half done (which this completes).
        let outcome = merges::merge(
            &state.bus,
            target,
            request.primary,
            &request.fields,
            false,
            &meta,
        )
        .await?;
        Ok((false, merge_response(outcome)))
    })
    .await?;
    Ok(command_response(StatusCode::OK, replayed, None, answer))
}

async fn decide_pair(
    state: &AppState,
    ctx: CommandContext,
    id: Uuid,
    command: DuplicatePairCommand,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let answer = ctx
        .execute_once::<DuplicatePair>(&state.pool, &json!({}), async |meta| {
            Ok(state.bus.execute(id, command, meta).await?)
        })
        .await?;
    Ok(command_response(
        StatusCode::OK,
        answer.replayed,
        None,
        DuplicatePairResponse {
            pair: answer.view,
            consistency: answer.consistency,
        },
    ))
}

/// Not a duplicate: remembered — the pair is not proposed again unless one of the two
/// contacts changes in a field the matching criteria use.
#[utoipa::path(
    post,
    path = "/api/hygiene/duplicates/{id}/not-duplicate",
    tag = "duplicates",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Marked not a duplicate", body = DuplicatePairResponse),
        (status = 404, description = "No such pair (`duplicate.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The pair was merged (`duplicate.already_merged`); unmerge first", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn mark_not_duplicate(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
) -> Result<Response, ApiError> {
    let command = DuplicatePairCommand::MarkNotDuplicate {
        by: ctx.principal.actor(),
        at: now(),
    };
    decide_pair(&state, ctx, id, command).await
}

/// Ignore the pair: out of the queue until one of the two contacts changes in a field the
/// matching criteria use.
#[utoipa::path(
    post,
    path = "/api/hygiene/duplicates/{id}/ignore",
    tag = "duplicates",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Ignored", body = DuplicatePairResponse),
        (status = 404, description = "No such pair (`duplicate.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The pair was merged (`duplicate.already_merged`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn ignore_duplicate_pair(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
) -> Result<Response, ApiError> {
    let command = DuplicatePairCommand::Ignore {
        by: ctx.principal.actor(),
        at: now(),
    };
    decide_pair(&state, ctx, id, command).await
}

fn unmerge_response(outcome: UnmergeOutcome) -> UnmergeContactResponse {
    UnmergeContactResponse {
        merge_id: outcome.merge_id,
        absorbed: outcome.absorbed,
        primary: outcome.primary,
        pair: outcome.pair,
        recreate_in_crm: outcome.recreate_in_crm,
        crm_note: HUBSPOT_MERGES_ARE_PERMANENT.to_string(),
        consistency: token(outcome.token),
    }
}

/// A repeat of a completed unmerge request, answered from what it did.
async fn replayed_unmerge(
    state: &AppState,
    prior: &[StoredEvent],
    recreate_in_crm: bool,
) -> Result<Option<UnmergeContactResponse>, ApiError> {
    let Some((absorbed, unmerged)) =
        contact_events(prior)
            .into_iter()
            .find_map(|(id, event, _)| match event {
                ContactEvent::ContactUnmerged(e) => Some((id, e)),
                _ => None,
            })
    else {
        return Ok(None);
    };
    let primary = contact_view(state, unmerged.primary).await?;
    let pair_id = primary
        .absorbed
        .iter()
        .find(|a| a.merge_id == unmerged.merge_id)
        .and_then(|a| a.pair_id);
    let pair = match pair_id {
        Some(id) => {
            let pair: DuplicatePair = state_at(&state.pool, &id.to_string(), i64::MAX).await?;
            pair.into_view()
        }
        None => None,
    };
    Ok(Some(unmerge_response(UnmergeOutcome {
        merge_id: unmerged.merge_id,
        absorbed: contact_view(state, absorbed).await?,
        primary,
        pair,
        recreate_in_crm,
        token: prior.last().map(StoredEvent::checkpoint),
    })))
}

/// Unmerge a contact that was merged into another: compensating events make it active
/// again with its own fields, give the primary back the values the merge set (edits made
/// to the primary since are kept), and mark the pair unmerged.
///
/// **HubSpot merges are permanent.** Unmerging here does not undo a merge HubSpot made.
/// With `"recreate_in_crm": true` the absorbed contact is created in HubSpot again — a new
/// record with a new id, once; without it HubSpot is left as it is.
#[utoipa::path(
    post,
    path = "/api/contacts/{id}/unmerge",
    tag = "duplicates",
    params(("id" = Uuid, Path, description = "The absorbed contact"), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = Option<UnmergeContactRequest>, description = "Optional; `recreate_in_crm` defaults to false",
        example = json!({"recreate_in_crm": false})),
    responses(
        (status = 200, description = "Unmerged: both contacts' new states; `crm_note` says what happens in HubSpot", body = UnmergeContactResponse),
        (status = 404, description = "No such contact (`contact.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "The contact is not merged into another (`contact.not_merged`), or the primary was merged away since (`contact.merged`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn unmerge_contact(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<UnmergeContactRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let meta = ctx.meta_for(&request);
    let (replayed, answer) = keyed(&state.pool, &meta, async |prior: Vec<StoredEvent>| {
        if let Some(answer) = replayed_unmerge(&state, &prior, request.recreate_in_crm).await? {
            return Ok::<_, ApiError>((true, answer));
        }
        let outcome = merges::unmerge(&state.bus, id, request.recreate_in_crm, &meta).await?;
        Ok((false, unmerge_response(outcome)))
    })
    .await?;
    Ok(command_response(StatusCode::OK, replayed, None, answer))
}
