//! A CSV file's header, read as contact fields: the aliases the seed system accepted
//! (seed-system §2.16), CaseyOS's own field names, and every other column as a custom
//! property. Headers are matched case-insensitively after trimming.

use serde::{Deserialize, Serialize};

use crate::contacts::ContactField;

/// What a column of the file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// Email addresses (the first is the primary; a cell may hold several, separated by
    /// `;`).
    Email,
    FirstName,
    LastName,
    Company,
    JobTitle,
    /// Phone numbers (several separated by `;`).
    Phone,
    CompanyDomain,
    LifecycleStage,
    Owner,
    CrmId,
    LastContactedAt,
    /// A custom property with this key: the seed's `linkedin_url` and `industry` (which
    /// are not contact fields of their own), and any other header, lower-cased with runs
    /// of other characters turned into `_`.
    Custom(String),
    /// A header that names nothing (blank, or nothing left of it as a key): its cells are
    /// not read.
    Ignored,
}

/// The header aliases: (column, every header that means it). The first eight lines are the
/// seed's exactly; the rest are CaseyOS's own field names.
const ALIASES: &[(&str, &[&str])] = &[
    (
        "email",
        &["email", "email_address", "e-mail", "emailaddress", "emails"],
    ),
    (
        "first_name",
        &["first_name", "firstname", "first", "given_name"],
    ),
    (
        "last_name",
        &["last_name", "lastname", "last", "surname", "family_name"],
    ),
    (
        "company",
        &["company", "company_name", "organization", "org"],
    ),
    (
        "job_title",
        &["job_title", "title", "position", "jobtitle", "role"],
    ),
    (
        "phone",
        &["phone", "phone_number", "telephone", "mobile", "phones"],
    ),
    (
        "linkedin_url",
        &["linkedin", "linkedin_url", "linkedin_profile"],
    ),
    ("industry", &["industry", "sector"]),
    ("company_domain", &["company_domain"]),
    ("lifecycle_stage", &["lifecycle_stage"]),
    ("owner", &["owner"]),
    ("crm_id", &["crm_id", "hubspot_id", "record_id"]),
    ("last_contacted_at", &["last_contacted_at"]),
];

impl Column {
    /// The column a header names.
    pub fn of(header: &str) -> Column {
        let header = header.trim().to_lowercase();
        let canonical = ALIASES
            .iter()
            .find(|(_, aliases)| aliases.contains(&header.as_str()))
            .map(|(canonical, _)| *canonical);
        match canonical {
            Some("email") => Column::Email,
            Some("first_name") => Column::FirstName,
            Some("last_name") => Column::LastName,
            Some("company") => Column::Company,
            Some("job_title") => Column::JobTitle,
            Some("phone") => Column::Phone,
            Some("company_domain") => Column::CompanyDomain,
            Some("lifecycle_stage") => Column::LifecycleStage,
            Some("owner") => Column::Owner,
            Some("crm_id") => Column::CrmId,
            Some("last_contacted_at") => Column::LastContactedAt,
            Some(other) => Column::Custom(other.to_string()),
            None => {
                let key = custom_key(header.strip_prefix("custom.").unwrap_or(&header));
                if ContactField::custom_key_ok(&key) {
                    Column::Custom(key)
                } else {
                    Column::Ignored
                }
            }
        }
    }

    /// The contact field the column fills (`None` when ignored).
    pub fn field(&self) -> Option<ContactField> {
        Some(match self {
            Column::Email => ContactField::Emails,
            Column::FirstName => ContactField::FirstName,
            Column::LastName => ContactField::LastName,
            Column::Company => ContactField::CompanyName,
            Column::JobTitle => ContactField::JobTitle,
            Column::Phone => ContactField::Phones,
            Column::CompanyDomain => ContactField::CompanyDomain,
            Column::LifecycleStage => ContactField::LifecycleStage,
            Column::Owner => ContactField::Owner,
            Column::CrmId => ContactField::CrmId,
            Column::LastContactedAt => ContactField::LastContactedAt,
            Column::Custom(key) => ContactField::Custom(key.clone()),
            Column::Ignored => return None,
        })
    }
}

/// A custom property key made of a header: lower case, every run of characters other than
/// `a–z 0–9` one `_`, none at either end (`Lead Source` is `lead_source`).
fn custom_key(header: &str) -> String {
    let mut key = String::with_capacity(header.len());
    for c in header.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c.to_ascii_lowercase());
        } else if !key.ends_with('_') {
            key.push('_');
        }
    }
    key.trim_matches('_').to_string()
}

/// A file's header, read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Each column's header as written and what it holds, in file order.
    pub columns: Vec<(String, Column)>,
}

