//! Outcomes: what came of a move in the world — an email sent, a reply, a bounce, a meeting
//! booked, a deal advanced or lost — each recorded once (aggregate `outcome`, id
//! [`outcome_id`] of its key) with the seed's 20 types and their impacts, so the next
//! moves' APS can learn from them ([`learning`]).

pub mod learning;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, RejectionKind};
use crate::kernel::{Actor, EmailAddress};
use crate::queue::ActionType;

#[cfg(test)]
mod tests;

pub const OUTCOME_EVENT_VERSION: &str = "1";

const OUTCOME_NAMESPACE: Uuid = Uuid::from_u128(0x9b4d_2e71_c0a5_4f36_8e12_77d3_a0f4_5c68);

/// The id of the outcome with this key (`execution:<id>:email_sent`,
/// `gmail:<message id>:email_replied`, `deal:<id>:<event position>`): the same fact
/// recorded twice names the same outcome.
pub fn outcome_id(key: &str) -> Uuid {
    Uuid::new_v5(&OUTCOME_NAMESPACE, key.as_bytes())
}

macro_rules! outcome_types {
    ($( $variant:ident => $name:literal, $impact:literal, $label:literal; )+) => {
        /// The seed's 20 outcome types.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum OutcomeType { $( $variant, )+ }

        impl OutcomeType {
            pub const ALL: &'static [OutcomeType] = &[ $( OutcomeType::$variant, )+ ];

            pub const fn as_str(self) -> &'static str {
                match self { $( OutcomeType::$variant => $name, )+ }
            }

            /// Its impact on the seed's scale (−8 … +10), before confidence.
            pub const fn impact(self) -> i8 {
                match self { $( OutcomeType::$variant => $impact, )+ }
            }

            /// What happened, as a phrase: "replied".
            pub const fn label(self) -> &'static str {
                match self { $( OutcomeType::$variant => $label, )+ }
            }
        }
    };
}

outcome_types! {
    EmailSent => "email_sent", 0, "was emailed";
    EmailOpened => "email_opened", 2, "opened the email";
    EmailClicked => "email_clicked", 4, "clicked a link in the email";
    EmailReplied => "email_replied", 8, "replied to the email";
    EmailBounced => "email_bounced", -5, "bounced the email";
    EmailUnsubscribed => "email_unsubscribed", -8, "unsubscribed";
    MeetingBooked => "meeting_booked", 10, "booked a meeting";
    MeetingHeld => "meeting_held", 9, "held the meeting";
    MeetingNoShow => "meeting_no_show", -4, "did not show up to the meeting";
    MeetingRescheduled => "meeting_rescheduled", 1, "rescheduled the meeting";
    DealCreated => "deal_created", 10, "has a new deal";
    DealStageAdvanced => "deal_stage_advanced", 7, "advanced a stage";
    DealStageRegressed => "deal_stage_regressed", -5, "moved back a stage";
    DealWon => "deal_won", 10, "was won";
    DealLost => "deal_lost", -7, "was lost";
    TaskCompleted => "task_completed", 3, "completed the task";
    TaskOverdue => "task_overdue", -2, "let the task go overdue";
    PositiveResponse => "positive_response", 6, "responded positively";
    NegativeResponse => "negative_response", -6, "responded negatively";
    NoResponse => "no_response", -1, "did not respond";
}

impl OutcomeType {
    pub fn parse(raw: &str) -> Option<OutcomeType> {
        OutcomeType::ALL.iter().copied().find(|t| t.as_str() == raw)
    }

    /// Whether it ends a contact's pending follow-ups, as a HubSpot sequence unenrolls on a
    /// reply, a booked meeting, a bounce or an unsubscribe.
    pub const fn unenrolls(self) -> bool {
        matches!(
            self,
            OutcomeType::EmailReplied
                | OutcomeType::MeetingBooked
                | OutcomeType::EmailBounced
                | OutcomeType::EmailUnsubscribed
        )
    }
}

/// Where an outcome was observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutcomeSource {
    Gmail,
    Hubspot,
    Calendar,
    Manual,
    /// CaseyOS itself (an execution's result, a deal's change).
    System,
}

impl OutcomeSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            OutcomeSource::Gmail => "gmail",
            OutcomeSource::Hubspot => "hubspot",
            OutcomeSource::Calendar => "calendar",
            OutcomeSource::Manual => "manual",
            OutcomeSource::System => "system",
        }
    }
}

/// Who an outcome is about.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OutcomeSubject {
    /// The CaseyOS contact (or the CRM's id, when the move named that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailAddress>,
    /// The person's name as shown in reasons ("Dana Lee").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The company's email domain (`acme.io`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal_id: Option<Uuid>,
}

impl OutcomeSubject {
    /// How reasons name them: the name, else the email, else "the contact".
    pub fn who(&self) -> String {
        self.name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| self.email.as_ref().map(|e| e.as_str().to_string()))
            .unwrap_or_else(|| "the contact".into())
    }
}

