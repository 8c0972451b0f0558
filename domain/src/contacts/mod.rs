//! Contacts: the people CaseyOS sells to, kept clean.
//!
//! `created → fields changed* · validated* → archived ⇄ restored`; a duplicate is
//! `merged into` another contact, which `absorbed` it with a per-field choice, and either
//! side's merge can be undone (`unmerged` / `unabsorbed`) with compensating events that keep
//! edits made since.

mod command;
mod decide;
mod error;
mod event;
mod fields;
mod merge;
mod state;
mod types;

#[cfg(test)]
mod tests;

pub use command::*;
pub use decide::{MAX_CUSTOM_PROPERTIES, MAX_LIST_ITEMS, MAX_NAME_CHARS, MAX_TEXT_CHARS};
pub use error::ContactError;
pub use event::*;
pub use fields::{diff, ContactField, ContactFields, FieldChange};
pub use merge::{merge_fields, unmerge_fields, MergeSide};
pub use state::*;
pub use types::*;
