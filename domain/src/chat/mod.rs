//! The assistant's conversations (aggregate `chat_session`): one person's messages, the
//! assistant's answers, and every tool the assistant called — with what it asked, who
//! confirmed it, and what our own API answered — so a conversation is its audit trail.
//!
//! A tool that changes state waits for its owner's confirmation (`awaiting_confirmation`),
//! then runs as that person; a tool that only reads runs at once. Older messages are folded
//! into a summary when the history nears the model's window (the summary is an event too);
//! the last [`KEEP_VERBATIM`] messages always go to the model as they are.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, Ownership, RejectionKind};
use crate::kernel::Actor;

pub mod preferences;
#[cfg(test)]
mod tests;

pub const CHAT_EVENT_VERSION: &str = "1";
/// The newest messages always sent to the model as they are.
pub const KEEP_VERBATIM: usize = 5;
/// The longest message a person may send, in characters.
pub const MAX_MESSAGE_CHARS: usize = 8_000;
/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChatRole {
    User,
    Assistant,
}

/// Where a tool call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ToolCallState {
    /// It changes something: it waits for the owner to confirm or reject it.
    AwaitingConfirmation,
    /// Our API answered 2xx.
    Succeeded,
    /// Our API refused it (the answer's error is its result) or the call was malformed.
    Failed,
    /// The owner said no: it did not run.
    Rejected,
}

impl ToolCallState {
    pub fn is_open(self) -> bool {
        self == ToolCallState::AwaitingConfirmation
    }
}

/// One call of one of the assistant's tools (an operation of our own API).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ToolCallView {
    /// The id the model gave it (or ours, for a slash command).
    pub id: String,
    /// The operation's id in the OpenAPI document (`approve_queue_item`).
    pub tool: String,
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub arguments: Value,
    /// Whether it changes state (and so waited for a confirmation).
    pub changes_state: bool,
    pub state: ToolCallState,
    /// The request it made: `POST /api/queue/{id}/approve`.
    pub request: Option<String>,
    /// Our API's HTTP status.
    pub status: Option<u16>,
    /// Our API's answer (JSON), shortened when long.
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub result: Option<Value>,
    /// Who confirmed or rejected it.
    pub decided_by: Option<Actor>,
    pub decided_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChatMessageView {
    pub id: Uuid,
    pub role: ChatRole,
    pub content: String,
    /// The tools the assistant called in this message.
    pub tool_calls: Vec<ToolCallView>,
    /// Its length in tokens (see `tokens_method`).
    pub tokens: u32,
    /// How `tokens` was counted: `provider` (the model's own count), `tiktoken:<encoding>`
    /// (the model family's tokenizer, e.g. `tiktoken:o200k_base`), or `estimate`
    /// (characters / 4, rounded up: no tokenizer of this model family is built in).
    pub tokens_method: String,
    /// Answered without a language model (none configured, or a slash command).
    pub offline: bool,
    /// The model that wrote it (assistant messages).
    pub model: Option<String>,
    pub at: DateTime<Utc>,
}

/// Older messages folded into one text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChatSummary {
    pub text: String,
    /// The messages it covers: all up to and including this one.
    pub through: Uuid,
    pub covers: u32,
    pub tokens: u32,
    /// The model that wrote it, or none for the offline summary (the messages' first lines).
    pub model: Option<String>,
    pub at: DateTime<Utc>,
}

/// A conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChatSessionView {
    pub id: Uuid,
    /// Whose it is: only they (and admins) read it; only they write in it.
    pub owner: String,
    pub title: String,
    pub messages: Vec<ChatMessageView>,
    pub summary: Option<ChatSummary>,
    pub deleted: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl ChatSessionView {
    /// The tool call with this id, and the message holding it.
    pub fn tool_call(&self, id: &str) -> Option<(&ChatMessageView, &ToolCallView)> {
        self.messages
            .iter()
            .find_map(|m| m.tool_calls.iter().find(|c| c.id == id).map(|c| (m, c)))
    }

    /// Tool calls still waiting for a confirmation.
    pub fn awaiting(&self) -> impl Iterator<Item = &ToolCallView> {
        self.messages
            .iter()
            .flat_map(|m| m.tool_calls.iter())
            .filter(|c| c.state.is_open())
    }

    /// The messages the model sees as they are: those after the summary.
    pub fn unsummarised(&self) -> &[ChatMessageView] {
        let start = self
            .summary
            .as_ref()
            .and_then(|s| self.messages.iter().position(|m| m.id == s.through))
            .map_or(0, |i| i + 1);
        &self.messages[start..]
    }
}

