//! The contacts read model — `contacts` (lists, search, look-ups by email, CRM id and phone,
//! exports) — its projector and the queries that read it.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::contacts::{Contact, ContactEvent, ContactView};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::{
    load_docs, CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window,
    Write,
};

mod queries;

pub use queries::*;

const CONTACTS: &str = "contacts";

/// Writes `contacts`.
pub struct ContactsProjector;

impl RowProjector for ContactsProjector {
    const NAME: &'static str = "contacts";
    const TABLES: &'static [&'static str] = &[CONTACTS];
    type Held = Contact;
    type Fold = ContactsFold;

    fn fold_over(window: Window<Contact>) -> ContactsFold {
        ContactsFold { window }
    }
}

/// The one fold of contact events into rows, for a live batch and for a rebuild alike.
pub struct ContactsFold {
    window: Window<Contact>,
}

#[async_trait]
impl RowFold for ContactsFold {
    type Aggregate = Contact;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, ContactEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in
                load_docs::<ContactView>(&mut *conn, &tables.name(CONTACTS), &missing).await?
            {
                self.window.hold_stored(
                    view.id,
                    Contact {
                        contact: Some(view),
                    },
                );
            }
        }
        for (id, event) in decoded {
            self.window.state(id).apply(event);
        }
        Ok(())
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(ContactsWrite {
            held: self.window.take(keep, |c| c.contact.is_some()),
            how,
        })
    }
}

/// Contacts taken out of the fold, and how to write them.
struct ContactsWrite {
    held: HashMap<Uuid, Held<Contact>>,
    how: Write,
}

#[async_trait]
impl RowsWrite for ContactsWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let ContactsWrite { held, how } = *self;
        let table = tables.name(CONTACTS);
        let mut upserts = Rows::default();
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(view) = &state.contact else {
                continue;
            };
            let row = ContactRowWrite::of(view);
            if how == Write::Copy && !stored {
                copies.push(row);
            } else {
                upserts.push(row)?;
            }
        }
        upserts.upsert(&mut *conn, &table).await?;
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &table, COLUMNS).await?;
            for row in &copies {
                row.copy(&mut copy).await?;
            }
            copy.finish().await?;
        }
        Ok(())
    }
}

/// The columns of `contacts` both writers fill, in [`ContactRowWrite`]'s order.
const COLUMNS: &str = "id, status, first_name, last_name, name, primary_email, emails, phones, \
     phone, job_title, company_name, company_domain, lifecycle_stage, owner, crm_id, \
     last_contacted_at, source, import_id, demo, valid, issues, merged_into, search, doc, \
     created_at, updated_at, version";

/// A phone as the table keeps it: E.164 when it parsed, else the text as written.
fn phone_key(phone: &caseyos_domain::contacts::Phone) -> &str {
    phone.e164.as_deref().unwrap_or(&phone.raw)
}

/// What `q` searches: name, every email and the company, lower-cased, on one line.
pub(crate) fn search_text(view: &ContactView) -> String {
    let fields = &view.fields;
    let mut parts: Vec<&str> = Vec::new();
    parts.extend(fields.first_name.as_deref());
    parts.extend(fields.last_name.as_deref());
    parts.extend(fields.emails.iter().map(String::as_str));
    parts.extend(fields.company_name.as_deref());
    parts.join(" ").to_lowercase()
}

/// One `contacts` row, as the live upsert and a rebuild's COPY both write it.
struct ContactRowWrite<'a> {
    id: Uuid,
    status: &'static str,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    name: String,
    primary_email: Option<&'a str>,
    emails: Vec<&'a str>,
    phones: Vec<&'a str>,
    phone: Option<&'a str>,
    job_title: Option<&'a str>,
    company_name: Option<&'a str>,
    company_domain: Option<&'a str>,
    lifecycle_stage: Option<&'static str>,
    owner: Option<&'a str>,
    crm_id: Option<&'a str>,
    last_contacted_at: Option<DateTime<Utc>>,
    source: &'static str,
    import_id: Option<Uuid>,
    demo: bool,
    valid: Option<bool>,
    issues: i32,
    merged_into: Option<Uuid>,
    search: String,
    doc: &'a ContactView,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
}

impl<'a> ContactRowWrite<'a> {
    fn of(view: &'a ContactView) -> Self {
        let fields = &view.fields;
        let phones: Vec<&str> = fields.phones.iter().map(phone_key).collect();
        ContactRowWrite {
            id: view.id,
            status: view.status.as_str(),
            first_name: fields.first_name.as_deref(),
            last_name: fields.last_name.as_deref(),
            name: fields.display_name().unwrap_or_default(),
            primary_email: fields.primary_email(),
            emails: fields.emails.iter().map(String::as_str).collect(),
            phone: phones.first().copied(),
            phones,
            job_title: fields.job_title.as_deref(),
            company_name: fields.company_name.as_deref(),
            company_domain: fields.company_domain.as_deref(),
            lifecycle_stage: fields.lifecycle_stage.map(|s| s.as_str()),
            owner: fields.owner.as_deref(),
            crm_id: fields.crm_id.as_deref(),
            last_contacted_at: fields.last_contacted_at,
            source: view.source.as_str(),
            import_id: view.import_id,
            demo: view.demo,
            valid: view.validation.as_ref().map(|v| v.report.valid),
            issues: view.validation.as_ref().map_or(0, |v| {
                i32::try_from(v.report.issues.len()).unwrap_or(i32::MAX)
            }),
            merged_into: view.merged_into.as_ref().map(|m| m.primary),
            search: search_text(view),
            doc: view,
            created_at: view.created_at,
            updated_at: view.updated_at,
            version: view.version as i64,
        }
    }

