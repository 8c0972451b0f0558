//! Importing contacts from CSV files: the streaming reader ([`csv`]), the header's columns
//! ([`columns`]), each row read as a contact's fields ([`row`]), and the import itself, an
//! aggregate (`contact_import`): `started → progressed* → completed | failed`, each batch's
//! counts, failed rows and resume point an event.

pub mod columns;
pub mod csv;
pub mod row;

mod command;
mod decide;
mod error;
mod event;
mod state;

#[cfg(test)]
mod tests;

pub use columns::{Column, Header, HeaderError};
pub use command::*;
pub use csv::{BadRecord, CsvReader, Record, ResumePoint, MAX_RECORD_BYTES};
pub use error::ContactImportError;
pub use event::*;
pub use row::{read_row, ImportRow, RowError};
pub use state::*;
