//! Quotas: what an owner is expected to close in a forecast period. One aggregate per
//! owner and period (`quota`, its id derived from both), set and replaced by commands, so
//! the forecast's attainment and coverage trace back to the event that set the quota.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, Ownership, RejectionKind};
use crate::forecast::Period;
use crate::kernel::{Actor, Money, UserName};

#[cfg(test)]
mod tests;

/// The version every quota event is written with.
pub const QUOTA_EVENT_VERSION: &str = "1";

/// The namespace of quota ids: `uuid v5(namespace, "{owner}\u{1f}{period}")`.
const QUOTA_NAMESPACE: Uuid = Uuid::from_u128(0x5c1e_7a0e_9b3d_4f21_8d6a_0c4b_2e91_7f35);

/// The quota aggregate of one owner and period: `None` until set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quota {
    pub quota: Option<QuotaView>,
}

impl Quota {
    /// The id of `owner`'s quota for `period`: the same owner and period always name the
    /// same aggregate, so setting a quota twice replaces it.
    pub fn id_of(owner: &str, period: Period) -> Uuid {
        Uuid::new_v5(
            &QUOTA_NAMESPACE,
            format!("{owner}\u{1f}{period}").as_bytes(),
        )
    }
}

/// One owner's quota for one period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct QuotaView {
    pub id: Uuid,
    pub owner: String,
    /// `2026-11` or `2026-Q4` (a fiscal quarter).
    #[cfg_attr(feature = "server", schema(value_type = String, example = "2026-Q4"))]
    pub period: Period,
    pub amount: Money,
    pub set_by: Actor,
    pub set_at: DateTime<Utc>,
    /// The number of events folded into this state (the aggregate sequence).
    pub version: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum QuotaCommand {
    /// Set (or replace) the quota; the same amount again records nothing.
    Set {
        owner: UserName,
        period: Period,
        amount: Money,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum QuotaEvent {
    QuotaSet(QuotaSet),
}

/// A quota was set: the whole quota (a later one replaces it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotaSet {
    pub owner: String,
    pub period: Period,
    pub amount: Money,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuotaError {
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl DomainError for QuotaError {
    fn code(&self) -> &'static str {
        "request.validation"
    }

    fn kind(&self) -> RejectionKind {
        match self {
            QuotaError::Invalid { field, message } => RejectionKind::Invalid {
                field,
                message: message.clone(),
            },
        }
    }
}

impl Aggregate for Quota {
    const TYPE: &'static str = "quota";
    const EVENT_VERSION: &'static str = QUOTA_EVENT_VERSION;
    type Command = QuotaCommand;
    type Event = QuotaEvent;
    type Error = QuotaError;
    type View = QuotaView;

    fn command_name(_: &QuotaCommand) -> &'static str {
        "set"
    }

    fn event_name(_: &QuotaEvent) -> &'static str {
        "QuotaSet"
    }

    fn view(&self) -> Option<&QuotaView> {
        self.quota.as_ref()
    }

    fn into_view(self) -> Option<QuotaView> {
        self.quota
    }

    /// A quota is its owner's; others learn it is someone else's.
    fn ownership(&self) -> Option<Ownership> {
        self.quota.as_ref().map(|quota| Ownership {
            owner: Actor::user(quota.owner.clone()),
            disclosed: true,
        })
    }

    fn decide(&self, command: QuotaCommand) -> Result<Vec<QuotaEvent>, QuotaError> {
        let QuotaCommand::Set {
            owner,
            period,
            amount,
            by,
            at,
        } = command;
        if amount.minor < 0 {
            return Err(QuotaError::Invalid {
                field: "amount",
                message: "must not be negative".into(),
            });
        }
        if let Some(current) = &self.quota {
            if current.owner != owner.as_str() || current.period != period {
                return Err(QuotaError::Invalid {
                    field: "owner",
                    message: "this quota belongs to another owner or period".into(),
                });
            }
            if current.amount == amount {
                return Ok(Vec::new());
            }
        }
        Ok(vec![QuotaEvent::QuotaSet(QuotaSet {
            owner: owner.into_string(),
            period,
            amount,
            by,
            at,
        })])
    }

    fn apply(&mut self, event: QuotaEvent) {
        let QuotaEvent::QuotaSet(e) = event;
        let version = self.quota.as_ref().map_or(0, |q| q.version) + 1;
        self.quota = Some(QuotaView {
            id: Quota::id_of(&e.owner, e.period),
            owner: e.owner,
            period: e.period,
            amount: e.amount,
            set_by: e.by,
            set_at: e.at,
            version,
        });
    }
}
