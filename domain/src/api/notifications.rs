//! Notifications and "what's up": what needs the caller now, and what they did with it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::notifications::{NotificationKind, Priority, PriorityCounts};

/// What a notification is about: an aggregate whose history is
/// `GET /api/audit/{aggregate_type}/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NotificationSource {
    /// The stored aggregate type (a move's, a run's, an outcome's, an alert's, a deal's).
    pub aggregate_type: String,
    pub id: String,
}

/// One notification: derived from the read models when asked, so it ends when its cause
/// does (the move decided, the alert resolved); its id is stable (a UUIDv5 of its key).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: Uuid,
    pub kind: NotificationKind,
    pub priority: Priority,
    /// One line: "Reply from dana@acme.io".
    pub title: String,
    /// What happened and what to do.
    pub message: String,
    /// Where to act on it in the app (`/queue/{id}`, `/runs/{id}`, `/deals/{id}`, …).
    pub link: String,
    /// The aggregate it is about; none for a count of several (`moves_stale`).
    pub source: Option<NotificationSource>,
    /// How many things it counts (1 but for `moves_stale`).
    pub count: u32,
    /// When its cause happened (a move's due time, a reply's arrival, a run's end).
    pub happened_at: DateTime<Utc>,
    /// When it stops showing by itself, where a fixed time applies (it also ends with its
    /// cause).
    pub expires_at: Option<DateTime<Utc>>,
    /// When the caller read it.
    pub read_at: Option<DateTime<Utc>>,
    /// When the caller acknowledged it (dealt with: no longer counted).
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// About demo data (`caseyos demo seed`).
    pub demo: bool,
}

/// The caller's notifications, most important first, then newest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct NotificationListResponse {
    pub items: Vec<NotificationView>,
    /// Unread and not acknowledged, per priority (whatever the filters).
    pub unread: PriorityCounts,
    /// When this was computed.
    pub as_of: DateTime<Utc>,
}

/// What's up: unread counts by priority, the five to look at first, and one line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WhatsUpResponse {
    /// Unread and not acknowledged, per priority.
    pub counts: PriorityCounts,
    /// Their total: the bell's number.
    pub total: u32,
    /// At most five unread, most important first, then newest.
    pub top: Vec<NotificationView>,
    /// "All clear: nothing needs you right now." or "4 notifications (1 urgent, …). First: …".
    pub summary: String,
    pub as_of: DateTime<Utc>,
}

/// What to mark: the notifications' ids (as listed), or every unread one the caller sees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MarkNotificationsRequest {
    /// At most 200 ids; absent: every unread notification the caller sees now.
    #[serde(default)]
    #[cfg_attr(feature = "server", schema(max_items = 200))]
    pub ids: Option<Vec<Uuid>>,
}

/// What a mark did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MarkNotificationsResponse {
    /// The notifications marked now (ones marked before are not counted again).
    pub marked: u32,
    /// The caller's unread counts after the mark.
    pub unread: PriorityCounts,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}