/// A message as a command adds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewMessage {
    pub id: Uuid,
    pub role: ChatRole,
    pub content: String,
    pub tool_calls: Vec<ToolCallView>,
    pub tokens: u32,
    pub tokens_method: String,
    pub offline: bool,
    pub model: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ChatCommand {
    Start {
        session_id: Uuid,
        owner: String,
        title: String,
        at: DateTime<Utc>,
    },
    /// Adds a message (a repeat of the same id adds nothing).
    Add {
        message: Box<NewMessage>,
        at: DateTime<Utc>,
    },
    /// The owner confirms (then it runs) or rejects a tool call awaiting confirmation.
    Decide {
        call_id: String,
        confirm: bool,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// A tool call ran: what our API answered.
    Finish {
        call_id: String,
        succeeded: bool,
        request: String,
        status: u16,
        result: Value,
        at: DateTime<Utc>,
    },
    Summarise {
        summary: ChatSummary,
    },
    Rename {
        title: String,
        at: DateTime<Utc>,
    },
    Delete {
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ChatEvent {
    ChatStarted {
        session_id: Uuid,
        owner: String,
        title: String,
        at: DateTime<Utc>,
    },
    ChatMessageAdded {
        message: Box<NewMessage>,
        at: DateTime<Utc>,
    },
    ChatToolCallDecided {
        call_id: String,
        confirmed: bool,
        by: Actor,
        at: DateTime<Utc>,
    },
    ChatToolCallFinished {
        call_id: String,
        succeeded: bool,
        request: String,
        status: u16,
        result: Value,
        at: DateTime<Utc>,
    },
    ChatSummarised {
        summary: ChatSummary,
    },
    ChatRenamed {
        title: String,
        at: DateTime<Utc>,
    },
    ChatDeleted {
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("chat session not found")]
    NotFound,
    #[error("this chat session was deleted")]
    Deleted,
    #[error("no tool call {0} in this chat")]
    NoSuchToolCall(String),
    #[error("tool call {0} is not waiting for a confirmation")]
    NotAwaiting(String),
    #[error("a message needs some text, at most {MAX_MESSAGE_CHARS} characters")]
    BadMessage,
    #[error("a title needs some text, at most {MAX_TITLE_CHARS} characters")]
    BadTitle,
    #[error("the summary must cover messages of this chat")]
    BadSummary,
}

impl DomainError for ChatError {
    fn code(&self) -> &'static str {
        match self {
            ChatError::NotFound | ChatError::Deleted => "chat.not_found",
            ChatError::NoSuchToolCall(_) => "chat.no_such_tool_call",
            ChatError::NotAwaiting(_) => "chat.tool_call_decided",
            ChatError::BadMessage | ChatError::BadTitle | ChatError::BadSummary => {
                "request.validation"
            }
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            ChatError::NotFound | ChatError::Deleted | ChatError::NoSuchToolCall(_) => {
                RejectionKind::NotFound
            }
            ChatError::NotAwaiting(_) => RejectionKind::Conflict,
            ChatError::BadMessage => RejectionKind::Invalid {
                field: "content",
                message: self.to_string(),
            },
            ChatError::BadTitle => RejectionKind::Invalid {
                field: "title",
                message: self.to_string(),
            },
            ChatError::BadSummary => RejectionKind::Invalid {
                field: "summary",
                message: self.to_string(),
            },
        }
    }
}

/// The chat session aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatSession {
    pub session: Option<ChatSessionView>,
}

fn title_ok(title: &str) -> bool {
    !title.trim().is_empty() && title.chars().count() <= MAX_TITLE_CHARS
}

/// A title from a first message: its first line, shortened.
pub fn title_from(content: &str) -> String {
    let line = content.lines().next().unwrap_or("").trim();
    let mut title: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        title.push('…');
    }
    if title.is_empty() {
        "New chat".into()
    } else {
        title
    }
}

