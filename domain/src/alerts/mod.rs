//! Alerts: something about the data that needs a person's eye (contacts untouched for 90
//! days, a burst of new duplicates, a CRM sync that stopped), raised by hygiene agents.
//!
//! `raised → dismissed | resolved`; a resolved alert whose condition comes back is raised
//! again. An alert's id is derived from its stable key (`contact.stale/2026-11-30`,
//! `sync.unhealthy/<sync id>`), so raising the same condition twice names the same alert:
//! raising an open alert again records nothing, and a dismissed one stays dismissed — it
//! comes back only under a new key (the next day, the next sync).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, RejectionKind};
use crate::kernel::{Actor, Text};

#[cfg(test)]
mod tests;

/// The version every alert event is written with.
pub const ALERT_EVENT_VERSION: &str = "1";
/// The longest title.
pub const MAX_ALERT_TITLE_CHARS: usize = 200;
/// The longest message.
pub const MAX_ALERT_MESSAGE_CHARS: usize = 4000;
/// The longest key.
pub const MAX_ALERT_KEY_CHARS: usize = 200;

/// The namespace of alert ids: an alert's id is `Uuid::new_v5` of its key.
const ALERT_NAMESPACE: Uuid = Uuid::from_u128(0x3c1f_9a42_7d6e_4b1a_8e0f_5a2b_9c7d_1e34);

/// The id of the alert with this key.
pub fn alert_id(key: &str) -> Uuid {
    Uuid::new_v5(&ALERT_NAMESPACE, key.as_bytes())
}

/// What an alert is about (a stable code).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum AlertKind {
    /// Contacts nobody touched for 90 days or more.
    #[serde(rename = "contact.stale")]
    ContactStale,
    /// More new open duplicate pairs in one run than the threshold.
    #[serde(rename = "duplicates.surge")]
    DuplicatesSurge,
    /// The CRM sync is late (degraded).
    #[serde(rename = "sync.degraded")]
    SyncDegraded,
    /// The CRM sync stopped or fails (unhealthy).
    #[serde(rename = "sync.unhealthy")]
    SyncUnhealthy,
    /// A connector's token expires within 24 hours and cannot be refreshed.
    #[serde(rename = "connector.expiring")]
    ConnectorExpiring,
    /// A connector's token could not be refreshed (or was refused): it needs reconnecting.
    #[serde(rename = "connector.failing")]
    ConnectorFailing,
    /// A connector had to start reading its changes again from now (Gmail's history id was
    /// too old): what changed in between was not read.
    #[serde(rename = "connector.resynced")]
    ConnectorResynced,
}

impl AlertKind {
    pub const ALL: &'static [AlertKind] = &[
        AlertKind::ContactStale,
        AlertKind::DuplicatesSurge,
        AlertKind::SyncDegraded,
        AlertKind::SyncUnhealthy,
        AlertKind::ConnectorExpiring,
        AlertKind::ConnectorFailing,
        AlertKind::ConnectorResynced,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AlertKind::ContactStale => "contact.stale",
            AlertKind::DuplicatesSurge => "duplicates.surge",
            AlertKind::SyncDegraded => "sync.degraded",
            AlertKind::SyncUnhealthy => "sync.unhealthy",
            AlertKind::ConnectorExpiring => "connector.expiring",
            AlertKind::ConnectorFailing => "connector.failing",
            AlertKind::ConnectorResynced => "connector.resynced",
        }
    }

    pub fn parse(raw: &str) -> Option<AlertKind> {
        AlertKind::ALL.iter().copied().find(|k| k.as_str() == raw)
    }
}

/// How urgent an alert is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertSeverity {
    Urgent,
    High,
    Normal,
    Low,
}

