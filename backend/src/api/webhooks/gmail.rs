//! `POST /api/webhooks/gmail?token=…`: Google Pub/Sub's push of a Gmail `users.watch`
//! notification. It only wakes the Gmail poller (`workers::gmail_poller`) of this instance,
//! which reads the history from the id it stored: the pushed `historyId` is read to check
//! the body's shape and never trusted beyond that.
//!
//! **Authentication.** A Pub/Sub push subscription's endpoint can carry a query string; the
//! subscription is created with `…/api/webhooks/gmail?token=<gmail_push_token>` and the
//! token is compared in constant time (SHA-256 of both, then every byte). Without a
//! configured `gmail_push_token` nothing can be authenticated: 401 `connector.not_connected`;
//! a missing or wrong token: 401 `webhook.bad_token`. The token is redacted from the
//! request log (`http::trace`).
//!
//! **The body** (Pub/Sub's push format): `{"message": {"data": base64(JSON {"emailAddress",
//! "historyId"}), "messageId", "publishTime", "attributes"?}, "subscription"}`. Pub/Sub takes
//! 204 as an acknowledgement; anything else it delivers again later.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;
use caseyos_domain::api::ErrorEnvelope;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::constant_time_eq;
use crate::http::error::ApiError;
use crate::http::extract::{body_bytes, json_content_type, parse_json, ApiQuery};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive_gmail_push))
}

/// The query string of a push.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GmailPushQuery {
    /// The configured `gmail_push_token`, as written into the push subscription's endpoint.
    token: Option<String>,
}

/// A Pub/Sub push delivery. Other fields Pub/Sub sends (`deliveryAttempt`, the message's
/// `attributes`, …) are accepted and not read.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PubSubPush {
    pub message: PubSubMessage,
    /// `projects/<project>/subscriptions/<name>`.
    #[serde(default)]
    pub subscription: Option<String>,
}

/// The message of a push.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PubSubMessage {
    /// base64 of Gmail's notification, the JSON `{"emailAddress": "...", "historyId": 1234}`.
    pub data: String,
    #[serde(default)]
    pub message_id: Option<String>,
    /// When Pub/Sub published it (RFC 3339).
    #[serde(default)]
    pub publish_time: Option<String>,
}

/// Whether `sent` is the configured token, compared in constant time (digests first, so
/// the length is not compared either).
pub fn token_matches(configured: &str, sent: Option<&str>) -> bool {
    let Some(sent) = sent else {
        return false;
    };
    constant_time_eq(
        &Sha256::digest(configured.trim().as_bytes()),
        &Sha256::digest(sent.as_bytes()),
    )
}

/// Whether `data` is base64 (standard or URL-safe) of a Gmail notification: a JSON object
/// with `emailAddress` and a `historyId`.
pub fn is_gmail_notification(data: &str) -> bool {
    let Ok(bytes) = STANDARD
        .decode(data.trim())
        .or_else(|_| URL_SAFE.decode(data.trim()))
    else {
        return false;
    };
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&bytes) else {
        return false;
    };
    fields.get("emailAddress").is_some_and(Value::is_string)
        && fields
            .get("historyId")
            .is_some_and(|h| h.is_u64() || h.as_str().is_some_and(|s| s.parse::<u64>().is_ok()))
}