/// Why a file's header cannot be imported (the whole import fails with it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("the file is empty (no header line)")]
    Empty,
    #[error(
        "the header has no email column (email, email_address, e-mail, emailaddress) and no \
         CRM id column (crm_id, hubspot_id, record_id)"
    )]
    NoKey,
    #[error(
        "columns {first} ({first_header:?}) and {second} ({second_header:?}) both fill {field}"
    )]
    Repeated {
        field: String,
        first: usize,
        first_header: String,
        second: usize,
        second_header: String,
    },
}

impl Header {
    /// Reads a header record's fields.
    pub fn read(headers: &[String]) -> Result<Header, HeaderError> {
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(HeaderError::Empty);
        }
        let columns: Vec<(String, Column)> = headers
            .iter()
            .map(|h| (h.trim().to_string(), Column::of(h)))
            .collect();
        for (second, (second_header, column)) in columns.iter().enumerate() {
            if *column == Column::Ignored {
                continue;
            }
            if let Some(first) = columns[..second].iter().position(|(_, c)| c == column) {
                return Err(HeaderError::Repeated {
                    field: column.field().map(|f| f.to_string()).unwrap_or_default(),
                    first: first + 1,
                    first_header: columns[first].0.clone(),
                    second: second + 1,
                    second_header: second_header.clone(),
                });
            }
        }
        if !columns
            .iter()
            .any(|(_, c)| matches!(c, Column::Email | Column::CrmId))
        {
            return Err(HeaderError::NoKey);
        }
        Ok(Header { columns })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_alias_and_our_own_names_map_case_insensitively_and_trimmed() {
        let table: &[(&str, Column)] = &[
            ("email", Column::Email),
            ("Email_Address", Column::Email),
            (" E-mail ", Column::Email),
            ("EMAILADDRESS", Column::Email),
            ("emails", Column::Email),
            ("first_name", Column::FirstName),
            ("FirstName", Column::FirstName),
            ("first", Column::FirstName),
            ("Given_Name", Column::FirstName),
            ("last_name", Column::LastName),
            ("lastname", Column::LastName),
            ("Last", Column::LastName),
            ("surname", Column::LastName),
            ("family_name", Column::LastName),
            ("company", Column::Company),
            ("Company_Name", Column::Company),
            ("organization", Column::Company),
            ("org", Column::Company),
            ("job_title", Column::JobTitle),
            ("Title", Column::JobTitle),
            ("position", Column::JobTitle),
            ("jobtitle", Column::JobTitle),
            ("role", Column::JobTitle),
            ("phone", Column::Phone),
            ("Phone_Number", Column::Phone),
            ("telephone", Column::Phone),
            ("mobile", Column::Phone),
            ("linkedin", Column::Custom("linkedin_url".into())),
            ("LinkedIn_URL", Column::Custom("linkedin_url".into())),
            ("linkedin_profile", Column::Custom("linkedin_url".into())),
            ("industry", Column::Custom("industry".into())),
            ("Sector", Column::Custom("industry".into())),
            ("company_domain", Column::CompanyDomain),
            ("Lifecycle_Stage", Column::LifecycleStage),
            ("owner", Column::Owner),
            ("crm_id", Column::CrmId),
            ("HubSpot_ID", Column::CrmId),
            ("record_id", Column::CrmId),
            ("last_contacted_at", Column::LastContactedAt),
            // Not aliases: spaces and other spellings are custom properties.
            ("First Name", Column::Custom("first_name".into())),
            ("Lead Source", Column::Custom("lead_source".into())),
            ("custom.tier", Column::Custom("tier".into())),
            ("  ", Column::Ignored),
            ("—", Column::Ignored),
        ];
        for (header, expected) in table {
            assert_eq!(&Column::of(header), expected, "{header:?}");
        }
    }

    fn header(names: &[&str]) -> Result<Header, HeaderError> {
        Header::read(&names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn a_header_needs_an_email_or_crm_id_column_and_no_field_twice() {
        assert!(header(&["Email", "Company"]).is_ok());
        assert!(header(&["hubspot_id", "first"]).is_ok());
        assert_eq!(header(&["first", "last"]), Err(HeaderError::NoKey));
        assert_eq!(header(&[""]), Err(HeaderError::Empty));
        let repeated = header(&["Email", "name", "E-mail"]).unwrap_err();
        assert_eq!(
            repeated.to_string(),
            "columns 1 (\"Email\") and 3 (\"E-mail\") both fill emails"
        );
        // Blank headers may repeat: their columns are not read.
        assert!(header(&["email", "", ""]).is_ok());
    }
}
