//! Slack in: the `/caseyos` slash command (`today`, `approve N`, `reject N reason`, `ask
//! …`, `help`) at `/api/webhooks/slack/commands`, and the Approve / Reject buttons of a
//! `today` list at `/api/webhooks/slack/interactions`.
//!
//! **Every request is verified** with Slack's signing secret (`slack_signing_secret`):
//! `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:<timestamp>:<body>")>`, with
//! `X-Slack-Request-Timestamp` at most 5 minutes from the server's clock; anything else is
//! 401 `webhook.bad_signature`. **Then the Slack user is mapped** to a CaseyOS user and role
//! (`slack_users`) before anything runs; an unmapped user is told so and nothing runs.
//! Everything then goes through our own API as that person (`http::dispatch`): the same
//! commands, rules and audit history as the app.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::Json;
use caseyos_domain::api::ErrorEnvelope;
use caseyos_domain::chat::{ChatCommand, ChatRole, NewMessage};
use caseyos_domain::kernel::{Actor, Text};
use caseyos_store::{now, CommandMeta};
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::api::chat::{tokens, Conversation};
use crate::auth::Principal;
use crate::connectors::slack::respond;
use crate::http::dispatch::{dispatch, numbered, CallerCredentials, Dispatched};
use crate::http::error::ApiError;
use crate::http::extract::body_bytes;
use crate::state::AppState;

pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
pub const SIGNATURE_HEADER: &str = "x-slack-signature";
/// How far the timestamp may be from now, either way: 5 minutes.
pub const MAX_SKEW_SECS: i64 = 5 * 60;
/// The moves `today` lists.
const TODAY_LIMIT: usize = 10;
/// How long an `ask` may take before the answer goes to the `response_url` instead (Slack
/// waits 3 seconds for the first answer).
const ASK_INLINE: Duration = Duration::from_millis(2_500);

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(slack_command))
        .routes(routes!(slack_interaction))
}

fn refused() -> ApiError {
    ApiError::unauthorized(
        "webhook.bad_signature",
        "the Slack signature is missing, stale or does not match",
    )
}

/// Checks Slack's v0 signature of `body` sent at `timestamp` against `secret` and the
/// server's clock `now` (unix seconds).
pub fn verify(
    secret: &str,
    body: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    now: i64,
) -> bool {
    let (Some(t), Some(signature)) = (timestamp, signature) else {
        return false;
    };
    let Some(sent) = t
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| t.parse::<i64>().ok())
        .flatten()
    else {
        return false;
    };
    if now.abs_diff(sent) > MAX_SKEW_SECS.unsigned_abs() {
        return false;
    }
    let Some(Ok(expected)) = signature.strip_prefix("v0=").map(hex::decode) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(b"v0:");
    mac.update(t.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The verified body of a Slack request.
async fn verified(state: &AppState, request: Request) -> Result<Vec<u8>, ApiError> {
    let (timestamp, signature) = {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        (header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER))
    };
    let body = body_bytes(request, state).await?;
    let Some(secret) = state.config.slack_signing_secret.as_deref() else {
        return Err(refused());
    };
    if !verify(
        secret,
        &body,
        timestamp.as_deref(),
        signature.as_deref(),
        Utc::now().timestamp(),
    ) {
        return Err(refused());
    }
    Ok(body.to_vec())
}

/// An answer only the Slack user sees.
fn ephemeral(text: impl Into<String>) -> Value {
    json!({"response_type": "ephemeral", "text": text.into()})
}

/// Who a Slack user acts as, when `slack_users` lists them.
fn principal(state: &AppState, slack_user: &str) -> Option<Principal> {
    let (user, role) = state.config.slack_user(slack_user)?;
    Some(Principal {
        user,
        role,
        credential: format!("slack:{slack_user}"),
    })
}

fn not_linked(slack_user: &str) -> Value {
    ephemeral(format!(
        "Your Slack account ({slack_user}) is not linked to a CaseyOS user, so nothing ran. \
         An admin can add it to `slack_users`."
    ))
}

/// What a request made on the Slack user's behalf needs.
struct Acting {
    principal: Principal,
    caller: CallerCredentials,
    meta: CommandMeta,
}

impl Acting {
    fn new(principal: Principal) -> Self {
        let mut meta = CommandMeta::system("slack");
        meta.actor = Actor::user(principal.user.clone());
        Acting {
            caller: CallerCredentials::acting_as(principal.clone()),
            principal,
            meta,
        }
    }

