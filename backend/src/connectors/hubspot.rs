//! The HubSpot CRM client: contacts and deals changed in a time window (searched, paged,
//! windows split past the search cap), batch reads, merges, a company by domain, one deal by
//! id, the deal pipelines, the owners, a cheap connection check, and what executions do:
//! tasks and notes created once (with their associations and our execution id), tasks
//! completed and deleted, a deal's stage moved. Calls go through [`super::call`]. One reqwest client per [`HubSpotClient`] (clones share it, its rate-limit state and
//! its counters).
//!
//! **API version.** HubSpot's date-versioned CRM API, version [`CRM_API_VERSION`] in every
//! path (`/crm/objects/2026-03/{object}/…`); the numeric `/crm/v3/` paths are legacy.
//! Checked against HubSpot's reference (stored copies, 2026):
//! - "2026-03 API reference" (developers.hubspot.com/docs/api-reference/2026-03/overview):
//!   every endpoint is `/api-name/2026-03/resource`, e.g. `GET /crm/objects/2026-03/contacts`,
//!   on the same root `https://api.hubapi.com/`.
//! - "Search the CRM" (…/api-reference/2026-03/crm/search-the-crm) and "Search for CRM objects
//!   of a specified type" (…/2026-03/crm/objects/custom-objects/search): `POST
//!   /crm/objects/2026-03/{objectType}/search` with `filterGroups[].filters[]{propertyName,
//!   operator, value}`, `sorts`, `properties`, `limit`, `after`.
//! - "Merge two objects with same type" (…/2026-03/crm/objects/custom-objects/merge): `POST
//!   /crm/objects/2026-03/{objectType}/merge`; its body and answer are the v3 merge's
//!   (`{primaryObjectId, objectIdToMerge}` answering the merged object, per the v3 page).
//!
//! - "Retrieve all pipelines" (…/api-reference/2026-03/crm/pipelines/get-pipelines): `GET
//!   /crm/pipelines/2026-03/{objectType}` answering `{results:[{id, label, displayOrder,
//!   archived, stages:[{id, label, displayOrder, archived, metadata}]}]}`; for deal stages
//!   `metadata` holds `probability` (a decimal string, `"0.2"`) and `isClosed` (`"true"` /
//!   `"false"`), per the pipelines guide (…/api-reference/latest/crm/pipelines/guide) and
//!   the v1 pipelines reference's `metadata.probability`. Both are read as strings, numbers
//!   or booleans, whichever comes.
//! - "Retrieve all owners" (…/api-reference/2026-03/crm/owners/get-owners) exists for
//!   2026-03; the path `/crm/owners/2026-03` follows the version rule above (the page's
//!   excerpt we read did not show it). Its answer is the owners guide's
//!   (…/api-reference/crm-crm-owners-v3/guide): `{results:[{id, email, firstName, lastName,
//!   userId, archived, …}], paging}`; `id` is what `hubspot_owner_id` holds.
//! - A deal is read like any object: `GET /crm/objects/2026-03/deals/{id}?properties=…`
//!   (404 when HubSpot has no such deal, or it was deleted); deals are searched like
//!   contacts, on `hs_lastmodifieddate` (contacts' is `lastmodifieddate`).
//!
//! Not confirmed for 2026-03 in what we could read, so kept in their v3 shapes: the batch
//! read (`POST …/contacts/batch/read` with `{inputs:[{id}], properties}` answering
//! `{results:[…]}`), the search response (`{total, results:[{id, properties, createdAt,
//! updatedAt, archived}], paging:{next:{after}}}`), and sorts written as
//! `{propertyName, direction}` objects (the 2026-03 schema lists `sorts` as strings; the
//! v3 documentation's object form is what we send). The page size is 100: every source
//! agrees search accepts 100, some say 200.
//!
//! - Tasks and notes ("Activities | Tasks" and "Activities | Notes" guides,
//!   …/api-reference/2026-03/crm/activities/tasks/guide): `POST /crm/objects/2026-03/tasks`
//!   with `{properties: {hs_timestamp (required: the due date), hs_task_subject,
//!   hs_task_body, hs_task_status (NOT_STARTED | COMPLETED), hs_task_priority (LOW | MEDIUM |
//!   HIGH), hubspot_owner_id}, associations: [{to: {id}, types: [{associationCategory:
//!   "HUBSPOT_DEFINED", associationTypeId}]}]}`; notes likewise with `hs_note_body` and
//!   `hs_timestamp`. `PATCH …/tasks/{id}` `{properties}` updates, `DELETE …/tasks/{id}`
//!   moves to the recycle bin (404 when there is none). The HubSpot-defined association
//!   type ids are the v4 associations guide's table (…/api-reference/crm-associations-v4/guide,
//!   "Association type IDs"): task → contact 204, task → deal 216, note → contact 202,
//!   note → deal 214 (the notes association schema's own example is 202).
//! - Properties ("Properties" guide, …/2026-03/crm/properties): `GET
//!   /crm/properties/2026-03/{objectType}/{propertyName}` (404 when missing) and `POST
//!   /crm/properties/2026-03/{objectType}` `{name, label, type: "string", fieldType: "text",
//!   groupName, description}`. Tasks' properties are in the group `taskinformation`; a note
//!   property goes in the group `hs_note_body` is in (read, not guessed).
//! - A deal's stage: `PATCH /crm/objects/2026-03/deals/{id}` `{properties: {dealstage}}`.
//!
//! **Engagements made once.** A task or note we create carries the execution that made it
//! in the custom property [`EXTERNAL_ID_PROPERTY`]; a retry searches for it
//! ([`HubSpotClient::find_task_by_external_id`]) before creating again. HubSpot's search
//! index trails writes by a few seconds, so a reconciling caller that finds nothing right
//! after a lost answer should look again after a short wait before it creates.
//!
//! **Limits.** After every answer the `X-HubSpot-RateLimit-*` headers are read into the
//! shared [`RateLimitSnapshot`]; when the per-second or per-interval budget is spent, the next
//! call waits out the window. Searches also pass a token bucket (HubSpot allows 4 search
//! requests per second). `429` waits what `Retry-After` asks (a `DAILY` policy is not
//! retried); 5xx, timeouts and refused connections back off exponentially; attempts are
//! bounded. A merge, which is not idempotent, is sent again only when HubSpot cannot have
//! acted on it (a 429 or a refused connection).
//!
//! **Privacy.** Spans carry `hubspot.operation`, `http.status`, `duration_ms`, attempts and
//! the error code; never the token, ids searched for, property values or bodies.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use caseyos_domain::kernel::CrmId;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};
use tokio::time::Instant;

pub use super::call::CallStats;
use super::call::{self, label, lock, millis, Caller, Failure, Hooks, Replay, Request};
use super::credentials::Credentials;
use super::{ConnectorError, Provider};
use crate::config::{Config, HubSpotConfig};
use caseyos_domain::connectors::ConnectorName;

/// The one place the CRM API's date version is written.
pub const CRM_API_VERSION: &str = "2026-03";
/// Records per search page.
pub const SEARCH_PAGE_LIMIT: u32 = 100;
/// The search API pages through at most this many results of one query.
pub const SEARCH_RESULT_CAP: u64 = 10_000;
/// Ids per batch read (HubSpot's limit; one call each).
pub const BATCH_READ_LIMIT: usize = 100;
/// The contact properties a sync reads (every one the typed helpers read).
pub const CONTACT_PROPERTIES: &[&str] = &[
    "email",
    "firstname",
    "lastname",
    "phone",
    "mobilephone",
    "jobtitle",
    "company",
    "website",
    "lifecyclestage",
    "hubspot_owner_id",
    "createdate",
    "lastmodifieddate",
    "notes_last_contacted",
];
/// The property listing the ids merged into a contact, `;`-separated.
pub const MERGED_OBJECT_IDS: &str = "hs_merged_object_ids";
/// The company properties [`HubSpotClient::search_companies_by_domain`] reads.
pub const COMPANY_PROPERTIES: &[&str] = &[
    "name",
    "domain",
    "website",
    "industry",
    "phone",
    "city",
    "country",
    "numberofemployees",
    "createdate",
    "hs_lastmodifieddate",
];

