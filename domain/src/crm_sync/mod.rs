//! CRM syncs: one aggregate per run of a HubSpot → CaseyOS sync (contacts, deal pipelines,
//! deals), so sync health is
//! a read model of facts rather than a counter in memory.
//!
//! `started (from the watermark, to an instant) → progressed* (one per finished
//! last-modified window) → completed (counts, the new watermark, calls, rate limits) |
//! failed (the error's code, no personal data)`. A run that stopped without finishing (a
//! crash) is resumed on the same aggregate from its last finished window; a failed run is
//! followed by a new run from the point it reached.
//!
//! **Ids.** A run's id is a UUIDv7 made when it starts; its `CrmSyncStarted` is recorded
//! before the first call to HubSpot, so the run is durable before it does anything, and the
//! worker finds an unfinished run in the event store (not by recomputing an id). A
//! `Uuid::new_v5` of the object and the window start would collide when a run fails
//! before finishing a window and the next one starts from the same watermark.

mod command;
mod decide;
mod error;
mod event;
mod health;
mod state;

#[cfg(test)]
mod tests;

pub use command::*;
pub use decide::MAX_MESSAGE_CHARS;
pub use error::CrmSyncError;
pub use event::*;
pub use health::*;
pub use state::*;
