//! The contacts' pages: one contact, and importing a CSV file.

pub mod contact;
pub mod import;