/// Tokens of a text by the documented estimate: characters / 4, rounded up.
pub fn estimate_tokens(text: &str) -> u32 {
    u32::try_from(text.chars().count().div_ceil(4)).unwrap_or(u32::MAX)
}

impl Aggregate for ChatSession {
    const TYPE: &'static str = "chat_session";
    const EVENT_VERSION: &'static str = CHAT_EVENT_VERSION;
    type Command = ChatCommand;
    type Event = ChatEvent;
    type Error = ChatError;
    type View = ChatSessionView;

    fn command_name(command: &ChatCommand) -> &'static str {
        match command {
            ChatCommand::Start { .. } => "start",
            ChatCommand::Add { .. } => "add_message",
            ChatCommand::Decide { .. } => "decide_tool_call",
            ChatCommand::Finish { .. } => "finish_tool_call",
            ChatCommand::Summarise { .. } => "summarise",
            ChatCommand::Rename { .. } => "rename",
            ChatCommand::Delete { .. } => "delete",
        }
    }

    fn event_name(event: &ChatEvent) -> &'static str {
        match event {
            ChatEvent::ChatStarted { .. } => "ChatStarted",
            ChatEvent::ChatMessageAdded { .. } => "ChatMessageAdded",
            ChatEvent::ChatToolCallDecided { .. } => "ChatToolCallDecided",
            ChatEvent::ChatToolCallFinished { .. } => "ChatToolCallFinished",
            ChatEvent::ChatSummarised { .. } => "ChatSummarised",
            ChatEvent::ChatRenamed { .. } => "ChatRenamed",
            ChatEvent::ChatDeleted { .. } => "ChatDeleted",
        }
    }

    fn view(&self) -> Option<&ChatSessionView> {
        self.session.as_ref()
    }

    fn into_view(self) -> Option<ChatSessionView> {
        self.session
    }

    fn ownership(&self) -> Option<Ownership> {
        self.session.as_ref().map(|s| Ownership {
            owner: Actor::user(s.owner.clone()),
            disclosed: false,
        })
    }

    fn decide(&self, command: ChatCommand) -> Result<Vec<ChatEvent>, ChatError> {
        if let ChatCommand::Start {
            session_id,
            owner,
            title,
            at,
        } = command
        {
            return match &self.session {
                Some(_) => Ok(Vec::new()),
                None if title_ok(&title) => Ok(vec![ChatEvent::ChatStarted {
                    session_id,
                    owner,
                    title: title.trim().to_string(),
                    at,
                }]),
                None => Err(ChatError::BadTitle),
            };
        }
        let session = self.session.as_ref().ok_or(ChatError::NotFound)?;
        if let ChatCommand::Delete { by, at } = command {
            return Ok(if session.deleted {
                Vec::new()
            } else {
                vec![ChatEvent::ChatDeleted { by, at }]
            });
        }
        if session.deleted {
            return Err(ChatError::Deleted);
        }
        let event = match command {
            ChatCommand::Start { .. } | ChatCommand::Delete { .. } => unreachable!("above"),
            ChatCommand::Add { message, at } => {
                if session.messages.iter().any(|m| m.id == message.id) {
                    return Ok(Vec::new());
                }
                let text = message.content.trim();
                let empty = text.is_empty() && message.tool_calls.is_empty();
                if empty || message.content.chars().count() > MAX_MESSAGE_CHARS {
                    return Err(ChatError::BadMessage);
                }
                ChatEvent::ChatMessageAdded { message, at }
            }
            ChatCommand::Decide {
                call_id,
                confirm,
                by,
                at,
            } => {
                let (_, call) = session
                    .tool_call(&call_id)
                    .ok_or_else(|| ChatError::NoSuchToolCall(call_id.clone()))?;
                if !call.state.is_open() || call.decided_at.is_some() {
                    // The same decision again is a repeat; another is a conflict.
                    let same = call.decided_at.is_some()
                        && (call.state != ToolCallState::Rejected) == confirm;
                    return if same {
                        Ok(Vec::new())
                    } else {
                        Err(ChatError::NotAwaiting(call_id))
                    };
                }
                ChatEvent::ChatToolCallDecided {
                    call_id,
                    confirmed: confirm,
                    by,
                    at,
                }
            }
            ChatCommand::Finish {
                call_id,
                succeeded,
                request,
                status,
                result,
                at,
            } => {
                let (_, call) = session
                    .tool_call(&call_id)
                    .ok_or_else(|| ChatError::NoSuchToolCall(call_id.clone()))?;
                if call.finished_at.is_some() {
                    return Ok(Vec::new());
                }
                // Only a confirmed call runs (one that reads is added already finished).
                if call.decided_at.is_none() || call.state == ToolCallState::Rejected {
                    return Err(ChatError::NotAwaiting(call_id));
                }
                ChatEvent::ChatToolCallFinished {
                    call_id,
                    succeeded,
                    request,
                    status,
                    result,
                    at,
                }
            }
            ChatCommand::Summarise { summary } => {
                let covered = session
                    .messages
                    .iter()
                    .position(|m| m.id == summary.through)
                    .ok_or(ChatError::BadSummary)?;
                let already = session
                    .summary
                    .as_ref()
                    .and_then(|s| session.messages.iter().position(|m| m.id == s.through));
                if already.is_some_and(|a| a >= covered) {
                    return Ok(Vec::new());
                }
                ChatEvent::ChatSummarised { summary }
            }
            ChatCommand::Rename { title, at } => {
                if !title_ok(&title) {
                    return Err(ChatError::BadTitle);
                }
                if session.title == title.trim() {
                    return Ok(Vec::new());
                }
                ChatEvent::ChatRenamed {
                    title: title.trim().to_string(),
                    at,
                }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: ChatEvent) {
        if let ChatEvent::ChatStarted {
            session_id,
            owner,
            title,
            at,
        } = event
        {
            self.session = Some(ChatSessionView {
                id: session_id,
                owner,
                title,
                messages: Vec::new(),
                summary: None,
                deleted: false,
                created_at: at,
                updated_at: at,
                version: 1,
            });
            return;
        }
        let Some(session) = self.session.as_mut() else {
            return;
        };
        session.version += 1;
        match event {
            ChatEvent::ChatStarted { .. } => {}
            ChatEvent::ChatMessageAdded { message, at } => {
                let m = *message;
                session.messages.push(ChatMessageView {
                    id: m.id,
                    role: m.role,
                    content: m.content,
                    tool_calls: m.tool_calls,
                    tokens: m.tokens,
                    tokens_method: m.tokens_method,
                    offline: m.offline,
                    model: m.model,
                    at,
                });
                session.updated_at = at;
            }
            ChatEvent::ChatToolCallDecided {
                call_id,
                confirmed,
                by,
                at,
            } => {
                if let Some(call) = call_mut(session, &call_id) {
                    call.decided_by = Some(by);
                    call.decided_at = Some(at);
                    if !confirmed {
                        call.state = ToolCallState::Rejected;
                    }
                }
                session.updated_at = at;
            }
            ChatEvent::ChatToolCallFinished {
                call_id,
                succeeded,
                request,
                status,
                result,
                at,
            } => {
                if let Some(call) = call_mut(session, &call_id) {
                    call.state = if succeeded {
                        ToolCallState::Succeeded
                    } else {
                        ToolCallState::Failed
                    };
                    call.request = Some(request);
                    call.status = Some(status);
                    call.result = Some(result);
                    call.finished_at = Some(at);
                }
                session.updated_at = at;
            }
            ChatEvent::ChatSummarised { summary } => {
                session.updated_at = summary.at;
                session.summary = Some(summary);
            }
            ChatEvent::ChatRenamed { title, at } => {
                session.title = title;
                session.updated_at = at;
            }
            ChatEvent::ChatDeleted { at, .. } => {
                session.deleted = true;
                session.updated_at = at;
            }
        }
    }
}

fn call_mut<'a>(session: &'a mut ChatSessionView, id: &str) -> Option<&'a mut ToolCallView> {
    session
        .messages
        .iter_mut()
        .flat_map(|m| m.tool_calls.iter_mut())
        .find(|c| c.id == id)
}
