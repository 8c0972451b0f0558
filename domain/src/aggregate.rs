//! The one shape every aggregate has: a type name, commands and events with names, a pure
//! `decide` and a pure `apply`, and a decoder for stored events. The command bus, audit
//! replay, `caseyos replay` and the projections work with any aggregate through this trait,
//! and [`fold_one`] (which [`fold`] repeats) is the one place stored events become state.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::kernel::Actor;

/// An event-sourced aggregate. `decide` turns a command into events or a rejection;
/// `apply` folds an event into state and never fails (events are facts). Both are pure:
/// time, actor and ids come in with the command.
pub trait Aggregate:
    Default + Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The aggregate type as stored in the event store (`queue_item`, `agent_run`).
    const TYPE: &'static str;
    /// The version every event of this aggregate is written with.
    const EVENT_VERSION: &'static str;

    type Command: Clone + Debug + Send + Sync;
    type Event: Clone + Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync;
    type Error: DomainError + Clone + PartialEq + Send + Sync + 'static;
    /// What the API shows and audit replay reconstructs after each event.
    type View: Serialize;

    /// A command's name, for metrics and logs (`approve`, `start`).
    fn command_name(command: &Self::Command) -> &'static str;
    /// An event's stored type name (`QueueItemApproved`).
    fn event_name(event: &Self::Event) -> &'static str;

    /// The events a command produces against the current state, or why it is refused.
    fn decide(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;
    /// Folds one event into the state.
    fn apply(&mut self, event: Self::Event);
    /// The state as shown; `None` before the first event.
    fn view(&self) -> Option<&Self::View>;
    /// The same, taken out of the aggregate (what a command answers with).
    fn into_view(self) -> Option<Self::View>;

    /// Whose it is, for who may read it and its history; `None` (the default) when it
    /// belongs to no one in particular.
    fn ownership(&self) -> Option<Ownership> {
        None
    }

    /// Reads a stored event of the current version straight from its stored form (the
    /// parsed payload borrowed, or the JSON text as the database sent it, with no value in
    /// between); older versions go through [`Aggregate::upcast`].
    fn decode(event: RecordedEvent<'_>) -> Result<Self::Event, DecodeError> {
        let malformed = |source: serde_json::Error| DecodeError::Malformed {
            aggregate_type: Self::TYPE,
            event_type: event.event_type.to_string(),
            message: source.to_string(),
        };
        if event.event_version != Self::EVENT_VERSION {
            let payload = match event.payload {
                Payload::Value(value) => value.clone(),
                Payload::Json(text) => serde_json::from_str(text).map_err(malformed)?,
            };
            return Self::upcast(event.event_type, event.event_version, payload);
        }
        match event.payload {
            Payload::Value(value) => Self::Event::deserialize(value),
            Payload::Json(text) => serde_json::from_str(text),
        }
        .map_err(malformed)
    }

    /// Reads a stored event of an older version (an upcaster); there are none yet.
    fn upcast(
        event_type: &str,
        version: &str,
        _payload: Value,
    ) -> Result<Self::Event, DecodeError> {
        Err(DecodeError::UnknownVersion {
            aggregate_type: Self::TYPE,
            event_type: event_type.to_string(),
            version: version.to_string(),
        })
    }
}

/// Whose an aggregate is: operators read only what is theirs (`Role::may_read`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ownership {
    /// A move's owner, a run's requester.
    pub owner: Actor,
    /// Whether someone who may not read it is told that it exists (and is someone
    /// else's) rather than that there is no such thing. Runs are not disclosed, so their
    /// ids tell others nothing.
    pub disclosed: bool,
}

/// Why a command was refused, in terms every caller can map to its own answer (HTTP
/// status, CLI message) without knowing the aggregate.
pub trait DomainError: std::error::Error {
    /// The stable machine code clients match on (`queue.already_approved`).
    fn code(&self) -> &'static str;
    /// What kind of refusal it is.
    fn kind(&self) -> RejectionKind;
}

/// The kinds of refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RejectionKind {
    /// The aggregate does not exist.
    NotFound,
    /// Its state does not allow the command (already decided, finished, ...).
    Conflict,
    /// A value is invalid: which field, and what is wrong with it.
    Invalid {
        field: &'static str,
        message: String,
    },
}

