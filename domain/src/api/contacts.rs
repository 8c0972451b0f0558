//! Contacts: creating, editing, archiving and restoring them, listing, searching and
//! exporting them.
//!
//! Requests carry text as people and programs send it; [`CreateContactRequest::edits`] and
//! [`EditContactRequest::edits`] parse it at the edge into the commands' kernel types
//! (naming every invalid field), so the server and the SPA check a contact the same way.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::errors::FieldError;
use crate::contacts::{
    CompanyDomain, ContactField, ContactSource, ContactStatus, ContactView, FieldEdit,
    LifecycleStage, Phone, MAX_LIST_ITEMS, MAX_NAME_CHARS, MAX_TEXT_CHARS,
};
use crate::kernel::{present, CrmId, EmailAddress, Text, UserName};

/// Longest phone number as written, in characters.
pub const MAX_PHONE_CHARS: usize = 64;

/// Create a contact. It needs a name, an email or a phone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateContactRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Email addresses; the first is the primary. Stored lower-cased, repeats dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
    /// Shorthand for `emails: [email]` (not with `emails`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone numbers as written. Each is kept with its E.164 form when it parses (numbers
    /// without a country code are read as `+1`); one that does not parse is kept with
    /// `e164: null` for validation to flag, never refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phones: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    /// A web domain or URL (`https://www.Acme.com/about` is stored as `acme.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_domain: Option<String>,
    /// A HubSpot lifecycle stage by its value (`salesqualifiedlead`); blank is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    /// The user who owns the relationship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The record's id in the CRM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm_id: Option<String>,
    /// When someone last contacted this person (an RFC 3339 instant in the years 1–9999,
    /// UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contacted_at: Option<DateTime<Utc>>,
    /// Custom properties: `snake_case` keys (`^[a-z0-9_]{1,64}$`), text values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<BTreeMap<String, String>>,
    /// Create it even when an active contact already has one of its emails or its CRM id
    /// (otherwise `409 contact.duplicate`). Duplicates that differ more subtly are found by
    /// the duplicate review (`GET /api/hygiene/duplicates`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_duplicate: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Change a contact's fields. An absent field stays as it is; a present `null` (or blank
/// text) clears it; `emails` and `phones` replace the whole list.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EditContactRequest {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub first_name: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub last_name: Option<Option<String>>,
    /// The new list of addresses, the primary first; `null` or `[]` removes them all.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<Vec<String>>))]
    pub emails: Option<Option<Vec<String>>>,
    /// Shorthand for `emails: [email]` (not with `emails`); `null` removes every address.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub email: Option<Option<String>>,
    /// The new list of phone numbers as written; `null` or `[]` removes them all.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<Vec<String>>))]
    pub phones: Option<Option<Vec<String>>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub job_title: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub company_name: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub company_domain: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub lifecycle_stage: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub owner: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<String>))]
    pub crm_id: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[cfg_attr(feature = "server", schema(value_type = Option<DateTime<Utc>>))]
    pub last_contacted_at: Option<Option<DateTime<Utc>>>,
    /// Custom properties to set; a key whose value is `null` (or blank) is removed. Keys not
    /// named stay as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "server", schema(value_type = Option<BTreeMap<String, Option<String>>>))]
    pub custom: Option<BTreeMap<String, Option<String>>>,
}

/// Archive a contact (it leaves the default list; restore brings it back).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ArchiveContactRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A contact (after a command, or read), with a token to read your own write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ContactResponse {
    pub contact: ContactView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}

/// A contact in a list: the fields a table shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ContactRow {
    pub id: Uuid,
    pub status: ContactStatus,
    /// "First Last", whichever part there is; empty when neither.
    pub name: String,
    pub primary_email: Option<String>,
    /// The first phone: its E.164 form, or the text as written when it did not parse.
    pub phone: Option<String>,
    pub company_name: Option<String>,
    pub company_domain: Option<String>,
    pub job_title: Option<String>,
    pub lifecycle_stage: Option<LifecycleStage>,
    pub owner: Option<String>,
    pub crm_id: Option<String>,
    /// The last validation's verdict; `null` when never validated.
    pub valid: Option<bool>,
    /// The last validation's number of issues (0 when never validated).
    pub issues: i32,
    pub last_contacted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub source: ContactSource,
    pub demo: bool,
}

