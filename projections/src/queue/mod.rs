//! Today's Moves read models — `queue_items` (detail, lists, today) and `queue_counters`
//! (counts by owner and status) — their projector and the queries that read them.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use caseyos_domain::queue::{QueueItem, QueueItemEvent, QueueItemView, QueueStatus};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use caseyos_domain::aggregate::Aggregate;

use crate::projector::{
    load_docs, CopyIn, Held, InFlight, Jsonb, RowFold, RowProjector, RowsWrite, Tables, Window,
    Write,
};

mod queries;
pub mod stats;

pub use queries::*;

const ITEMS: &str = "queue_items";
const COUNTERS: &str = "queue_counters";

/// Writes `queue_items` and `queue_counters`.
pub struct QueueProjector;

impl RowProjector for QueueProjector {
    const NAME: &'static str = "queue";
    const TABLES: &'static [&'static str] = &[ITEMS, COUNTERS];
    type Held = HeldItem;
    type Fold = QueueFold;

    fn fold_over(window: Window<HeldItem>) -> QueueFold {
        QueueFold { window }
    }
}

/// One item as a fold holds it: its state, and its `(owner, status)` as the table has it
/// (for the counters), when the table has it.
#[derive(Default)]
pub struct HeldItem {
    state: QueueItem,
    counted: Option<(String, QueueStatus)>,
}

/// The one fold of queue events into rows, for a live batch and for a rebuild alike.
pub struct QueueFold {
    window: Window<HeldItem>,
}

#[async_trait]
impl RowFold for QueueFold {
    type Aggregate = QueueItem;

    /// Reads the rows these events change (those the window may need from the table) and
    /// folds the events into them.
    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, QueueItemEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in
                load_docs::<QueueItemView>(&mut *conn, &tables.name(ITEMS), &missing).await?
            {
                let counted = Some((view.owner.clone(), view.status));
                self.window.hold_stored(
                    view.id,
                    HeldItem {
                        state: QueueItem { item: Some(view) },
                        counted,
                    },
                );
            }
        }
        for (id, event) in decoded {
            self.window.state(id).state.apply(event);
        }
        Ok(())
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, how: Write) -> Box<dyn RowsWrite> {
        Box::new(QueueWrite {
            held: self.window.take(keep, |item| item.state.item.is_some()),
            how,
        })
    }
}

/// Items taken out of the fold, and how to write them.
struct QueueWrite {
    held: HashMap<Uuid, Held<HeldItem>>,
    how: Write,
}

#[async_trait]
impl RowsWrite for QueueWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let QueueWrite { held, how } = *self;
        let items = tables.name(ITEMS);
        let counters = tables.name(COUNTERS);

        let mut deltas: BTreeMap<(String, QueueStatus), i64> = BTreeMap::new();
        let mut upserts = Rows::default();
        let mut copies = Vec::new();
        for Held { state, stored, .. } in held.values() {
            let Some(view) = &state.state.item else {
                continue;
            };
            if let Some(counted) = &state.counted {
                *deltas.entry(counted.clone()).or_default() -= 1;
            }
            *deltas.entry((view.owner.clone(), view.status)).or_default() += 1;
            let row = ItemRow::of(view);
            if how == Write::Copy && !stored {
                copies.push(row);
            } else {
                upserts.push(row)?;
            }
        }
        upserts.upsert(&mut *conn, &items).await?;
        if !copies.is_empty() {
            let mut copy = CopyIn::start(&mut *conn, &items, ITEM_COLUMNS).await?;
            for row in &copies {
                row.copy(&mut copy).await?;
            }
            copy.finish().await?;
        }

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

/// The columns of `queue_items` both writers fill, in [`ItemRow`]'s order.
const ITEM_COLUMNS: &str = "id, status, owner, action_type, domain, title, aps_centi, due_by, \
     snoozed_until, expires_at, decided_at, contact_id, deal_id, company_id, created_at, \
     updated_at, version, doc, demo";

/// One `queue_items` row, as the live upsert and a rebuild's COPY both write it.
struct ItemRow<'a> {
    id: Uuid,
    status: &'static str,
    owner: &'a str,
    action_type: &'static str,
    domain: &'static str,
    title: &'a str,
    aps_centi: i32,
    due_by: Option<DateTime<Utc>>,
    snoozed_until: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    decided_at: Option<DateTime<Utc>>,
    contact_id: Option<&'a str>,
    deal_id: Option<&'a str>,
    company_id: Option<&'a str>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i64,
    doc: &'a QueueItemView,
    demo: bool,
}