    async fn call(
        &self,
        state: &AppState,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<Dispatched, ApiError> {
        dispatch(state, &self.caller, &self.meta, method, path, body, key).await
    }
}

#[derive(Debug, Deserialize)]
struct SlashCommand {
    #[serde(default)]
    text: String,
    user_id: String,
    #[serde(default)]
    response_url: Option<String>,
}

/// The `/caseyos` slash command. Slack sends it form-encoded and signed; the answer is an
/// ephemeral message: `today` lists the caller's moves with Approve / Reject buttons,
/// `approve N` / `reject N reason` decide the N-th of them, `ask …` asks the assistant
/// (its answer follows at the command's `response_url` when it takes longer than Slack
/// waits), `help` says this.
#[utoipa::path(
    post,
    path = "/api/webhooks/slack/commands",
    tag = "webhooks",
    params(
        ("X-Slack-Request-Timestamp" = Option<String>, Header, description = "Unix seconds; at most 5 minutes from the server's clock"),
        ("X-Slack-Signature" = Option<String>, Header, description = "`v0=<hex HMAC-SHA256(signing secret, \"v0:<timestamp>:<body>\")>`"),
    ),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "Slack's slash-command payload (`command`, `text`, `user_id`, `response_url`, …)",
        example = "command=%2Fcaseyos&text=today&user_id=U024BE7LH&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1"),
    responses(
        (status = 200, description = "A Slack message (`response_type: ephemeral`, `text`, maybe `blocks`)", body = Object,
         example = json!({"response_type": "ephemeral", "text": "Approved: Call Dana."})),
        (status = 400, description = "Signed, but not a slash-command payload (`request.invalid_body`)", body = ErrorEnvelope),
        (status = 401, description = "`webhook.bad_signature`: no signing secret is configured, or the signature is missing, wrong or more than 5 minutes old", body = ErrorEnvelope),
    )
)]
async fn slack_command(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let body = verified(&state, request).await?;
    let command: SlashCommand = serde_urlencoded::from_bytes(&body).map_err(|_| {
        ApiError::bad_request("request.invalid_body", "not a Slack slash-command payload")
    })?;
    let Some(principal) = principal(&state, &command.user_id) else {
        return Ok(Json(not_linked(&command.user_id)));
    };
    let acting = Acting::new(principal);
    let text = command.text.trim();
    let (verb, rest) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(v, r)| (v, r.trim()));
    let answer = match verb {
        "today" => today(&state, &acting).await?,
        "approve" | "reject" => decide_numbered(&state, &acting, verb, rest).await?,
        "ask" if !rest.is_empty() => {
            ask(&state, acting, rest, command.response_url.as_deref()).await?
        }
        _ => ephemeral(
            "`/caseyos today` lists your moves; `/caseyos approve N` or `/caseyos reject N \
             reason` decides the N-th; `/caseyos ask …` asks the assistant.",
        ),
    };
    Ok(Json(answer))
}

/// The caller's Today's Moves with Approve / Reject buttons.
async fn today(state: &AppState, acting: &Acting) -> Result<Value, ApiError> {
    let path = format!("/api/queue/today?limit={TODAY_LIMIT}");
    let answer = acting.call(state, Method::GET, &path, None, None).await?;
    if !answer.ok() {
        return Ok(ephemeral(format!(
            "Today's Moves could not be read: {}",
            answer.error_text()
        )));
    }
    let items = answer.body["items"].as_array().cloned().unwrap_or_default();
    if items.is_empty() {
        return Ok(ephemeral("Nothing is waiting in Today's Moves."));
    }
    let mut blocks = Vec::new();
    let mut lines = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let title = item["title"].as_str().unwrap_or("?");
        let id = item["id"].as_str().unwrap_or_default();
        let line = format!(
            "*{}.* {title} — APS {}, {}",
            n + 1,
            item["aps"]["score"],
            item["action_type"].as_str().unwrap_or("?")
        );
        lines.push(line.clone());
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": line}}));
        blocks.push(json!({"type": "actions", "elements": [
            {"type": "button", "action_id": "approve", "style": "primary", "value": id,
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": "reject", "style": "danger", "value": id,
             "text": {"type": "plain_text", "text": "Reject"}},
        ]}));
    }
    Ok(json!({
        "response_type": "ephemeral",
        "text": format!("Today's Moves:\n{}", lines.join("\n")),
        "blocks": blocks,
    }))
}

