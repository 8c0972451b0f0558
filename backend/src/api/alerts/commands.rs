//! Commands on alerts: dismiss.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use caseyos_domain::alerts::{Alert, AlertCommand};
use caseyos_domain::api::{AlertResponse, ErrorEnvelope};
use caseyos_store::now;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Role;
use crate::http::context::CommandContext;
use crate::http::error::ApiError;
use crate::http::extract::ApiPath;
use crate::http::response::command_response;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(dismiss_alert))
}

/// Dismiss an open alert: it stays in the history; the same condition raises it again only
/// under a new key (the next day, the next sync).
#[utoipa::path(
    post,
    path = "/api/alerts/{id}/dismiss",
    tag = "hygiene",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    responses(
        (status = 200, description = "Dismissed (or already dismissed)", body = AlertResponse),
        (status = 403, description = "Viewers cannot dismiss alerts", body = ErrorEnvelope),
        (status = 404, description = "No such alert (`alert.not_found`)", body = ErrorEnvelope),
        (status = 409, description = "Its condition already cleared (`alert.already_resolved`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn dismiss_alert(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    ctx.principal.require(Role::Operator)?;
    let command = AlertCommand::Dismiss {
        by: ctx.principal.actor(),
        at: now(),
    };
    let answer = ctx
        .execute_once::<Alert>(&state.pool, &json!({}), async |meta| {
            Ok(state.bus.execute::<Alert>(id, command, meta).await?)
        })
        .await?;
    let replayed = answer.replayed;
    Ok(command_response(
        StatusCode::OK,
        replayed,
        None,
        AlertResponse {
            alert: answer.view,
            consistency: answer.consistency,
        },
    ))
}
