//! Today's Moves: the queue of proposed moves awaiting a decision.
//!
//! `proposed → edited* → approved | rejected | snoozed ⇄ pending | expired`.

pub mod aps;
mod command;
mod decide;
mod error;
mod event;
mod snooze;
mod state;
mod types;

#[cfg(test)]
mod tests;

pub use command::*;
pub use decide::{DEMO_ACTOR, MAX_PAYLOAD_BYTES, MAX_TEXT_CHARS, MAX_TITLE_CHARS};
pub use error::QueueError;
pub use event::*;
pub use snooze::{SnoozePreset, SNOOZE_MORNING_HOUR};
pub use state::*;
pub use types::*;