/// Record an outcome (a second record of the same key changes nothing).
#[derive(Clone, Debug, PartialEq)]
pub struct RecordOutcome {
    pub key: String,
    pub outcome_type: OutcomeType,
    pub source: OutcomeSource,
    /// How sure the observation is, in percent (a keyword-detected reply intent is less sure
    /// than a provider's status).
    pub confidence: u8,
    pub subject: OutcomeSubject,
    /// The move it came of, its type and its execution, when known.
    pub item_id: Option<Uuid>,
    pub action_type: Option<ActionType>,
    pub execution_id: Option<Uuid>,
    /// What happened, for people: "replied to \"Quick check-in\"".
    pub summary: String,
    /// When it happened in the world (data).
    pub occurred_at: DateTime<Utc>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OutcomeCommand {
    Record(Box<RecordOutcome>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OutcomeEvent {
    OutcomeRecorded(Box<OutcomeRecorded>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRecorded {
    pub outcome_id: Uuid,
    pub key: String,
    pub outcome_type: OutcomeType,
    pub source: OutcomeSource,
    pub confidence: u8,
    /// The impact recorded: the type's impact × confidence, in hundredths of a point.
    pub impact_centi: i32,
    pub subject: OutcomeSubject,
    pub item_id: Option<Uuid>,
    pub action_type: Option<ActionType>,
    pub execution_id: Option<Uuid>,
    pub summary: String,
    pub occurred_at: DateTime<Utc>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// One outcome, as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OutcomeView {
    pub id: Uuid,
    pub key: String,
    pub outcome_type: OutcomeType,
    pub source: OutcomeSource,
    pub confidence: u8,
    /// Impact × confidence, in points (`7.6`).
    pub impact: f64,
    pub subject: OutcomeSubject,
    pub item_id: Option<Uuid>,
    pub action_type: Option<ActionType>,
    pub execution_id: Option<Uuid>,
    pub summary: String,
    pub occurred_at: DateTime<Utc>,
    pub recorded_by: Actor,
    pub recorded_at: DateTime<Utc>,
    pub version: u64,
}

impl OutcomeView {
    pub fn impact_centi(&self) -> i32 {
        (self.impact * 100.0).round() as i32
    }
}

/// The outcome aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub outcome: Option<OutcomeView>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeError {
    #[error("an outcome's id is derived from its key; this key names another outcome")]
    WrongKey,
    #[error("confidence is a percentage, 0 to 100")]
    Confidence,
}

impl DomainError for OutcomeError {
    fn code(&self) -> &'static str {
        "request.validation"
    }

    fn kind(&self) -> RejectionKind {
        match self {
            OutcomeError::WrongKey => RejectionKind::Invalid {
                field: "key",
                message: self.to_string(),
            },
            OutcomeError::Confidence => RejectionKind::Invalid {
                field: "confidence",
                message: self.to_string(),
            },
        }
    }
}

impl Aggregate for Outcome {
    const TYPE: &'static str = "outcome";
    const EVENT_VERSION: &'static str = OUTCOME_EVENT_VERSION;
    type Command = OutcomeCommand;
    type Event = OutcomeEvent;
    type Error = OutcomeError;
    type View = OutcomeView;

    fn command_name(_: &OutcomeCommand) -> &'static str {
        "record"
    }

    fn event_name(_: &OutcomeEvent) -> &'static str {
        "OutcomeRecorded"
    }

    fn view(&self) -> Option<&OutcomeView> {
        self.outcome.as_ref()
    }

    fn into_view(self) -> Option<OutcomeView> {
        self.outcome
    }

    fn decide(&self, command: OutcomeCommand) -> Result<Vec<OutcomeEvent>, OutcomeError> {
        let OutcomeCommand::Record(record) = command;
        let id = outcome_id(&record.key);
        if let Some(existing) = &self.outcome {
            return if existing.id == id {
                Ok(Vec::new())
            } else {
                Err(OutcomeError::WrongKey)
            };
        }
        if record.confidence > 100 {
            return Err(OutcomeError::Confidence);
        }
        let record = *record;
        let impact_centi = i32::from(record.outcome_type.impact()) * i32::from(record.confidence);
        Ok(vec![OutcomeEvent::OutcomeRecorded(Box::new(
            OutcomeRecorded {
                outcome_id: id,
                key: record.key,
                outcome_type: record.outcome_type,
                source: record.source,
                confidence: record.confidence,
                impact_centi,
                subject: record.subject,
                item_id: record.item_id,
                action_type: record.action_type,
                execution_id: record.execution_id,
                summary: record.summary,
                occurred_at: record.occurred_at,
                by: record.by,
                at: record.at,
            },
        ))])
    }

    fn apply(&mut self, event: OutcomeEvent) {
        let OutcomeEvent::OutcomeRecorded(e) = event;
        let e = *e;
        self.outcome = Some(OutcomeView {
            id: e.outcome_id,
            key: e.key,
            outcome_type: e.outcome_type,
            source: e.source,
            confidence: e.confidence,
            impact: f64::from(e.impact_centi) / 100.0,
            subject: e.subject,
            item_id: e.item_id,
            action_type: e.action_type,
            execution_id: e.execution_id,
            summary: e.summary,
            occurred_at: e.occurred_at,
            recorded_by: e.by,
            recorded_at: e.at,
            version: 1,
        });
    }
}