/// Receive a Gmail change notification from Google Pub/Sub (a push subscription on the
/// topic `users.watch` publishes to). No bearer token or session: the request is
/// authenticated by `?token=`, the configured `gmail_push_token`. It wakes the Gmail
/// poller, which reads the mailbox's history from the id CaseyOS stored (the pushed
/// `historyId` is not trusted); the answer does not wait for the poll.
#[utoipa::path(
    post,
    path = "/api/webhooks/gmail",
    tag = "webhooks",
    params(GmailPushQuery),
    request_body(
        content = PubSubPush,
        description = "Pub/Sub's push body; `message.data` is base64 of \
                       `{\"emailAddress\": \"...\", \"historyId\": 1234}`",
        example = json!({
            "message": {
                "data": "eyJlbWFpbEFkZHJlc3MiOiJjYXNleUBleGFtcGxlLmNvbSIsImhpc3RvcnlJZCI6OTg3NjU0MzIxMH0=",
                "messageId": "2070443601311540",
                "publishTime": "2026-12-01T09:00:00.000Z"
            },
            "subscription": "projects/caseyos/subscriptions/gmail-push"
        })
    ),
    responses(
        (status = 204, description = "Taken: the Gmail poller reads the mailbox's new history \
            in the background (Pub/Sub counts 204 as an acknowledgement)"),
        (status = 400, description = "The query string does not parse, or holds `%00` \
            (`request.invalid_query`)", body = ErrorEnvelope),
        (status = 401, description = "Not authenticated: `webhook.bad_token` (no or a wrong \
            `token`), or `connector.not_connected` (no `gmail_push_token` is configured, so \
            nothing can be authenticated)", body = ErrorEnvelope),
        (status = 415, description = "The body is not JSON (`request.unsupported_media_type`)",
            body = ErrorEnvelope),
        (status = 422, description = "Authenticated, but the body is not a Pub/Sub push of a \
            Gmail notification: no `message.data`, or it is not base64 of a JSON object with \
            `emailAddress` and `historyId` (`request.validation`, naming the field)",
            body = ErrorEnvelope),
    )
)]
async fn receive_gmail_push(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<GmailPushQuery>,
    request: Request,
) -> Result<StatusCode, ApiError> {
    let Some(configured) = state
        .config
        .gmail_push_token
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    else {
        return Err(ApiError::unauthorized(
            "connector.not_connected",
            "Gmail push notifications are not set up: no gmail_push_token is configured",
        ));
    };
    if !token_matches(configured, query.token.as_deref()) {
        return Err(ApiError::unauthorized(
            "webhook.bad_token",
            "the token query parameter is missing or is not the configured gmail_push_token",
        ));
    }
    let media_type = json_content_type(request.headers());
    let body = body_bytes(request, &state).await?;
    media_type?;
    let push: PubSubPush = parse_json(&body)?;
    if !is_gmail_notification(&push.message.data) {
        return Err(ApiError::field(
            "message.data",
            "must be base64 of a JSON object with emailAddress and historyId",
        ));
    }
    tracing::info!(
        pubsub.message_id = push.message.message_id.as_deref().unwrap_or_default(),
        pubsub.publish_time = push.message.publish_time.as_deref().unwrap_or_default(),
        pubsub.subscription = push.subscription.as_deref().unwrap_or_default(),
        "gmail push received: waking the poller"
    );
    state.gmail_wake.notify_one();
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_token_matches() {
        let configured = "push-token-0123456789";
        // (sent, matches)
        let table = [
            (Some("push-token-0123456789"), true),
            (Some("push-token-012345678"), false),
            (Some("push-token-01234567890"), false),
            (Some(""), false),
            (None, false),
        ];
        for (sent, matches) in table {
            assert_eq!(token_matches(configured, sent), matches, "{sent:?}");
        }
    }

    #[test]
    fn a_notification_is_base64_of_an_address_and_a_history_id() {
        let encode = |json: &str| STANDARD.encode(json);
        // (data, is a notification)
        let table = [
            (
                encode(r#"{"emailAddress":"casey@example.com","historyId":9876543210}"#),
                true,
            ),
            (
                encode(r#"{"emailAddress":"casey@example.com","historyId":"42"}"#),
                true,
            ),
            (
                URL_SAFE.encode(r#"{"emailAddress":"casey@example.com","historyId":1}"#),
                true,
            ),
            (encode(r#"{"emailAddress":"casey@example.com"}"#), false),
            (encode(r#"{"historyId":1}"#), false),
            (encode(r#"[1]"#), false),
            ("not base64!".to_string(), false),
        ];
        for (data, ok) in table {
            assert_eq!(is_gmail_notification(&data), ok, "{data}");
        }
    }
}
