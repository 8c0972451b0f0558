//! What can be asked of a deal. Commands carry parsed values: `decide` checks rules of
//! state, never the shape of strings.
//!
//! Commands that place a deal in a stage (create, move, win, lose, reopen) carry the
//! deal's [`Pipeline`] as the command handler loaded it, so `decide` stays pure: it checks
//! the stage against that definition and copies the stage (id, label, probability, kind)
//! into the event. A pipeline changed later does not rewrite past events.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::types::{ActivityKind, DealSource};
use crate::kernel::{Actor, CrmId, Money, Text, UserName};
use crate::pipelines::{ForecastChoice, Pipeline};

#[derive(Clone, Debug, PartialEq)]
pub enum DealCommand {
    Create(Box<CreateDeal>),
    /// Move to a stage of the deal's pipeline. A won stage wins the deal; a lost stage
    /// loses it and needs `lost_reason`.
    Move(Box<MoveDeal>),
    /// Win: move to the pipeline's won stage.
    Win(Box<WinDeal>),
    /// Lose: move to the pipeline's lost stage, with a reason.
    Lose(Box<LoseDeal>),
    /// Reopen a won or lost deal into an open stage.
    Reopen(Box<ReopenDeal>),
    /// `None` clears the amount.
    ChangeAmount {
        amount: Option<Money>,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// `None` clears the close date.
    ChangeCloseDate {
        close_date: Option<NaiveDate>,
        by: Actor,
        at: DateTime<Utc>,
    },
    ChangeOwner {
        owner: UserName,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// Associate contacts (by contact id); ones already associated are skipped.
    AssociateContacts {
        contacts: Vec<Uuid>,
        by: Actor,
        at: DateTime<Utc>,
    },
    LogActivity(LogActivity),
    /// `None` clears the next step.
    SetNextStep {
        next_step: Option<Text>,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// A category chosen by a person (sticky when the stage changes), or `auto`.
    SetForecastCategory {
        choice: ForecastChoice,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct CreateDeal {
    pub id: Uuid,
    /// At most `MAX_NAME_CHARS`.
    pub name: Text,
    pub pipeline: Pipeline,
    /// An open stage of `pipeline`.
    pub stage: CrmId,
    pub amount: Option<Money>,
    pub close_date: Option<NaiveDate>,
    pub owner: UserName,
    pub source: DealSource,
    /// The deal's id in the CRM, when it came from or went to one.
    pub crm_id: Option<CrmId>,
    /// Demo data from `caseyos demo seed`.
    pub demo: bool,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MoveDeal {
    pub stage: CrmId,
    /// Required when `stage` is a lost stage; ignored otherwise.
    pub lost_reason: Option<Text>,
    pub pipeline: Pipeline,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WinDeal {
    pub pipeline: Pipeline,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoseDeal {
    /// At most `MAX_TEXT_CHARS`.
    pub reason: Text,
    pub pipeline: Pipeline,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReopenDeal {
    /// The open stage to reopen into; `None` goes back to the stage the deal was in when it
    /// closed (or the pipeline's first open stage if that one is gone).
    pub stage: Option<CrmId>,
    pub pipeline: Pipeline,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogActivity {
    /// Makes logging safe to retry: an id already logged records nothing.
    pub activity_id: Uuid,
    pub kind: ActivityKind,
    /// When it happened (a past date is data); never after `at`.
    pub happened_at: DateTime<Utc>,
    /// At most `MAX_TEXT_CHARS`.
    pub summary: Option<Text>,
    pub by: Actor,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}
