//! Notifications: what needs the operator now — overdue and stale moves, replies that
//! arrived, failed runs, open alerts (connectors about to expire or failing, hygiene), deals
//! at risk.
//!
//! A notification is not stored: it is derived, when asked, from the read models of the
//! events it is about (`caseyos_projections::notifications`), so it names its source and
//! ends when its cause does (the move decided, the alert resolved, the deal safe again).
//! Its id is [`notification_id`] of its key, the same on every instance and after every
//! rebuild. What a person did with one — read it, acknowledged it — is a change of state:
//! the `notification_receipt` aggregate, one per notification and user ([`receipt_id`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, Ownership, RejectionKind};
use crate::kernel::Actor;

#[cfg(test)]
mod tests;

pub const RECEIPT_EVENT_VERSION: &str = "1";

const NOTIFICATION_NAMESPACE: Uuid = Uuid::from_u128(0x5e0c_91a4_27d8_4b3f_a6e1_0c94_d2b7_13f5);
const RECEIPT_NAMESPACE: Uuid = Uuid::from_u128(0x1f7a_c3e2_8d45_4a9b_b0c6_e4f1_2a83_9d60);

/// The id of the notification with this key (`move_overdue:<move>:<due>`,
/// `run_failed:<run>`, `alert:<alert>:<raised>`, …).
pub fn notification_id(key: &str) -> Uuid {
    Uuid::new_v5(&NOTIFICATION_NAMESPACE, key.as_bytes())
}

/// The id of `user`'s receipt of a notification.
pub fn receipt_id(notification: Uuid, user: &str) -> Uuid {
    let mut name = notification.as_bytes().to_vec();
    name.extend_from_slice(user.as_bytes());
    Uuid::new_v5(&RECEIPT_NAMESPACE, &name)
}

/// How much a notification matters, most first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    Normal,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Urgent,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    /// The order's weight (the seed's: urgent 100, high 75, normal 50, low 25).
    pub const fn weight(self) -> u8 {
        match self {
            Priority::Urgent => 100,
            Priority::High => 75,
            Priority::Normal => 50,
            Priority::Low => 25,
        }
    }
}

/// What a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A pending move past its due time.
    MoveOverdue,
    /// Moves waiting for a decision for more than a day.
    MovesStale,
    /// A contact replied to an email we sent.
    ReplyReceived,
    /// An agent run failed or timed out (and nobody dismissed it).
    RunFailed,
    /// An open alert: a connector about to expire or failing, a hygiene finding.
    Alert,
    /// An open deal with risk flags.
    DealAtRisk,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 6] = [
        NotificationKind::MoveOverdue,
        NotificationKind::MovesStale,
        NotificationKind::ReplyReceived,
        NotificationKind::RunFailed,
        NotificationKind::Alert,
        NotificationKind::DealAtRisk,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            NotificationKind::MoveOverdue => "move_overdue",
            NotificationKind::MovesStale => "moves_stale",
            NotificationKind::ReplyReceived => "reply_received",
            NotificationKind::RunFailed => "run_failed",
            NotificationKind::Alert => "alert",
            NotificationKind::DealAtRisk => "deal_at_risk",
        }
    }
}

/// Unread notifications per priority.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PriorityCounts {
    pub urgent: u32,
    pub high: u32,
    pub normal: u32,
    pub low: u32,
}

impl PriorityCounts {
    pub fn add(&mut self, priority: Priority) {
        let slot = match priority {
            Priority::Urgent => &mut self.urgent,
            Priority::High => &mut self.high,
            Priority::Normal => &mut self.normal,
            Priority::Low => &mut self.low,
        };
        *slot = slot.saturating_add(1);
    }

    pub fn total(&self) -> u32 {
        self.urgent + self.high + self.normal + self.low
    }
}

