//! The assistant's chat over HTTP: a person's conversations (aggregate `chat_session`),
//! answered by the model with our own operations as tools (`tools.rs`), or by slash
//! commands without one (`assistant.rs`); a tool that changes something runs only once its
//! owner confirms it, as them, through the same API.

mod assistant;
pub mod tokens;
pub mod tools;

use std::convert::Infallible;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::{
    ChatMessageRequest, ChatSessionListResponse, ChatSessionResponse, CreateChatSessionRequest,
    ErrorEnvelope, PreferencesResponse, SetPreferenceRequest,
};
use caseyos_domain::chat::preferences::{
    preferences_id, ChatPreferences, PreferencesCommand, PreferencesView,
};
use caseyos_domain::chat::{
    title_from, ChatCommand, ChatRole, ChatSessionView, NewMessage, ToolCallState,
    MAX_MESSAGE_CHARS, MAX_TITLE_CHARS,
};
use caseyos_domain::kernel::Text;
use caseyos_domain::kernel::{Checkpoint, ConsistencyToken};
use caseyos_projections::chat as views;
use caseyos_projections::projector::RowProjector;
use caseyos_store::now;
use futures::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub use assistant::tools_for;
pub use assistant::Conversation;
use assistant::{load, Progress};

use crate::auth::{Principal, Role};
use crate::http::consistency::ReadQuery;
use crate::http::context::CommandContext;
use crate::http::dispatch::CallerCredentials;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, ApiQuery};
use crate::http::pagination::limit;
use crate::http::response::{markdown_attachment, ExportQuery};
use crate::state::AppState;

/// The title of a chat nobody named yet (its first message names it).
const UNTITLED: &str = "New chat";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_chat_sessions, create_chat_session))
        .routes(routes!(get_chat_session, delete_chat_session))
        .routes(routes!(send_chat_message))
        .routes(routes!(confirm_tool_call))
        .routes(routes!(reject_tool_call))
        .routes(routes!(export_chat_session))
        .routes(routes!(get_preferences))
        .routes(routes!(set_preference, remove_preference))
}

