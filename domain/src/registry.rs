//! Every aggregate type CaseyOS stores, registered once. Audit replay (`GET /api/audit`),
//! `caseyos replay` and the determinism tests find an aggregate type here by its stored
//! name; the command bus and the projections work with the [`Aggregate`] trait directly.

use serde_json::Value;

use crate::agent_run::AgentRun;
use crate::aggregate::{fold_each, Aggregate, DecodeError, RecordedEvent};
use crate::queue::QueueItem;

/// One registered aggregate type.
#[derive(Clone, Copy)]
pub struct AggregateType {
    /// The stored name (`queue_item`).
    pub name: &'static str,
    /// Folds a history and returns the state (as the API shows it) after every event.
    pub states: fn(&[RecordedEvent<'_>]) -> Result<Vec<Value>, DecodeError>,
}

impl AggregateType {
    pub const fn of<A: Aggregate>() -> Self {
        AggregateType {
            name: A::TYPE,
            states: states_of::<A>,
        }
    }
}

/// Every aggregate type: a new aggregate is one line here.
pub const AGGREGATE_TYPES: &[AggregateType] = &[
    AggregateType::of::<QueueItem>(),
    AggregateType::of::<AgentRun>(),
];

/// The registered type with this stored name.
pub fn aggregate_type(name: &str) -> Option<&'static AggregateType> {
    AGGREGATE_TYPES.iter().find(|t| t.name == name)
}

/// The stored names of every registered type.
pub fn aggregate_type_names() -> Vec<&'static str> {
    AGGREGATE_TYPES.iter().map(|t| t.name).collect()
}

fn states_of<A: Aggregate>(events: &[RecordedEvent<'_>]) -> Result<Vec<Value>, DecodeError> {
    let mut states = Vec::with_capacity(events.len());
    let mut unrepresentable = None;
    fold_each::<A>(events.iter().copied(), |state| {
        match serde_json::to_value(state.view()) {
            Ok(value) => states.push(value),
            Err(e) => unrepresentable = Some(e.to_string()),
        }
    })?;
    match unrepresentable {
        Some(message) => Err(DecodeError::Unrepresentable {
            aggregate_type: A::TYPE,
            message,
        }),
        None => Ok(states),
    }
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
        assert_eq!(names, ["queue_item", "agent_run"]);
        assert!(aggregate_type("deal").is_none());
    }
}
