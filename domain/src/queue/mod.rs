//! Today's Moves: the queue of proposed moves awaiting a decision.

mod aggregate;
mod snooze;
mod types;

#[cfg(all(test, feature = "server"))]
mod tests;

pub use aggregate::*;
pub use snooze::{SnoozePreset, SNOOZE_MORNING_HOUR};
pub use types::*;