impl AlertSeverity {
    pub const ALL: &'static [AlertSeverity] = &[
        AlertSeverity::Urgent,
        AlertSeverity::High,
        AlertSeverity::Normal,
        AlertSeverity::Low,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AlertSeverity::Urgent => "urgent",
            AlertSeverity::High => "high",
            AlertSeverity::Normal => "normal",
            AlertSeverity::Low => "low",
        }
    }

    /// 0 for urgent … 3 for low (the list's order).
    pub const fn rank(self) -> i16 {
        match self {
            AlertSeverity::Urgent => 0,
            AlertSeverity::High => 1,
            AlertSeverity::Normal => 2,
            AlertSeverity::Low => 3,
        }
    }

    pub fn parse(raw: &str) -> Option<AlertSeverity> {
        AlertSeverity::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == raw)
    }
}

/// What an alert names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum AlertSubject {
    Contact(Uuid),
    DuplicatePair(Uuid),
    /// A CRM sync run.
    Sync(Uuid),
}

/// Where an alert stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    Dismissed,
    /// Its condition cleared.
    Resolved,
}

impl AlertStatus {
    pub const ALL: &'static [AlertStatus] = &[
        AlertStatus::Open,
        AlertStatus::Dismissed,
        AlertStatus::Resolved,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Dismissed => "dismissed",
            AlertStatus::Resolved => "resolved",
        }
    }

    pub fn parse(raw: &str) -> Option<AlertStatus> {
        AlertStatus::ALL.iter().copied().find(|s| s.as_str() == raw)
    }
}