/// Approves or rejects move `id` as the Slack user; the answer in words.
async fn decide(
    state: &AppState,
    acting: &Acting,
    verb: &str,
    id: &str,
    reason: &str,
    key: &str,
) -> Result<String, ApiError> {
    let path = format!("/api/queue/{id}/{verb}");
    let body = if verb == "reject" {
        json!({"reason": reason})
    } else {
        json!({"note": "approved in Slack"})
    };
    let answer = acting
        .call(state, Method::POST, &path, Some(&body), Some(key))
        .await?;
    let title = answer.body["title"].as_str().unwrap_or(id);
    Ok(if answer.ok() {
        let done = if verb == "approve" {
            "Approved"
        } else {
            "Rejected"
        };
        format!("{done}: {title}.")
    } else {
        format!("Could not {verb} it: {}", answer.error_text())
    })
}

async fn decide_numbered(
    state: &AppState,
    acting: &Acting,
    verb: &str,
    rest: &str,
) -> Result<Value, ApiError> {
    let Some((n, reason)) = numbered(rest) else {
        return Ok(ephemeral(format!(
            "`/caseyos {verb} N`: N is the move's number in `/caseyos today`."
        )));
    };
    if verb == "reject" && reason.is_empty() {
        return Ok(ephemeral("`/caseyos reject N reason`: say why."));
    }
    let path = format!("/api/queue/today?limit={TODAY_LIMIT}");
    let listed = acting.call(state, Method::GET, &path, None, None).await?;
    let Some(id) = listed.body["items"]
        .as_array()
        .and_then(|items| items.get(n - 1))
        .and_then(|item| item["id"].as_str())
        .map(str::to_string)
    else {
        return Ok(ephemeral(format!(
            "There is no move {n} in your Today's Moves."
        )));
    };
    let key = format!(
        "slack-{verb}-{}",
        Uuid::new_v5(&Uuid::NAMESPACE_OID, id.as_bytes()).simple()
    );
    Ok(ephemeral(
        decide(state, acting, verb, &id, reason, &key).await?,
    ))
}

/// The Slack user's chat with the assistant (one per Slack user), asked `question`.
async fn ask(
    state: &AppState,
    acting: Acting,
    question: &str,
    response_url: Option<&str>,
) -> Result<Value, ApiError> {
    let question = Text::parse(question, caseyos_domain::chat::MAX_MESSAGE_CHARS)
        .map_err(|m| ApiError::field("text", m))?
        .into_string();
    let chat = Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("slack-chat:{}", acting.principal.credential).as_bytes(),
    );
    let work = {
        let state = state.clone();
        let question = question.clone();
        async move {
            let conversation = Conversation {
                state: &state,
                principal: &acting.principal,
                caller: &acting.caller,
                meta: &acting.meta,
                id: chat,
                progress: None,
                last: Default::default(),
            };
            conversation
                .execute(ChatCommand::Start {
                    session_id: chat,
                    owner: acting.principal.user.clone(),
                    title: "Slack".into(),
                    at: now(),
                })
                .await?;
            let (tokens, tokens_method) = tokens::count(&state.config.llm_model, &question);
            let asked = conversation
                .add(NewMessage {
                    id: Uuid::now_v7(),
                    role: ChatRole::User,
                    tokens,
                    tokens_method,
                    content: question.clone(),
                    tool_calls: Vec::new(),
                    offline: false,
                    model: None,
                })
                .await?;
            let session = conversation.answer(asked, &question).await?;
            Ok::<_, ApiError>(
                session
                    .messages
                    .last()
                    .map(|m| m.content.clone())
                    .unwrap_or_default(),
            )
        }
    };
    let mut running = tokio::spawn(work);
    match tokio::time::timeout(ASK_INLINE, &mut running).await {
        Ok(Ok(answer)) => Ok(ephemeral(answer?)),
        Ok(Err(join)) => Err(ApiError::internal(format!("the answer stopped: {join}"))),
        Err(_) => {
            let allowed = response_url
                .filter(|url| url.starts_with(&state.config.slack_response_url_prefix))
                .map(str::to_string);
            let Some(url) = allowed else {
                return Ok(ephemeral(
                    "Working on it: the answer will be in your CaseyOS chat named Slack.",
                ));
            };
            let policy = state.config.slack_policy();
            tokio::spawn(async move {
                let text = match running.await {
                    Ok(Ok(answer)) => answer,
                    Ok(Err(e)) => format!("The assistant failed: {} ({})", e.message, e.code),
                    Err(e) => format!("The assistant stopped: {e}"),
                };
                if let Err(e) = respond(&policy, &url, &ephemeral(text)).await {
                    tracing::warn!(error.code = e.code(), "posting a Slack answer failed");
                }
            });
            Ok(ephemeral("Working on it…"))
        }
    }
}

