//! Signals: something happened outside (a HubSpot deal moved, a reply arrived, a form was
//! submitted) or a rule noticed something (a deal stalled), recorded once, then turned by a
//! processor into a proposed move — or into a recorded reason why not.
//!
//! `received → processed(proposed | skipped | failed)`; a failed processing may be recorded
//! again (a retry), a proposed or skipped one may not.
//!
//! A signal's id is derived from its source and dedup key ([`Signal::id_of`]), so the event
//! store's primary key `(aggregate_type, aggregate_id, sequence)` is the unique constraint
//! on `(source, dedup_key)`: of two concurrent receipts of the same signal only one appends
//! its first event; the other is decided again on the stored state and records nothing
//! (answered as a duplicate).
//!
//! [`processors`] are the pure rules that turn a signal into a move; [`rules`] the pure
//! conditions the periodic sweep evaluates over deals and contacts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, RejectionKind};
use crate::kernel::{Actor, EmailAddress, Text};

pub mod processors;
pub mod rules;

#[cfg(test)]
mod tests;

/// The version every signal event is written with.
pub const SIGNAL_EVENT_VERSION: &str = "1";
/// The longest dedup key.
pub const MAX_DEDUP_KEY_CHARS: usize = 200;
/// The largest payload, in bytes of compact JSON.
pub const MAX_SIGNAL_PAYLOAD_BYTES: usize = 64 * 1024;

/// The namespace of signal ids: `Uuid::new_v5(SIGNAL_NAMESPACE, "<source>|<dedup key>")`.
const SIGNAL_NAMESPACE: Uuid = Uuid::from_u128(0x5e1a_7c93_2b4d_4f8e_9a16_0d3c_7b52_e981);

macro_rules! names {
    ($(#[$meta:meta])* $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $( $(#[$vmeta])* $variant, )+ }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            pub const fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $text, )+ }
            }

            /// The value named `raw` (exactly as [`Self::as_str`] writes it).
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == raw)
            }
        }
    };
}

names!(
    /// Where a signal came from.
    SignalSource {
        /// A HubSpot webhook event (dedup key: HubSpot's `eventId`).
        Hubspot = "hubspot",
        /// A Gmail message found by the history poller (dedup key: the message id).
        Gmail = "gmail",
        /// A signed form submission (`POST /api/webhooks/forms/{form}`).
        Form = "form",
        /// Recorded by a person (`POST /api/signals`).
        Manual = "manual",
        /// A calendar event or response.
        Calendar = "calendar",
        /// A rule CaseyOS evaluated (dedup key: `rule|entity|day`).
        Rule = "rule",
    }
);

names!(
    /// What a signal says happened.
    SignalKind {
        DealCreated = "deal_created",
        DealStageChanged = "deal_stage_changed",
        DealAmountChanged = "deal_amount_changed",
        ReplyReceived = "reply_received",
        FormSubmitted = "form_submitted",
        /// Rule: an open deal without a change for 7 days or more.
        DealStalled = "deal_stalled",
        /// Rule: an open deal closing in 0–7 days.
        DealClosingSoon = "deal_closing_soon",
        /// Rule: a deal of $50k or more that changed within a day.
        BigDealMoved = "big_deal_moved",
        /// Rule: a contact last contacted 14–90 days ago.
        LeadGoneCold = "lead_gone_cold",
        /// A person's note of something to do.
        Manual = "manual",
    }
);

names!(
    /// What processing a signal came to.
    OutcomeStatus {
        /// A move was proposed (or had been, by this signal, before a retry).
        Proposed = "proposed",
        /// Nothing to propose, and why.
        Skipped = "skipped",
        /// Proposing failed; processing may be retried.
        Failed = "failed",
    }
);

/// The records a signal is about (any may be absent).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SignalEntities {
    /// A CaseyOS contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<Uuid>,
    /// The person's address (a form's submitter, a reply's sender).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<EmailAddress>,
    /// A CaseyOS deal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal_id: Option<Uuid>,
}