/// A page of contacts (the queue's list shape).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ContactListResponse {
    pub items: Vec<ContactRow>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Contacts matching the filters, over all pages.
    pub total: i64,
}

/// The filters, sort and page of `GET /api/contacts` (and of the CSV export, which takes
/// the same filters and sort, without a page).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
pub struct ContactsQuery {
    /// Search: contacts whose name, any email or company name contains this text
    /// (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Comma-separated statuses (`active`, `archived`, `merged`); absent means `active`,
    /// `all` means any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Comma-separated lifecycle stages (their values, e.g. `lead,customer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<String>,
    /// The owner's user name, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Comma-separated sources: `manual`, `import`, `hubspot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A company domain (normalised like the field: `www.Acme.com` is `acme.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_domain: Option<String>,
    /// `true` (validated, no blocking issue), `false` (validated with one) or `unknown`
    /// (never validated).
    #[cfg_attr(feature = "server", param(pattern = r"^(true|false|unknown|null)?$"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<String>,
    /// `true`: only contacts with a CRM id; `false`: only those without.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_crm_id: Option<bool>,
    /// The CSV import that created them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<Uuid>,
    /// Created at or after this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_from: Option<DateTime<Utc>>,
    /// Created before this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_to: Option<DateTime<Utc>>,
    /// Changed at or after this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_from: Option<DateTime<Utc>>,
    /// Changed before this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_to: Option<DateTime<Utc>>,
    /// `name`, `created_at`, `updated_at` or `last_contacted_at`; prefix `-` for
    /// descending. Default `name`. Contacts never contacted sort last either way.
    #[cfg_attr(
        feature = "server",
        param(pattern = r"^(-?(name|created_at|updated_at|last_contacted_at))?$")
    )]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// From the previous page's `next_cursor` (opaque); empty or absent for the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The page size, default 50.
    #[cfg_attr(feature = "server", param(minimum = 1, maximum = 200))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// The columns of `GET /api/contacts/export.csv`, in order. The CSV import reads them back:
/// `email` is the primary address, `phone` holds every number (`;`-separated), the other
/// names are the contact's own field names.
pub const CONTACT_EXPORT_COLUMNS: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "email",
    "other_emails",
    "phone",
    "job_title",
    "company_name",
    "company_domain",
    "lifecycle_stage",
    "owner",
    "crm_id",
    "last_contacted_at",
    "status",
    "valid",
    "created_at",
    "updated_at",
];

/// The columns of `GET /api/queue/export.csv`, in order.
pub const QUEUE_EXPORT_COLUMNS: &[&str] = &[
    "id",
    "status",
    "title",
    "action_type",
    "domain",
    "owner",
    "aps",
    "due_by",
    "snoozed_until",
    "expires_at",
    "contact_id",
    "deal_id",
    "company_id",
    "source",
    "rationale",
    "decided_by",
    "decided_at",
    "decision_note",
    "created_at",
    "updated_at",
    "demo",
];

/// Collects field errors so a request names every invalid field at once.
#[derive(Default)]
struct Fields {
    edits: Vec<FieldEdit>,
    errors: Vec<FieldError>,
}

impl Fields {
    fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Pushes the edit `parse` makes of `raw`, or the error naming `field`.
    fn push<T, E: Into<String>>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
        edit: impl FnOnce(T) -> FieldEdit,
    ) {
        match parsed {
            Ok(value) => self.edits.push(edit(value)),
            Err(message) => self.error(field, message),
        }
    }

    fn done(self) -> Result<Vec<FieldEdit>, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(self.edits)
        } else {
            Err(self.errors)
        }
    }
}

/// A name, title or company: blank is none.
fn name_text(raw: Option<&str>) -> Result<Option<Text>, String> {
    Text::parse_optional(raw, MAX_NAME_CHARS)
}

/// A phone number as written (at most [`MAX_PHONE_CHARS`], not blank), with its E.164 form
/// when it parses ([`Phone::read`]); one that does not parse is kept, never refused.
pub fn parse_contact_phone(raw: &str) -> Result<Phone, String> {
    let text = Text::parse(raw, MAX_PHONE_CHARS)?;
    Ok(Phone::read(text.as_str()))
}

fn blank_is_none(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|r| !r.is_empty())
}

fn company_domain(raw: Option<&str>) -> Result<Option<CompanyDomain>, String> {
    blank_is_none(raw)
        .map(CompanyDomain::parse)
        .transpose()
        .map_err(String::from)
}