impl<'a> ItemRow<'a> {
    fn of(view: &'a QueueItemView) -> Self {
        ItemRow {
            id: view.id,
            status: view.status.as_str(),
            owner: &view.owner,
            action_type: view.action_type.as_str(),
            domain: view.domain.as_str(),
            title: &view.title,
            aps_centi: i32::from(view.aps.score.centi()),
            due_by: view.due_by,
            snoozed_until: view.snoozed_until,
            expires_at: view.expires_at,
            decided_at: view.decision.as_ref().map(|d| d.at),
            contact_id: view.target.contact.as_ref().map(|c| c.id.as_str()),
            deal_id: view.target.deal.as_ref().map(|d| d.id.as_str()),
            company_id: view.target.company.as_ref().map(|c| c.id.as_str()),
            created_at: view.proposed_at,
            updated_at: view.updated_at,
            version: view.version as i64,
            doc: view,
            demo: view.demo,
        }
    }

    async fn copy(&self, copy: &mut CopyIn<'_>) -> anyhow::Result<()> {
        copy.row(&[
            &self.id,
            &self.status,
            &self.owner,
            &self.action_type,
            &self.domain,
            &self.title,
            &self.aps_centi,
            &self.due_by,
            &self.snoozed_until,
            &self.expires_at,
            &self.decided_at,
            &self.contact_id,
            &self.deal_id,
            &self.company_id,
            &self.created_at,
            &self.updated_at,
            &self.version,
            &Jsonb(self.doc),
            &self.demo,
        ])
        .await
    }
}

/// `queue_items` rows in columns, written with one `unnest` upsert per batch (typed
/// arrays are far cheaper for PostgreSQL to read than one large JSON document).
#[derive(Default)]
struct Rows<'a> {
    id: Vec<Uuid>,
    status: Vec<&'static str>,
    owner: Vec<&'a str>,
    action_type: Vec<&'static str>,
    domain: Vec<&'static str>,
    title: Vec<&'a str>,
    aps_centi: Vec<i32>,
    due_by: Vec<Option<DateTime<Utc>>>,
    snoozed_until: Vec<Option<DateTime<Utc>>>,
    expires_at: Vec<Option<DateTime<Utc>>>,
    decided_at: Vec<Option<DateTime<Utc>>>,
    contact_id: Vec<Option<&'a str>>,
    deal_id: Vec<Option<&'a str>>,
    company_id: Vec<Option<&'a str>>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    version: Vec<i64>,
    doc: Vec<String>,
    demo: Vec<bool>,
}

impl<'a> Rows<'a> {
    fn push(&mut self, row: ItemRow<'a>) -> serde_json::Result<()> {
        self.id.push(row.id);
        self.status.push(row.status);
        self.owner.push(row.owner);
        self.action_type.push(row.action_type);
        self.domain.push(row.domain);
        self.title.push(row.title);
        self.aps_centi.push(row.aps_centi);
        self.due_by.push(row.due_by);
        self.snoozed_until.push(row.snoozed_until);
        self.expires_at.push(row.expires_at);
        self.decided_at.push(row.decided_at);
        self.contact_id.push(row.contact_id);
        self.deal_id.push(row.deal_id);
        self.company_id.push(row.company_id);
        self.created_at.push(row.created_at);
        self.updated_at.push(row.updated_at);
        self.version.push(row.version);
        self.doc.push(serde_json::to_string(row.doc)?);
        self.demo.push(row.demo);
        Ok(())
    }

    async fn upsert(&self, conn: &mut PgConnection, table: &str) -> sqlx::Result<()> {
        if self.id.is_empty() {
            return Ok(());
        }
        sqlx::query(&format!(
            "insert into {table} ({ITEM_COLUMNS}) \
             select id, status, owner, action_type, domain, title, aps_centi, due_by, \
               snoozed_until, expires_at, decided_at, contact_id, deal_id, company_id, \
               created_at, updated_at, version, doc::jsonb, demo \
             from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
               $7::int4[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[], \
               $11::timestamptz[], $12::text[], $13::text[], $14::text[], $15::timestamptz[], \
               $16::timestamptz[], $17::int8[], $18::text[], $19::bool[]) as r({ITEM_COLUMNS}) \
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