/// Your preferences for the assistant's answers (stated in a chat — "I prefer bullet
/// points", "always CET" — or set here), given to the model with every question.
#[utoipa::path(
    get,
    path = "/api/chat/preferences",
    tag = "chat",
    responses(
        (status = 200, description = "Your preferences, by name", body = PreferencesView,
         example = json!({"user": "casey", "items": [{"key": "format", "value": "bullet points",
            "stated_in": "01932c1e-7b3a-7c61-9d2e-5f0a8b4c6d21", "set_at": "2026-12-01T09:00:00Z"}], "version": 1})),
    ),
    security(("bearer" = []))
)]
async fn get_preferences(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<PreferencesView>, ApiError> {
    Ok(Json(
        assistant::preferences_of(&state, &principal.user)
            .await?
            .unwrap_or(PreferencesView {
                user: principal.user.clone(),
                items: Vec::new(),
                version: 0,
            }),
    ))
}

/// Set one of your preferences (`format`, `timezone`, `length`, `language`, `style`, or
/// any name of 1–40 lower-case letters, digits and `_`).
#[utoipa::path(
    put,
    path = "/api/chat/preferences/{key}",
    tag = "chat",
    params(("key" = String, Path, description = "The preference's name", pattern = "^[a-z0-9_]{1,40}$")),
    request_body(content = SetPreferenceRequest, example = json!({"value": "bullet points"})),
    responses(
        (status = 200, description = "Your preferences", body = PreferencesResponse),
        (status = 400, description = "Not JSON", body = ErrorEnvelope),
        (status = 409, description = "`chat.too_many_preferences`: 50 already", body = ErrorEnvelope),
        (status = 422, description = "`request.validation`: a bad name or a value that is empty, longer than 200 characters or holds control characters", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn set_preference(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(key): ApiPath<String>,
    ApiJson(request): ApiJson<SetPreferenceRequest>,
) -> Result<Json<PreferencesResponse>, ApiError> {
    change_preferences(
        &state,
        &ctx,
        PreferencesCommand::Set {
            user: ctx.principal.user.clone(),
            key,
            value: request.value,
            stated_in: None,
            by: ctx.principal.actor(),
            at: now(),
        },
    )
    .await
}

/// Remove one of your preferences.
#[utoipa::path(
    delete,
    path = "/api/chat/preferences/{key}",
    tag = "chat",
    params(("key" = String, Path, description = "The preference's name")),
    responses(
        (status = 200, description = "Your preferences", body = PreferencesResponse),
        (status = 404, description = "`chat.no_such_preference`", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn remove_preference(
    State(state): State<AppState>,
    ctx: CommandContext,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<PreferencesResponse>, ApiError> {
    change_preferences(
        &state,
        &ctx,
        PreferencesCommand::Remove {
            user: ctx.principal.user.clone(),
            key,
            by: ctx.principal.actor(),
            at: now(),
        },
    )
    .await
}

async fn change_preferences(
    state: &AppState,
    ctx: &CommandContext,
    command: PreferencesCommand,
) -> Result<Json<PreferencesResponse>, ApiError> {
    let committed = state
        .bus
        .execute::<ChatPreferences>(preferences_id(&ctx.principal.user), command, &ctx.meta)
        .await?;
    let token = committed.token;
    let preferences = committed.state.into_view().unwrap_or(PreferencesView {
        user: ctx.principal.user.clone(),
        items: Vec::new(),
        version: 0,
    });
    Ok(Json(PreferencesResponse {
        preferences,
        consistency: ConsistencyToken(token.unwrap_or(Checkpoint::ZERO)).to_string(),
    }))
}

fn conversation<'a>(
    state: &'a AppState,
    ctx: &'a CommandContext,
    caller: &'a CallerCredentials,
    id: Uuid,
) -> Conversation<'a> {
    Conversation {
        state,
        principal: &ctx.principal,
        caller,
        meta: &ctx.meta,
        id,
        progress: None,
        last: Default::default(),
    }
}

/// The session, if the caller may read it: its owner, or an admin. Others are told it does
/// not exist.
async fn readable(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<ChatSessionView, ApiError> {
    let session = load(state, id).await?;
    if session.owner == principal.user || principal.role == Role::Admin {
        Ok(session)
    } else {
        Err(ApiError::not_found(
            "chat.not_found",
            "chat session not found",
        ))
    }
}

/// The session, if the caller may write in it: its owner only.
async fn writable(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<ChatSessionView, ApiError> {
    let session = readable(state, principal, id).await?;
    if session.owner != principal.user {
        return Err(ApiError::forbidden("only its owner writes in a chat"));
    }
    Ok(session)
}

fn answer(session: ChatSessionView, consistency: String) -> ChatSessionResponse {
    ChatSessionResponse {
        session,
        consistency,
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ChatListQuery {
    /// At most this many, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// The caller's chats, most recently changed first.
#[utoipa::path(
    get,
    path = "/api/chat/sessions",
    tag = "chat",
    params(ChatListQuery, ReadQuery),
    responses(
        (status = 200, description = "The caller's chats", body = ChatSessionListResponse, example = json!({
            "items": [{"id": "01932c1e-7b3a-7c61-9d2e-5f0a8b4c6d21", "owner": "casey",
                "title": "What is my top move today?", "messages": 4, "awaiting": 1,
                "created_at": "2026-12-01T08:30:00Z", "updated_at": "2026-12-01T08:31:12Z"}]
        })),
        (status = 400, description = "A bad limit (`request.invalid_query`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn list_chat_sessions(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ChatListQuery>,
    ApiQuery(read): ApiQuery<ReadQuery>,
) -> Result<Json<ChatSessionListResponse>, ApiError> {
    let limit = limit(query.limit, 50, 200)?;
    read.settle(&state, &[views::ChatSessionsProjector::NAME])
        .await?;
    Ok(Json(ChatSessionListResponse {
        items: views::list(&state.pool, &principal.user, limit).await?,
    }))
}

/// Start a chat (untitled: its first message names it).
#[utoipa::path(
    post,
    path = "/api/chat/sessions",
    tag = "chat",
    request_body(content = CreateChatSessionRequest, example = json!({"title": "Acme renewal"})),
    responses(
        (status = 201, description = "Started", body = ChatSessionResponse),
        (status = 400, description = "Not JSON", body = ErrorEnvelope),
        (status = 409, description = "`request.idempotency_conflict`: this Idempotency-Key started someone else's chat", body = ErrorEnvelope),
        (status = 422, description = "`request.validation`: a title of more than 120 characters or with control characters", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn create_chat_session(
    State(state): State<AppState>,
    ctx: CommandContext,
    caller: CallerCredentials,
    ApiJson(request): ApiJson<CreateChatSessionRequest>,
) -> Result<Response, ApiError> {
    let title = Text::parse_optional(request.title.as_deref(), MAX_TITLE_CHARS)
        .map_err(|m| ApiError::field("title", m))?
        .map_or_else(|| UNTITLED.into(), Text::into_string);
    // A repeat with the same Idempotency-Key starts the same chat.
    let id = match &ctx.meta.idempotency_key {
        Some(key) => Uuid::new_v5(
            &Uuid::NAMESPACE_OID,
            format!("chat:{}:{key}", ctx.principal.user).as_bytes(),
        ),
        None => Uuid::now_v7(),
    };
    let chat = conversation(&state, &ctx, &caller, id);
    let session = chat
        .execute(ChatCommand::Start {
            session_id: id,
            owner: ctx.principal.user.clone(),
            title,
            at: now(),
        })
        .await?;
    if session.owner != ctx.principal.user {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "request.idempotency_conflict",
            "this Idempotency-Key started someone else's chat",
        ));
    }
    let location = format!("/api/chat/sessions/{id}");
    let mut response = (
        StatusCode::CREATED,
        Json(answer(session, chat.consistency())),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// One chat: every message, every tool call with its request, who confirmed it and what our
/// API answered, and the summary of older messages.
#[utoipa::path(
    get,
    path = "/api/chat/sessions/{id}",
    tag = "chat",
    params(("id" = Uuid, Path, description = "The chat's id")),
    responses(
        (status = 200, description = "The chat", body = ChatSessionView),
        (status = 400, description = "Not a chat id", body = ErrorEnvelope),
        (status = 404, description = "No such chat of yours (`chat.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn get_chat_session(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ChatSessionView>, ApiError> {
    Ok(Json(readable(&state, &principal, id).await?))
}

/// Delete a chat (its events stay in the audit history; it is no longer listed or read).
#[utoipa::path(
    delete,
    path = "/api/chat/sessions/{id}",
    tag = "chat",
    params(("id" = Uuid, Path, description = "The chat's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a chat id", body = ErrorEnvelope),
        (status = 403, description = "Not your chat", body = ErrorEnvelope),
        (status = 404, description = "No such chat (`chat.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn delete_chat_session(
    State(state): State<AppState>,
    ctx: CommandContext,
    caller: CallerCredentials,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    writable(&state, &ctx.principal, id).await?;
    conversation(&state, &ctx, &caller, id)
        .execute(ChatCommand::Delete {
            by: ctx.principal.actor(),
            at: now(),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the client asked for server-sent events.
fn wants_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}

/// Ask the assistant. The message is recorded, then answered: a slash command (`/today`,
/// `/approve N`, `/reject N reason`, `/run Agent {json}`, `/help`) without a model; anything
/// else by the model (`llm_base_url`) with our own operations as tools — those that read run
/// at once as the caller, those that change something wait for `confirm`. Without a model
/// the answer says so (marked `offline`).
///
/// With `Accept: text/event-stream` the answer streams: `event: message` (each message as
/// it is added, the caller's first: a `ChatMessageView`), `event: delta` (`{"text": "…"}`,
/// each piece of the model's text as it writes it — the `message` with the whole text
/// follows), then `event: done` (the `ChatSessionResponse`), or `event: error` (an error
/// envelope). Otherwise the chat after the answer is the JSON body. A repeat with the same `Idempotency-Key` adds nothing and
/// answers the chat as it is.
#[utoipa::path(
    post,
    path = "/api/chat/sessions/{id}/messages",
    tag = "chat",
    params(
        ("id" = Uuid, Path, description = "The chat's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key"),
    ),
    request_body(content = ChatMessageRequest, example = json!({"content": "/today"})),
    responses(
        (status = 200, description = "The chat after the answer (JSON), or the answer as it comes (`text/event-stream`: `message`, `delta`, `done`, `error` events)",
            content(
                (ChatSessionResponse = "application/json"),
                (String = "text/event-stream", example = "event: message\ndata: {\"id\":\"0193a0c4-1d2e-7f3a-8b4c-5d6e7f8a9b01\",\"role\":\"user\",\"content\":\"What is my top move today?\",\"tool_calls\":[],\"tokens\":7,\"tokens_method\":\"tiktoken:o200k_base\",\"offline\":false,\"model\":null,\"at\":\"2026-12-01T09:00:00Z\"}\n\nevent: delta\ndata: {\"text\":\"Your top move: \"}\n\nevent: delta\ndata: {\"text\":\"Call Dana.\"}\n\nevent: message\ndata: {\"id\":\"0193a0c4-1d2e-7f3a-8b4c-5d6e7f8a9b02\",\"role\":\"assistant\",\"content\":\"Your top move: Call Dana.\",\"tool_calls\":[],\"tokens\":8,\"tokens_method\":\"provider\",\"offline\":false,\"model\":\"gpt-4o-mini\",\"at\":\"2026-12-01T09:00:02Z\"}\n\nevent: done\ndata: {\"id\":\"0193a0c4-1d2e-7f3a-8b4c-5d6e7f8a9b00\",\"owner\":\"casey\",\"title\":\"What is my top move today?\",\"messages\":[{\"id\":\"0193a0c4-1d2e-7f3a-8b4c-5d6e7f8a9b01\",\"role\":\"user\",\"content\":\"What is my top move today?\",\"tool_calls\":[],\"tokens\":7,\"tokens_method\":\"tiktoken:o200k_base\",\"offline\":false,\"model\":null,\"at\":\"2026-12-01T09:00:00Z\"},{\"id\":\"0193a0c4-1d2e-7f3a-8b4c-5d6e7f8a9b02\",\"role\":\"assistant\",\"content\":\"Your top move: Call Dana.\",\"tool_calls\":[],\"tokens\":8,\"tokens_method\":\"provider\",\"offline\":false,\"model\":\"gpt-4o-mini\",\"at\":\"2026-12-01T09:00:02Z\"}],\"summary\":null,\"deleted\":false,\"created_at\":\"2026-12-01T08:59:58Z\",\"updated_at\":\"2026-12-01T09:00:02Z\",\"version\":4,\"consistency\":\"1042.0\"}\n\n"),
            )),
        (status = 400, description = "Not JSON, or not a chat id", body = ErrorEnvelope),
        (status = 403, description = "Not your chat", body = ErrorEnvelope),
        (status = 404, description = "No such chat (`chat.not_found`)", body = ErrorEnvelope),
        (status = 422, description = "`request.validation`: an empty message, one of more than 8000 characters, or one with control characters other than tab and line breaks", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn send_chat_message(
    State(state): State<AppState>,
    ctx: CommandContext,
    caller: CallerCredentials,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(request): ApiJson<ChatMessageRequest>,
) -> Result<Response, ApiError> {
    let content = Text::parse(&request.content, MAX_MESSAGE_CHARS)
        .map_err(|m| ApiError::field("content", m))?
        .into_string();
    let session = writable(&state, &ctx.principal, id).await?;
    let message_id = match &ctx.meta.idempotency_key {
        Some(key) => Uuid::new_v5(&id, key.as_bytes()),
        None => Uuid::now_v7(),
    };
    let repeated = session.messages.iter().any(|m| m.id == message_id);
    let stream = wants_stream(&headers);
    let (sender, receiver) = mpsc::unbounded_channel::<Progress>();
    let work = {
        let (state, ctx, caller) = (state.clone(), ctx.clone(), caller.clone());
        async move {
            let mut chat = conversation(&state, &ctx, &caller, id);
            chat.progress = stream.then_some(sender);
            if !repeated {
                let (tokens, tokens_method) = tokens::count(&state.config.llm_model, &content);
                let first = NewMessage {
                    id: message_id,
                    role: ChatRole::User,
                    tokens,
                    tokens_method,
                    content: content.clone(),
                    tool_calls: Vec::new(),
                    offline: false,
                    model: None,
                };
                let mut session = chat.add(first).await?;
                if session.title == UNTITLED && session.messages.len() == 1 {
                    session = chat
                        .execute(ChatCommand::Rename {
                            title: title_from(&content),
                            at: now(),
                        })
                        .await?;
                }
                session = chat.answer(session, &content).await?;
                return Ok(answer(session, chat.consistency()));
            }
            // A repeat: the chat as it is.
            let session = load(&state, id).await?;
            Ok::<_, ApiError>(answer(session, chat.consistency()))
        }
    };
    if !stream {
        // The answer is written whatever becomes of this request.
        let done = tokio::spawn(work)
            .await
            .map_err(|e| ApiError::internal(format!("the answer stopped: {e}")))??;
        return Ok(Json(done).into_response());
    }
    let finished = tokio::spawn(work);
    let messages = futures::stream::unfold(receiver, |mut r| async move {
        let event = match r.recv().await? {
            Progress::Message(m) => Event::default().event("message").json_data(&*m).ok()?,
            Progress::Delta(text) => Event::default()
                .event("delta")
                .json_data(serde_json::json!({ "text": text }))
                .ok()?,
        };
        Some((Ok::<_, Infallible>(event), r))
    });
    let end = futures::stream::once(async move {
        let event = match finished.await {
            Ok(Ok(done)) => Event::default().event("done").json_data(&done),
            Ok(Err(error)) => error_event(error),
            Err(join) => error_event(ApiError::internal(format!("the answer stopped: {join}"))),
        };
        Ok::<_, Infallible>(event.unwrap_or_else(|_| Event::default().event("error")))
    });
    let mut response = Sse::new(messages.chain(end))
        .keep_alive(KeepAlive::new().text("keep-alive"))
        .into_response();
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// An error as the stream's last event (a server error logged, as the middleware would).
fn error_event(error: ApiError) -> Result<Event, axum::Error> {
    if error.status.is_server_error() {
        tracing::error!(code = error.body().code, "a chat answer failed");
    }
    Event::default().event("error").json_data(ErrorEnvelope {
        error: error.body(),
    })
}

/// Confirm a tool call that waits for you: it runs now, as you, through the same API (a
/// refusal — a viewer approving, a move already decided — is its recorded result), and the
/// assistant says what came of it.
#[utoipa::path(
    post,
    path = "/api/chat/sessions/{id}/tool-calls/{call_id}/confirm",
    tag = "chat",
    params(
        ("id" = Uuid, Path, description = "The chat's id"),
        ("call_id" = String, Path, description = "The tool call's id"),
    ),
    responses(
        (status = 200, description = "The chat after the call and the answer", body = ChatSessionResponse),
        (status = 400, description = "Not a chat id", body = ErrorEnvelope),
        (status = 403, description = "Not your chat", body = ErrorEnvelope),
        (status = 404, description = "No such chat or tool call (`chat.not_found`, `chat.no_such_tool_call`)", body = ErrorEnvelope),
        (status = 409, description = "`chat.tool_call_decided`: it was rejected already", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn confirm_tool_call(
    State(state): State<AppState>,
    ctx: CommandContext,
    caller: CallerCredentials,
    ApiPath((id, call_id)): ApiPath<(Uuid, String)>,
) -> Result<Json<ChatSessionResponse>, ApiError> {
    decide(&state, &ctx, &caller, id, call_id, true).await
}

/// Reject a tool call that waits for you: it never runs.
#[utoipa::path(
    post,
    path = "/api/chat/sessions/{id}/tool-calls/{call_id}/reject",
    tag = "chat",
    params(
        ("id" = Uuid, Path, description = "The chat's id"),
        ("call_id" = String, Path, description = "The tool call's id"),
    ),
    responses(
        (status = 200, description = "The chat", body = ChatSessionResponse),
        (status = 400, description = "Not a chat id", body = ErrorEnvelope),
        (status = 403, description = "Not your chat", body = ErrorEnvelope),
        (status = 404, description = "No such chat or tool call (`chat.not_found`, `chat.no_such_tool_call`)", body = ErrorEnvelope),
        (status = 409, description = "`chat.tool_call_decided`: it was confirmed already", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn reject_tool_call(
    State(state): State<AppState>,
    ctx: CommandContext,
    caller: CallerCredentials,
    ApiPath((id, call_id)): ApiPath<(Uuid, String)>,
) -> Result<Json<ChatSessionResponse>, ApiError> {
    decide(&state, &ctx, &caller, id, call_id, false).await
}

async fn decide(
    state: &AppState,
    ctx: &CommandContext,
    caller: &CallerCredentials,
    id: Uuid,
    call_id: String,
    confirm: bool,
) -> Result<Json<ChatSessionResponse>, ApiError> {
    writable(state, &ctx.principal, id).await?;
    let chat = conversation(state, ctx, caller, id);
    let session = chat
        .execute(ChatCommand::Decide {
            call_id: call_id.clone(),
            confirm,
            by: ctx.principal.actor(),
            at: now(),
        })
        .await?;
    let call = session.tool_call(&call_id).map(|(_, c)| c.clone());
    let session = match call {
        // Confirmed and not run yet (a repeat after it ran changes nothing).
        Some(call)
            if confirm && call.finished_at.is_none() && call.state != ToolCallState::Rejected =>
        {
            chat.run_confirmed(&call).await?
        }
        _ => session,
    };
    Ok(Json(answer(session, chat.consistency())))
}

/// The chat as Markdown: its messages, the tool calls with their requests and answers'
/// statuses, and the summary.
#[utoipa::path(
    get,
    path = "/api/chat/sessions/{id}/export",
    tag = "chat",
    params(("id" = Uuid, Path, description = "The chat's id"), ExportQuery),
    responses(
        (status = 200, description = "The chat as Markdown", content_type = "text/markdown", body = String),
        (status = 400, description = "A format other than `md` (`request.invalid_query`), or not a chat id", body = ErrorEnvelope),
        (status = 404, description = "No such chat of yours (`chat.not_found`)", body = ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
async fn export_chat_session(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    query.check()?;
    let session = readable(&state, &principal, id).await?;
    Ok(markdown_attachment(
        &format!("chat-{id}.md"),
        markdown(&session),
    ))
}

/// The Markdown of a chat.
fn markdown(session: &ChatSessionView) -> String {
    let mut out = format!(
        "# {}\n\n{}'s chat, started {}.\n",
        session.title,
        session.owner,
        session.created_at.format("%Y-%m-%d %H:%M UTC")
    );
    if let Some(summary) = &session.summary {
        out.push_str(&format!(
            "\n> Summary of the first {} messages: {}\n",
            summary.covers, summary.text
        ));
    }
    for m in &session.messages {
        let who = match m.role {
            ChatRole::User => session.owner.as_str(),
            ChatRole::Assistant if m.offline => "Assistant (offline)",
            ChatRole::Assistant => "Assistant",
        };
        out.push_str(&format!(
            "\n## {who} — {}\n\n{}\n",
            m.at.format("%Y-%m-%d %H:%M:%S UTC"),
            m.content
        ));
        for c in &m.tool_calls {
            let state = serde_json::to_value(c.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            out.push_str(&format!(
                "\n- `{}` {} — {state}{}{}\n",
                c.tool,
                c.request.as_deref().unwrap_or(""),
                c.status.map(|s| format!(", HTTP {s}")).unwrap_or_default(),
                c.decided_by
                    .as_ref()
                    .map(|a| format!(", decided by {}", a.id))
                    .unwrap_or_default(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_markdown_names_who_said_what_and_every_tool_call() {
        let at: chrono::DateTime<chrono::Utc> = "2026-12-01T09:00:00Z".parse().unwrap();
        let session = ChatSessionView {
            id: Uuid::nil(),
            owner: "casey".into(),
            title: "Acme".into(),
            messages: vec![caseyos_domain::chat::ChatMessageView {
                id: Uuid::nil(),
                role: ChatRole::Assistant,
                content: "Approved.".into(),
                tool_calls: vec![caseyos_domain::chat::ToolCallView {
                    id: "c1".into(),
                    tool: "approve_queue_item".into(),
                    arguments: serde_json::json!({}),
                    changes_state: true,
                    state: ToolCallState::Succeeded,
                    request: Some("POST /api/queue/x/approve".into()),
                    status: Some(200),
                    result: None,
                    decided_by: Some(caseyos_domain::kernel::Actor::user("casey")),
                    decided_at: Some(at),
                    finished_at: Some(at),
                }],
                tokens: 1,
                tokens_method: "estimate".into(),
                offline: true,
                model: None,
                at,
            }],
            summary: None,
            deleted: false,
            created_at: at,
            updated_at: at,
            version: 2,
        };
        assert_eq!(
            markdown(&session),
            "# Acme\n\ncasey's chat, started 2026-12-01 09:00 UTC.\n\n## Assistant (offline) — \
             2026-12-01 09:00:00 UTC\n\nApproved.\n\n- `approve_queue_item` POST \
             /api/queue/x/approve — succeeded, HTTP 200, decided by casey\n"
        );
    }
}