/// The deal properties a sync reads (every one [`HubSpotDeal`]'s helpers read).
pub const DEAL_PROPERTIES: &[&str] = &[
    "dealname",
    "amount",
    "deal_currency_code",
    "dealstage",
    "pipeline",
    "closedate",
    "hubspot_owner_id",
    "closed_lost_reason",
    "hs_lastmodifieddate",
];
/// Owners per page of the owners list.
pub const OWNERS_PAGE_LIMIT: u32 = 100;

const CONNECTOR: &str = "HubSpot";
const PROVIDER: Provider = Provider::HubSpot;
/// The per-interval budget's window when HubSpot does not say (its burst limit is per 10 s).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// `/crm/objects/{CRM_API_VERSION}/{object}{rest}`.
fn objects_path(object: &str, rest: &str) -> String {
    format!("/crm/objects/{CRM_API_VERSION}/{object}{rest}")
}

/// `/crm/pipelines/{CRM_API_VERSION}/{object}`.
fn pipelines_path(object: &str) -> String {
    format!("/crm/pipelines/{CRM_API_VERSION}/{object}")
}

/// `/crm/properties/{CRM_API_VERSION}/{object}{rest}`.
fn properties_path(object: &str, rest: &str) -> String {
    format!("/crm/properties/{CRM_API_VERSION}/{object}{rest}")
}

/// `/crm/owners/{CRM_API_VERSION}{rest}`.
fn owners_path(rest: &str) -> String {
    format!("/crm/owners/{CRM_API_VERSION}{rest}")
}

// ---------------------------------------------------------------------------------------
// Records

/// A HubSpot contact as the API answers it. Every property value is a string or null.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubSpotContact {
    /// HubSpot's record id. A merge may answer with a new one.
    pub id: CrmId,
    pub properties: BTreeMap<String, Option<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived: bool,
}

/// A HubSpot company as the API answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubSpotCompany {
    pub id: CrmId,
    pub properties: BTreeMap<String, Option<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived: bool,
}

/// A HubSpot deal as the API answers it. Every property value is a string or null.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubSpotDeal {
    pub id: CrmId,
    pub properties: BTreeMap<String, Option<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived: bool,
}

impl HubSpotDeal {
    /// A property's value, trimmed; empty counts as unset.
    pub fn property(&self, name: &str) -> Option<&str> {
        property(&self.properties, name)
    }
    pub fn name(&self) -> Option<&str> {
        self.property("dealname")
    }
    /// `amount`: a decimal string (`"5000"`, `"1234.5"`), in `deal_currency_code`.
    pub fn amount(&self) -> Option<&str> {
        self.property("amount")
    }
    /// `deal_currency_code` (`USD`); unset means the account's company currency.
    pub fn currency_code(&self) -> Option<&str> {
        self.property("deal_currency_code")
    }
    /// `dealstage`: the id of a stage of `pipeline`.
    pub fn stage(&self) -> Option<&str> {
        self.property("dealstage")
    }
    pub fn pipeline(&self) -> Option<&str> {
        self.property("pipeline")
    }
    /// `closedate`, an instant (HubSpot keeps the date as midnight of it).
    pub fn close_date(&self) -> Option<DateTime<Utc>> {
        self.property("closedate").and_then(parse_hubspot_time)
    }
    /// `hubspot_owner_id`: an owner's `id` (see [`HubSpotClient::list_owners`]).
    pub fn owner_id(&self) -> Option<&str> {
        self.property("hubspot_owner_id")
    }
    pub fn closed_lost_reason(&self) -> Option<&str> {
        self.property("closed_lost_reason")
    }
    /// `hs_lastmodifieddate`, else the record's `updatedAt`.
    pub fn last_modified_at(&self) -> Option<DateTime<Utc>> {
        self.property("hs_lastmodifieddate")
            .and_then(parse_hubspot_time)
            .or(Some(self.updated_at))
    }
}

/// A deal pipeline as HubSpot defines it, before CaseyOS checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubSpotPipeline {
    pub id: String,
    pub label: String,
    pub display_order: i64,
    pub archived: bool,
    pub stages: Vec<HubSpotStage>,
}

/// One stage of a [`HubSpotPipeline`], its `metadata` read as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubSpotStage {
    pub id: String,
    pub label: String,
    pub display_order: i64,
    pub archived: bool,
    /// `metadata.probability`: a decimal string from `"0.0"` to `"1.0"`.
    pub probability: Option<String>,
    /// `metadata.isClosed`.
    pub is_closed: Option<bool>,
}

/// A HubSpot owner: someone records can be assigned to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubSpotOwner {
    /// What `hubspot_owner_id` holds.
    pub id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub archived: bool,
}

/// A property's value, trimmed; empty counts as unset.
fn property<'a>(properties: &'a BTreeMap<String, Option<String>>, name: &str) -> Option<&'a str> {
    properties
        .get(name)?
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

impl HubSpotContact {
    /// A property's value, trimmed; empty counts as unset.
    pub fn property(&self, name: &str) -> Option<&str> {
        property(&self.properties, name)
    }
    pub fn email(&self) -> Option<&str> {
        self.property("email")
    }
    pub fn first_name(&self) -> Option<&str> {
        self.property("firstname")
    }
    pub fn last_name(&self) -> Option<&str> {
        self.property("lastname")
    }
    pub fn phone(&self) -> Option<&str> {
        self.property("phone")
    }
    pub fn mobile_phone(&self) -> Option<&str> {
        self.property("mobilephone")
    }
    pub fn job_title(&self) -> Option<&str> {
        self.property("jobtitle")
    }
    /// The `company` property: a company name typed on the contact.
    pub fn company_name(&self) -> Option<&str> {
        self.property("company")
    }
    pub fn website(&self) -> Option<&str> {
        self.property("website")
    }
    /// The host of `website`, lower-case, without `www.` (`https://www.Acme.io/x` → `acme.io`).
    pub fn domain(&self) -> Option<String> {
        self.website().and_then(domain_of)
    }
    pub fn lifecycle_stage(&self) -> Option<&str> {
        self.property("lifecyclestage")
    }
    /// `hubspot_owner_id`: HubSpot's owner id, not a CaseyOS user.
    pub fn owner_id(&self) -> Option<&str> {
        self.property("hubspot_owner_id")
    }
    /// `lastmodifieddate`, the property the sync windows filter on.
    pub fn last_modified_at(&self) -> Option<DateTime<Utc>> {
        self.property("lastmodifieddate")
            .and_then(parse_hubspot_time)
    }
    /// `notes_last_contacted`: the last call, email or meeting HubSpot logged.
    pub fn last_contacted_at(&self) -> Option<DateTime<Utc>> {
        self.property("notes_last_contacted")
            .and_then(parse_hubspot_time)
    }
}

impl HubSpotCompany {
    pub fn property(&self, name: &str) -> Option<&str> {
        property(&self.properties, name)
    }
    pub fn name(&self) -> Option<&str> {
        self.property("name")
    }
    /// `domain`, else the host of `website`; lower-case, without `www.`.
    pub fn domain(&self) -> Option<String> {
        self.property("domain")
            .and_then(domain_of)
            .or_else(|| self.property("website").and_then(domain_of))
    }
    pub fn industry(&self) -> Option<&str> {
        self.property("industry")
    }
    pub fn phone(&self) -> Option<&str> {
        self.property("phone")
    }
    pub fn city(&self) -> Option<&str> {
        self.property("city")
    }
    pub fn country(&self) -> Option<&str> {
        self.property("country")
    }
    /// `numberofemployees` (a number property, sent as a string).
    pub fn number_of_employees(&self) -> Option<u64> {
        self.property("numberofemployees")?.parse().ok()
    }
}

/// The host of a website or domain value: lower-case, without scheme, `www.`, port or path.
pub fn domain_of(raw: &str) -> Option<String> {
    let raw = raw.trim().to_ascii_lowercase();
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .unwrap_or(&raw);
    let host = rest.split(['/', '?', '#', ':']).next().unwrap_or_default();
    let host = host
        .strip_prefix("www.")
        .unwrap_or(host)
        .trim_end_matches('.');
    (host.contains('.') && !host.starts_with('.')).then(|| host.to_string())
}