/// A stage by its value exactly (the API's enum; the CSV import also reads labels and short
/// names with [`LifecycleStage::parse`]).
fn lifecycle_stage(raw: Option<&str>) -> Result<Option<LifecycleStage>, String> {
    blank_is_none(raw)
        .map(|raw| {
            LifecycleStage::ALL
                .iter()
                .copied()
                .find(|s| s.as_str() == raw)
                .ok_or_else(|| {
                    let names: Vec<&str> = LifecycleStage::ALL.iter().map(|s| s.as_str()).collect();
                    format!("must be one of {}", names.join(", "))
                })
        })
        .transpose()
}

fn owner(raw: Option<&str>) -> Result<Option<UserName>, String> {
    blank_is_none(raw)
        .map(UserName::parse)
        .transpose()
        .map_err(String::from)
}

fn crm_id(raw: Option<&str>) -> Result<Option<CrmId>, String> {
    blank_is_none(raw)
        .map(CrmId::parse)
        .transpose()
        .map_err(String::from)
}

/// An instant in the years 1–9999 (UTC), the range lists sort and page over.
fn instant(at: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if (1..=9999).contains(&at.year()) {
        Ok(at)
    } else {
        Err("must be an instant in the years 1–9999 (UTC)".into())
    }
}

impl Fields {
    /// `emails` (or the `email` shorthand), each parsed, naming `emails[i]` or `email`.
    fn emails(&mut self, emails: Option<&[String]>, email: Option<&str>) {
        let (field, raw): (&str, Vec<&str>) = match (emails, email) {
            (Some(_), Some(_)) => {
                self.error("email", "give email or emails, not both");
                return;
            }
            (Some(list), None) => ("emails", list.iter().map(String::as_str).collect()),
            (None, Some(one)) => ("email", vec![one]),
            (None, None) => return,
        };
        // As the document says (`maxItems`): counted as sent, before duplicates collapse.
        if raw.len() > MAX_LIST_ITEMS {
            self.error(
                field,
                format!("may hold at most {MAX_LIST_ITEMS} addresses"),
            );
            return;
        }
        let mut parsed = Vec::with_capacity(raw.len());
        for (i, raw) in raw.into_iter().enumerate() {
            let name = if field == "email" {
                field.to_string()
            } else {
                format!("emails[{i}]")
            };
            match EmailAddress::parse_exact(raw) {
                Ok(email) => parsed.push(email),
                Err(message) => self.error(name, message),
            }
        }
        self.edits.push(FieldEdit::Emails(parsed));
    }

    fn phones(&mut self, phones: &[String]) {
        if phones.len() > MAX_LIST_ITEMS {
            self.error(
                "phones",
                format!("may hold at most {MAX_LIST_ITEMS} numbers"),
            );
            return;
        }
        let mut parsed = Vec::with_capacity(phones.len());
        for (i, raw) in phones.iter().enumerate() {
            match parse_contact_phone(raw) {
                Ok(phone) => parsed.push(phone),
                Err(message) => self.error(format!("phones[{i}]"), message),
            }
        }
        self.edits.push(FieldEdit::Phones(parsed));
    }

    /// One custom property; `None` (or blank) removes it.
    fn custom(&mut self, key: &str, value: Option<&str>) {
        if !ContactField::custom_key_ok(key) {
            self.error(
                format!("custom.{key}"),
                "custom property keys are 1–64 of a–z, 0–9 and _",
            );
            return;
        }
        match Text::parse_optional(value, MAX_TEXT_CHARS) {
            Ok(text) => self.edits.push(FieldEdit::Custom(key.to_string(), text)),
            Err(message) => self.error(format!("custom.{key}"), message),
        }
    }
}

