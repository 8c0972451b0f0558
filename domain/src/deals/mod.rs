//! Deals: what CaseyOS forecasts. A deal sits in a stage of its pipeline; its stage,
//! amount, close date (pushes counted), owner, contacts, activities, next step and forecast
//! category change by commands, and it is won, lost and reopened.
//!
//! `created → (moved | changed | logged)* → won | lost ⇄ reopened`. Stage order, stage
//! probabilities and forecast categories come from [`crate::pipelines`].

mod command;
mod decide;
mod error;
mod event;
mod state;
mod types;

#[cfg(test)]
mod tests;

pub use command::*;
pub use decide::{MAX_NAME_CHARS, MAX_TEXT_CHARS};
pub use error::DealError;
pub use event::*;
pub use state::*;
pub use types::*;
