//! Deals: what CaseyOS forecasts. A deal sits in a stage of its pipeline; its stage,
//! amount, close date (pushes counted), owner, contacts, activities, next step and forecast
//! category change by commands, and it is won, lost and reopened.
//!
//! Pure rules beside the aggregate, read from a [`DealView`] at a given `now`: the health
//! score ([`health`]) and the risk flags ([`risk`]), sharing the stages' typical times
//! ([`stage_time`]).
//!
//! `created → (moved | changed | logged)* → won | lost ⇄ reopened`. Stage order, stage
//! probabilities and forecast categories come from [`crate::pipelines`].

pub mod aps;
mod command;
mod decide;
mod error;
mod event;
pub mod health;
pub mod risk;
pub mod stage_time;
mod state;
mod types;

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod tests;

pub use aps::{deal_aps, DealAps};
pub use command::*;
pub use decide::{MAX_NAME_CHARS, MAX_TEXT_CHARS};
pub use error::DealError;
pub use event::*;
pub use health::{
    deal_health, DealHealth, HealthConfig, HealthFactor, HealthFactorKind, HealthScore,
};
pub use risk::{risk_flags, Evidence, RiskConfig, RiskFlag, RiskKind};
pub use stage_time::{StageDays, TypicalStageDays};
pub use state::*;
pub use types::*;