/// What processing a signal came to: a proposed move (its id and title), a skip (its reason
/// code and why in words, and the move that already covers it when there is one), or a
/// failure (its code and message).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SignalOutcome {
    pub status: OutcomeStatus,
    /// The move proposed, or the move of the same rule, entity and day that already existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<Uuid>,
    /// The proposed move's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Why nothing was proposed (`missing_email`, `already_proposed`, `deal_closed`, …) or
    /// what failed (a stable error code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// In words.
    pub message: String,
}

impl SignalOutcome {
    pub fn proposed(item_id: Uuid, title: impl Into<String>) -> Self {
        let title = title.into();
        SignalOutcome {
            status: OutcomeStatus::Proposed,
            item_id: Some(item_id),
            message: format!("proposed: {title}"),
            title: Some(title),
            code: None,
        }
    }

    pub fn skipped(code: &str, message: impl Into<String>, item_id: Option<Uuid>) -> Self {
        SignalOutcome {
            status: OutcomeStatus::Skipped,
            item_id,
            title: None,
            code: Some(code.to_string()),
            message: message.into(),
        }
    }

    pub fn failed(code: &str, message: impl Into<String>) -> Self {
        SignalOutcome {
            status: OutcomeStatus::Failed,
            item_id: None,
            title: None,
            code: Some(code.to_string()),
            message: message.into(),
        }
    }
}

/// How a signal was processed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SignalProcessing {
    /// The processor that ran (`form_follow_up`, `hubspot_deal`, `gmail_reply`,
    /// `deal_rules`, `lead_rules`, `manual`).
    pub processor: String,
    pub outcome: SignalOutcome,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// One signal, as the API shows it and audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SignalView {
    pub id: Uuid,
    pub source: SignalSource,
    /// What makes it unique within its source.
    pub dedup_key: String,
    pub kind: SignalKind,
    /// What the source said (a JSON object; its shape depends on the kind).
    #[cfg_attr(feature = "server", schema(value_type = Object))]
    pub payload: Value,
    pub entities: SignalEntities,
    /// When it happened (data, not when it was recorded).
    pub occurred_at: DateTime<Utc>,
    pub recorded_by: Actor,
    pub recorded_at: DateTime<Utc>,
    /// The last processing; absent while it waits.
    pub processed: Option<SignalProcessing>,
    pub version: u64,
}

/// The signal aggregate (type `signal`, id [`Signal::id_of`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub signal: Option<SignalView>,
}

impl Signal {
    /// The id of the signal with this source and dedup key.
    pub fn id_of(source: SignalSource, dedup_key: &str) -> Uuid {
        Uuid::new_v5(
            &SIGNAL_NAMESPACE,
            format!("{}|{dedup_key}", source.as_str()).as_bytes(),
        )
    }
}

