//! Agent runs: one execution of one agent, from request to a final, visible state.
//!
//! `queued → running (attempt n, worker) → succeeded | failed | timed_out | cancelled`,
//! with `cancelling` while a running agent is asked to stop, `queued` again when a worker
//! lost its lease and attempts remain, and `dismissed` as a mark on a finished run. A retry
//! is a new run whose `retry_of` names this one. Every step is an event, so the run's
//! history, its attempts and the UI all come from the log.

mod command;
mod decide;
mod error;
mod event;
mod state;
mod types;

#[cfg(test)]
mod tests;

pub use command::*;
pub use error::AgentRunError;
pub use event::*;
pub use state::*;
pub use types::*;

/// The per-attempt time limit unless the agent's configuration says otherwise.
pub const DEFAULT_TIMEOUT_MS: u64 = 300_000;
/// How many times a run is started before a lost worker fails it.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 2;
/// Longest cancel reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;