/// A HubSpot timestamp: ISO 8601 with `Z` or an offset (`2026-01-02T03:04:05.678Z`), without
/// a zone (taken as UTC), milliseconds since the epoch (`"1767323045678"`, as date
/// properties often are), or a date (`2026-01-02`, midnight UTC). `None` for anything else.
pub fn parse_hubspot_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return raw
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_millis);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Some(at.with_timezone(&Utc));
    }
    if let Ok(at) = raw.parse::<NaiveDateTime>() {
        return Some(at.and_utc());
    }
    raw.parse::<NaiveDate>()
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|at| at.and_utc())
}

/// One object of an answer, before it is a contact, a company or a deal.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HubSpotObject {
    id: CrmId,
    #[serde(default, deserialize_with = "string_properties")]
    properties: BTreeMap<String, Option<String>>,
    #[serde(deserialize_with = "hubspot_instant")]
    created_at: DateTime<Utc>,
    #[serde(deserialize_with = "hubspot_instant")]
    updated_at: DateTime<Utc>,
    #[serde(default)]
    archived: bool,
}

type RawObject = HubSpotObject;

/// A CRM object searched by its last-modified date: what the window walk needs to know.
pub trait ModifiedObject: From<HubSpotObject> {
    /// The object type in paths (`contacts`).
    const OBJECT: &'static str;
    /// The property holding when a record last changed.
    const LAST_MODIFIED: &'static str;
    /// The span's `hubspot.operation` of a window search.
    const SEARCH_OPERATION: &'static str;
}

impl ModifiedObject for HubSpotContact {
    const OBJECT: &'static str = "contacts";
    const LAST_MODIFIED: &'static str = "lastmodifieddate";
    const SEARCH_OPERATION: &'static str = "contacts.search_modified";
}

impl ModifiedObject for HubSpotDeal {
    const OBJECT: &'static str = "deals";
    const LAST_MODIFIED: &'static str = "hs_lastmodifieddate";
    const SEARCH_OPERATION: &'static str = "deals.search_modified";
}

/// A pipelines answer.
#[derive(Deserialize)]
struct PipelinesAnswer {
    #[serde(default)]
    results: Vec<RawPipeline>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPipeline {
    id: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    display_order: i64,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    stages: Vec<RawStage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStage {
    id: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    display_order: i64,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    metadata: BTreeMap<String, Value>,
}

impl From<RawPipeline> for HubSpotPipeline {
    fn from(raw: RawPipeline) -> Self {
        HubSpotPipeline {
            id: raw.id,
            label: raw.label,
            display_order: raw.display_order,
            archived: raw.archived,
            stages: raw.stages.into_iter().map(HubSpotStage::from).collect(),
        }
    }
}

impl From<RawStage> for HubSpotStage {
    fn from(raw: RawStage) -> Self {
        let text = |name: &str| match raw.metadata.get(name) {
            Some(Value::String(s)) => Some(s.trim().to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        let is_closed = text("isClosed").and_then(|v| match v.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        });
        HubSpotStage {
            probability: text("probability"),
            is_closed,
            id: raw.id,
            label: raw.label,
            display_order: raw.display_order,
            archived: raw.archived,
        }
    }
}

/// An owners answer.
#[derive(Deserialize)]
struct OwnersAnswer {
    #[serde(default)]
    results: Vec<RawOwner>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOwner {
    #[serde(deserialize_with = "id_text")]
    id: String,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    #[serde(default)]
    archived: bool,
}

impl From<RawOwner> for HubSpotOwner {
    fn from(raw: RawOwner) -> Self {
        HubSpotOwner {
            id: raw.id,
            email: raw.email,
            first_name: raw.first_name,
            last_name: raw.last_name,
            archived: raw.archived,
        }
    }
}

/// An id sent as a string or a number.
fn id_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("an id HubSpot should not send")),
    }
}

/// Each record type is an object of an answer, field for field.
macro_rules! from_object {
    ($($record:ident),+) => {$(
        impl From<HubSpotObject> for $record {
            fn from(raw: HubSpotObject) -> Self {
                $record {
                    id: raw.id,
                    properties: raw.properties,
                    created_at: raw.created_at,
                    updated_at: raw.updated_at,
                    archived: raw.archived,
                }
            }
        }
    )+};
}

from_object!(
    HubSpotContact,
    HubSpotCompany,
    HubSpotDeal,
    HubSpotEngagement
);

// ---------------------------------------------------------------------------------------
// Engagements: tasks and notes

/// The custom property of tasks and notes holding the CaseyOS execution that made them.
pub const EXTERNAL_ID_PROPERTY: &str = "caseyos_execution_id";
/// HubSpot-defined association type ids (v4 associations guide).
pub const TASK_TO_CONTACT: u32 = 204;
pub const TASK_TO_DEAL: u32 = 216;
pub const NOTE_TO_CONTACT: u32 = 202;
pub const NOTE_TO_DEAL: u32 = 214;
/// The property group of task properties.
pub const TASK_PROPERTY_GROUP: &str = "taskinformation";

/// A task or a note as HubSpot answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubSpotEngagement {
    pub id: CrmId,
    pub properties: BTreeMap<String, Option<String>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived: bool,
}

impl HubSpotEngagement {
    pub fn property(&self, name: &str) -> Option<&str> {
        property(&self.properties, name)
    }
    /// The execution that made it ([`EXTERNAL_ID_PROPERTY`]).
    pub fn external_id(&self) -> Option<&str> {
        self.property(EXTERNAL_ID_PROPERTY)
    }
}

/// The engagement objects CaseyOS creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engagement {
    Task,
    Note,
}

impl Engagement {
    /// The object type in paths.
    pub fn object(self) -> &'static str {
        match self {
            Engagement::Task => "tasks",
            Engagement::Note => "notes",
        }
    }
    fn to_contact(self) -> u32 {
        match self {
            Engagement::Task => TASK_TO_CONTACT,
            Engagement::Note => NOTE_TO_CONTACT,
        }
    }
    fn to_deal(self) -> u32 {
        match self {
            Engagement::Task => TASK_TO_DEAL,
            Engagement::Note => NOTE_TO_DEAL,
        }
    }
    /// The properties a search by external id reads back.
    fn properties(self) -> &'static [&'static str] {
        match self {
            Engagement::Task => &[
                "hs_task_subject",
                "hs_task_status",
                "hs_timestamp",
                EXTERNAL_ID_PROPERTY,
            ],
            Engagement::Note => &["hs_timestamp", EXTERNAL_ID_PROPERTY],
        }
    }
}

/// `hs_task_priority`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskPriority {
    Low,
    Medium,
    High,
}

impl TaskPriority {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskPriority::Low => "LOW",
            TaskPriority::Medium => "MEDIUM",
            TaskPriority::High => "HIGH",
        }
    }
}

/// A task to create: `NOT_STARTED`, due at `due`, associated with the contacts and deals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTask {
    pub subject: String,
    pub body: Option<String>,
    pub priority: TaskPriority,
    /// `hs_timestamp`: when it is due.
    pub due: DateTime<Utc>,
    /// `hubspot_owner_id`: whom it is assigned to.
    pub owner_id: Option<String>,
    /// Written to [`EXTERNAL_ID_PROPERTY`].
    pub external_id: String,
    pub contact_ids: Vec<CrmId>,
    pub deal_ids: Vec<CrmId>,
}

/// A note to create, associated with the contacts and deals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNote {
    /// `hs_note_body` (HTML or text).
    pub body: String,
    /// `hs_timestamp`: when what it records happened.
    pub timestamp: DateTime<Utc>,
    pub owner_id: Option<String>,
    /// Written to [`EXTERNAL_ID_PROPERTY`].
    pub external_id: String,
    pub contact_ids: Vec<CrmId>,
    pub deal_ids: Vec<CrmId>,
}