#[derive(Debug, Deserialize)]
struct InteractionForm {
    payload: String,
}

/// A press of a `today` list's Approve or Reject button. Slack sends it form-encoded
/// (`payload=<JSON>`) and signed; the move is decided as the mapped user and the outcome
/// is posted to the interaction's `response_url`.
#[utoipa::path(
    post,
    path = "/api/webhooks/slack/interactions",
    tag = "webhooks",
    params(
        ("X-Slack-Request-Timestamp" = Option<String>, Header, description = "Unix seconds; at most 5 minutes from the server's clock"),
        ("X-Slack-Signature" = Option<String>, Header, description = "`v0=<hex HMAC-SHA256(signing secret, \"v0:<timestamp>:<body>\")>`"),
    ),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "`payload=<JSON>`: Slack's `block_actions` interaction",
        example = "payload=%7B%22type%22%3A%22block_actions%22%7D"),
    responses(
        (status = 200, description = "A Slack message: what was done (also posted to the `response_url`)", body = Object,
         example = json!({"response_type": "ephemeral", "text": "Approved: Call Dana."})),
        (status = 400, description = "Signed, but not an interaction payload (`request.invalid_body`)", body = ErrorEnvelope),
        (status = 401, description = "`webhook.bad_signature`", body = ErrorEnvelope),
    )
)]
async fn slack_interaction(
    State(state): State<AppState>,
    request: Request,
) -> Result<Json<Value>, ApiError> {
    let body = verified(&state, request).await?;
    let bad = || ApiError::bad_request("request.invalid_body", "not a Slack interaction payload");
    let form: InteractionForm = serde_urlencoded::from_bytes(&body).map_err(|_| bad())?;
    let payload: Value = serde_json::from_str(&form.payload).map_err(|_| bad())?;
    let slack_user = payload["user"]["id"].as_str().ok_or_else(bad)?;
    let Some(principal) = principal(&state, slack_user) else {
        return Ok(Json(not_linked(slack_user)));
    };
    let acting = Acting::new(principal);
    let action = &payload["actions"][0];
    let (verb, id) = match (action["action_id"].as_str(), action["value"].as_str()) {
        (Some(verb @ ("approve" | "reject")), Some(id)) if Uuid::parse_str(id).is_ok() => {
            (verb, id)
        }
        _ => return Ok(Json(ephemeral("That button does nothing here."))),
    };
    let reason = format!("Rejected in Slack by {}", acting.principal.user);
    let key = format!(
        "slack-{verb}-{}",
        Uuid::new_v5(&Uuid::NAMESPACE_OID, id.as_bytes()).simple()
    );
    let text = decide(&state, &acting, verb, id, &reason, &key).await?;
    let message = json!({"response_type": "ephemeral", "replace_original": false, "text": text});
    if let Some(url) = payload["response_url"]
        .as_str()
        .filter(|url| url.starts_with(&state.config.slack_response_url_prefix))
    {
        if let Err(e) = respond(&state.config.slack_policy(), url, &message).await {
            tracing::warn!(error.code = e.code(), "posting a Slack answer failed");
        }
    }
    Ok(Json(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const NOW: i64 = 1_764_460_800;

    fn sign(t: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(format!("v0:{t}:").as_bytes());
        mac.update(body);
        format!("v0={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn a_signature_verifies_only_for_its_secret_body_and_five_minutes() {
        let body = b"command=%2Fcaseyos&text=today&user_id=U1";
        let t = NOW.to_string();
        let good = sign(&t, body);
        assert!(verify(SECRET, body, Some(&t), Some(&good), NOW));
        assert!(verify(SECRET, body, Some(&t), Some(&good), NOW + 300));
        assert!(
            !verify(SECRET, body, Some(&t), Some(&good), NOW + 301),
            "stale"
        );
        assert!(
            !verify(SECRET, body, Some(&t), Some(&good), NOW - 301),
            "ahead"
        );
        assert!(!verify("another-secret", body, Some(&t), Some(&good), NOW));
        assert!(!verify(SECRET, b"text=approve", Some(&t), Some(&good), NOW));
        assert!(!verify(SECRET, body, None, Some(&good), NOW));
        assert!(!verify(SECRET, body, Some(&t), None, NOW));
        assert!(!verify(SECRET, body, Some("-1"), Some(&good), NOW));
        assert!(!verify(
            SECRET,
            body,
            Some(&t),
            Some(&good.replace("v0=", "v1=")),
            NOW
        ));
        assert!(!verify(SECRET, body, Some(&t), Some("v0=zz"), NOW));
    }
}
