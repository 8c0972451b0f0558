//! Every aggregate type CaseyOS stores, registered once. Audit replay (`GET /api/audit`),
//! `caseyos replay` and the determinism tests find an aggregate type here by its stored
//! name; the command bus and the projections work with the [`Aggregate`] trait directly.

use serde_json::Value;

use crate::agent_run::AgentRun;
use crate::aggregate::{fold_one, Aggregate, DecodeError, Ownership, RecordedEvent};
use crate::alerts::Alert;
use crate::auto_approval::{AutoApprovalDecision, AutoApprovalRule};
use crate::chat::preferences::ChatPreferences;
use crate::chat::ChatSession;
use crate::connectors::Connector;
use crate::contact_import::ContactImport;
use crate::contacts::Contact;
use crate::crm_merges::CrmMerge;
use crate::crm_sync::CrmSync;
use crate::deals::Deal;
use crate::duplicates::DuplicatePair;
use crate::executions::settings::ExecutionSettings;
use crate::executions::ActionExecution;
use crate::notifications::NotificationReceipt;
use crate::outcomes::Outcome;
use crate::pipelines::PipelineDefinition;
use crate::queue::QueueItem;
use crate::quotas::Quota;
use crate::research::ResearchSession;
use crate::signals::Signal;
use crate::voice::{VoicePersona, VoiceSample};

/// One registered aggregate type.
#[derive(Clone, Copy)]
pub struct AggregateType {
    /// The stored name (`queue_item`).
    pub name: &'static str,
    /// Starts a replay: a fold of this type's stored events, one at a time.
    pub replay: fn() -> Box<dyn Replay>,
}

impl AggregateType {
    pub const fn of<A: Aggregate>() -> Self {
        AggregateType {
            name: A::TYPE,
            replay: replay_of::<A>,
        }
    }
}

/// A fold in progress over one aggregate's stored events, whatever its type: events go in
/// one at a time, so a long history never has to be held at once.
pub trait Replay: Send {
    /// Folds the next event in.
    fn apply(&mut self, event: RecordedEvent<'_>) -> Result<(), DecodeError>;
    /// The state so far as the API shows it (`null` before the first event).
    fn state(&self) -> Result<Value, DecodeError>;
    /// Whose it is so far ([`Aggregate::ownership`]).
    fn ownership(&self) -> Option<Ownership>;
}

struct Replaying<A>(A);

impl<A: Aggregate> Replay for Replaying<A> {
    fn apply(&mut self, event: RecordedEvent<'_>) -> Result<(), DecodeError> {
        fold_one(&mut self.0, event)
    }

    fn state(&self) -> Result<Value, DecodeError> {
        serde_json::to_value(self.0.view()).map_err(|e| DecodeError::Unrepresentable {
            aggregate_type: A::TYPE,
            message: e.to_string(),
        })
    }

    fn ownership(&self) -> Option<Ownership> {
        self.0.ownership()
    }
}

fn replay_of<A: Aggregate>() -> Box<dyn Replay> {
    Box::new(Replaying(A::default()))
}

/// Every aggregate type: a new aggregate is one line here.
pub const AGGREGATE_TYPES: &[AggregateType] = &[
    AggregateType::of::<QueueItem>(),
    AggregateType::of::<AgentRun>(),
    AggregateType::of::<Contact>(),
    AggregateType::of::<DuplicatePair>(),
    AggregateType::of::<CrmMerge>(),
    AggregateType::of::<CrmSync>(),
    AggregateType::of::<Alert>(),
    AggregateType::of::<ContactImport>(),
    AggregateType::of::<PipelineDefinition>(),
    AggregateType::of::<Deal>(),
    AggregateType::of::<Quota>(),
    AggregateType::of::<Connector>(),
    AggregateType::of::<ActionExecution>(),
    AggregateType::of::<ExecutionSettings>(),
    AggregateType::of::<Outcome>(),
    AggregateType::of::<Signal>(),
    AggregateType::of::<AutoApprovalRule>(),
    AggregateType::of::<AutoApprovalDecision>(),
    AggregateType::of::<NotificationReceipt>(),
    AggregateType::of::<ChatSession>(),
    AggregateType::of::<ChatPreferences>(),
    AggregateType::of::<ResearchSession>(),
    AggregateType::of::<VoiceSample>(),
    AggregateType::of::<VoicePersona>(),
];

/// The registered type with this stored name.
pub fn aggregate_type(name: &str) -> Option<&'static AggregateType> {
    AGGREGATE_TYPES.iter().find(|t| t.name == name)
}

/// The stored names of every registered type.
pub fn aggregate_type_names() -> Vec<&'static str> {
    AGGREGATE_TYPES.iter().map(|t| t.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_type_is_found_by_its_stored_name_once() {
        for t in AGGREGATE_TYPES {
            assert_eq!(aggregate_type(t.name).map(|found| found.name), Some(t.name));
        }
        let mut names = aggregate_type_names();
        names.dedup();
        assert_eq!(
            names,
            [
                "queue_item",
                "agent_run",
                "contact",
                "duplicate_pair",
                "crm_merge",
                "crm_sync",
                "alert",
                "contact_import",
                "pipeline",
                "deal",
                "quota",
                "connector",
                "action_execution",
                "execution_settings",
                "outcome",
                "signal",
                "auto_approval_rule",
                "auto_approval_decision",
                "notification_receipt",
                "chat_session",
                "chat_preferences",
                "research_session",
                "voice_sample",
                "voice_persona"
            ]
        );
        assert!(aggregate_type("forecast").is_none());
    }
}
