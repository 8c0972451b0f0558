//! Deal pipelines: ordered stages, each with an integer probability (0–100) and a kind
//! (open, won, lost) — the one table of stage probabilities CaseyOS has. Defined locally
//! (admin commands, the first start's default) or synced from HubSpot.
//!
//! `defined → updated*`. Pure rules beside the aggregate: the stage order (advanced or
//! regressed, never by names) and the forecast category a stage gives (`forecast`).

mod command;
mod decide;
mod error;
mod event;
pub mod forecast;
mod state;
mod types;

#[cfg(test)]
mod tests;

pub use command::*;
pub use error::PipelineError;
pub use event::*;
pub use forecast::{
    auto_category, effective_category, stage_category, ForecastCategory, ForecastChoice,
    BEST_CASE_MIN_PROBABILITY, COMMIT_MIN_PROBABILITY,
};
pub use state::*;
pub use types::*;
