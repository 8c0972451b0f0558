//! Data hygiene rules: pure functions over contact fields, each with table tests —
//! validation (syntax, disposable and role addresses, required fields, phones, name
//! casing), data decay, and duplicate matching. Their constants live here, named.

mod report;

pub use report::{Severity, ValidationIssue, ValidationReport};