/// The one-line summary of what's up: nothing, or how many of each priority and the first
/// thing to look at.
pub fn summary(counts: &PriorityCounts, first: Option<&str>) -> String {
    if counts.total() == 0 {
        return "All clear: nothing needs you right now.".into();
    }
    let mut parts = Vec::new();
    for (n, word) in [
        (counts.urgent, "urgent"),
        (counts.high, "high priority"),
        (counts.normal + counts.low, "other"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    let noun = if counts.total() == 1 {
        "notification"
    } else {
        "notifications"
    };
    match first {
        Some(first) => format!(
            "{} {noun} ({}). First: {first}",
            counts.total(),
            parts.join(", ")
        ),
        None => format!("{} {noun} ({}).", counts.total(), parts.join(", ")),
    }
}

/// Mark a notification read, or acknowledged (dealt with: it leaves the unread list and
/// the counts). Repeating either changes nothing.
#[derive(Clone, Debug, PartialEq)]
pub enum ReceiptCommand {
    Read {
        notification_id: Uuid,
        user: String,
        at: DateTime<Utc>,
    },
    Acknowledge {
        notification_id: Uuid,
        user: String,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReceiptEvent {
    NotificationRead(ReceiptMarked),
    NotificationAcknowledged(ReceiptMarked),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReceiptMarked {
    pub notification_id: Uuid,
    pub user: String,
    pub at: DateTime<Utc>,
}

/// One user's receipt of one notification.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ReceiptView {
    pub id: Uuid,
    pub notification_id: Uuid,
    pub user: String,
    pub read_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub version: u64,
}

/// The receipt aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NotificationReceipt {
    pub receipt: Option<ReceiptView>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("a receipt's id is derived from its notification and user; this one is another's")]
    WrongReceipt,
}

impl DomainError for ReceiptError {
    fn code(&self) -> &'static str {
        "notification.wrong_receipt"
    }

    fn kind(&self) -> RejectionKind {
        RejectionKind::Conflict
    }
}

impl Aggregate for NotificationReceipt {
    const TYPE: &'static str = "notification_receipt";
    const EVENT_VERSION: &'static str = RECEIPT_EVENT_VERSION;
    type Command = ReceiptCommand;
    type Event = ReceiptEvent;
    type Error = ReceiptError;
    type View = ReceiptView;

    fn command_name(command: &ReceiptCommand) -> &'static str {
        match command {
            ReceiptCommand::Read { .. } => "read",
            ReceiptCommand::Acknowledge { .. } => "acknowledge",
        }
    }

    fn event_name(event: &ReceiptEvent) -> &'static str {
        match event {
            ReceiptEvent::NotificationRead(_) => "NotificationRead",
            ReceiptEvent::NotificationAcknowledged(_) => "NotificationAcknowledged",
        }
    }

    fn view(&self) -> Option<&ReceiptView> {
        self.receipt.as_ref()
    }

    fn into_view(self) -> Option<ReceiptView> {
        self.receipt
    }

    fn ownership(&self) -> Option<Ownership> {
        self.receipt.as_ref().map(|r| Ownership {
            owner: Actor::user(r.user.clone()),
            disclosed: false,
        })
    }

    fn decide(&self, command: ReceiptCommand) -> Result<Vec<ReceiptEvent>, ReceiptError> {
        let (acknowledge, notification_id, user, at) = match command {
            ReceiptCommand::Read {
                notification_id,
                user,
                at,
            } => (false, notification_id, user, at),
            ReceiptCommand::Acknowledge {
                notification_id,
                user,
                at,
            } => (true, notification_id, user, at),
        };
        if let Some(r) = &self.receipt {
            if r.notification_id != notification_id || r.user != user {
                return Err(ReceiptError::WrongReceipt);
            }
            let done = if acknowledge {
                r.acknowledged_at.is_some()
            } else {
                r.read_at.is_some()
            };
            if done {
                return Ok(Vec::new());
            }
        }
        let marked = ReceiptMarked {
            notification_id,
            user,
            at,
        };
        Ok(vec![if acknowledge {
            ReceiptEvent::NotificationAcknowledged(marked)
        } else {
            ReceiptEvent::NotificationRead(marked)
        }])
    }

    fn apply(&mut self, event: ReceiptEvent) {
        let (acknowledged, e) = match event {
            ReceiptEvent::NotificationRead(e) => (false, e),
            ReceiptEvent::NotificationAcknowledged(e) => (true, e),
        };
        let receipt = self.receipt.get_or_insert_with(|| ReceiptView {
            id: receipt_id(e.notification_id, &e.user),
            notification_id: e.notification_id,
            user: e.user.clone(),
            read_at: None,
            acknowledged_at: None,
            version: 0,
        });
        receipt.version += 1;
        // Acknowledging is reading too.
        receipt.read_at.get_or_insert(e.at);
        if acknowledged {
            receipt.acknowledged_at.get_or_insert(e.at);
        }
    }
}