impl CreateContactRequest {
    /// The new contact's fields, parsed; every invalid field named.
    pub fn edits(&self) -> Result<Vec<FieldEdit>, Vec<FieldError>> {
        let mut f = Fields::default();
        f.push(
            "first_name",
            name_text(self.first_name.as_deref()),
            FieldEdit::FirstName,
        );
        f.push(
            "last_name",
            name_text(self.last_name.as_deref()),
            FieldEdit::LastName,
        );
        f.emails(self.emails.as_deref(), self.email.as_deref());
        if let Some(phones) = &self.phones {
            f.phones(phones);
        }
        f.push(
            "job_title",
            name_text(self.job_title.as_deref()),
            FieldEdit::JobTitle,
        );
        f.push(
            "company_name",
            name_text(self.company_name.as_deref()),
            FieldEdit::CompanyName,
        );
        f.push(
            "company_domain",
            company_domain(self.company_domain.as_deref()),
            FieldEdit::CompanyDomain,
        );
        f.push(
            "lifecycle_stage",
            lifecycle_stage(self.lifecycle_stage.as_deref()),
            FieldEdit::LifecycleStage,
        );
        f.push("owner", owner(self.owner.as_deref()), FieldEdit::Owner);
        f.push("crm_id", crm_id(self.crm_id.as_deref()), FieldEdit::CrmId);
        if let Some(at) = self.last_contacted_at {
            f.push("last_contacted_at", instant(at), |at| {
                FieldEdit::LastContactedAt(Some(at))
            });
        }
        for (key, value) in self.custom.iter().flatten() {
            f.custom(key, Some(value));
        }
        // A blank custom value on a new contact is simply no property.
        f.edits
            .retain(|edit| !matches!(edit, FieldEdit::Custom(_, None)));
        f.done()
    }
}

/// A present edit of a text field: `Some(None)` clears it.
fn text(value: &Option<Option<String>>) -> Option<Option<&str>> {
    value.as_ref().map(|v| v.as_deref())
}

impl EditContactRequest {
    /// The changed fields, parsed (absent ones are not named); every invalid field named.
    pub fn edits(&self) -> Result<Vec<FieldEdit>, Vec<FieldError>> {
        let mut f = Fields::default();
        if let Some(raw) = text(&self.first_name) {
            f.push("first_name", name_text(raw), FieldEdit::FirstName);
        }
        if let Some(raw) = text(&self.last_name) {
            f.push("last_name", name_text(raw), FieldEdit::LastName);
        }
        match (&self.emails, &self.email) {
            (None, None) => {}
            (Some(_), Some(_)) => f.error("email", "give email or emails, not both"),
            (Some(list), None) => f.emails(Some(list.as_deref().unwrap_or_default()), None),
            (None, Some(None)) => f.edits.push(FieldEdit::Emails(Vec::new())),
            (None, Some(Some(one))) => f.emails(None, Some(one)),
        }
        if let Some(phones) = &self.phones {
            f.phones(phones.as_deref().unwrap_or_default());
        }
        if let Some(raw) = text(&self.job_title) {
            f.push("job_title", name_text(raw), FieldEdit::JobTitle);
        }
        if let Some(raw) = text(&self.company_name) {
            f.push("company_name", name_text(raw), FieldEdit::CompanyName);
        }
        if let Some(raw) = text(&self.company_domain) {
            f.push(
                "company_domain",
                company_domain(raw),
                FieldEdit::CompanyDomain,
            );
        }
        if let Some(raw) = text(&self.lifecycle_stage) {
            f.push(
                "lifecycle_stage",
                lifecycle_stage(raw),
                FieldEdit::LifecycleStage,
            );
        }
        if let Some(raw) = text(&self.owner) {
            f.push("owner", owner(raw), FieldEdit::Owner);
        }
        if let Some(raw) = text(&self.crm_id) {
            f.push("crm_id", crm_id(raw), FieldEdit::CrmId);
        }
        if let Some(at) = self.last_contacted_at {
            f.push("last_contacted_at", at.map(instant).transpose(), |at| {
                FieldEdit::LastContactedAt(at)
            });
        }
        for (key, value) in self.custom.iter().flatten() {
            f.custom(key, value.as_deref());
        }
        f.done()
    }
}

