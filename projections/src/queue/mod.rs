//! Today's Moves read models — `queue_items` (detail, lists, today) and `queue_counters`
//! (counts by owner and status) — their projector and the queries that read them.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use caseyos_domain::queue::{QueueItem, QueueItemView, QueueStatus};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use caseyos_domain::aggregate::Aggregate;
use caseyos_store::StoredEvent;

use crate::projector::{decode_batch, load_docs, Projector, Tables};

mod queries;
pub mod stats;

pub use queries::*;

const ITEMS: &str = "queue_items";
const COUNTERS: &str = "queue_counters";

/// Writes `queue_items` and `queue_counters`.
pub struct QueueProjector;

#[async_trait]
impl Projector for QueueProjector {
    fn name(&self) -> &'static str {
        "queue"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[ITEMS, COUNTERS]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> anyhow::Result<()> {
        let decoded = decode_batch::<QueueItem>(events)?;
        if decoded.is_empty() {
            return Ok(());
        }
        let items = tables.name(ITEMS);
        let counters = tables.name(COUNTERS);

        // Load the current state of every item the batch touches, fold, write back.
        let mut ids: Vec<Uuid> = decoded.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut states: HashMap<Uuid, QueueItem> = HashMap::with_capacity(ids.len());
        let mut before: HashMap<Uuid, (String, QueueStatus)> = HashMap::new();
        for view in load_docs::<QueueItemView>(&mut *conn, &items, &ids).await? {
            before.insert(view.id, (view.owner.clone(), view.status));
            states.insert(view.id, QueueItem { item: Some(view) });
        }
        for (id, event) in decoded {
            states.entry(id).or_default().apply(event);
        }

        let mut deltas: BTreeMap<(String, QueueStatus), i64> = BTreeMap::new();
        let mut rows = Rows::default();
        for (id, state) in &states {
            let Some(view) = &state.item else { continue };
            if let Some(old) = before.get(id) {
                *deltas.entry(old.clone()).or_default() -= 1;
            }
            *deltas.entry((view.owner.clone(), view.status)).or_default() += 1;
            rows.push(view)?;
        }
        rows.upsert(&mut *conn, &items).await?;

        deltas.retain(|_, delta| *delta != 0);
        if !deltas.is_empty() {
            let owners: Vec<&str> = deltas.keys().map(|(o, _)| o.as_str()).collect();
            let statuses: Vec<&str> = deltas.keys().map(|(_, s)| s.as_str()).collect();
            let counts: Vec<i64> = deltas.values().copied().collect();
            sqlx::query(&format!(
                "insert into {counters} (owner, status, count) \
                 select * from unnest($1::text[], $2::text[], $3::bigint[]) \
                 on conflict (owner, status) do update set count = {counters}.count + excluded.count"
            ))
            .bind(&owners)
            .bind(&statuses)
            .bind(&counts)
            .execute(&mut *conn)
            .await?;
            sqlx::query(&format!(
                "delete from {counters} where count = 0 and (owner, status) in \
                 (select * from unnest($1::text[], $2::text[]))"
            ))
            .bind(&owners)
            .bind(&statuses)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// `queue_items` rows in columns, written with one `unnest` upsert per batch (typed
/// arrays are far cheaper for PostgreSQL to read than one large JSON document).
#[derive(Default)]
struct Rows {
    id: Vec<Uuid>,
    status: Vec<&'static str>,
    owner: Vec<String>,
    action_type: Vec<&'static str>,
    domain: Vec<&'static str>,
    title: Vec<String>,
    aps_centi: Vec<i32>,
    due_by: Vec<Option<DateTime<Utc>>>,
    snoozed_until: Vec<Option<DateTime<Utc>>>,
    expires_at: Vec<Option<DateTime<Utc>>>,
    decided_at: Vec<Option<DateTime<Utc>>>,
    contact_id: Vec<Option<String>>,
    deal_id: Vec<Option<String>>,
    company_id: Vec<Option<String>>,
    demo: Vec<bool>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    version: Vec<i64>,
    doc: Vec<String>,
}

impl Rows {
    fn push(&mut self, view: &QueueItemView) -> serde_json::Result<()> {
        self.id.push(view.id);
        self.status.push(view.status.as_str());
        self.owner.push(view.owner.clone());
        self.action_type.push(view.action_type.as_str());
        self.domain.push(view.domain.as_str());
        self.title.push(view.title.clone());
        self.aps_centi.push(i32::from(view.aps.score.centi()));
        self.due_by.push(view.due_by);
        self.snoozed_until.push(view.snoozed_until);
        self.expires_at.push(view.expires_at);
        self.decided_at.push(view.decision.as_ref().map(|d| d.at));
        self.contact_id.push(
            view.target
                .contact
                .as_ref()
                .map(|c| c.id.as_str().to_string()),
        );
        self.deal_id
            .push(view.target.deal.as_ref().map(|d| d.id.as_str().to_string()));
        self.company_id.push(
            view.target
                .company
                .as_ref()
                .map(|c| c.id.as_str().to_string()),
        );
        self.demo.push(view.demo);
        self.created_at.push(view.proposed_at);
        self.updated_at.push(view.updated_at);
        self.version.push(view.version as i64);
        self.doc.push(serde_json::to_string(view)?);
        Ok(())
    }

    async fn upsert(&self, conn: &mut PgConnection, table: &str) -> sqlx::Result<()> {
        if self.id.is_empty() {
            return Ok(());
        }
        sqlx::query(&format!(
            "insert into {table} (id, status, owner, action_type, domain, title, aps_centi, \
               due_by, snoozed_until, expires_at, decided_at, contact_id, deal_id, company_id, \
               created_at, updated_at, version, doc, demo) \
             select id, status, owner, action_type, domain, title, aps_centi, due_by, \
               snoozed_until, expires_at, decided_at, contact_id, deal_id, company_id, \
               created_at, updated_at, version, doc::jsonb, demo \
             from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
               $7::int4[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], \
               $11::timestamptz[], $12::text[], $13::text[], $14::text[], $15::timestamptz[], \
               $16::timestamptz[], $17::int8[], $18::text[], $19::bool[]) \
               as r(id, status, owner, action_type, domain, title, aps_centi, due_by, \
               snoozed_until, expires_at, decided_at, contact_id, deal_id, company_id, \
               created_at, updated_at, version, doc, demo) \
             on conflict (id) do update set status = excluded.status, owner = excluded.owner, \
               action_type = excluded.action_type, domain = excluded.domain, \
               title = excluded.title, aps_centi = excluded.aps_centi, \
               due_by = excluded.due_by, snoozed_until = excluded.snoozed_until, \
               expires_at = excluded.expires_at, decided_at = excluded.decided_at, \
               contact_id = excluded.contact_id, deal_id = excluded.deal_id, \
               company_id = excluded.company_id, created_at = excluded.created_at, \
               updated_at = excluded.updated_at, version = excluded.version, doc = excluded.doc, \
               demo = excluded.demo"
        ))
        .bind(&self.id)
        .bind(&self.status)
        .bind(&self.owner)
        .bind(&self.action_type)
        .bind(&self.domain)
        .bind(&self.title)
        .bind(&self.aps_centi)
        .bind(&self.due_by)
        .bind(&self.snoozed_until)
        .bind(&self.expires_at)
        .bind(&self.decided_at)
        .bind(&self.contact_id)
        .bind(&self.deal_id)
        .bind(&self.company_id)
        .bind(&self.created_at)
        .bind(&self.updated_at)
        .bind(&self.version)
        .bind(&self.doc)
        .bind(&self.demo)
        .execute(conn)
        .await?;
        Ok(())
    }
}
