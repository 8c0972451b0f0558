//! Recording a manual signal.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseyos_domain::api::{ErrorEnvelope, RecordSignalRequest, SignalResponse};
use caseyos_domain::kernel::Text;
use caseyos_domain::queue::{MAX_TEXT_CHARS, MAX_TITLE_CHARS};
use caseyos_domain::signals::processors::ManualPayload;
use caseyos_domain::signals::{
    Signal, SignalEntities, SignalKind, SignalSource, MAX_DEDUP_KEY_CHARS,
};
use caseyos_store::now;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Role;
use crate::commands::signals::{record, NewSignal};
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::ApiJson;
use crate::http::response::command_response;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(record_signal))
}

/// Record a manual signal: something a person noticed that calls for a move. It is
/// processed in the background like every signal: the `manual` processor proposes a move
/// titled `title` (type `action_type`, default `manual_task`) to the person who recorded it,
/// and the signal then shows what it produced. A second signal with the same `dedup_key` is
/// a duplicate: nothing is recorded and the first one is answered (200, `duplicate: true`).
#[utoipa::path(
    post,
    path = "/api/signals",
    tag = "signals",
    request_body = RecordSignalRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 201, description = "Recorded; `Location` is the signal", body = SignalResponse,
         example = json!({
            "id": "6b1f3c2e-8b47-5d19-9e05-7c3b2a61f0d8", "source": "manual",
            "dedup_key": "renewal-dana", "kind": "manual",
            "payload": {"title": "Call Dana about the renewal", "action_type": "check_in", "note": null},
            "entities": {"contact_email": "dana@acme.io"},
            "occurred_at": "2026-11-30T09:00:00Z",
            "recorded_by": {"kind": "user", "id": "casey"}, "recorded_at": "2026-11-30T09:00:01Z",
            "processed": null, "version": 1, "duplicate": false, "consistency": "812.4051"
         })),
        (status = 200, description = "A signal with this `dedup_key` was recorded before (`duplicate: true`): nothing new was recorded", body = SignalResponse),
        (status = 403, description = "Viewers cannot record signals", body = ErrorEnvelope),
        (status = 422, description = "An invalid field (`request.validation`): a blank or too long `title`, `note` or `dedup_key`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn record_signal(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiJson(request): ApiJson<RecordSignalRequest>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let title =
        Text::parse(&request.title, MAX_TITLE_CHARS).map_err(|m| ApiError::field("title", m))?;
    let note = Text::parse_optional(request.note.as_deref(), MAX_TEXT_CHARS)
        .map_err(|m| ApiError::field("note", m))?;
    let dedup_key = match &request.dedup_key {
        Some(key) => Text::parse(key, MAX_DEDUP_KEY_CHARS)
            .map_err(|m| ApiError::field("dedup_key", m))?
            .into_string(),
        None => Uuid::now_v7().to_string(),
    };
    let payload = serde_json::to_value(ManualPayload {
        title: title.into_string(),
        action_type: request.action_type,
        note: note.map(Text::into_string),
    })
    .map_err(ApiError::internal)?;
    let signal = NewSignal {
        source: SignalSource::Manual,
        dedup_key,
        kind: SignalKind::Manual,
        payload,
        entities: SignalEntities {
            contact_id: request.contact_id,
            contact_email: request.contact_email.clone(),
            deal_id: request.deal_id,
        },
        occurred_at: request.occurred_at.unwrap_or_else(now),
        by: ctx.principal.actor(),
    };
    let id = signal.id();
    let duplicate = AtomicBool::new(false);
    let answer = ctx
        .execute_once::<Signal>(&state.pool, &request, async |meta| {
            let recorded = record(&state.bus, signal, meta).await?;
            duplicate.store(recorded.duplicate, Ordering::Relaxed);
            Ok(recorded.committed)
        })
        .await?;
    let duplicate = duplicate.load(Ordering::Relaxed);
    let (status, location) = if duplicate {
        (StatusCode::OK, None)
    } else {
        (StatusCode::CREATED, Some(format!("/api/signals/{id}")))
    };
    Ok(command_response(
        status,
        answer.replayed,
        location,
        SignalResponse {
            signal: answer.view,
            duplicate,
            consistency: answer.consistency,
        },
    ))
}