/// The body a task's creation sends (also what a dry run shows).
pub fn task_body(task: &NewTask) -> Value {
    let mut properties = serde_json::Map::new();
    properties.insert("hs_task_subject".into(), json!(task.subject));
    if let Some(body) = &task.body {
        properties.insert("hs_task_body".into(), json!(body));
    }
    properties.insert("hs_task_status".into(), json!("NOT_STARTED"));
    properties.insert("hs_task_priority".into(), json!(task.priority.as_str()));
    properties.insert("hs_timestamp".into(), json!(hubspot_millis(task.due)));
    if let Some(owner) = &task.owner_id {
        properties.insert("hubspot_owner_id".into(), json!(owner));
    }
    properties.insert(EXTERNAL_ID_PROPERTY.into(), json!(task.external_id));
    json!({
        "properties": properties,
        "associations": associations(Engagement::Task, &task.contact_ids, &task.deal_ids),
    })
}

/// `associations` of a create: each contact and deal with its HubSpot-defined type.
fn associations(kind: Engagement, contacts: &[CrmId], deals: &[CrmId]) -> Vec<Value> {
    let to = |id: &CrmId, type_id: u32| {
        json!({
            "to": {"id": id.as_str()},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
        })
    };
    contacts
        .iter()
        .map(|id| to(id, kind.to_contact()))
        .chain(deals.iter().map(|id| to(id, kind.to_deal())))
        .collect()
}

/// A time as HubSpot's date-time properties take it: epoch milliseconds as text.
fn hubspot_millis(at: DateTime<Utc>) -> String {
    at.timestamp_millis().to_string()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PropertyDefinition {
    #[serde(default)]
    group_name: Option<String>,
}

/// Property values are strings; a number or boolean is kept as its text, null as `None`.
fn string_properties<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Option<String>>, D::Error> {
    let raw = Option::<BTreeMap<String, Value>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(raw
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Null => None,
                Value::String(s) => Some(s),
                other => Some(other.to_string()),
            };
            (name, value)
        })
        .collect())
}

fn hubspot_instant<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let raw = Value::deserialize(deserializer)?;
    let parsed = match &raw {
        Value::String(s) => parse_hubspot_time(s),
        Value::Number(n) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        _ => None,
    };
    parsed.ok_or_else(|| serde::de::Error::custom("a timestamp HubSpot should not send"))
}

/// One page of a search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// How many records match the whole query (not only this page).
    pub total: u64,
    pub results: Vec<T>,
    /// The cursor of the next page; `None` on the last.
    pub next_after: Option<String>,
}

#[derive(Deserialize)]
struct SearchAnswer {
    #[serde(default)]
    total: u64,
    #[serde(default)]
    results: Vec<RawObject>,
    #[serde(default)]
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Paging {
    next: Option<PagingNext>,
}

#[derive(Deserialize)]
struct PagingNext {
    after: String,
}

impl SearchAnswer {
    fn into_page<T: From<RawObject>>(self) -> Page<T> {
        Page {
            total: self.total,
            results: self.results.into_iter().map(T::from).collect(),
            next_after: self
                .paging
                .and_then(|p| p.next)
                .map(|n| n.after)
                .filter(|a| !a.is_empty()),
        }
    }
}

#[derive(Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    results: Vec<RawObject>,
}

/// What a list answers; `check` reads nothing of it but its shape.
#[derive(Deserialize)]
struct ListAnswer {
    #[allow(dead_code)]
    results: Vec<Value>,
}

/// HubSpot's error body; its `message` is left unread (it can quote property values).
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    category: Option<String>,
    correlation_id: Option<String>,
    policy_name: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Rate limits and counters

/// A budget HubSpot reported: its size and what is left of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Budget {
    pub max: Option<u64>,
    pub remaining: Option<u64>,
}

/// The latest rate-limit headers and what the client did about them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RateLimitSnapshot {
    /// `X-HubSpot-RateLimit-Secondly` / `-Secondly-Remaining`.
    pub secondly: Budget,
    /// `X-HubSpot-RateLimit-Daily` / `-Daily-Remaining` (absent for OAuth calls).
    pub daily: Budget,
    /// `X-HubSpot-RateLimit-Max` / `-Remaining` over `interval_ms`
    /// (`-Interval-Milliseconds`): the burst budget.
    pub interval: Budget,
    pub interval_ms: Option<u64>,
    /// When the answer carrying these headers arrived.
    pub observed_at: Option<DateTime<Utc>>,
    /// Calls that waited for a spent per-second or per-interval budget, and how long in all.
    pub budget_waits: u64,
    pub budget_waited_ms: u64,
    /// Searches that waited for the search API's own limit, and how long in all.
    pub search_waits: u64,
    pub search_waited_ms: u64,
    /// Retries after a `429`, and how long they waited for `Retry-After` in all.
    pub retry_after_waits: u64,
    pub retry_after_waited_ms: u64,
}

/// What sync health reads: the rate limits and the call counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HubSpotHealth {
    pub rate_limits: RateLimitSnapshot,
    pub calls: CallStats,
}

#[derive(Default)]
struct RateLimitState {
    snapshot: RateLimitSnapshot,
    /// No call before this instant: a budget was spent.
    blocked_until: Option<Instant>,
}

impl RateLimitState {
    fn observe(&mut self, headers: &HeaderMap, now: Instant) {
        let read = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let secondly = Budget {
            max: read("x-hubspot-ratelimit-secondly"),
            remaining: read("x-hubspot-ratelimit-secondly-remaining"),
        };
        let daily = Budget {
            max: read("x-hubspot-ratelimit-daily"),
            remaining: read("x-hubspot-ratelimit-daily-remaining"),
        };
        let interval = Budget {
            max: read("x-hubspot-ratelimit-max"),
            remaining: read("x-hubspot-ratelimit-remaining"),
        };
        let interval_ms = read("x-hubspot-ratelimit-interval-milliseconds");
        let none = Budget::default();
        if secondly == none && daily == none && interval == none && interval_ms.is_none() {
            // A gateway error without HubSpot's headers: keep what we knew.
            return;
        }
        let snapshot = &mut self.snapshot;
        snapshot.secondly = secondly;
        snapshot.daily = daily;
        snapshot.interval = interval;
        snapshot.interval_ms = interval_ms;
        snapshot.observed_at = Some(Utc::now());
        let mut until = None;
        if secondly.remaining == Some(0) {
            until = Some(now + Duration::from_secs(1));
        }
        if interval.remaining == Some(0) {
            let window = interval_ms.map_or(DEFAULT_INTERVAL, Duration::from_millis);
            until = until.max(Some(now + window));
        }
        self.blocked_until = until;
    }

    /// How long the next call must wait for a spent budget (and counts the wait).
    fn wait(&mut self, now: Instant) -> Option<Duration> {
        let until = self.blocked_until.filter(|until| *until > now)?;
        let wait = until - now;
        self.snapshot.budget_waits += 1;
        self.snapshot.budget_waited_ms += millis(wait);
        Some(wait)
    }
}

/// Spaces search requests: a token bucket holding one token, refilled every `1/rate` s, so
/// no second ever holds more than `rate` searches. Kept as the instant the next token is
/// due: a caller takes the slot at that instant (or now, if it has passed), moves it one
/// interval on, and sleeps until its slot.
struct SearchBucket {
    interval: Duration,
    next_slot: Instant,
}

impl SearchBucket {
    fn new(per_second: u32, now: Instant) -> Self {
        SearchBucket {
            interval: Duration::from_secs(1) / per_second.max(1),
            next_slot: now,
        }
    }

    fn reserve(&mut self, now: Instant) -> Option<Duration> {
        let slot = self.next_slot.max(now);
        self.next_slot = slot + self.interval;
        (slot > now).then(|| slot - now)
    }
}

// ---------------------------------------------------------------------------------------
// The client

/// Which limiter a call passes besides the account's budgets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Limiter {
    General,
    Search,
}

/// The HubSpot CRM client. Cheap to clone; clones share the HTTP client, the rate-limit
/// state and the counters.
#[derive(Clone)]
pub struct HubSpotClient {
    inner: Arc<Inner>,
}

