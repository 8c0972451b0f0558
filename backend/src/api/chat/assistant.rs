//! The assistant's side of a conversation: slash commands answered without a model, or the
//! model asked with the history (older messages summarised near its window) and our own
//! operations as tools — those that read run at once, those that change something wait for
//! the owner's confirmation — every call made through `http::dispatch` as the person in the
//! chat, and recorded in the session's events.

use axum::http::Method;
use caseyos_agents::{LlmClient, LlmConfig};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::chat::preferences::{
    extract, preferences_id, ChatPreferences, PreferencesCommand, PreferencesView,
};
use caseyos_domain::chat::{
    ChatCommand, ChatMessageView, ChatRole, ChatSession, ChatSessionView, ChatSummary, NewMessage,
    ToolCallState, ToolCallView, KEEP_VERBATIM,
};
use caseyos_domain::kernel::{Checkpoint, ConsistencyToken};
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandMeta};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::tokens;
use super::tools::{catalogue, Tool, CHAT_OPERATIONS};
use crate::auth::{Principal, Role};
use crate::http::dispatch::{dispatch, numbered, CallerCredentials, Dispatched};
use crate::http::error::ApiError;
use crate::state::AppState;

/// Model rounds in one answer (each may call tools) before it must answer in words.
const MAX_ROUNDS: usize = 4;
/// The longest answer asked of the model, in tokens.
const ANSWER_TOKENS: u32 = 1_024;
/// The longest summary asked of the model, in tokens.
const SUMMARY_TOKENS: u32 = 400;
/// A tool's answer is given to the model (and kept) up to this many characters of JSON.
const MAX_RESULT_CHARS: usize = 12_000;
/// The moves `/today` lists.
const TODAY_LIMIT: usize = 10;

/// What an answer in progress tells the client (server-sent events).
#[derive(Clone, Debug)]
pub enum Progress {
    /// A message was added (the person's, or the assistant's).
    Message(Box<ChatMessageView>),
    /// A piece of the answer's text, as the model writes it (the message with the whole
    /// text follows).
    Delta(String),
}

/// One conversation, as one person acts in it.
pub struct Conversation<'a> {
    pub state: &'a AppState,
    pub principal: &'a Principal,
    pub caller: &'a CallerCredentials,
    pub meta: &'a CommandMeta,
    pub id: Uuid,
    pub progress: Option<mpsc::UnboundedSender<Progress>>,
    /// The position of the last event written (the answer's consistency token).
    pub last: std::sync::Mutex<Option<Checkpoint>>,
}

/// The chat's tools for `role`: viewers are offered only those that read. Made from the
/// OpenAPI document once (the same for every instance of this build).
pub fn tools_for(state: &AppState, role: Role) -> Vec<Tool> {
    static TOOLS: std::sync::OnceLock<Vec<Tool>> = std::sync::OnceLock::new();
    let Some(api) = state.api.get() else {
        return Vec::new();
    };
    TOOLS
        .get_or_init(|| catalogue(&api.document, CHAT_OPERATIONS, true))
        .iter()
        .filter(|t| role > Role::Viewer || !t.changes_state())
        .cloned()
        .collect()
}

/// `user`'s preferences as their events left them.
pub async fn preferences_of(
    state: &AppState,
    user: &str,
) -> Result<Option<PreferencesView>, ApiError> {
    let prefs: ChatPreferences =
        state_at(&state.pool, &preferences_id(user).to_string(), i64::MAX).await?;
    Ok(prefs.into_view())
}

/// The session as its events left it.
pub async fn load(state: &AppState, id: Uuid) -> Result<ChatSessionView, ApiError> {
    let session: ChatSession = state_at(&state.pool, &id.to_string(), i64::MAX).await?;
    session
        .into_view()
        .filter(|s| !s.deleted)
        .ok_or_else(|| ApiError::not_found("chat.not_found", "chat session not found"))
}

fn shortened(value: Value) -> Value {
    let text = value.to_string();
    if text.chars().count() <= MAX_RESULT_CHARS {
        return value;
    }
    let cut: String = text.chars().take(MAX_RESULT_CHARS).collect();
    json!({"truncated": true, "first_characters": cut})
}

/// Text without control characters but tab and line breaks (the model's text is stored as
/// it came, less those).
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// A new message, its tokens counted for `model` (see [`tokens::count`]).
fn message_of(
    model: &str,
    role: ChatRole,
    content: String,
    tool_calls: Vec<ToolCallView>,
    offline: bool,
) -> NewMessage {
    let content = clean(&content);
    let (tokens, tokens_method) = tokens::count(model, &content);
    NewMessage {
        id: Uuid::now_v7(),
        role,
        tokens,
        tokens_method,
        content,
        tool_calls,
        offline,
        model: None,
    }
}