/// A stored event that this version of CaseyOS cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown {aggregate_type} event version {event_type} v{version}")]
    UnknownVersion {
        aggregate_type: &'static str,
        event_type: String,
        version: String,
    },
    #[error("malformed {aggregate_type} {event_type} payload: {message}")]
    Malformed {
        aggregate_type: &'static str,
        event_type: String,
        message: String,
    },
    #[error("{aggregate_type} state cannot be shown as JSON: {message}")]
    Unrepresentable {
        aggregate_type: &'static str,
        message: String,
    },
}

/// One stored event as the fold needs it.
#[derive(Clone, Copy, Debug)]
pub struct RecordedEvent<'a> {
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: Payload<'a>,
}

/// A stored event's payload: already parsed, or the JSON text as the database sent it
/// (decoded straight into the typed event).
#[derive(Clone, Copy, Debug)]
pub enum Payload<'a> {
    Value(&'a Value),
    Json(&'a str),
}

/// Folds one stored event into `state`: the one step by which stored history becomes an
/// aggregate, whether a whole history at once ([`fold`]) or one event at a time (audit
/// replay).
pub fn fold_one<A: Aggregate>(state: &mut A, event: RecordedEvent<'_>) -> Result<(), DecodeError> {
    state.apply(A::decode(event)?);
    Ok(())
}

/// Folds stored events into state: the one way stored history becomes an aggregate.
pub fn fold<'a, A: Aggregate>(
    events: impl IntoIterator<Item = RecordedEvent<'a>>,
) -> Result<A, DecodeError> {
    let mut state = A::default();
    for event in events {
        fold_one(&mut state, event)?;
    }
    Ok(state)
}

/// Given events, when a command, then events or a rejection: the one style of aggregate
/// test (`Scenario::<QueueItem>::given(vec![proposed()]).when(approve())...`).
#[cfg(test)]
pub mod testing {
    use std::marker::PhantomData;

    use super::Aggregate;

    pub struct Scenario<A>(PhantomData<A>);

    impl<A: Aggregate> Scenario<A> {
        /// An aggregate with no history.
        pub fn given_no_previous_events() -> Given<A> {
            Given(A::default())
        }

        /// The state after `events`.
        pub fn given(events: Vec<A::Event>) -> Given<A> {
            let mut state = A::default();
            for event in events {
                state.apply(event);
            }
            Given(state)
        }
    }

    pub struct Given<A>(A);

    impl<A: Aggregate> Given<A> {
        pub fn when(self, command: A::Command) -> Then<A> {
            Then {
                result: self.0.decide(command),
                state: self.0,
            }
        }

        pub fn state(&self) -> &A {
            &self.0
        }
    }

    pub struct Then<A: Aggregate> {
        state: A,
        result: Result<Vec<A::Event>, A::Error>,
    }

    impl<A: Aggregate> Then<A> {
        /// Asserts the events the command produced.
        #[track_caller]
        pub fn then_expect_events(self, expected: Vec<A::Event>) {
            match self.result {
                Ok(events) => assert_eq!(events, expected),
                Err(error) => panic!("expected events {expected:?}, got the rejection {error:?}"),
            }
        }

        /// Asserts the rejection.
        #[track_caller]
        pub fn then_expect_error(self, expected: A::Error) {
            match self.result {
                Ok(events) => panic!("expected the rejection {expected:?}, got events {events:?}"),
                Err(error) => assert_eq!(error, expected),
            }
        }

        /// Asserts the rejection's message.
        #[track_caller]
        pub fn then_expect_error_message(self, expected: &str) {
            match self.result {
                Ok(events) => panic!("expected the rejection {expected:?}, got events {events:?}"),
                Err(error) => assert_eq!(error.to_string(), expected),
            }
        }

        /// The outcome, for tests that look inside it.
        pub fn inspect_result(self) -> Result<Vec<A::Event>, A::Error> {
            self.result
        }

        /// The state after applying the produced events; panics on a rejection.
        #[track_caller]
        pub fn state_after(self) -> A {
            let Then { mut state, result } = self;
            match result {
                Ok(events) => {
                    for event in events {
                        state.apply(event);
                    }
                    state
                }
                Err(error) => panic!("expected events, got the rejection {error:?}"),
            }
        }
    }
}
