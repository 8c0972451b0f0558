//! What the hygiene agents read and what they ask for.
//!
//! They read contacts, duplicate pairs and the CRM sync's state through [`ContactReader`]
//! (the backend implements it over the read models and the event store), and they never
//! write: an [`Outcome`](crate::Outcome)'s [`Effect`]s are executed by the worker as
//! ordinary commands (a validation recorded on a contact, a duplicate pair detected, an
//! alert raised or resolved), with ids derived from the run or the subject so a retried
//! attempt repeats none of them.

use async_trait::async_trait;
use caseyos_domain::alerts::{AlertKind, AlertSeverity, AlertSubject};
use caseyos_domain::api::FieldError;
use caseyos_domain::contacts::{ContactView, Phone};
use caseyos_domain::duplicates::{DuplicatePairView, Finding};
use caseyos_domain::hygiene::{MatchRecord, ValidationInput, ValidationReport};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Contacts read a page at a time.
pub const CONTACT_PAGE: usize = 2_000;

/// Which contacts a page reads (never merged-away ones).
#[derive(Clone, Debug, PartialEq)]
pub enum ContactSelection {
    /// Active contacts never validated, changed since their last validation, or validated
    /// under rules older than `rules_version`.
    ToValidate { rules_version: u32 },
    /// Every active contact.
    Active,
    /// Every contact not merged into another (active and archived): what matching reads.
    NotMerged,
    /// Active contacts created at or after this instant.
    CreatedSince(DateTime<Utc>),
}

/// One contact as the hygiene agents read it.
#[derive(Clone, Debug, PartialEq)]
pub struct ContactRecord {
    pub id: Uuid,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Lower case; the first is the primary.
    pub emails: Vec<String>,
    pub phones: Vec<Phone>,
    pub job_title: Option<String>,
    pub company_name: Option<String>,
    pub company_domain: Option<String>,
    /// As stored (`customer`, `salesqualifiedlead`, …).
    pub lifecycle_stage: Option<String>,
    pub crm_id: Option<String>,
    pub last_contacted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was last validated, and under which rules.
    pub validated: Option<(DateTime<Utc>, u32)>,
}

impl ContactRecord {
    /// The record of a contact as its aggregate (and the read model's `doc`) shows it.
    pub fn of(view: &ContactView) -> ContactRecord {
        let f = &view.fields;
        ContactRecord {
            id: view.id,
            first_name: f.first_name.clone(),
            last_name: f.last_name.clone(),
            emails: f.emails.clone(),
            phones: f.phones.clone(),
            job_title: f.job_title.clone(),
            company_name: f.company_name.clone(),
            company_domain: f.company_domain.clone(),
            lifecycle_stage: f.lifecycle_stage.map(|s| s.as_str().to_string()),
            crm_id: f.crm_id.clone(),
            last_contacted_at: f.last_contacted_at,
            created_at: view.created_at,
            updated_at: view.updated_at,
            validated: view
                .validation
                .as_ref()
                .map(|v| (v.at, v.report.rules_version)),
        }
    }

    /// "First Last", or the primary address's domain-free hint when it has no name.
    pub fn display_name(&self) -> String {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            format!("contact {}", &self.id.simple().to_string()[..8])
        } else {
            name
        }
    }

    /// What validation reads.
    pub fn validation_input(&self) -> ValidationInput {
        ValidationInput {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            emails: self.emails.clone(),
            phones: self
                .phones
                .iter()
                .map(|p| (p.raw.clone(), p.e164.clone()))
                .collect(),
            job_title: self.job_title.clone(),
            company_name: self.company_name.clone(),
            lifecycle_stage: self.lifecycle_stage.clone(),
        }
    }

    /// What matching reads.
    pub fn match_record(&self) -> MatchRecord {
        MatchRecord {
            id: self.id,
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            emails: self.emails.clone(),
            phones: self
                .phones
                .iter()
                .map(|p| p.e164.clone().unwrap_or_else(|| p.raw.clone()))
                .collect(),
            company_name: self.company_name.clone(),
            company_domain: self.company_domain.clone(),
        }
    }

    /// Whether it needs validating under `rules_version`: never validated, changed since,
    /// or validated under older rules.
    pub fn needs_validation(&self, rules_version: u32) -> bool {
        match self.validated {
            None => true,
            Some((at, version)) => version < rules_version || self.updated_at > at,
        }
    }
}

