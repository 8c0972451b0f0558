//! The assistant's chat: sessions, messages, tool calls to confirm or reject.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::chat::ChatSessionView;

/// One chat in a list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChatSessionItem {
    pub id: Uuid,
    pub owner: String,
    pub title: String,
    pub messages: u32,
    /// Tool calls waiting for the owner's confirmation.
    pub awaiting: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The caller's chats, most recently changed first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChatSessionListResponse {
    pub items: Vec<ChatSessionItem>,
}

/// Start a chat.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateChatSessionRequest {
    /// Its title (default "New chat"; the first message names an untitled chat).
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_length = 120))]
    pub title: Option<String>,
}

/// A message to the assistant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatMessageRequest {
    /// What to ask, or a slash command: `/today`, `/approve 3`, `/reject 3`,
    /// `/run PricingCalculator {...}`, `/help`.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 8000))]
    pub content: String,
}

/// A chat after a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ChatSessionResponse {
    #[serde(flatten)]
    pub session: ChatSessionView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

/// Set one of your preferences by hand.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetPreferenceRequest {
    /// At most 200 characters: `bullet points`, `CET`, `short`.
    #[cfg_attr(feature = "server", schema(min_length = 1, max_length = 200))]
    pub value: String,
}

/// Your preferences after a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PreferencesResponse {
    #[serde(flatten)]
    pub preferences: crate::chat::preferences::PreferencesView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}
