//! One CSV record read as a contact: every cell parsed into the contact's field values, or
//! every problem of the row named by its column. Empty cells say nothing: they never clear
//! a field.

use chrono::{DateTime, NaiveDate, Utc};

use super::columns::{Column, Header};
use crate::contacts::{
    CompanyDomain, ContactField, FieldEdit, LifecycleStage, Phone, MAX_NAME_CHARS, MAX_TEXT_CHARS,
};
use crate::kernel::{CrmId, EmailAddress, Text, UserName};

/// A row that reads as a contact.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRow {
    /// The physical line it starts on.
    pub line: u64,
    pub crm_id: Option<CrmId>,
    /// Its addresses, the primary first (empty when the file has none for it).
    pub emails: Vec<EmailAddress>,
    /// Every field the row gives a value, in column order (`Emails` and `CrmId` included).
    pub fields: Vec<FieldEdit>,
}

/// A row that does not: its line and every problem, `column: reason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub problems: Vec<String>,
}

impl RowError {
    /// `column: reason; column: reason` (the import's per-row message).
    pub fn message(&self) -> String {
        self.problems.join("; ")
    }
}

/// Reads a record's fields against the header.
pub fn read_row(header: &Header, line: u64, cells: &[String]) -> Result<ImportRow, RowError> {
    if cells.len() != header.columns.len() {
        return Err(RowError {
            line,
            problems: vec![format!(
                "the row has {} fields, the header has {}",
                cells.len(),
                header.columns.len()
            )],
        });
    }
    let mut problems = Vec::new();
    let mut row = ImportRow {
        line,
        crm_id: None,
        emails: Vec::new(),
        fields: Vec::new(),
    };
    for ((name, column), cell) in header.columns.iter().zip(cells) {
        let cell = cell.trim();
        if cell.is_empty() || *column == Column::Ignored {
            continue;
        }
        let mut problem = |reason: String| problems.push(format!("{name}: {reason}"));
        let text = |max: usize| Text::parse(cell, max);
        match column {
            Column::Email => {
                let mut emails = Vec::new();
                for part in cell.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    match EmailAddress::parse(part) {
                        Ok(email) if !emails.contains(&email) => emails.push(email),
                        Ok(_) => {}
                        Err(reason) => problem(reason.to_string()),
                    }
                }
                row.emails = emails.clone();
                row.fields.push(FieldEdit::Emails(emails));
            }
            Column::Phone => {
                let phones = cell
                    .split(';')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(Phone::read)
                    .collect();
                row.fields.push(FieldEdit::Phones(phones));
            }
            Column::FirstName => match text(MAX_NAME_CHARS) {
                Ok(t) => row.fields.push(FieldEdit::FirstName(Some(t))),
                Err(reason) => problem(reason),
            },
            Column::LastName => match text(MAX_NAME_CHARS) {
                Ok(t) => row.fields.push(FieldEdit::LastName(Some(t))),
                Err(reason) => problem(reason),
            },
            Column::Company => match text(MAX_NAME_CHARS) {
                Ok(t) => row.fields.push(FieldEdit::CompanyName(Some(t))),
                Err(reason) => problem(reason),
            },
            Column::JobTitle => match text(MAX_NAME_CHARS) {
                Ok(t) => row.fields.push(FieldEdit::JobTitle(Some(t))),
                Err(reason) => problem(reason),
            },
            Column::CompanyDomain => match CompanyDomain::parse(cell) {
                Ok(d) => row.fields.push(FieldEdit::CompanyDomain(Some(d))),
                Err(reason) => problem(reason.to_string()),
            },
            Column::LifecycleStage => match LifecycleStage::parse(cell) {
                Some(stage) => row.fields.push(FieldEdit::LifecycleStage(Some(stage))),
                None => problem(format!(
                    "is not a lifecycle stage ({})",
                    LifecycleStage::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            Column::Owner => match UserName::parse(cell) {
                Ok(owner) => row.fields.push(FieldEdit::Owner(Some(owner))),
                Err(reason) => problem(reason.to_string()),
            },
            Column::CrmId => match CrmId::parse(cell) {
                Ok(id) => {
                    row.crm_id = Some(id.clone());
                    row.fields.push(FieldEdit::CrmId(Some(id)));
                }
                Err(reason) => problem(reason.to_string()),
            },
            Column::LastContactedAt => match instant(cell) {
                Some(at) => row.fields.push(FieldEdit::LastContactedAt(Some(at))),
                None => problem(
                    "is not a time (2026-11-30T09:30:00Z, an offset instead of Z, or a date \
                     2026-11-30)"
                        .to_string(),
                ),
            },
            Column::Custom(key) => match text(MAX_TEXT_CHARS) {
                Ok(t) => row.fields.push(FieldEdit::Custom(key.clone(), Some(t))),
                Err(reason) => problem(reason),
            },
            Column::Ignored => {}
        }
    }
    if problems.is_empty() && row.crm_id.is_none() && row.emails.is_empty() {
        let email = header
            .columns
            .iter()
            .find(|(_, c)| *c == Column::Email)
            .or_else(|| header.columns.iter().find(|(_, c)| *c == Column::CrmId))
            .map_or("email", |(name, _)| name.as_str());
        problems.push(format!("{email}: a row needs an email address or a CRM id"));
    }
    if problems.is_empty() {
        Ok(row)
    } else {
        Err(RowError { line, problems })
    }
}

/// An instant as files write them: RFC 3339 (`Z` or an offset; a space for the `T` too),
/// or a date alone (midnight UTC).
fn instant(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(at.with_timezone(&Utc));
    }
    if raw.len() > 10 && raw.as_bytes()[10] == b' ' {
        let t = format!("{}T{}", &raw[..10], &raw[11..]);
        if let Ok(at) = DateTime::parse_from_rfc3339(&t) {
            return Some(at.with_timezone(&Utc));
        }
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

impl ImportRow {
    /// The contact fields the row names, in column order.
    pub fn named_fields(&self) -> Vec<ContactField> {
        self.fields.iter().map(FieldEdit::field).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Header {
        Header::read(&names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn cells(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn a_row_reads_every_column_into_its_field() {
        let header = header(&[
            "E-mail",
            "FirstName",
            "surname",
            "org",
            "title",
            "mobile",
            "company_domain",
            "lifecycle_stage",
            "owner",
            "hubspot_id",
            "last_contacted_at",
            "sector",
            "Lead Source",
            "",
        ]);
        let row = read_row(
            &header,
            7,
            &cells(&[
                " Ada@Example.com ; ada@work.io",
                "Ada",
                "Lovelace",
                "Analytical Engines",
                "CTO",
                "+1 415 555 0100",
                "https://www.example.com/",
                "Sales Qualified Lead",
                "alice",
                "12345",
                "2026-11-30T09:30:00+01:00",
                "Computing",
                "webinar",
                "whatever",
            ]),
        )
        .unwrap();
        assert_eq!(row.line, 7);
        assert_eq!(
            row.emails.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
            ["ada@example.com", "ada@work.io"]
        );
        assert_eq!(row.crm_id.as_ref().map(|c| c.as_str()), Some("12345"));
        let names: Vec<String> = row.named_fields().iter().map(|f| f.to_string()).collect();
        assert_eq!(
            names,
            [
                "emails",
                "first_name",
                "last_name",
                "company_name",
                "job_title",
                "phones",
                "company_domain",
                "lifecycle_stage",
                "owner",
                "crm_id",
                "last_contacted_at",
                "custom.industry",
                "custom.lead_source"
            ]
        );
        assert!(row.fields.contains(&FieldEdit::LastContactedAt(Some(
            "2026-11-30T08:30:00Z".parse().unwrap()
        ))));
        assert!(row.fields.contains(&FieldEdit::LifecycleStage(Some(
            LifecycleStage::SalesQualifiedLead
        ))));
    }

    #[test]
    fn every_problem_of_a_row_is_named_by_its_column() {
        let header = header(&["email", "lifecycle_stage", "last_contacted_at", "crm_id"]);
        let table: &[(&[&str], &str)] = &[
            (
                &["not-an-email", "lead", "", ""],
                "email: is not an email address",
            ),
            (
                &["a@b.io", "prospect", "yesterday", "x y"],
                "lifecycle_stage: is not a lifecycle stage (subscriber, lead, \
                 marketingqualifiedlead, salesqualifiedlead, opportunity, customer, \
                 evangelist, other); last_contacted_at: is not a time (2026-11-30T09:30:00Z, \
                 an offset instead of Z, or a date 2026-11-30); crm_id: must be 1–64 \
                 characters of letters, digits, `_` or `-`",
            ),
            (
                &["", "lead", "", ""],
                "email: a row needs an email address or a CRM id",
            ),
            (
                &["a@b.io", "lead"],
                "the row has 2 fields, the header has 4",
            ),
        ];
        for (values, expected) in table {
            let error = read_row(&header, 17, &cells(values)).unwrap_err();
            assert_eq!(error.line, 17);
            assert_eq!(error.message(), *expected, "{values:?}");
        }
    }

    #[test]
    fn phones_read_with_the_one_phone_rule() {
        let table = [
            ("+1 415 555 0100", Some("+14155550100")),
            ("+44 (20) 7946-0958", Some("+442079460958")),
            ("(415) 555-0100", Some("+14155550100")),
            ("+1 415 CALL NOW", None),
        ];
        for (raw, expected) in table {
            assert_eq!(Phone::read(raw).e164.as_deref(), expected, "{raw:?}");
        }
    }

    #[test]
    fn times_read_with_z_offsets_spaces_and_dates() {
        let table = [
            ("2026-11-30T09:30:00Z", Some("2026-11-30T09:30:00Z")),
            ("2026-11-30T09:30:00.123Z", Some("2026-11-30T09:30:00.123Z")),
            ("2026-11-30 09:30:00-05:00", Some("2026-11-30T14:30:00Z")),
            ("2026-11-30", Some("2026-11-30T00:00:00Z")),
            ("30/11/2026", None),
            ("2026-11-30T09:30:00", None),
        ];
        for (raw, expected) in table {
            let expected: Option<DateTime<Utc>> = expected.map(|e| e.parse().unwrap());
            assert_eq!(instant(raw), expected, "{raw:?}");
        }
    }
}