/// The CRM sync as the hygiene agents see it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncState {
    /// Whether a CRM (HubSpot) is configured; when not, nothing is synced or judged.
    pub connected: bool,
    /// The last sync that completed, and when.
    pub last_good_sync: Option<(Uuid, DateTime<Utc>)>,
    /// The last sync that failed, when, and why (no secrets).
    pub last_failure: Option<(Uuid, DateTime<Utc>, String)>,
    /// CRM calls in the hour before now, and how many of them failed.
    pub calls_last_hour: u64,
    pub failed_calls_last_hour: u64,
}

/// The read side the hygiene agents look at.
#[async_trait]
pub trait ContactReader: Send + Sync {
    /// Up to `limit` contacts of `selection` (restricted to `ids` when given) with an id
    /// above `after`, by id.
    async fn contacts(
        &self,
        selection: &ContactSelection,
        ids: Option<&[Uuid]>,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<ContactRecord>, String>;

    /// The duplicate pairs with these ids that exist, as their aggregate shows them.
    async fn pairs(&self, ids: &[Uuid]) -> Result<Vec<DuplicatePairView>, String>;

    /// The CRM sync's state.
    async fn sync_state(&self) -> Result<SyncState, String>;
}

/// A reader for runs with no contacts to read (the agents that do not use them).
pub struct NoContacts;

/// The message of [`NoContacts`]'s answers.
pub const NO_CONTACTS: &str = "this run has no access to contacts";

#[async_trait]
impl ContactReader for NoContacts {
    async fn contacts(
        &self,
        _selection: &ContactSelection,
        _ids: Option<&[Uuid]>,
        _after: Option<Uuid>,
        _limit: usize,
    ) -> Result<Vec<ContactRecord>, String> {
        Err(NO_CONTACTS.into())
    }

    async fn pairs(&self, _ids: &[Uuid]) -> Result<Vec<DuplicatePairView>, String> {
        Err(NO_CONTACTS.into())
    }

    async fn sync_state(&self) -> Result<SyncState, String> {
        Err(NO_CONTACTS.into())
    }
}

/// An alert an agent asks to raise: the worker raises it under `key` (its id is derived
/// from the key), so the same condition raised twice is one alert.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertSpec {
    pub key: String,
    pub kind: AlertKind,
    pub severity: AlertSeverity,
    pub title: String,
    pub message: String,
    pub subjects: Vec<AlertSubject>,
}

/// A change an agent asks for; the worker executes it as a command, as the agent, with
/// the run as its cause.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// `ContactCommand::RecordValidation` on `contact` (records nothing when the report is
    /// the one already recorded).
    RecordValidation {
        contact: Uuid,
        report: ValidationReport,
    },
    /// `DuplicatePairCommand::Detect` on the pair `duplicate_pair_id(a, b)` (records
    /// nothing for an unchanged finding, and never reopens a pair a person closed unless a
    /// fingerprint changed).
    DetectDuplicate(Finding),
    /// `AlertCommand::Raise` (nothing when the alert is open or was dismissed).
    RaiseAlert(AlertSpec),
    /// `AlertCommand::Resolve` on every open alert of this kind (their condition cleared).
    ResolveAlerts(AlertKind),
}

/// Reads every page of `selection` (restricted to `ids`), at most `limit` contacts.
pub(crate) async fn read_all(
    reader: &dyn ContactReader,
    selection: &ContactSelection,
    ids: Option<&[Uuid]>,
    limit: Option<usize>,
) -> Result<Vec<ContactRecord>, crate::AgentError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let want = match limit {
            Some(limit) => CONTACT_PAGE.min(limit - all.len()),
            None => CONTACT_PAGE,
        };
        if want == 0 {
            break;
        }
        let page = reader
            .contacts(selection, ids, after, want)
            .await
            .map_err(read_failed)?;
        let full = page.len() == want;
        after = page.last().map(|c| c.id);
        all.extend(page);
        if !full {
            break;
        }
    }
    Ok(all)
}

/// The error of a read that failed (retryable: the database may answer next time).
pub(crate) fn read_failed(message: String) -> crate::AgentError {
    crate::AgentError::new(
        "agent.read_failed",
        format!("reading contacts failed: {message}"),
        true,
    )
}

/// The most contacts a run may be limited to, or name.
pub const MAX_LIMIT: u32 = 1_000_000;
/// The most contact ids one input may name.
pub const MAX_CONTACT_IDS: usize = 1_000;
/// A contact id in an input: a UUID in its hyphenated form.
pub const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// The schema of `contact_ids`.
pub(crate) fn contact_ids_schema() -> serde_json::Value {
    serde_json::json!({
        "type": ["array", "null"],
        "items": {"type": "string", "minLength": 36, "maxLength": 36, "pattern": UUID_PATTERN},
        "maxItems": MAX_CONTACT_IDS,
    })
}

