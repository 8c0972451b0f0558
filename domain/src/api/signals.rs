//! Signals: recording a manual one, a form submission's answer, one signal and the list.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kernel::EmailAddress;
use crate::queue::ActionType;
use crate::signals::SignalView;

/// A manual signal: something a person noticed that calls for a move. It is processed like
/// any other signal (the `manual` processor proposes a move titled `title`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(example = json!({
    "title": "Call Dana about the renewal",
    "action_type": "check_in",
    "note": "She mentioned budget moves in January",
    "contact_email": "dana@acme.io",
    "occurred_at": "2026-11-30T09:00:00Z"
})))]
#[serde(deny_unknown_fields)]
pub struct RecordSignalRequest {
    /// What to do: the proposed move's title (1–256 characters, not blank).
    pub title: String,
    /// The move's type (default `manual_task`).
    #[serde(default)]
    pub action_type: Option<ActionType>,
    /// Anything else worth knowing (at most 2000 characters).
    #[serde(default)]
    pub note: Option<String>,
    /// The CaseyOS contact it is about.
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    /// The person's address.
    #[serde(default)]
    pub contact_email: Option<EmailAddress>,
    /// The CaseyOS deal it is about.
    #[serde(default)]
    pub deal_id: Option<Uuid>,
    /// When it happened (default: now).
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// What makes it unique among manual signals (1–200 characters): a second signal with
    /// the same key is a duplicate. Default: a new key, so every request is a new signal
    /// (send `Idempotency-Key` to make retries safe).
    #[serde(default)]
    pub dedup_key: Option<String>,
}

/// A signal after it was recorded (or found recorded already).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SignalResponse {
    #[serde(flatten)]
    pub signal: SignalView,
    /// True when a signal with the same source and dedup key was recorded before: nothing
    /// new was recorded.
    pub duplicate: bool,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

/// What a form submission came to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FormSubmissionResponse {
    /// The signal the submission was recorded as (processed in the background).
    pub signal_id: Uuid,
    /// True when this exact signed delivery was recorded before.
    pub duplicate: bool,
}

/// A page of signals, newest first, each with what its processing produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SignalListResponse {
    pub items: Vec<SignalView>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Signals matching the filters, over all pages.
    pub total: i64,
}