    async fn copy(&self, copy: &mut CopyIn<'_>) -> anyhow::Result<()> {
        copy.row(&[
            &self.id,
            &self.status,
            &self.first_name,
            &self.last_name,
            &self.name,
            &self.primary_email,
            &self.emails,
            &self.phones,
            &self.phone,
            &self.job_title,
            &self.company_name,
            &self.company_domain,
            &self.lifecycle_stage,
            &self.owner,
            &self.crm_id,
            &self.last_contacted_at,
            &self.source,
            &self.import_id,
            &self.demo,
            &self.valid,
            &self.issues,
            &self.merged_into,
            &self.search,
            &Jsonb(self.doc),
            &self.created_at,
            &self.updated_at,
            &self.version,
        ])
        .await
    }
}

/// `contacts` rows in columns, written with one `unnest` upsert per batch. The list
/// columns (emails, phones) travel as one JSON array per row: `unnest` would flatten an
/// array of arrays.
#[derive(Default)]
struct Rows<'a> {
    id: Vec<Uuid>,
    status: Vec<&'static str>,
    first_name: Vec<Option<&'a str>>,
    last_name: Vec<Option<&'a str>>,
    name: Vec<String>,
    primary_email: Vec<Option<&'a str>>,
    emails: Vec<String>,
    phones: Vec<String>,
    phone: Vec<Option<&'a str>>,
    job_title: Vec<Option<&'a str>>,
    company_name: Vec<Option<&'a str>>,
    company_domain: Vec<Option<&'a str>>,
    lifecycle_stage: Vec<Option<&'static str>>,
    owner: Vec<Option<&'a str>>,
    crm_id: Vec<Option<&'a str>>,
    last_contacted_at: Vec<Option<DateTime<Utc>>>,
    source: Vec<&'static str>,
    import_id: Vec<Option<Uuid>>,
    demo: Vec<bool>,
    valid: Vec<Option<bool>>,
    issues: Vec<i32>,
    merged_into: Vec<Option<Uuid>>,
    search: Vec<String>,
    doc: Vec<String>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    version: Vec<i64>,
}

impl<'a> Rows<'a> {
    fn push(&mut self, row: ContactRowWrite<'a>) -> serde_json::Result<()> {
        self.id.push(row.id);
        self.status.push(row.status);
        self.first_name.push(row.first_name);
        self.last_name.push(row.last_name);
        self.name.push(row.name);
        self.primary_email.push(row.primary_email);
        self.emails.push(serde_json::to_string(&row.emails)?);
        self.phones.push(serde_json::to_string(&row.phones)?);
        self.phone.push(row.phone);
        self.job_title.push(row.job_title);
        self.company_name.push(row.company_name);
        self.company_domain.push(row.company_domain);
        self.lifecycle_stage.push(row.lifecycle_stage);
        self.owner.push(row.owner);
        self.crm_id.push(row.crm_id);
        self.last_contacted_at.push(row.last_contacted_at);
        self.source.push(row.source);
        self.import_id.push(row.import_id);
        self.demo.push(row.demo);
        self.valid.push(row.valid);
        self.issues.push(row.issues);
        self.merged_into.push(row.merged_into);
        self.search.push(row.search);
        self.doc.push(serde_json::to_string(row.doc)?);
        self.created_at.push(row.created_at);
        self.updated_at.push(row.updated_at);
        self.version.push(row.version);
        Ok(())
    }

    async fn upsert(&self, conn: &mut PgConnection, table: &str) -> sqlx::Result<()> {
        if self.id.is_empty() {
            return Ok(());
        }
        let updates = COLUMNS
            .split(", ")
            .filter(|c| *c != "id")
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        sqlx::query(&format!(
            "insert into {table} ({COLUMNS}) \
             select id, status, first_name, last_name, name, primary_email, \
               array(select jsonb_array_elements_text(emails::jsonb)), \
               array(select jsonb_array_elements_text(phones::jsonb)), \
               phone, job_title, company_name, company_domain, lifecycle_stage, owner, crm_id, \
               last_contacted_at, source, import_id, demo, valid, issues, merged_into, search, \
               doc::jsonb, created_at, updated_at, version \
             from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], \
               $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
               $12::text[], $13::text[], $14::text[], $15::text[], $16::timestamptz[], \
               $17::text[], $18::uuid[], $19::bool[], $20::bool[], $21::int4[], $22::uuid[], \
               $23::text[], $24::text[], $25::timestamptz[], $26::timestamptz[], \
               $27::int8[]) as r({COLUMNS}) \
             on conflict (id) do update set {updates}"
        ))
        .bind(&self.id)
        .bind(&self.status)
        .bind(&self.first_name)
        .bind(&self.last_name)
        .bind(&self.name)
        .bind(&self.primary_email)
        .bind(&self.emails)
        .bind(&self.phones)
        .bind(&self.phone)
        .bind(&self.job_title)
        .bind(&self.company_name)
        .bind(&self.company_domain)
        .bind(&self.lifecycle_stage)
        .bind(&self.owner)
        .bind(&self.crm_id)
        .bind(&self.last_contacted_at)
        .bind(&self.source)
        .bind(&self.import_id)
        .bind(&self.demo)
        .bind(&self.valid)
        .bind(&self.issues)
        .bind(&self.merged_into)
        .bind(&self.search)
        .bind(&self.doc)
        .bind(&self.created_at)
        .bind(&self.updated_at)
        .bind(&self.version)
        .execute(conn)
        .await?;
        Ok(())
    }
}