/// A UUID written as [`UUID_PATTERN`] says (the `uuid` crate reads other forms too).
fn strict_uuid(text: &str) -> Option<Uuid> {
    let shape = text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        });
    if shape {
        Uuid::parse_str(text).ok()
    } else {
        None
    }
}

/// The ids of `contact_ids`, once each; `None` when it is absent.
pub(crate) fn contact_ids(ids: &Option<Vec<String>>) -> Option<Vec<Uuid>> {
    ids.as_ref().map(|ids| {
        let mut parsed: Vec<Uuid> = ids.iter().filter_map(|t| strict_uuid(t)).collect();
        parsed.sort_unstable();
        parsed.dedup();
        parsed
    })
}

/// Errors of the shared optional inputs `limit` and `contact_ids`.
pub(crate) fn check_scope(limit: Option<u32>, ids: &Option<Vec<String>>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if limit.is_some_and(|l| !(1..=MAX_LIMIT).contains(&l)) {
        errors.push(crate::field_error(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    if let Some(ids) = ids {
        if ids.len() > MAX_CONTACT_IDS {
            errors.push(crate::field_error(
                "contact_ids",
                format!("must name at most {MAX_CONTACT_IDS} contacts"),
            ));
        }
        for (i, id) in ids.iter().enumerate() {
            if strict_uuid(id).is_none() {
                errors.push(crate::field_error(
                    &format!("contact_ids[{i}]"),
                    "must be a contact id (a UUID such as 0190c6b2-6c1e-7a2b-9c1d-2e3f4a5b6c7d)",
                ));
            }
        }
    }
    errors
}

/// The UTC date of an instant, as alert keys and reports name days (`2026-11-30`).
pub(crate) fn utc_date(at: DateTime<Utc>) -> String {
    at.date_naive().format("%Y-%m-%d").to_string()
}

#[cfg(test)]
pub(crate) mod testing {
    //! A contact base in memory, for the hygiene agents' tests.

    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    pub struct FakeContacts {
        pub contacts: Vec<ContactRecord>,
        /// Contacts merged away (never read).
        pub merged: Vec<Uuid>,
        /// Archived contacts (read only by `NotMerged`).
        pub archived: Vec<Uuid>,
        pub pairs: Vec<DuplicatePairView>,
        pub sync: SyncState,
        /// Every page size asked for.
        pub pages: Mutex<Vec<usize>>,
    }

    #[async_trait]
    impl ContactReader for FakeContacts {
        async fn contacts(
            &self,
            selection: &ContactSelection,
            ids: Option<&[Uuid]>,
            after: Option<Uuid>,
            limit: usize,
        ) -> Result<Vec<ContactRecord>, String> {
            self.pages.lock().unwrap().push(limit);
            let mut chosen: Vec<ContactRecord> = self
                .contacts
                .iter()
                .filter(|c| !self.merged.contains(&c.id))
                .filter(|c| match selection {
                    ContactSelection::NotMerged => true,
                    _ => !self.archived.contains(&c.id),
                })
                .filter(|c| match selection {
                    ContactSelection::ToValidate { rules_version } => {
                        c.needs_validation(*rules_version)
                    }
                    ContactSelection::CreatedSince(at) => c.created_at >= *at,
                    _ => true,
                })
                .filter(|c| ids.is_none_or(|ids| ids.contains(&c.id)))
                .filter(|c| after.is_none_or(|after| c.id > after))
                .cloned()
                .collect();
            chosen.sort_by_key(|c| c.id);
            chosen.truncate(limit);
            Ok(chosen)
        }

        async fn pairs(&self, ids: &[Uuid]) -> Result<Vec<DuplicatePairView>, String> {
            Ok(self
                .pairs
                .iter()
                .filter(|p| ids.contains(&p.id))
                .cloned()
                .collect())
        }

        async fn sync_state(&self) -> Result<SyncState, String> {
            Ok(self.sync.clone())
        }
    }

    /// A contact created at `created` with a name, an address, and nothing else.
    pub fn contact(n: u128, first: &str, last: &str, email: &str) -> ContactRecord {
        let created = crate::llm::testing::fixed_now() - chrono::Duration::days(10);
        ContactRecord {
            id: Uuid::from_u128(n),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            emails: vec![email.into()],
            phones: Vec::new(),
            job_title: None,
            company_name: None,
            company_domain: None,
            lifecycle_stage: None,
            crm_id: None,
            last_contacted_at: None,
            created_at: created,
            updated_at: created,
            validated: None,
        }
    }
}
