//! Data hygiene: duplicate review and its state.

pub mod duplicates;
pub mod review_state;
