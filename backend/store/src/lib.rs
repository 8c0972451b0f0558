//! The CaseyOS event store, shared by the write side and the projections.
//!
//! - [`event`]: events as stored (postgres-es's `events` table plus `event_id`,
//!   `global_position`, `tx_id`, `recorded_at`) and the reads everyone needs.
//! - [`bus`]: the one command bus — execute any [`Aggregate`]'s command with its metadata,
//!   bounded optimistic-concurrency retries and a guard — with its own error type.
//! - [`idempotency`]: `Idempotency-Key` handling on top of the bus: per-key locks, answers
//!   rebuilt from the events a first request wrote, refusal of a reused key.
//! - [`history`]: any aggregate's history with the state after each event (audit replay).
//!
//! It knows nothing of HTTP: callers map [`StoreError`], [`bus::CommandError`] and
//! [`idempotency::IdempotencyError`] to their own answers.
//!
//! [`Aggregate`]: caseyos_domain::aggregate::Aggregate

pub mod advisory;
pub mod bus;
pub mod event;
pub mod history;
pub mod idempotency;
pub mod log;

pub use bus::{CommandBus, CommandError, CommandMeta, Committed, Refusal};
pub use event::StoredEvent;

use caseyos_domain::aggregate::DecodeError;

/// The time commands are stamped with: microsecond precision, as PostgreSQL stores it, so
/// an event's times and the read models' columns agree exactly.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// The event store failed (as opposed to refusing a command).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored event: {0}")]
    Decode(#[from] DecodeError),
    #[error("event store: {0}")]
    EventStore(String),
}
