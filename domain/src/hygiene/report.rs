//! What a contact's validation found: recorded on the contact as an event.

use serde::{Deserialize, Serialize};

/// How much an issue matters: an `error` makes the contact invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One finding about one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ValidationIssue {
    /// The contact field it is about (`emails`, `phones`, `first_name`, ...).
    pub field: String,
    /// Stable code, e.g. `email.disposable`, `phone.unparseable`, `name.casing`.
    pub code: String,
    pub severity: Severity,
    /// For people.
    pub message: String,
    /// A corrected value, when the rule can propose one (`+14155550100`, `Mary O'Neil`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

/// The result of validating a contact: valid when no issue is an error.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ValidationReport {
    pub valid: bool,
    pub issues: Vec<ValidationIssue>,
    /// The version of the rules that produced it (`hygiene::validation::RULES_VERSION`).
    pub rules_version: u32,
}