impl ArchiveContactRequest {
    /// The reason, parsed (blank is none).
    pub fn reason(&self) -> Result<Option<Text>, FieldError> {
        Text::parse_optional(self.reason.as_deref(), MAX_TEXT_CHARS).map_err(|message| FieldError {
            field: "reason".into(),
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_named(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_create_request_parses_every_field_into_the_commands_types() {
        let request: CreateContactRequest = serde_json::from_value(serde_json::json!({
            "first_name": " Dana ",
            "last_name": "Lee",
            "email": "Dana@Acme.IO",
            "phones": ["(415) 555-0100", "call the front desk"],
            "company_domain": "https://www.Acme.io/about",
            "lifecycle_stage": " salesqualifiedlead ",
            "owner": "casey",
            "crm_id": "501",
            "last_contacted_at": "2026-11-02T09:30:00+01:00",
            "custom": {"lead_source": "webinar", "empty": "  "},
        }))
        .unwrap();
        let fields = crate::contacts::fields_of(request.edits().unwrap());
        assert_eq!(fields.first_name.as_deref(), Some("Dana"));
        assert_eq!(fields.emails, vec!["dana@acme.io"]);
        assert_eq!(
            fields.phones,
            vec![
                Phone {
                    raw: "(415) 555-0100".into(),
                    e164: Some("+14155550100".into())
                },
                Phone {
                    raw: "call the front desk".into(),
                    e164: None
                },
            ],
            "a phone that does not parse is kept, with no E.164 form"
        );
        assert_eq!(fields.company_domain.as_deref(), Some("acme.io"));
        assert_eq!(
            fields.lifecycle_stage,
            Some(LifecycleStage::SalesQualifiedLead)
        );
        assert_eq!(
            fields.last_contacted_at,
            Some("2026-11-02T08:30:00Z".parse().unwrap())
        );
        assert_eq!(
            fields.custom.len(),
            1,
            "a blank custom value is no property"
        );
    }

    #[test]
    fn invalid_fields_are_all_named() {
        // (request, the fields named)
        let table = [
            (serde_json::json!({"email": "dana"}), vec!["email"]),
            (
                serde_json::json!({"emails": ["a@b.io", "nope"], "crm_id": "a b"}),
                vec!["emails[1]", "crm_id"],
            ),
            (
                serde_json::json!({"email": "a@b.io", "emails": ["a@b.io"]}),
                vec!["email"],
            ),
            (
                serde_json::json!({"phones": [" "], "lifecycle_stage": "prospect"}),
                vec!["phones[0]", "lifecycle_stage"],
            ),
            // Counted as sent: 21 items are too many even when they are one address.
            (
                serde_json::json!({"emails": vec!["a@b.io"; 21], "phones": vec!["+1 415 555 0100"; 21]}),
                vec!["emails", "phones"],
            ),
            (
                serde_json::json!({"email": "a@b.io", "lifecycle_stage": "Sales Qualified Lead"}),
                vec!["lifecycle_stage"],
            ),
            (
                serde_json::json!({"email": "a@b.io", "last_contacted_at": "0000-01-01T00:00:00+06:00"}),
                vec!["last_contacted_at"],
            ),
            (
                serde_json::json!({"company_domain": "acme", "owner": "\u{1}"}),
                vec!["company_domain", "owner"],
            ),
            (
                serde_json::json!({"first_name": "x".repeat(MAX_NAME_CHARS + 1)}),
                vec!["first_name"],
            ),
            (
                serde_json::json!({"custom": {"Bad Key": "v"}}),
                vec!["custom.Bad Key"],
            ),
        ];
        for (body, expected) in table {
            let request: CreateContactRequest = serde_json::from_value(body.clone()).unwrap();
            let got = request.edits().map(|_| ()).map_err(fields_named);
            assert_eq!(
                got,
                Err(expected.iter().map(|s| s.to_string()).collect()),
                "{body}"
            );
        }
    }

    #[test]
    fn an_edit_names_only_present_fields_and_null_clears() {
        // (request, the fields it changes)
        let table = [
            (serde_json::json!({}), vec![]),
            (serde_json::json!({"job_title": null}), vec!["job_title"]),
            (
                serde_json::json!({"emails": null, "owner": ""}),
                vec!["emails", "owner"],
            ),
            (
                serde_json::json!({"custom": {"tier": null}}),
                vec!["custom.tier"],
            ),
        ];
        for (body, expected) in table {
            let request: EditContactRequest = serde_json::from_value(body.clone()).unwrap();
            let edits = request.edits().unwrap();
            let named: Vec<String> = edits.iter().map(|e| e.field().to_string()).collect();
            assert_eq!(named, expected, "{body}");
        }
        let cleared: EditContactRequest =
            serde_json::from_value(serde_json::json!({"job_title": null, "emails": null})).unwrap();
        assert_eq!(
            cleared.edits().unwrap(),
            vec![FieldEdit::Emails(vec![]), FieldEdit::JobTitle(None)]
        );
    }
}