/// What recording a signal says.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordSignal {
    pub source: SignalSource,
    pub dedup_key: Text,
    pub kind: SignalKind,
    pub payload: Value,
    pub entities: SignalEntities,
    pub occurred_at: DateTime<Utc>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SignalCommand {
    /// Record a signal; a signal already recorded records nothing (a duplicate).
    Record(Box<RecordSignal>),
    /// Record what processing it came to (nothing when it was processed already, unless
    /// that processing failed).
    MarkProcessed {
        processor: String,
        outcome: SignalOutcome,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SignalEvent {
    SignalReceived(Box<SignalReceived>),
    SignalProcessed(SignalProcessed),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalReceived {
    pub signal_id: Uuid,
    pub source: SignalSource,
    pub dedup_key: String,
    pub kind: SignalKind,
    pub payload: Value,
    pub entities: SignalEntities,
    pub occurred_at: DateTime<Utc>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalProcessed {
    pub processor: String,
    pub outcome: SignalOutcome,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    #[error("signal not found")]
    NotFound,
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl DomainError for SignalError {
    fn code(&self) -> &'static str {
        match self {
            SignalError::NotFound => "signal.not_found",
            SignalError::Invalid { .. } => "request.validation",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            SignalError::NotFound => RejectionKind::NotFound,
            SignalError::Invalid { field, message } => RejectionKind::Invalid {
                field,
                message: message.clone(),
            },
        }
    }
}

fn check_payload(payload: &Value) -> Result<(), SignalError> {
    let invalid = |message: String| SignalError::Invalid {
        field: "payload",
        message,
    };
    if !payload.is_object() {
        return Err(invalid("must be a JSON object".into()));
    }
    if serde_json::to_vec(payload).map_or(0, |b| b.len()) > MAX_SIGNAL_PAYLOAD_BYTES {
        return Err(invalid(format!(
            "must be at most {MAX_SIGNAL_PAYLOAD_BYTES} bytes of JSON"
        )));
    }
    Ok(())
}

impl Aggregate for Signal {
    const TYPE: &'static str = "signal";
    const EVENT_VERSION: &'static str = SIGNAL_EVENT_VERSION;
    type Command = SignalCommand;
    type Event = SignalEvent;
    type Error = SignalError;
    type View = SignalView;

    fn command_name(command: &SignalCommand) -> &'static str {
        match command {
            SignalCommand::Record(_) => "record",
            SignalCommand::MarkProcessed { .. } => "mark_processed",
        }
    }

    fn event_name(event: &SignalEvent) -> &'static str {
        match event {
            SignalEvent::SignalReceived(_) => "SignalReceived",
            SignalEvent::SignalProcessed(_) => "SignalProcessed",
        }
    }

    fn view(&self) -> Option<&SignalView> {
        self.signal.as_ref()
    }

    fn into_view(self) -> Option<SignalView> {
        self.signal
    }

    fn decide(&self, command: SignalCommand) -> Result<Vec<SignalEvent>, SignalError> {
        match command {
            SignalCommand::Record(record) => {
                if self.signal.is_some() {
                    // The same source and dedup key: a duplicate, answered with the stored one.
                    return Ok(Vec::new());
                }
                check_payload(&record.payload)?;
                let record = *record;
                let dedup_key = record.dedup_key.into_string();
                Ok(vec![SignalEvent::SignalReceived(Box::new(
                    SignalReceived {
                        signal_id: Signal::id_of(record.source, &dedup_key),
                        source: record.source,
                        dedup_key,
                        kind: record.kind,
                        payload: record.payload,
                        entities: record.entities,
                        occurred_at: record.occurred_at,
                        by: record.by,
                        at: record.at,
                    },
                ))])
            }
            SignalCommand::MarkProcessed {
                processor,
                outcome,
                by,
                at,
            } => {
                let signal = self.signal.as_ref().ok_or(SignalError::NotFound)?;
                let again = signal
                    .processed
                    .as_ref()
                    .is_none_or(|p| p.outcome.status == OutcomeStatus::Failed);
                if !again
                    || signal
                        .processed
                        .as_ref()
                        .is_some_and(|p| p.outcome == outcome)
                {
                    return Ok(Vec::new());
                }
                Ok(vec![SignalEvent::SignalProcessed(SignalProcessed {
                    processor,
                    outcome,
                    by,
                    at,
                })])
            }
        }
    }

    fn apply(&mut self, event: SignalEvent) {
        match event {
            SignalEvent::SignalReceived(e) => {
                let e = *e;
                self.signal = Some(SignalView {
                    id: e.signal_id,
                    source: e.source,
                    dedup_key: e.dedup_key,
                    kind: e.kind,
                    payload: e.payload,
                    entities: e.entities,
                    occurred_at: e.occurred_at,
                    recorded_by: e.by,
                    recorded_at: e.at,
                    processed: None,
                    version: 1,
                });
            }
            SignalEvent::SignalProcessed(e) => {
                if let Some(signal) = self.signal.as_mut() {
                    signal.processed = Some(SignalProcessing {
                        processor: e.processor,
                        outcome: e.outcome,
                        by: e.by,
                        at: e.at,
                    });
                    signal.version += 1;
                }
            }
        }
    }
}