impl Conversation<'_> {
    /// The consistency token of what this conversation wrote.
    pub fn consistency(&self) -> String {
        let last = self.last.lock().ok().and_then(|l| *l);
        ConsistencyToken(last.unwrap_or(Checkpoint::ZERO)).to_string()
    }

    pub async fn execute(&self, command: ChatCommand) -> Result<ChatSessionView, ApiError> {
        let committed = self
            .state
            .bus
            .execute::<ChatSession>(self.id, command, self.meta)
            .await?;
        if let Ok(mut last) = self.last.lock() {
            *last = (*last).max(committed.token);
        }
        committed
            .state
            .into_view()
            .ok_or_else(|| ApiError::internal("a chat command left no session"))
    }

    /// Adds a message and tells the client.
    pub async fn add(&self, message: NewMessage) -> Result<ChatSessionView, ApiError> {
        let id = message.id;
        let session = self
            .execute(ChatCommand::Add {
                message: Box::new(message),
                at: now(),
            })
            .await?;
        if let (Some(progress), Some(m)) =
            (&self.progress, session.messages.iter().find(|m| m.id == id))
        {
            let _ = progress.send(Progress::Message(Box::new(m.clone())));
        }
        Ok(session)
    }

    /// Calls our API as the person in the chat.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Result<Dispatched, ApiError> {
        dispatch(self.state, self.caller, self.meta, method, path, body, key).await
    }

    /// The assistant's answer to the person's last message, `content`, in `session` (the
    /// chat as that message left it): the chat after the answer.
    pub async fn answer(
        &self,
        session: ChatSessionView,
        content: &str,
    ) -> Result<ChatSessionView, ApiError> {
        if let Some(command) = content.trim().strip_prefix('/') {
            return self.slash(&session, command.trim()).await;
        }
        let noted = self.note_preferences(&session, content).await?;
        match self.state.config.llm() {
            Some(config) => self.ask_model(config, session).await,
            None => {
                let mut text = String::new();
                if !noted.is_empty() {
                    let said: Vec<String> =
                        noted.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    text.push_str(&format!(
                        "Noted your preference: {} (see your preferences). ",
                        said.join(", ")
                    ));
                }
                text.push_str(
                    "No language model is configured (`llm_base_url`), so I cannot answer \
                     questions here. Slash commands still work: `/today`, `/approve N`, \
                     `/reject N reason`, `/run Agent {json}`, `/help`.",
                );
                self.add(message_of(
                    &self.state.config.llm_model,
                    ChatRole::Assistant,
                    text,
                    Vec::new(),
                    true,
                ))
                .await
            }
        }
    }

    /// Records the preferences the person's last message states (`preferences::extract`):
    /// those that changed.
    async fn note_preferences(
        &self,
        session: &ChatSessionView,
        content: &str,
    ) -> Result<Vec<(String, String)>, ApiError> {
        let stated_in = session
            .messages
            .iter()
            .rev()
            .find(|m| m.role == ChatRole::User)
            .map(|m| m.id);
        let user = &self.principal.user;
        let mut noted = Vec::new();
        for (key, value) in extract(content) {
            let committed = self
                .state
                .bus
                .execute::<ChatPreferences>(
                    preferences_id(user),
                    PreferencesCommand::Set {
                        user: user.clone(),
                        key: key.clone(),
                        value: value.clone(),
                        stated_in,
                        by: self.principal.actor(),
                        at: now(),
                    },
                    self.meta,
                )
                .await;
            match committed {
                Ok(c) if c.events > 0 => noted.push((key, value)),
                Ok(_) => {}
                // Too many already, or a value the rules cannot keep: the answer goes on.
                Err(caseyos_store::CommandError::Rejected(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(noted)
    }

    /// A slash command, answered without a model.
    async fn slash(
        &self,
        session: &ChatSessionView,
        command: &str,
    ) -> Result<ChatSessionView, ApiError> {
        let (name, rest) = command
            .split_once(char::is_whitespace)
            .map_or((command, ""), |(n, r)| (n, r.trim()));
        let mut calls = Vec::new();
        let text = match name {
            "today" => {
                let (call, text) = self.today(rest == "all").await?;
                calls.push(call);
                text
            }
            "approve" | "reject" => match self.decision(session, name, rest).await? {
                Ok((call, text)) => {
                    calls.push(call);
                    text
                }
                Err(text) => text,
            },
            "run" => match self.run(rest).await? {
                Ok((call, text)) => {
                    calls.push(call);
                    text
                }
                Err(text) => text,
            },
            _ => HELP.to_string(),
        };
        self.add(message_of(
            &self.state.config.llm_model,
            ChatRole::Assistant,
            text,
            calls,
            true,
        ))
        .await
    }

    /// A tool call this person made by typing a command (so decided by them already).
    fn typed_call(
        &self,
        tool: &str,
        arguments: Value,
        method: &Method,
        path: &str,
        answer: &Dispatched,
    ) -> ToolCallView {
        let at = now();
        let changes_state = *method != Method::GET;
        ToolCallView {
            id: format!("cmd_{}", Uuid::now_v7().simple()),
            tool: tool.into(),
            arguments,
            changes_state,
            state: if answer.ok() {
                ToolCallState::Succeeded
            } else {
                ToolCallState::Failed
            },
            request: Some(format!("{method} {path}")),
            status: Some(answer.status),
            result: Some(shortened(answer.body.clone())),
            decided_by: changes_state.then(|| self.principal.actor()),
            decided_at: changes_state.then_some(at),
            finished_at: Some(at),
        }
    }

    /// Today's Moves: the caller's, or with `everyone`, everyone's they may see.
    async fn today(&self, everyone: bool) -> Result<(ToolCallView, String), ApiError> {
        let owner = if everyone { "&owner=%2A" } else { "" };
        let path = format!("/api/queue/today?limit={TODAY_LIMIT}{owner}");
        let answer = self.call(Method::GET, &path, None, None).await?;
        let text = if !answer.ok() {
            format!("Today's Moves could not be read: {}", answer.error_text())
        } else {
            let items = answer.body["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                "Nothing is waiting in Today's Moves.".to_string()
            } else {
                let mut lines = vec!["Today's Moves:".to_string()];
                for (n, item) in items.iter().enumerate() {
                    lines.push(format!(
                        "{}. {} — APS {}, {} (`{}`)",
                        n + 1,
                        item["title"].as_str().unwrap_or("?"),
                        item["aps"]["score"],
                        item["action_type"].as_str().unwrap_or("?"),
                        item["id"].as_str().unwrap_or("?"),
                    ));
                }
                lines.push("`/approve N` or `/reject N reason` decides one.".into());
                lines.join("\n")
            }
        };
        let arguments = if everyone {
            json!({"owner": "*"})
        } else {
            json!({})
        };
        let call = self.typed_call("todays_moves", arguments, &Method::GET, &path, &answer);
        Ok((call, text))
    }

    /// The move numbered `n` in the chat's last `/today` (else in Today's Moves now).
    async fn move_numbered(
        &self,
        session: &ChatSessionView,
        n: usize,
    ) -> Result<Option<(String, String)>, ApiError> {
        let listed = session
            .messages
            .iter()
            .rev()
            .flat_map(|m| m.tool_calls.iter())
            .find(|c| c.tool == "todays_moves" && c.state == ToolCallState::Succeeded)
            .and_then(|c| c.result.clone());
        let items = match listed {
            Some(result) => result,
            None => {
                let path = format!("/api/queue/today?limit={TODAY_LIMIT}");
                self.call(Method::GET, &path, None, None).await?.body
            }
        };
        Ok(items["items"]
            .as_array()
            .and_then(|items| items.get(n.checked_sub(1)?))
            .and_then(|item| {
                Some((
                    item["id"].as_str()?.to_string(),
                    item["title"].as_str().unwrap_or("?").to_string(),
                ))
            }))
    }

    async fn decision(
        &self,
        session: &ChatSessionView,
        what: &str,
        rest: &str,
    ) -> Result<Result<(ToolCallView, String), String>, ApiError> {
        let Some((n, reason)) = numbered(rest) else {
            return Ok(Err(format!(
                "`/{what} N`: N is the move's number in `/today` (1 for the first)."
            )));
        };
        if what == "reject" && reason.is_empty() {
            return Ok(Err("`/reject N reason`: say why.".into()));
        }
        let Some((id, title)) = self.move_numbered(session, n).await? else {
            return Ok(Err(format!(
                "There is no move {n} in Today's Moves (see `/today`)."
            )));
        };
        let path = format!("/api/queue/{id}/{what}");
        let body = if what == "reject" {
            json!({"reason": reason})
        } else {
            json!({})
        };
        let key = format!(
            "chat-{}-{what}",
            Uuid::new_v5(&self.id, id.as_bytes()).simple()
        );
        let answer = self
            .call(Method::POST, &path, Some(&body), Some(&key))
            .await?;
        let text = if answer.ok() {
            let done = if what == "approve" {
                "Approved"
            } else {
                "Rejected"
            };
            format!("{done}: {title}.")
        } else {
            format!("Could not {what} {title}: {}", answer.error_text())
        };
        let tool = format!("{what}_queue_item");
        let mut arguments = json!({"id": id});
        if what == "reject" {
            arguments["body"] = body;
        }
        Ok(Ok((
            self.typed_call(&tool, arguments, &Method::POST, &path, &answer),
            text,
        )))
    }

    async fn run(&self, rest: &str) -> Result<Result<(ToolCallView, String), String>, ApiError> {
        let (agent, input) = rest
            .split_once(char::is_whitespace)
            .map_or((rest, ""), |(a, i)| (a, i.trim()));
        if agent.is_empty() || !agent.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Ok(Err(
                "`/run Agent {json}`: an agent's name, then its input as JSON.".into(),
            ));
        }
        let input: Value = if input.is_empty() {
            json!({})
        } else {
            match serde_json::from_str(input) {
                Ok(v) => v,
                Err(e) => return Ok(Err(format!("The input is not JSON: {e}"))),
            }
        };
        let path = format!("/api/agents/{agent}/runs");
        let body = json!({ "input": input });
        let key = format!("chat-run-{}", Uuid::now_v7().simple());
        let answer = self
            .call(Method::POST, &path, Some(&body), Some(&key))
            .await?;
        let text = if answer.ok() {
            format!(
                "Started a run of {agent}: `{}` ({}).",
                answer.body["id"].as_str().unwrap_or("?"),
                answer.body["status"].as_str().unwrap_or("queued")
            )
        } else {
            format!("Could not run {agent}: {}", answer.error_text())
        };
        Ok(Ok((
            self.typed_call(
                &format!("run_{agent}"),
                json!({"body": body}),
                &Method::POST,
                &path,
                &answer,
            ),
            text,
        )))
    }

    /// Asks the model, round after round, until it answers in words or a tool waits for a
    /// confirmation.
    async fn ask_model(
        &self,
        config: LlmConfig,
        session: ChatSessionView,
    ) -> Result<ChatSessionView, ApiError> {
        let client = LlmClient::new(config).map_err(|e| ApiError::internal(e.to_string()))?;
        let tools = tools_for(self.state, self.principal.role);
        let functions: Vec<Value> = tools.iter().map(Tool::as_function).collect();
        let mut session = self.summarise_if_needed(&client, session).await?;
        let preferences = preferences_of(self.state, &self.principal.user)
            .await?
            .and_then(|p| p.as_prompt());
        for round in 0..MAX_ROUNDS {
            let messages = self.prompt(&session, preferences.as_ref());
            let offer: &[Value] = if round + 1 == MAX_ROUNDS {
                &[]
            } else {
                &functions
            };
            // Streamed to a client that follows the answer as it comes.
            let answered = match &self.progress {
                Some(progress) => {
                    let tell = |text: &str| {
                        let _ = progress.send(Progress::Delta(text.to_string()));
                    };
                    client
                        .chat_streaming(&messages, offer, ANSWER_TOKENS, &tell)
                        .await
                }
                None => {
                    client
                        .chat_with_tools(&messages, offer, ANSWER_TOKENS)
                        .await
                }
            };
            let completion = match answered {
                Ok(c) => c,
                Err(e) => {
                    return self
                        .add(message_of(
                            &self.state.config.llm_model,
                            ChatRole::Assistant,
                            format!("The language model failed ({}): {e}", e.code()),
                            Vec::new(),
                            true,
                        ))
                        .await;
                }
            };
            let mut calls = Vec::new();
            for call in &completion.tool_calls {
                calls.push(self.model_call(&tools, call).await?);
            }
            let waiting = calls.iter().any(|c| c.state.is_open());
            let done = calls.is_empty();
            let mut message = message_of(
                &self.state.config.llm_model,
                ChatRole::Assistant,
                completion.text.clone(),
                calls,
                false,
            );
            if completion.usage.completion_tokens > 0 {
                message.tokens =
                    u32::try_from(completion.usage.completion_tokens).unwrap_or(u32::MAX);
                message.tokens_method = "provider".into();
            }
            message.model = completion.usage.model.clone();
            if waiting && message.content.trim().is_empty() {
                message.content = "This needs your confirmation before it runs.".into();
            }
            session = self.add(message).await?;
            if done || waiting {
                return Ok(session);
            }
        }
        Ok(session)
    }

    /// One tool call the model asked for: run at once when it reads, else left waiting.
    async fn model_call(
        &self,
        tools: &[Tool],
        call: &caseyos_agents::ToolCall,
    ) -> Result<ToolCallView, ApiError> {
        let at = now();
        let arguments: Result<Value, String> = if call.arguments.trim().is_empty() {
            Ok(json!({}))
        } else if call.arguments.contains("\\u0000") || call.arguments.contains('\0') {
            Err("not storable: they hold a NUL character".into())
        } else {
            serde_json::from_str(&call.arguments).map_err(|e| format!("not JSON: {e}"))
        };
        let tool = tools.iter().find(|t| t.name == call.name);
        let mut view = ToolCallView {
            id: clean(&call.id),
            tool: clean(&call.name),
            arguments: arguments.clone().unwrap_or(Value::Null),
            changes_state: tool.is_some_and(Tool::changes_state),
            state: ToolCallState::Failed,
            request: None,
            status: None,
            result: None,
            decided_by: None,
            decided_at: None,
            finished_at: Some(at),
        };
        let request = match (tool, arguments) {
            (None, _) => Err(format!("there is no tool `{}` for you", call.name)),
            (Some(_), Err(e)) => Err(format!("the arguments are {e}")),
            (Some(tool), Ok(args)) => tool.request(&args),
        };
        let (method, path, body) = match request {
            Ok(r) => r,
            Err(problem) => {
                view.result = Some(json!({"error": problem}));
                return Ok(view);
            }
        };
        view.request = Some(format!("{method} {path}"));
        if view.changes_state {
            view.state = ToolCallState::AwaitingConfirmation;
            view.finished_at = None;
            return Ok(view);
        }
        let answer = self.call(method, &path, body.as_ref(), None).await?;
        view.state = if answer.ok() {
            ToolCallState::Succeeded
        } else {
            ToolCallState::Failed
        };
        view.status = Some(answer.status);
        view.result = Some(shortened(answer.body));
        Ok(view)
    }

    /// Runs a confirmed tool call as the person who confirmed it, then lets the model say
    /// what came of it (when one is configured and nothing else waits).
    pub async fn run_confirmed(&self, call: &ToolCallView) -> Result<ChatSessionView, ApiError> {
        let (method, path) = call
            .request
            .as_deref()
            .and_then(|r| r.split_once(' '))
            .and_then(|(m, p)| Some((m.parse::<Method>().ok()?, p.to_string())))
            .ok_or_else(|| ApiError::internal("a waiting tool call without its request"))?;
        let body = call
            .arguments
            .get("body")
            .cloned()
            .or_else(|| (method != Method::GET && method != Method::DELETE).then(|| json!({})));
        let key = format!(
            "chat-{}",
            Uuid::new_v5(&self.id, call.id.as_bytes()).simple()
        );
        let answer = self
            .call(method.clone(), &path, body.as_ref(), Some(&key))
            .await?;
        let session = self
            .execute(ChatCommand::Finish {
                call_id: call.id.clone(),
                succeeded: answer.ok(),
                request: format!("{method} {path}"),
                status: answer.status,
                result: shortened(answer.body),
                at: now(),
            })
            .await?;
        if session.awaiting().any(|c| c.decided_at.is_none()) {
            return Ok(session);
        }
        match self.state.config.llm() {
            Some(config) => self.ask_model(config, session).await,
            None => Ok(session),
        }
    }

    /// The conversation in OpenAI's shape: the rules, the summary, then every message since.
    fn prompt(&self, session: &ChatSessionView, preferences: Option<&String>) -> Value {
        let user = &self.principal.user;
        let mut messages = vec![json!({
            "role": "system",
            "content": format!(
                "You are CaseyOS's assistant for {user} (role: {role}). It is {now} UTC. \
                 You act only through the tools, which are CaseyOS's own API called as {user}; \
                 a tool that changes something waits for {user}'s confirmation before it runs. \
                 Read numbers with the tools rather than guessing, name the moves, deals and \
                 contacts you used, and answer briefly.",
                role = self.principal.role,
                now = now().format("%Y-%m-%d %H:%M"),
            )
        })];
        if let Some(preferences) = preferences {
            messages.push(json!({
                "role": "system",
                "content": format!("{user}'s preferences for every answer: {preferences}."),
            }));
        }
        if let Some(summary) = &session.summary {
            messages.push(json!({
                "role": "system",
                "content": format!("The conversation so far, summarised: {}", summary.text),
            }));
        }
        for m in session.unsummarised() {
            match m.role {
                ChatRole::User => messages.push(json!({"role": "user", "content": m.content})),
                ChatRole::Assistant => {
                    let mut turn = json!({"role": "assistant", "content": m.content});
                    if !m.tool_calls.is_empty() {
                        turn["tool_calls"] = m
                            .tool_calls
                            .iter()
                            .map(|c| {
                                json!({"id": c.id, "type": "function", "function": {
                                    "name": c.tool, "arguments": c.arguments.to_string()}})
                            })
                            .collect();
                    }
                    messages.push(turn);
                    for c in &m.tool_calls {
                        let content = match (c.state, &c.result) {
                            (ToolCallState::Rejected, _) => {
                                format!("{user} rejected this call: it did not run.")
                            }
                            (ToolCallState::AwaitingConfirmation, _) => {
                                format!("Waiting for {user}'s confirmation: it has not run.")
                            }
                            (_, Some(result)) => {
                                json!({"status": c.status, "body": result}).to_string()
                            }
                            (_, None) => "No answer.".into(),
                        };
                        messages.push(
                            json!({"role": "tool", "tool_call_id": c.id, "content": content}),
                        );
                    }
                }
            }
        }
        Value::Array(messages)
    }

    /// Folds all but the last [`KEEP_VERBATIM`] messages into the summary when the history
    /// passes three quarters of the model's window.
    async fn summarise_if_needed(
        &self,
        client: &LlmClient,
        session: ChatSessionView,
    ) -> Result<ChatSessionView, ApiError> {
        let window = u64::from(self.state.config.llm_context_tokens);
        let rest = session.unsummarised();
        let used: u64 = rest.iter().map(|m| u64::from(m.tokens)).sum::<u64>()
            + session.summary.as_ref().map_or(0, |s| u64::from(s.tokens));
        if used * 4 < window * 3 || rest.len() <= KEEP_VERBATIM {
            return Ok(session);
        }
        let folded = &rest[..rest.len() - KEEP_VERBATIM];
        let mut text = String::new();
        if let Some(s) = &session.summary {
            text.push_str(&format!("Summary so far: {}\n", s.text));
        }
        for m in folded {
            let who = match m.role {
                ChatRole::User => self.principal.user.as_str(),
                ChatRole::Assistant => "assistant",
            };
            text.push_str(&format!("{who}: {}\n", m.content));
        }
        let messages = json!([
            {"role": "system", "content": "Summarise this conversation for the assistant's own memory. \
              Keep every name, company, number, date and id, and what each pronoun refers to \
              (who \"they\" and \"their\" are). At most 200 words."},
            {"role": "user", "content": text},
        ]);
        let Some(through) = folded.last().map(|m| m.id) else {
            return Ok(session);
        };
        let covers =
            u32::try_from(session.messages.len() - rest.len() + folded.len()).unwrap_or(u32::MAX);
        let summary = match client.chat_with_tools(&messages, &[], SUMMARY_TOKENS).await {
            Ok(c) if !c.text.trim().is_empty() => ChatSummary {
                tokens: tokens::count(&self.state.config.llm_model, &c.text).0,
                text: c.text,
                through,
                covers,
                model: c.usage.model,
                at: now(),
            },
            // Without the model's summary, the messages' first lines (marked offline).
            _ => {
                let lines: Vec<String> = text
                    .lines()
                    .map(|l| l.chars().take(160).collect())
                    .collect();
                let text = lines.join("\n");
                ChatSummary {
                    tokens: tokens::count(&self.state.config.llm_model, &text).0,
                    text,
                    through,
                    covers,
                    model: None,
                    at: now(),
                }
            }
        };
        self.execute(ChatCommand::Summarise { summary }).await
    }
}

const HELP: &str = "Slash commands: `/today` lists your Today's Moves (`/today all`: everyone's \
you may see); `/approve N` approves move N of that list; `/reject N reason` rejects it; `/run Agent {json}` starts an agent's run with that \
input (`/run PricingCalculator {\"services\": [{\"service\": \"strategy\", \"hours\": 10}]}`); \
`/help` shows this.";
