//! The contacts' pages: the list, one contact, and importing a CSV file.

pub mod contact;
pub mod import;
pub mod list;