struct Inner {
    caller: Caller,
    base_url: String,
    config: HubSpotConfig,
    /// Where each call's token comes from when it is not the config's fixed one: the
    /// stored private-app or OAuth token, else `hubspot_token`.
    credentials: Option<Credentials>,
    limits: Mutex<RateLimitState>,
    search: Mutex<SearchBucket>,
}

impl std::fmt::Debug for HubSpotClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSpotClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl HubSpotClient {
    /// The client of the configured HubSpot account, or `connector.not_connected` when no
    /// token is configured.
    pub fn from_config(config: &Config) -> Result<Self, ConnectorError> {
        let hubspot = config.hubspot().ok_or(ConnectorError::NotConnected {
            connector: CONNECTOR,
        })?;
        Self::new(hubspot)
    }

    /// A client whose every call takes its token from `credentials` (a stored private-app
    /// or OAuth token, refreshed when due, else the configuration's `hubspot_token`); calls
    /// fail with `connector.not_connected` while there is none. Its other settings are
    /// `config`'s (whose own token is not used).
    pub fn with_credentials(
        config: HubSpotConfig,
        credentials: Credentials,
    ) -> Result<Self, ConnectorError> {
        Self::build(config, Some(credentials))
    }

    /// Whether a call can be made now: a token is stored or configured.
    pub async fn is_connected(&self) -> bool {
        match &self.inner.credentials {
            Some(credentials) => credentials.is_connected(ConnectorName::Hubspot).await,
            None => true,
        }
    }

    /// A client for `config`: `Authorization: Bearer <token>` and
    /// `User-Agent: caseyos/<version>` on every request, its timeouts.
    pub fn new(config: HubSpotConfig) -> Result<Self, ConnectorError> {
        Self::build(config, None)
    }