/// What raising an alert says.
#[derive(Clone, Debug, PartialEq)]
pub struct RaiseAlert {
    /// The stable key the id is derived from ([`alert_id`]).
    pub key: Text,
    pub kind: AlertKind,
    pub severity: AlertSeverity,
    pub title: Text,
    pub message: Text,
    pub subjects: Vec<AlertSubject>,
    /// The agent run that raised it.
    pub run_id: Option<Uuid>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AlertCommand {
    Raise(Box<RaiseAlert>),
    /// A person saw it and put it away.
    Dismiss {
        by: Actor,
        at: DateTime<Utc>,
    },
    /// The condition cleared (`run_id`: the run that saw it clear).
    Resolve {
        run_id: Option<Uuid>,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AlertEvent {
    AlertRaised(Box<AlertRaised>),
    AlertDismissed(AlertDismissed),
    AlertResolved(AlertResolved),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRaised {
    pub alert_id: Uuid,
    pub key: String,
    pub kind: AlertKind,
    pub severity: AlertSeverity,
    pub title: String,
    pub message: String,
    pub subjects: Vec<AlertSubject>,
    pub run_id: Option<Uuid>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertDismissed {
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertResolved {
    pub run_id: Option<Uuid>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// A person's or an agent's closing of an alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AlertClosed {
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// One alert, as the API shows it and audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AlertView {
    pub id: Uuid,
    pub key: String,
    pub kind: AlertKind,
    pub severity: AlertSeverity,
    pub status: AlertStatus,
    pub title: String,
    pub message: String,
    pub subjects: Vec<AlertSubject>,
    /// The run that last raised it.
    pub raised_by_run: Option<Uuid>,
    pub raised_by: Actor,
    /// When it was (last) raised.
    pub raised_at: DateTime<Utc>,
    pub dismissed: Option<AlertClosed>,
    pub resolved: Option<AlertClosed>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// The alert aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub alert: Option<AlertView>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    #[error("alert not found")]
    NotFound,
    #[error("the alert's condition already cleared; there is nothing to dismiss")]
    AlreadyResolved,
    #[error("an alert's id is derived from its key; this key names another alert")]
    WrongKey,
}

impl DomainError for AlertError {
    fn code(&self) -> &'static str {
        match self {
            AlertError::NotFound => "alert.not_found",
            AlertError::AlreadyResolved => "alert.already_resolved",
            AlertError::WrongKey => "request.validation",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            AlertError::NotFound => RejectionKind::NotFound,
            AlertError::AlreadyResolved => RejectionKind::Conflict,
            AlertError::WrongKey => RejectionKind::Invalid {
                field: "key",
                message: self.to_string(),
            },
        }
    }
}

impl Aggregate for Alert {
    const TYPE: &'static str = "alert";
    const EVENT_VERSION: &'static str = ALERT_EVENT_VERSION;
    type Command = AlertCommand;
    type Event = AlertEvent;
    type Error = AlertError;
    type View = AlertView;

    fn command_name(command: &AlertCommand) -> &'static str {
        match command {
            AlertCommand::Raise(_) => "raise",
            AlertCommand::Dismiss { .. } => "dismiss",
            AlertCommand::Resolve { .. } => "resolve",
        }
    }

    fn event_name(event: &AlertEvent) -> &'static str {
        match event {
            AlertEvent::AlertRaised(_) => "AlertRaised",
            AlertEvent::AlertDismissed(_) => "AlertDismissed",
            AlertEvent::AlertResolved(_) => "AlertResolved",
        }
    }

    fn view(&self) -> Option<&AlertView> {
        self.alert.as_ref()
    }

    fn into_view(self) -> Option<AlertView> {
        self.alert
    }

    fn decide(&self, command: AlertCommand) -> Result<Vec<AlertEvent>, AlertError> {
        let event = match command {
            AlertCommand::Raise(raise) => {
                let id = alert_id(raise.key.as_str());
                if let Some(alert) = &self.alert {
                    if alert.id != id {
                        return Err(AlertError::WrongKey);
                    }
                    // Open: already raised. Dismissed: a person put it away; the same
                    // key never brings it back.
                    if alert.status != AlertStatus::Resolved {
                        return Ok(Vec::new());
                    }
                }
                let raise = *raise;
                AlertEvent::AlertRaised(Box::new(AlertRaised {
                    alert_id: id,
                    key: raise.key.into_string(),
                    kind: raise.kind,
                    severity: raise.severity,
                    title: raise.title.into_string(),
                    message: raise.message.into_string(),
                    subjects: raise.subjects,
                    run_id: raise.run_id,
                    by: raise.by,
                    at: raise.at,
                }))
            }
            AlertCommand::Dismiss { by, at } => {
                let alert = self.alert.as_ref().ok_or(AlertError::NotFound)?;
                match alert.status {
                    AlertStatus::Open => AlertEvent::AlertDismissed(AlertDismissed { by, at }),
                    AlertStatus::Dismissed => return Ok(Vec::new()),
                    AlertStatus::Resolved => return Err(AlertError::AlreadyResolved),
                }
            }
            AlertCommand::Resolve { run_id, by, at } => {
                let alert = self.alert.as_ref().ok_or(AlertError::NotFound)?;
                if alert.status != AlertStatus::Open {
                    return Ok(Vec::new());
                }
                AlertEvent::AlertResolved(AlertResolved { run_id, by, at })
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: AlertEvent) {
        match event {
            AlertEvent::AlertRaised(e) => {
                let e = *e;
                let version = self.alert.as_ref().map_or(0, |a| a.version) + 1;
                self.alert = Some(AlertView {
                    id: e.alert_id,
                    key: e.key,
                    kind: e.kind,
                    severity: e.severity,
                    status: AlertStatus::Open,
                    title: e.title,
                    message: e.message,
                    subjects: e.subjects,
                    raised_by_run: e.run_id,
                    raised_by: e.by,
                    raised_at: e.at,
                    dismissed: None,
                    resolved: None,
                    updated_at: e.at,
                    version,
                });
            }
            AlertEvent::AlertDismissed(e) => {
                if let Some(alert) = self.alert.as_mut() {
                    alert.status = AlertStatus::Dismissed;
                    alert.updated_at = e.at;
                    alert.dismissed = Some(AlertClosed { by: e.by, at: e.at });
                    alert.version += 1;
                }
            }
            AlertEvent::AlertResolved(e) => {
                if let Some(alert) = self.alert.as_mut() {
                    alert.status = AlertStatus::Resolved;
                    alert.updated_at = e.at;
                    alert.resolved = Some(AlertClosed { by: e.by, at: e.at });
                    alert.version += 1;
                }
            }
        }
    }
}
