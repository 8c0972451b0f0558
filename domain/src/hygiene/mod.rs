//! Data hygiene rules: pure functions over contact fields, each with table tests —
//! validation (syntax, disposable and role addresses, required fields, phones, name
//! casing), data decay, and duplicate matching. Their constants live here, named.
//!
//! - [`phone`]: phone numbers to E.164 ([`normalise_phone`], [`parse_phone`]).
//! - [`validation`]: [`validate`] a [`ValidationInput`] into a [`ValidationReport`].
//! - [`decay`]: [`decay()`] — fresh, stale, decayed or zombie by last activity.
//! - [`matching`]: duplicate candidates by blocking and scoring ([`find_candidates`],
//!   [`score_pair`]) and the [`criteria_fingerprint`] that re-proposes a rejected pair only
//!   when a record changed.

pub mod decay;
pub mod matching;
pub mod phone;
mod report;
pub mod validation;

pub use decay::{decay, Decay, DecayLevel};
pub use matching::{
    criteria_fingerprint, find_candidates, find_candidates_with_stats, score_pair, Candidate,
    MatchRecord, MatchStats, Reason, CRITERIA_VERSION,
};
pub use phone::{normalise_phone, parse_phone, ParsedPhone, PhoneProblem};
pub use report::{Severity, ValidationIssue, ValidationReport};
pub use validation::{validate, ValidationInput, RULES_VERSION};