    fn build(
        config: HubSpotConfig,
        credentials: Option<Credentials>,
    ) -> Result<Self, ConnectorError> {
        let misconfigured = |reason: String| ConnectorError::Misconfigured {
            connector: CONNECTOR,
            reason,
        };
        let base_url = config.base_url.trim().trim_end_matches('/').to_string();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(misconfigured("the base URL must be an http(s) URL".into()));
        }
        call::base_url(PROVIDER, &base_url)?;
        // With credentials each call asks them for its token; without, the config's is fixed.
        let fixed = credentials.is_none().then(|| config.token());
        let caller = Caller::new(PROVIDER, config.call_policy(), fixed)?;
        let now = Instant::now();
        Ok(HubSpotClient {
            inner: Arc::new(Inner {
                caller,
                base_url,
                search: Mutex::new(SearchBucket::new(config.search_requests_per_second, now)),
                config,
                credentials,
                limits: Mutex::new(RateLimitState::default()),
            }),
        })
    }

    /// The call's `Authorization` header when its token comes from the credentials.
    async fn call_bearer(&self) -> Result<Option<reqwest::header::HeaderValue>, ConnectorError> {
        match &self.inner.credentials {
            Some(credentials) => {
                let token = credentials.access_token(ConnectorName::Hubspot).await?;
                Ok(Some(call::bearer(PROVIDER, &token.secret)?))
            }
            None => Ok(None),
        }
    }

    pub fn config(&self) -> &HubSpotConfig {
        &self.inner.config
    }

    /// The latest rate limits and the call counters, for sync health.
    pub fn health(&self) -> HubSpotHealth {
        HubSpotHealth {
            rate_limits: lock(&self.inner.limits).snapshot.clone(),
            calls: self.inner.caller.stats(),
        }
    }

    /// One cheap call that proves the token works: a one-contact list
    /// (`GET /crm/objects/2026-03/contacts?limit=1`).
    pub async fn check(&self) -> Result<(), ConnectorError> {
        let _: ListAnswer = self
            .call(
                "check",
                Method::GET,
                &objects_path("contacts", ""),
                &[("limit", "1")],
                None,
                Limiter::General,
                Replay::Safe,
            )
            .await?;
        Ok(())
    }

    /// One page of the contacts whose `lastmodifieddate` is in `[from, to)`, oldest first:
    /// [`search_modified`](Self::search_modified) for contacts.
    pub async fn search_contacts_modified(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<&str>,
        properties: &[&str],
    ) -> Result<Page<HubSpotContact>, ConnectorError> {
        self.search_modified(from, to, after, properties).await
    }

    /// One page of the records of `T` whose last-modified property is in `[from, to)`,
    /// oldest first, [`SEARCH_PAGE_LIMIT`] a page; `after` is the previous page's
    /// `next_after`. The bounds are sent as epoch milliseconds. Past [`SEARCH_RESULT_CAP`]
    /// results HubSpot stops paging: [`modified`](Self::modified) splits such windows.
    pub async fn search_modified<T: ModifiedObject>(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<&str>,
        properties: &[&str],
    ) -> Result<Page<T>, ConnectorError> {
        let mut body = json!({
            "filterGroups": [{"filters": [
                {"propertyName": T::LAST_MODIFIED, "operator": "GTE",
                 "value": from.timestamp_millis().to_string()},
                {"propertyName": T::LAST_MODIFIED, "operator": "LT",
                 "value": to.timestamp_millis().to_string()},
            ]}],
            "sorts": [{"propertyName": T::LAST_MODIFIED, "direction": "ASCENDING"}],
            "properties": properties,
            "limit": SEARCH_PAGE_LIMIT,
        });
        if let Some(after) = after {
            body["after"] = Value::String(after.to_string());
        }
        let answer: SearchAnswer = self
            .call(
                T::SEARCH_OPERATION,
                Method::POST,
                &objects_path(T::OBJECT, "/search"),
                &[],
                Some(&body),
                Limiter::Search,
                Replay::Safe,
            )
            .await?;
        Ok(answer.into_page())
    }

    /// Every contact modified in `[from, to)`: [`modified`](Self::modified) for contacts.
    pub fn contacts_modified(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        properties: &[&str],
    ) -> Modified<HubSpotContact> {
        self.modified(from, to, properties)
    }

    /// Every deal modified in `[from, to)`: [`modified`](Self::modified) for deals.
    pub fn deals_modified(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        properties: &[&str],
    ) -> Modified<HubSpotDeal> {
        self.modified(from, to, properties)
    }

    /// Every record of `T` modified in `[from, to)`, page by page, as a walker (memory stays
    /// one page). A window whose search reports more than [`SEARCH_RESULT_CAP`] results is
    /// split in halves, recursively, down to `min_search_window`; a window that narrow and
    /// still too full ends the walk with `hubspot.search_window_too_dense`, naming it.
    pub fn modified<T: ModifiedObject>(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        properties: &[&str],
    ) -> Modified<T> {
        Modified {
            client: self.clone(),
            properties: properties.iter().map(|p| p.to_string()).collect(),
            pending: if from < to {
                vec![Window { from, to }]
            } else {
                Vec::new()
            },
            current: None,
            splits: 0,
            records: std::marker::PhantomData,
        }
    }

    /// [`contacts_modified`](Self::contacts_modified), collected.
    pub async fn contacts_modified_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        properties: &[&str],
    ) -> Result<Vec<HubSpotContact>, ConnectorError> {
        let mut walker = self.contacts_modified(from, to, properties);
        let mut contacts = Vec::new();
        while let Some(page) = walker.next_page().await? {
            contacts.extend(page.records);
        }
        Ok(contacts)
    }

    /// One deal by its id with these properties; `None` when HubSpot has no such deal (or
    /// it was deleted): `GET /crm/objects/2026-03/deals/{id}?properties=…`.
    pub async fn read_deal(
        &self,
        id: &CrmId,
        properties: &[&str],
    ) -> Result<Option<HubSpotDeal>, ConnectorError> {
        let properties = properties.join(",");
        let read = self
            .call::<RawObject>(
                "deals.read",
                Method::GET,
                &objects_path("deals", &format!("/{}", id.as_str())),
                &[("properties", properties.as_str()), ("archived", "false")],
                None,
                Limiter::General,
                Replay::Safe,
            )
            .await;
        match read {
            Ok(deal) => Ok(Some(deal.into())),
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Every deal pipeline that is not archived, with its stages as HubSpot lists them:
    /// `GET /crm/pipelines/2026-03/deals`.
    pub async fn list_deal_pipelines(&self) -> Result<Vec<HubSpotPipeline>, ConnectorError> {
        let answer: PipelinesAnswer = self
            .call(
                "pipelines.list_deals",
                Method::GET,
                &pipelines_path("deals"),
                &[],
                None,
                Limiter::General,
                Replay::Safe,
            )
            .await?;
        Ok(answer
            .results
            .into_iter()
            .map(HubSpotPipeline::from)
            .filter(|p| !p.archived)
            .collect())
    }

    /// Every active owner, [`OWNERS_PAGE_LIMIT`] a call: `GET /crm/owners/2026-03?limit=…&after=…`.
    pub async fn list_owners(&self) -> Result<Vec<HubSpotOwner>, ConnectorError> {
        let limit = OWNERS_PAGE_LIMIT.to_string();
        let mut owners = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", limit.as_str()), ("archived", "false")];
            if let Some(after) = &after {
                query.push(("after", after.as_str()));
            }
            let answer: OwnersAnswer = self
                .call(
                    "owners.list",
                    Method::GET,
                    &owners_path(""),
                    &query,
                    None,
                    Limiter::General,
                    Replay::Safe,
                )
                .await?;
            owners.extend(answer.results.into_iter().map(HubSpotOwner::from));
            let next = answer
                .paging
                .and_then(|p| p.next)
                .map(|n| n.after)
                .filter(|a| !a.is_empty());
            match next {
                // A cursor that does not move would loop forever.
                Some(next) if after.as_deref() != Some(next.as_str()) => after = Some(next),
                _ => return Ok(owners),
            }
        }
    }

    /// The contacts with these ids, [`BATCH_READ_LIMIT`] ids a call. Ids HubSpot does not
    /// know are absent from the answer (HubSpot answers 207 with an error per missing id).
    pub async fn batch_read_contacts(
        &self,
        ids: &[CrmId],
        properties: &[&str],
    ) -> Result<Vec<HubSpotContact>, ConnectorError> {
        let mut contacts = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(BATCH_READ_LIMIT) {
            let inputs: Vec<Value> = chunk.iter().map(|id| json!({"id": id})).collect();
            let body = json!({"inputs": inputs, "properties": properties});
            let answer: BatchAnswer = self
                .call(
                    "contacts.batch_read",
                    Method::POST,
                    &objects_path("contacts", "/batch/read"),
                    &[],
                    Some(&body),
                    Limiter::General,
                    Replay::Safe,
                )
                .await?;
            contacts.extend(answer.results.into_iter().map(HubSpotContact::from));
        }
        Ok(contacts)
    }

    /// Merges `secondary` into `primary` (HubSpot: permanent) and answers the merged
    /// contact — whose id may be neither of the two: HubSpot can give it a new one. Sent
    /// again only when HubSpot cannot have acted on it; after a timeout or a 5xx the caller
    /// must find out (e.g. read both ids) before sending it again.
    pub async fn merge_contacts(
        &self,
        primary: &CrmId,
        secondary: &CrmId,
    ) -> Result<HubSpotContact, ConnectorError> {
        let body = json!({"primaryObjectId": primary, "objectIdToMerge": secondary});
        let merged: RawObject = self
            .call(
                "contacts.merge",
                Method::POST,
                &objects_path("contacts", "/merge"),
                &[],
                Some(&body),
                Limiter::General,
                Replay::OnlyIfUnsent,
            )
            .await?;
        Ok(merged.into())
    }

    /// The record `primary` names now and the ids merged into it (HubSpot's
    /// `hs_merged_object_ids`), to find out whether a merge whose answer was lost happened:
    /// `None` when HubSpot does not know the id.
    pub async fn merged_object_ids(
        &self,
        primary: &CrmId,
    ) -> Result<Option<(CrmId, Vec<String>)>, ConnectorError> {
        let contacts = self
            .batch_read_contacts(std::slice::from_ref(primary), &[MERGED_OBJECT_IDS])
            .await?;
        Ok(contacts.into_iter().next().map(|contact| {
            let merged = contact
                .property(MERGED_OBJECT_IDS)
                .map(|ids| {
                    ids.split(';')
                        .map(str::trim)
                        .filter(|id| !id.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            (contact.id, merged)
        }))
    }

    /// Creates a contact with these properties (`email`, `firstname`, …) and answers it.
    /// Not idempotent: sent again only when HubSpot cannot have acted on it; after a timeout
    /// or a 5xx the caller must look for it (e.g. [`find_contact_by_email`]) first.
    ///
    /// [`find_contact_by_email`]: Self::find_contact_by_email
    pub async fn create_contact(
        &self,
        properties: &BTreeMap<String, String>,
    ) -> Result<HubSpotContact, ConnectorError> {
        let body = json!({ "properties": properties });
        let created: RawObject = self
            .call(
                "contacts.create",
                Method::POST,
                &objects_path("contacts", ""),
                &[],
                Some(&body),
                Limiter::General,
                Replay::OnlyIfUnsent,
            )
            .await?;
        Ok(created.into())
    }

    /// The contact with this email address (HubSpot's unique `email` property, read by
    /// batch read with `idProperty: email`), if HubSpot has one.
    pub async fn find_contact_by_email(
        &self,
        email: &str,
    ) -> Result<Option<HubSpotContact>, ConnectorError> {
        let body = json!({
            "idProperty": "email",
            "inputs": [{"id": email}],
            "properties": ["email"],
        });
        let answer: BatchAnswer = self
            .call(
                "contacts.batch_read_by_email",
                Method::POST,
                &objects_path("contacts", "/batch/read"),
                &[],
                Some(&body),
                Limiter::General,
                Replay::Safe,
            )
            .await?;
        Ok(answer.results.into_iter().next().map(HubSpotContact::from))
    }

    /// The company with this domain (compared lower-case, without scheme or `www.`), the
    /// oldest if HubSpot has several; `None` when it has none or `domain` names no host.
    pub async fn search_companies_by_domain(
        &self,
        domain: &str,
    ) -> Result<Option<HubSpotCompany>, ConnectorError> {
        let Some(domain) = domain_of(domain) else {
            return Ok(None);
        };
        let body = json!({
            "filterGroups": [{"filters": [
                {"propertyName": "domain", "operator": "EQ", "value": domain},
            ]}],
            "sorts": [{"propertyName": "createdate", "direction": "ASCENDING"}],
            "properties": COMPANY_PROPERTIES,
            "limit": 1,
        });
        let answer: SearchAnswer = self
            .call(
                "companies.search_by_domain",
                Method::POST,
                &objects_path("companies", "/search"),
                &[],
                Some(&body),
                Limiter::Search,
                Replay::Safe,
            )
            .await?;
        Ok(answer
            .into_page::<HubSpotCompany>()
            .results
            .into_iter()
            .next())
    }

    /// Creates a task (`NOT_STARTED`) with its associations and [`EXTERNAL_ID_PROPERTY`].
    /// Not idempotent: sent again only when HubSpot cannot have acted on it; after a timeout
    /// or a 5xx the caller looks for it ([`find_task_by_external_id`]) first.
    ///
    /// [`find_task_by_external_id`]: Self::find_task_by_external_id
    pub async fn create_task(&self, task: &NewTask) -> Result<HubSpotEngagement, ConnectorError> {
        self.create_engagement(Engagement::Task, &task_body(task))
            .await
    }

    /// The path a task is created at (what a dry run shows).
    pub fn tasks_path() -> String {
        objects_path("tasks", "")
    }

    /// Creates a note with its associations and [`EXTERNAL_ID_PROPERTY`]; sent again only
    /// when HubSpot cannot have acted on it (see [`create_task`](Self::create_task)).
    pub async fn create_note(&self, note: &NewNote) -> Result<HubSpotEngagement, ConnectorError> {
        let mut properties = serde_json::Map::new();
        properties.insert("hs_note_body".into(), json!(note.body));
        properties.insert("hs_timestamp".into(), json!(hubspot_millis(note.timestamp)));
        if let Some(owner) = &note.owner_id {
            properties.insert("hubspot_owner_id".into(), json!(owner));
        }
        properties.insert(EXTERNAL_ID_PROPERTY.into(), json!(note.external_id));
        let body = json!({
            "properties": properties,
            "associations": associations(Engagement::Note, &note.contact_ids, &note.deal_ids),
        });
        self.create_engagement(Engagement::Note, &body).await
    }

    async fn create_engagement(
        &self,
        kind: Engagement,
        body: &Value,
    ) -> Result<HubSpotEngagement, ConnectorError> {
        let operation = match kind {
            Engagement::Task => "tasks.create",
            Engagement::Note => "notes.create",
        };
        let created: RawObject = self
            .call(
                operation,
                Method::POST,
                &objects_path(kind.object(), ""),
                &[],
                Some(body),
                Limiter::General,
                Replay::OnlyIfUnsent,
            )
            .await?;
        Ok(created.into())
    }

    /// The task whose [`EXTERNAL_ID_PROPERTY`] is `external_id`, if HubSpot has one.
    pub async fn find_task_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<HubSpotEngagement>, ConnectorError> {
        self.find_by_external_id(Engagement::Task, external_id)
            .await
    }

    /// The note whose [`EXTERNAL_ID_PROPERTY`] is `external_id`, if HubSpot has one.
    pub async fn find_note_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<HubSpotEngagement>, ConnectorError> {
        self.find_by_external_id(Engagement::Note, external_id)
            .await
    }

    async fn find_by_external_id(
        &self,
        kind: Engagement,
        external_id: &str,
    ) -> Result<Option<HubSpotEngagement>, ConnectorError> {
        let operation = match kind {
            Engagement::Task => "tasks.search_external_id",
            Engagement::Note => "notes.search_external_id",
        };
        let body = json!({
            "filterGroups": [{"filters": [
                {"propertyName": EXTERNAL_ID_PROPERTY, "operator": "EQ", "value": external_id},
            ]}],
            "properties": kind.properties(),
            "limit": 1,
        });
        let answer: SearchAnswer = self
            .call(
                operation,
                Method::POST,
                &objects_path(kind.object(), "/search"),
                &[],
                Some(&body),
                Limiter::Search,
                Replay::Safe,
            )
            .await?;
        Ok(answer
            .into_page::<HubSpotEngagement>()
            .results
            .into_iter()
            .next())
    }

    /// Creates the task property [`EXTERNAL_ID_PROPERTY`] unless it exists; `true` when it
    /// was created now.
    pub async fn ensure_task_external_id_property(&self) -> Result<bool, ConnectorError> {
        self.ensure_external_id_property(Engagement::Task).await
    }

    /// Creates the note property [`EXTERNAL_ID_PROPERTY`] unless it exists, in the group of
    /// `hs_note_body`; `true` when it was created now.
    pub async fn ensure_note_external_id_property(&self) -> Result<bool, ConnectorError> {
        self.ensure_external_id_property(Engagement::Note).await
    }

    async fn ensure_external_id_property(&self, kind: Engagement) -> Result<bool, ConnectorError> {
        let object = kind.object();
        let existing = self
            .call::<PropertyDefinition>(
                "properties.read",
                Method::GET,
                &properties_path(object, &format!("/{EXTERNAL_ID_PROPERTY}")),
                &[],
                None,
                Limiter::General,
                Replay::Safe,
            )
            .await;
        match existing {
            Ok(_) => return Ok(false),
            Err(ConnectorError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
        let group = match kind {
            Engagement::Task => TASK_PROPERTY_GROUP.to_string(),
            Engagement::Note => self
                .call::<PropertyDefinition>(
                    "properties.read",
                    Method::GET,
                    &properties_path(object, "/hs_note_body"),
                    &[],
                    None,
                    Limiter::General,
                    Replay::Safe,
                )
                .await?
                .group_name
                .ok_or_else(|| ConnectorError::UnexpectedResponse {
                    provider: PROVIDER,
                    reason: "hs_note_body has no groupName".into(),
                })?,
        };
        let body = json!({
            "name": EXTERNAL_ID_PROPERTY,
            "label": "CaseyOS execution id",
            "type": "string",
            "fieldType": "text",
            "groupName": group,
            "description": "The CaseyOS execution that created this record; CaseyOS looks for it before creating again.",
        });
        let created = self
            .send(
                "properties.create",
                Method::POST,
                &properties_path(object, ""),
                &[],
                Some(&body),
                Limiter::General,
                Replay::OnlyIfUnsent,
            )
            .await;
        match created {
            Ok(_) => Ok(true),
            // Someone created it between our read and our create.
            Err(ConnectorError::BadRequest { status: 409, .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Marks a task `COMPLETED` (`PATCH`; repeating it changes nothing).
    pub async fn complete_task(&self, id: &CrmId) -> Result<HubSpotEngagement, ConnectorError> {
        let body = json!({"properties": {"hs_task_status": "COMPLETED"}});
        let updated: RawObject = self
            .call(
                "tasks.complete",
                Method::PATCH,
                &objects_path("tasks", &format!("/{}", id.as_str())),
                &[],
                Some(&body),
                Limiter::General,
                Replay::Safe,
            )
            .await?;
        Ok(updated.into())
    }

    /// Deletes a task (to HubSpot's recycle bin). `hubspot.not_found` when there is none —
    /// also when a retry follows a delete whose answer was lost: gone either way.
    pub async fn delete_task(&self, id: &CrmId) -> Result<(), ConnectorError> {
        self.send(
            "tasks.delete",
            Method::DELETE,
            &objects_path("tasks", &format!("/{}", id.as_str())),
            &[],
            None,
            Limiter::General,
            Replay::Safe,
        )
        .await?;
        Ok(())
    }

    /// Moves a deal to the stage `stage_id` (of its pipeline) and answers the deal.
    pub async fn update_deal_stage(
        &self,
        deal_id: &CrmId,
        stage_id: &str,
    ) -> Result<HubSpotDeal, ConnectorError> {
        let body = json!({"properties": {"dealstage": stage_id}});
        let updated: RawObject = self
            .call(
                "deals.update_stage",
                Method::PATCH,
                &objects_path("deals", &format!("/{}", deal_id.as_str())),
                &[],
                Some(&body),
                Limiter::General,
                Replay::Safe,
            )
            .await?;
        Ok(updated.into())
    }

    /// One call: waits for the budgets, sends, reads, retries what may pass
    /// ([`call::Caller`]), and reads the answer as `T`.
    #[allow(clippy::too_many_arguments)]
    async fn call<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        limiter: Limiter,
        replay: Replay,
    ) -> Result<T, ConnectorError> {
        self.send(operation, method, path, query, body, limiter, replay)
            .await?
            .json(PROVIDER)
    }

    /// [`call`](Self::call) without reading the answer (a `DELETE`'s 204).
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &self,
        operation: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        limiter: Limiter,
        replay: Replay,
    ) -> Result<call::Answer, ConnectorError> {
        let url = reqwest::Url::parse(&format!("{}{path}", self.inner.base_url)).map_err(|_| {
            ConnectorError::Misconfigured {
                connector: CONNECTOR,
                reason: "a request URL did not parse".into(),
            }
        })?;
        let hooks = HubSpotHooks {
            client: self,
            limiter,
        };
        let authorization = self.call_bearer().await?;
        let result = self
            .inner
            .caller
            .call(
                &hooks,
                Request {
                    operation,
                    method,
                    url,
                    query,
                    body,
                    replay,
                    authorization,
                },
            )
            .await;
        if let Some(credentials) = &self.inner.credentials {
            credentials
                .record_call(ConnectorName::Hubspot, result.as_ref().map(|_| ()))
                .await;
        }
        result
    }

    /// Waits out a spent per-second or per-interval budget, then (for searches) the search
    /// API's own limit.
    async fn wait_for_budgets(&self, limiter: Limiter) {
        let wait = lock(&self.inner.limits).wait(Instant::now());
        if let Some(wait) = wait {
            tracing::debug!(wait_ms = millis(wait), "hubspot budget spent; waiting");
            tokio::time::sleep(wait).await;
        }
        if limiter == Limiter::Search {
            let wait = lock(&self.inner.search).reserve(Instant::now());
            if let Some(wait) = wait {
                {
                    let mut limits = lock(&self.inner.limits);
                    limits.snapshot.search_waits += 1;
                    limits.snapshot.search_waited_ms += millis(wait);
                }
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// HubSpot's part of a call: its budgets before each attempt, its rate-limit headers after,
/// its error body.
struct HubSpotHooks<'a> {
    client: &'a HubSpotClient,
    limiter: Limiter,
}

impl Hooks for HubSpotHooks<'_> {
    async fn before_attempt(&self) {
        self.client.wait_for_budgets(self.limiter).await;
    }

    fn observe(&self, headers: &HeaderMap) {
        lock(&self.client.inner.limits).observe(headers, Instant::now());
    }

    fn waiting_retry_after(&self, asked: Duration) {
        let mut limits = lock(&self.client.inner.limits);
        limits.snapshot.retry_after_waits += 1;
        limits.snapshot.retry_after_waited_ms += millis(asked);
    }

    fn classify(&self, status: u16, headers: &HeaderMap, bytes: &[u8], attempts: u32) -> Failure {
        classify(status, headers, bytes, attempts)
    }
}

/// A non-2xx answer from HubSpot.
fn classify(status: u16, headers: &HeaderMap, bytes: &[u8], attempts: u32) -> Failure {
    let fail = |error, transient, unsent, retry_after| Failure {
        error,
        transient,
        unsent,
        retry_after,
    };
    let provider = PROVIDER;
    let body: ErrorBody = serde_json::from_slice(bytes).unwrap_or_default();
    let correlation_id = label(body.correlation_id);
    match status {
        429 => {
            let policy = label(body.policy_name);
            // A spent daily budget does not come back within a call.
            let daily = policy.as_deref() == Some("DAILY");
            let retry_after = call::retry_after(headers, Utc::now());
            fail(
                ConnectorError::RateLimited {
                    provider,
                    attempts,
                    retry_after: None,
                    policy,
                },
                !daily,
                true,
                retry_after,
            )
        }
        401 | 403 => fail(
            ConnectorError::Unauthorized {
                provider,
                status,
                correlation_id,
            },
            false,
            false,
            None,
        ),
        404 => fail(
            ConnectorError::NotFound {
                provider,
                correlation_id,
            },
            false,
            false,
            None,
        ),
        500 | 502 | 503 | 504 => fail(
            ConnectorError::ServerError {
                provider,
                status,
                attempts,
            },
            true,
            false,
            None,
        ),
        500..=599 => fail(
            ConnectorError::ServerError {
                provider,
                status,
                attempts,
            },
            false,
            false,
            None,
        ),
        _ => fail(
            ConnectorError::BadRequest {
                provider,
                status,
                category: label(body.category),
                correlation_id,
            },
            false,
            false,
            None,
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Walking a window

/// A last-modified window, `[from, to)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// One page of a walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowPage<T> {
    /// The window this page belongs to (a half of the asked one after a split).
    pub window: Window,
    pub records: Vec<T>,
    /// The window's last page: every record modified before `window.to` has been read
    /// (windows come oldest first), so a watermark may move to `window.to`.
    pub window_done: bool,
}

/// Walks the records of `T` modified in a window, oldest windows first, splitting windows
/// the search cannot page through. Made by [`HubSpotClient::modified`]. After an error the
/// walker is unchanged: `next_page` again resumes where it stopped.
pub struct Modified<T> {
    client: HubSpotClient,
    properties: Vec<String>,
    /// Windows still to read; the next on top.
    pending: Vec<Window>,
    /// The window being paged and its next page's cursor.
    current: Option<(Window, String)>,
    splits: u32,
    records: std::marker::PhantomData<fn() -> T>,
}

impl<T: ModifiedObject> Modified<T> {
    /// The next page, or `None` when every window has been read.
    pub async fn next_page(&mut self) -> Result<Option<WindowPage<T>>, ConnectorError> {
        let min_width = i64::try_from(self.client.config().min_search_window.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let properties: Vec<&str> = self.properties.iter().map(String::as_str).collect();
        loop {
            let (window, after) = match (&self.current, self.pending.last()) {
                (Some((window, after)), _) => (*window, Some(after.clone())),
                (None, Some(window)) => (*window, None),
                (None, None) => return Ok(None),
            };
            let page = self
                .client
                .search_modified::<T>(window.from, window.to, after.as_deref(), &properties)
                .await?;
            if after.is_some() {
                self.current = None;
            } else {
                self.pending.pop();
            }
            if after.is_none() && page.total > SEARCH_RESULT_CAP {
                let (from, to) = (window.from.timestamp_millis(), window.to.timestamp_millis());
                let middle = from + (to - from) / 2;
                let middle = DateTime::from_timestamp_millis(middle)
                    .filter(|_| to - from > min_width && middle > from);
                let Some(middle) = middle else {
                    // Put it back: the walk stays where it failed.
                    self.pending.push(window);
                    return Err(ConnectorError::SearchWindowTooDense {
                        from: window.from,
                        to: window.to,
                        total: page.total,
                    });
                };
                tracing::info!(
                    hubspot.window_from = %window.from,
                    hubspot.window_to = %window.to,
                    hubspot.total = page.total,
                    "hubspot search window past the result cap; splitting it"
                );
                self.splits += 1;
                self.pending.push(Window {
                    from: middle,
                    to: window.to,
                });
                self.pending.push(Window {
                    from: window.from,
                    to: middle,
                });
                continue;
            }
            let window_done = page.next_after.is_none();
            if let Some(next) = page.next_after {
                self.current = Some((window, next));
            }
            return Ok(Some(WindowPage {
                window,
                records: page.results,
                window_done,
            }));
        }
    }

    /// How many windows were split so far.
    pub fn splits(&self) -> u32 {
        self.splits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hubspot_timestamps_parse_in_every_shape_hubspot_sends() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // (raw, parsed)
        let table = [
            (
                "2026-01-02T03:04:05.678Z",
                Some(at("2026-01-02T03:04:05.678Z")),
            ),
            ("2026-01-02T03:04:05Z", Some(at("2026-01-02T03:04:05Z"))),
            (
                "2026-01-02T04:04:05+01:00",
                Some(at("2026-01-02T03:04:05Z")),
            ),
            (
                "2026-01-02T03:04:05.678",
                Some(at("2026-01-02T03:04:05.678Z")),
            ),
            ("1767323045678", Some(at("2026-01-02T03:04:05.678Z"))),
            (" 1767323045678 ", Some(at("2026-01-02T03:04:05.678Z"))),
            ("2026-01-02", Some(at("2026-01-02T00:00:00Z"))),
            ("", None),
            ("yesterday", None),
            ("2026-13-40", None),
        ];
        for (raw, parsed) in table {
            assert_eq!(parse_hubspot_time(raw), parsed, "{raw:?}");
        }
    }

    #[test]
    fn domains_are_read_from_websites_and_domains() {
        // (raw, domain)
        let table = [
            ("https://www.Acme.io/about", Some("acme.io")),
            ("http://acme.io:8080", Some("acme.io")),
            ("acme.io", Some("acme.io")),
            ("www.acme.co.uk?x=1", Some("acme.co.uk")),
            ("  ", None),
            ("localhost", None),
        ];
        for (raw, domain) in table {
            assert_eq!(domain_of(raw).as_deref(), domain, "{raw:?}");
        }
    }

    #[test]
    fn the_search_bucket_spaces_searches_at_the_rate() {
        let start = Instant::now();
        let mut bucket = SearchBucket::new(4, start);
        // (at ms after start, wait asked in ms)
        let table = [(0, 0), (0, 250), (0, 500), (600, 150), (2_000, 0)];
        for (at, wait) in table {
            let asked = bucket
                .reserve(start + Duration::from_millis(at))
                .map_or(0, |d| d.as_millis());
            assert_eq!(asked, wait, "at {at} ms");
        }
    }
}
