//! Data hygiene: the overview, duplicate review and its state.

pub mod duplicates;
pub mod overview;
pub mod review_state;
