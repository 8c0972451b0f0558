//! Data hygiene: duplicate review (and its state) and the hygiene overview.

pub mod duplicates;
pub mod overview;
pub mod review_state;
