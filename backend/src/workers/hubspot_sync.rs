//! The HubSpot → CaseyOS sync of contacts, deal pipelines and deals. Runs only when HubSpot
//! is configured; every `hubspot_sync_interval_secs` (default 300 s) it runs [`tick`] (the
//! contacts) and [`tick_deals`] (the pipelines, then the deals), each object one instance at
//! a time (an advisory lock per object). Contacts and deals walk the records HubSpot changed
//! since their last run's watermark, oldest windows first; pipelines are listed whole. The
//! pipelines and deals become commands through `commands::deal_sync` (shared with the
//! webhook reactor); the contacts become contact commands through the bus:
//!
//! - matched on the CRM id (the `contacts` read model), then on the email (unless that
//!   contact belongs to another HubSpot record), else new: `ContactCommand::Create` with
//!   source `hubspot` and an id made from the CRM id ([`contact_id_for`]), so a window read
//!   again never creates twice;
//! - an existing contact gets `ContactCommand::Edit` with source `hubspot` and only the
//!   fields HubSpot has (HubSpot's email becomes the primary, the others stay; its phones
//!   come first, the others stay; phones read to E.164 as `Phone::read` does); owner and
//!   custom properties are left alone;
//! - a contact that does not map (an address that does not parse, a name too long) fails
//!   alone: counted, logged with its CRM id and the field, never its values.
//!
//! Each run is a `crm_sync` aggregate of one object (`contacts`, `pipelines`, `deals`):
//! started before the first call, progressed per finished window, completed with its
//! watermark or failed with the error's code. A run that stopped unfinished (a crash) is
//! resumed from its last finished window on the next tick; after a failure the next tick
//! starts a new run from where it got to. One walk ([`ObjectSync`]) serves every object.
//! A pipelines run has one window, `[the last pipelines run's end, now)`, and lists every
//! pipeline in it; the deals run follows only a pipelines run that completed, so a deal is
//! not read before its pipeline (a deal whose pipeline is missing fails alone and would not
//! be read again until it changes).

use std::sync::Arc;
use std::time::Duration;

use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::contacts::{
    ChangeSource, CompanyDomain, Contact, ContactCommand, ContactError, ContactFields,
    ContactSource, CreateContact, EditContact, FieldEdit, LifecycleStage, Phone, MAX_NAME_CHARS,
};
use caseyos_domain::crm_sync::{
    Complete, CrmSync, CrmSyncCommand, CrmSyncView, Fail, RateBudget, RateLimits, RecordProgress,
    SyncCounts, SyncObject, SyncRunStatus, SyncWindow,
};
use caseyos_domain::kernel::{Actor, CrmId, EmailAddress, Text};
use caseyos_store::{event, history, now, CommandBus, CommandError, CommandMeta};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::commands::deal_sync::{self, Owners, SyncFailed, Synced};
use crate::config::Config;
use crate::connectors::hubspot::{
    Budget, HubSpotClient, HubSpotContact, HubSpotDeal, HubSpotPipeline, Modified,
    RateLimitSnapshot, Window, WindowPage, CONTACT_PROPERTIES, DEAL_PROPERTIES,
};
use crate::connectors::ConnectorError;

/// Who the sync's commands are recorded as (`system:hubspot_sync`).
pub const SYNC_ACTOR: &str = "hubspot_sync";
/// The namespace of contact ids made from HubSpot record ids.
pub const HUBSPOT_CONTACT_NAMESPACE: Uuid =
    Uuid::from_u128(0x6b1d_52a0_3c4e_4f5a_9e1b_7d2c_0a8f_e311);

/// The id of the contact a HubSpot record creates: the same for every run.
pub fn contact_id_for(crm_id: &CrmId) -> Uuid {
    Uuid::new_v5(&HUBSPOT_CONTACT_NAMESPACE, crm_id.as_str().as_bytes())
}

/// When and from where the sync runs.
#[derive(Clone, Debug)]
pub struct SyncSettings {
    pub interval: Duration,
    /// Where the first run starts.
    pub start: DateTime<Utc>,
}

impl SyncSettings {
    pub fn from_config(config: &Config) -> Self {
        SyncSettings {
            interval: Duration::from_secs(config.hubspot_sync_interval_secs.max(1)),
            start: config.hubspot_sync_start.unwrap_or(DateTime::UNIX_EPOCH),
        }
    }
}

/// Starts the sync with the app's one HubSpot client; `None` (and nothing runs) when HubSpot
/// is not connected.
pub fn spawn(
    pool: PgPool,
    bus: Arc<CommandBus>,
    client: Option<HubSpotClient>,
    settings: SyncSettings,
    shutdown: CancellationToken,
) -> Option<JoinHandle<()>> {
    let Some(client) = client else {
        tracing::info!("HubSpot is not connected: the contact and deal sync does not run");
        return None;
    };
    Some(tokio::spawn(async move {
        loop {
            // A client whose token comes from the stored credentials waits until HubSpot
            // is connected (through the API) instead of failing a run every interval.
            if client.is_connected().await {
                if let Err(error) = tick(&pool, &bus, &client, &settings).await {
                    tracing::warn!(error = %format!("{error:#}"), "hubspot contact sync tick failed");
                }
                if let Err(error) = tick_deals(&pool, &bus, &client, &settings).await {
                    tracing::warn!(error = %format!("{error:#}"), "hubspot deal sync tick failed");
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(settings.interval) => {}
            }
        }
    }))
}

/// What a tick did.
#[derive(Debug)]
pub enum Tick {
    /// Another instance holds the sync.
    Skipped,
    /// The watermark is not behind now.
    UpToDate,
    /// A run finished, completed or failed: its state.
    Ran(Box<CrmSyncView>),
}

/// One contact sync, if this instance gets the lock: resumes an unfinished run or starts
/// one from the last run's watermark, and walks it to its end or its first error.
pub async fn tick(
    pool: &PgPool,
    bus: &CommandBus,
    client: &HubSpotClient,
    settings: &SyncSettings,
) -> anyhow::Result<Tick> {
    tick_object(pool, bus, client, settings, ContactSync::start).await
}

/// What a deal sync did: its pipelines run, and its deals run (`None` when the pipelines
/// did not complete: deals wait for their pipelines).
#[derive(Debug)]
pub struct DealsTick {
    pub pipelines: Tick,
    pub deals: Option<Tick>,
}

/// One deal sync (call it to sync on demand): the deal pipelines first, then — when they
/// completed — the deals changed since the last deals run's watermark, each as [`tick`]
/// runs the contacts (its own lock, its own `crm_sync` run).
pub async fn tick_deals(
    pool: &PgPool,
    bus: &CommandBus,
    client: &HubSpotClient,
    settings: &SyncSettings,
) -> anyhow::Result<DealsTick> {
    let pipelines = tick_object(pool, bus, client, settings, PipelineSync::start).await?;
    let completed = match &pipelines {
        Tick::Ran(run) => run.status == SyncRunStatus::Completed,
        Tick::UpToDate => true,
        Tick::Skipped => false,
    };
    let deals = if completed {
        Some(tick_object(pool, bus, client, settings, DealSync::start).await?)
    } else {
        None
    };
    Ok(DealsTick { pipelines, deals })
}

/// One run of `S`'s object, if this instance gets its lock.
async fn tick_object<S: ObjectSync>(
    pool: &PgPool,
    bus: &CommandBus,
    client: &HubSpotClient,
    settings: &SyncSettings,
    start: fn(&HubSpotClient, &CrmSyncView) -> S,
) -> anyhow::Result<Tick> {
    let name = format!("hubspot_sync:{}", S::OBJECT.as_str());
    let synced = super::reactor::locked(pool, &name, false, async || {
        sync::<S>(pool, bus, client, settings, start).await
    })
    .await?;
    Ok(synced.unwrap_or(Tick::Skipped))
}

fn meta_of(run: Uuid) -> CommandMeta {
    let mut meta = CommandMeta::system(SYNC_ACTOR);
    meta.correlation_id = run.to_string();
    meta.causation_id = run.to_string();
    meta
}

async fn sync<S: ObjectSync>(
    pool: &PgPool,
    bus: &CommandBus,
    client: &HubSpotClient,
    settings: &SyncSettings,
    start: fn(&HubSpotClient, &CrmSyncView) -> S,
) -> anyhow::Result<Tick> {
    let object = S::OBJECT;
    let latest = event::latest_aggregate_id_with::<CrmSync>(
        pool,
        "CrmSyncStarted",
        "object",
        object.as_str(),
    )
    .await?;
    let latest = match latest {
        Some(id) => history::state_at::<CrmSync>(pool, &id, i64::MAX).await?.run,
        None => None,
    };
    let run = match latest {
        Some(run) if run.status == SyncRunStatus::Running => {
            tracing::info!(sync.id = %run.id, sync.object = object.as_str(), sync.resume_from = %run.resume_from, "resuming an unfinished hubspot sync");
            run
        }
        previous => {
            let from = previous.map_or(settings.start, |run| run.next_from());
            let to = now();
            if from >= to {
                return Ok(Tick::UpToDate);
            }
            let id = Uuid::now_v7();
            let start = CrmSyncCommand::Start {
                id,
                object,
                from,
                to,
                by: Actor::system(SYNC_ACTOR),
                at: to,
            };
            bus.execute_new::<CrmSync>(id, start, &meta_of(id), |_| Ok(()))
                .await
                .map_err(|e| anyhow::anyhow!("starting sync {id}: {e}"))?
                .state
                .run
                .ok_or_else(|| anyhow::anyhow!("sync {id} has no state after its start"))?
        }
    };
    let span =
        tracing::info_span!("hubspot.sync", sync.id = %run.id, sync.object = object.as_str());
    let records = start(client, &run);
    let done = walk(pool, bus, client, &run, records)
        .instrument(span)
        .await?;
    Ok(Tick::Ran(Box::new(done)))
}

/// One object's sync: the pages of a run's window, and how one record is applied.
trait ObjectSync {
    type Record;
    const OBJECT: SyncObject;

    /// The next page of the run's records, oldest windows first.
    async fn next_page(&mut self) -> Result<Option<WindowPage<Self::Record>>, ConnectorError>;

    /// Applies one record as commands.
    async fn apply(
        &mut self,
        pool: &PgPool,
        bus: &CommandBus,
        meta: &CommandMeta,
        record: &Self::Record,
    ) -> Result<Synced, SyncFailed>;

    /// When the record last changed (what the run's watermark follows).
    fn modified_at(record: &Self::Record) -> Option<DateTime<Utc>>;
}

/// Contacts: the contacts modified in the run's window.
struct ContactSync(Modified<HubSpotContact>);

impl ContactSync {
    fn start(client: &HubSpotClient, run: &CrmSyncView) -> Self {
        ContactSync(client.contacts_modified(run.resume_from, run.to, CONTACT_PROPERTIES))
    }
}

impl ObjectSync for ContactSync {
    type Record = HubSpotContact;
    const OBJECT: SyncObject = SyncObject::Contacts;

    async fn next_page(&mut self) -> Result<Option<WindowPage<HubSpotContact>>, ConnectorError> {
        self.0.next_page().await
    }

    async fn apply(
        &mut self,
        pool: &PgPool,
        bus: &CommandBus,
        meta: &CommandMeta,
        contact: &HubSpotContact,
    ) -> Result<Synced, SyncFailed> {
        sync_contact(pool, bus, meta, contact).await
    }

    fn modified_at(contact: &HubSpotContact) -> Option<DateTime<Utc>> {
        contact.last_modified_at()
    }
}

/// Pipelines: every deal pipeline, read as the run's one window.
struct PipelineSync {
    client: HubSpotClient,
    window: Option<Window>,
}

impl PipelineSync {
    fn start(client: &HubSpotClient, run: &CrmSyncView) -> Self {
        PipelineSync {
            client: client.clone(),
            window: (run.resume_from < run.to).then_some(Window {
                from: run.resume_from,
                to: run.to,
            }),
        }
    }
}

impl ObjectSync for PipelineSync {
    type Record = HubSpotPipeline;
    const OBJECT: SyncObject = SyncObject::Pipelines;

    async fn next_page(&mut self) -> Result<Option<WindowPage<HubSpotPipeline>>, ConnectorError> {
        let Some(window) = self.window else {
            return Ok(None);
        };
        let records = self.client.list_deal_pipelines().await?;
        self.window = None;
        Ok(Some(WindowPage {
            window,
            records,
            window_done: true,
        }))
    }

    async fn apply(
        &mut self,
        pool: &PgPool,
        bus: &CommandBus,
        meta: &CommandMeta,
        pipeline: &HubSpotPipeline,
    ) -> Result<Synced, SyncFailed> {
        deal_sync::apply_pipeline(pool, bus, meta, pipeline).await
    }

    /// The list has no last-modified filter: the watermark is the window's end.
    fn modified_at(_: &HubSpotPipeline) -> Option<DateTime<Utc>> {
        None
    }
}

/// Deals: the deals modified in the run's window, their owners read once per run.
struct DealSync {
    walker: Modified<HubSpotDeal>,
    owners: Owners,
}

impl DealSync {
    fn start(client: &HubSpotClient, run: &CrmSyncView) -> Self {
        DealSync {
            walker: client.deals_modified(run.resume_from, run.to, DEAL_PROPERTIES),
            owners: Owners::new(client),
        }
    }
}

impl ObjectSync for DealSync {
    type Record = HubSpotDeal;
    const OBJECT: SyncObject = SyncObject::Deals;

    async fn next_page(&mut self) -> Result<Option<WindowPage<HubSpotDeal>>, ConnectorError> {
        self.walker.next_page().await
    }

    async fn apply(
        &mut self,
        pool: &PgPool,
        bus: &CommandBus,
        meta: &CommandMeta,
        deal: &HubSpotDeal,
    ) -> Result<Synced, SyncFailed> {
        deal_sync::apply_deal(pool, bus, meta, &mut self.owners, deal).await
    }

    fn modified_at(deal: &HubSpotDeal) -> Option<DateTime<Utc>> {
        deal.last_modified_at()
    }
}

/// HubSpot calls since the last record, from the client's counters. The client is the
/// app's one (shared with the merge reactor, so both respect one rate budget): calls the
/// reactor makes while a run is going count as that run's.
struct Calls {
    client: HubSpotClient,
    calls: u64,
    failures: u64,
}

impl Calls {
    fn new(client: &HubSpotClient) -> Self {
        let stats = client.health().calls;
        Calls {
            client: client.clone(),
            calls: stats.calls,
            failures: stats.failures,
        }
    }

    /// The calls and failed calls since the last `take`.
    fn take(&mut self) -> (u64, u64) {
        let stats = self.client.health().calls;
        let delta = (
            stats.calls.saturating_sub(self.calls),
            stats.failures.saturating_sub(self.failures),
        );
        self.calls = stats.calls;
        self.failures = stats.failures;
        delta
    }
}

async fn walk<S: ObjectSync>(
    pool: &PgPool,
    bus: &CommandBus,
    client: &HubSpotClient,
    run: &CrmSyncView,
    mut records: S,
) -> anyhow::Result<CrmSyncView> {
    let meta = meta_of(run.id);
    let record = |command: CrmSyncCommand| async {
        bus.execute::<CrmSync>(run.id, command, &meta)
            .await
            .map_err(|e| anyhow::anyhow!("recording sync {}: {e}", run.id))?
            .state
            .run
            .ok_or_else(|| anyhow::anyhow!("sync {} has no state", run.id))
    };
    let mut calls = Calls::new(client);
    let mut counts = SyncCounts::default();
    let mut highest: Option<DateTime<Utc>> = None;
    loop {
        let page = match records.next_page().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(error) => {
                tracing::warn!(sync.id = %run.id, error.code = error.code(), error = %error, "hubspot sync failed");
                let (made, failed) = calls.take();
                return record(CrmSyncCommand::Fail(Fail {
                    code: error.code().to_string(),
                    message: error.to_string(),
                    retryable: error.retryable(),
                    calls: made,
                    failed_calls: failed,
                    at: now(),
                }))
                .await;
            }
        };
        for item in &page.records {
            counts.fetched += 1;
            highest = highest.max(S::modified_at(item));
            match records.apply(pool, bus, &meta, item).await {
                Ok(Synced::Created) => counts.created += 1,
                Ok(Synced::Updated) => counts.updated += 1,
                Ok(Synced::Unchanged) => counts.unchanged += 1,
                Ok(Synced::Failed) => counts.failed += 1,
                Err(error) => {
                    tracing::error!(sync.id = %run.id, error.code = error.code, error = %error, "the hubspot sync could not record a record");
                    let (made, failed) = calls.take();
                    return record(CrmSyncCommand::Fail(Fail {
                        code: error.code.to_string(),
                        message: error.message,
                        retryable: error.retryable,
                        calls: made,
                        failed_calls: failed,
                        at: now(),
                    }))
                    .await;
                }
            }
        }
        if page.window_done {
            let (made, failed) = calls.take();
            record(CrmSyncCommand::RecordProgress(RecordProgress {
                window: SyncWindow {
                    from: page.window.from,
                    to: page.window.to,
                },
                counts: std::mem::take(&mut counts),
                highest_modified_at: highest.take(),
                calls: made,
                failed_calls: failed,
                at: now(),
            }))
            .await?;
        }
    }
    let (made, failed) = calls.take();
    let done = record(CrmSyncCommand::Complete(Complete {
        calls: made,
        failed_calls: failed,
        rate_limits: Some(rate_limits_of(&client.health().rate_limits)),
        at: now(),
    }))
    .await?;
    tracing::info!(
        sync.id = %done.id,
        sync.object = done.object.as_str(),
        sync.fetched = done.counts.fetched,
        sync.created = done.counts.created,
        sync.updated = done.counts.updated,
        sync.unchanged = done.counts.unchanged,
        sync.failed = done.counts.failed,
        "hubspot sync completed"
    );
    Ok(done)
}

fn rate_limits_of(snapshot: &RateLimitSnapshot) -> RateLimits {
    let budget = |b: &Budget| RateBudget {
        max: b.max,
        remaining: b.remaining,
    };
    RateLimits {
        secondly: budget(&snapshot.secondly),
        daily: budget(&snapshot.daily),
        interval: budget(&snapshot.interval),
        interval_ms: snapshot.interval_ms,
        observed_at: snapshot.observed_at,
        waits: snapshot.budget_waits + snapshot.search_waits + snapshot.retry_after_waits,
        waited_ms: snapshot.budget_waited_ms
            + snapshot.search_waited_ms
            + snapshot.retry_after_waited_ms,
    }
}

/// A HubSpot contact's values, parsed: the fields it sets on any contact, its email and its
/// phones (merged with a contact's own when it has one).
#[derive(Debug)]
struct Mapped {
    fields: Vec<FieldEdit>,
    email: Option<EmailAddress>,
    phones: Vec<Phone>,
}

/// Parses what HubSpot has; `Err` names the field that does not parse. A website that is
/// not a domain and a lifecycle stage CaseyOS does not know (a custom one) are left out.
fn map_contact(contact: &HubSpotContact) -> Result<Mapped, &'static str> {
    let text = |value: Option<&str>, field: &'static str| {
        Text::parse_optional(value, MAX_NAME_CHARS).map_err(|_| field)
    };
    let mut fields = Vec::new();
    if let Some(v) = text(contact.first_name(), "first_name")? {
        fields.push(FieldEdit::FirstName(Some(v)));
    }
    if let Some(v) = text(contact.last_name(), "last_name")? {
        fields.push(FieldEdit::LastName(Some(v)));
    }
    if let Some(v) = text(contact.job_title(), "job_title")? {
        fields.push(FieldEdit::JobTitle(Some(v)));
    }
    if let Some(v) = text(contact.company_name(), "company_name")? {
        fields.push(FieldEdit::CompanyName(Some(v)));
    }
    if let Some(domain) = contact.website().and_then(|w| CompanyDomain::parse(w).ok()) {
        fields.push(FieldEdit::CompanyDomain(Some(domain)));
    }
    if let Some(stage) = contact.lifecycle_stage().and_then(LifecycleStage::parse) {
        fields.push(FieldEdit::LifecycleStage(Some(stage)));
    }
    if let Some(at) = contact.last_contacted_at() {
        fields.push(FieldEdit::LastContactedAt(Some(at)));
    }
    fields.push(FieldEdit::CrmId(Some(contact.id.clone())));
    let email = contact
        .email()
        .map(EmailAddress::parse)
        .transpose()
        .map_err(|_| "email")?;
    let phones = [contact.phone(), contact.mobile_phone()]
        .into_iter()
        .flatten()
        .map(Phone::read)
        .collect();
    Ok(Mapped {
        fields,
        email,
        phones,
    })
}

/// HubSpot's values over a contact's own: its email first (the others kept), its phones
/// first (the others kept), and the fields it has.
fn edits_over(current: &ContactFields, mapped: Mapped) -> Vec<FieldEdit> {
    let mut edits = mapped.fields;
    if let Some(email) = mapped.email {
        let mut emails = vec![email];
        emails.extend(
            current
                .emails
                .iter()
                .filter_map(|e| EmailAddress::parse(e).ok()),
        );
        edits.push(FieldEdit::Emails(emails));
    }
    if !mapped.phones.is_empty() {
        let mut phones = mapped.phones;
        phones.extend(current.phones.iter().cloned());
        edits.push(FieldEdit::Phones(phones));
    }
    edits
}

/// Finds, creates or edits the contact of one HubSpot record.
async fn sync_contact(
    pool: &PgPool,
    bus: &CommandBus,
    meta: &CommandMeta,
    contact: &HubSpotContact,
) -> Result<Synced, SyncFailed> {
    let mapped = match map_contact(contact) {
        Ok(mapped) => mapped,
        Err(field) => {
            tracing::warn!(hubspot.contact_id = %contact.id.as_str(), field, "a hubspot contact did not map; skipped");
            return Ok(Synced::Failed);
        }
    };
    let found = find_contact(pool, &contact.id, mapped.email.as_ref())
        .await
        .map_err(SyncFailed::store)?;
    let id = match found {
        Some(id) => id,
        None => {
            let id = contact_id_for(&contact.id);
            let mut fields = mapped.fields.clone();
            if let Some(email) = &mapped.email {
                fields.push(FieldEdit::Emails(vec![email.clone()]));
            }
            if !mapped.phones.is_empty() {
                fields.push(FieldEdit::Phones(mapped.phones.clone()));
            }
            let create = ContactCommand::Create(Box::new(CreateContact {
                id,
                fields,
                source: ContactSource::Hubspot,
                import_id: None,
                demo: false,
                by: meta.actor.clone(),
                at: now(),
            }));
            match bus.execute::<Contact>(id, create, meta).await {
                Ok(_) => return Ok(Synced::Created),
                // Created by an earlier run the read model has not caught up with.
                Err(CommandError::Rejected(ContactError::AlreadyExists)) => id,
                Err(CommandError::Rejected(error)) => {
                    tracing::warn!(hubspot.contact_id = %contact.id.as_str(), error.code = error.code(), "a hubspot contact was refused");
                    return Ok(Synced::Failed);
                }
                Err(error) => return Err(SyncFailed::command(error)),
            }
        }
    };
    let current = history::state_at::<Contact>(pool, &id.to_string(), i64::MAX)
        .await
        .map_err(SyncFailed::store)?;
    let Some(view) = current.view() else {
        return Ok(Synced::Failed);
    };
    let edit = ContactCommand::Edit(EditContact {
        fields: edits_over(&view.fields, mapped),
        source: ChangeSource::Hubspot,
        by: meta.actor.clone(),
        at: now(),
    });
    match bus.execute::<Contact>(id, edit, meta).await {
        Ok(committed) if committed.events > 0 => Ok(Synced::Updated),
        Ok(_) => Ok(Synced::Unchanged),
        // Archived or merged here: the sync leaves it as people left it.
        Err(CommandError::Rejected(ContactError::Archived | ContactError::Merged)) => {
            Ok(Synced::Unchanged)
        }
        Err(CommandError::Rejected(error)) => {
            tracing::warn!(hubspot.contact_id = %contact.id.as_str(), error.code = error.code(), "a hubspot change was refused");
            Ok(Synced::Failed)
        }
        Err(error) => Err(SyncFailed::command(error)),
    }
}

/// The contact (not merged away; active ones first) with this CRM id, else one with this
/// email that belongs to no other CRM record — from the `contacts` read model.
async fn find_contact(
    pool: &PgPool,
    crm_id: &CrmId,
    email: Option<&EmailAddress>,
) -> Result<Option<Uuid>, sqlx::Error> {
    let by_crm_id: Option<Uuid> = sqlx::query_scalar(
        "select id from contacts where crm_id = $1 and status <> 'merged' \
         order by status = 'active' desc, created_at, id limit 1",
    )
    .bind(crm_id.as_str())
    .fetch_optional(pool)
    .await?;
    if by_crm_id.is_some() {
        return Ok(by_crm_id);
    }
    let Some(email) = email else {
        return Ok(None);
    };
    sqlx::query_scalar(
        "select id from contacts where emails @> array[$1::text] and status <> 'merged' \
           and (crm_id is null or crm_id = $2) \
         order by status = 'active' desc, created_at, id limit 1",
    )
    .bind(email.as_str())
    .bind(crm_id.as_str())
    .fetch_optional(pool)
    .await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn hubspot(properties: &[(&str, &str)]) -> HubSpotContact {
        HubSpotContact {
            id: CrmId::parse("501").unwrap(),
            properties: properties
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect::<BTreeMap<_, _>>(),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
            archived: false,
        }
    }

    #[test]
    fn hubspot_values_map_to_fields_and_unknown_ones_are_left_out() {
        let mapped = map_contact(&hubspot(&[
            ("firstname", " Ada "),
            ("email", "Ada@Example.com"),
            ("website", "not a website"),
            ("lifecyclestage", "custom_stage_17"),
            ("phone", "+1 415 555 0100"),
        ]))
        .unwrap();
        assert_eq!(
            mapped.fields,
            vec![
                FieldEdit::FirstName(Some(Text::parse("Ada", 10).unwrap())),
                FieldEdit::CrmId(Some(CrmId::parse("501").unwrap())),
            ]
        );
        assert_eq!(mapped.email.unwrap().as_str(), "ada@example.com");
        assert_eq!(mapped.phones.len(), 1);
    }

    #[test]
    fn a_contact_whose_email_does_not_parse_fails_naming_the_field() {
        // (properties, failing field)
        let table: [(&[(&str, &str)], &str); 2] = [
            (&[("email", "not-an-address")], "email"),
            (&[("firstname", "\u{7}bell")], "first_name"),
        ];
        for (properties, field) in table {
            assert_eq!(
                map_contact(&hubspot(properties)).err(),
                Some(field),
                "{properties:?}"
            );
        }
    }

    #[test]
    fn hubspots_email_becomes_primary_and_the_others_stay() {
        let current = ContactFields {
            emails: vec!["old@example.com".into(), "ada@example.com".into()],
            phones: vec![Phone {
                raw: "555".into(),
                e164: None,
            }],
            ..ContactFields::default()
        };
        let mapped = map_contact(&hubspot(&[("email", "ada@example.com")])).unwrap();
        let mut after = current.clone();
        for edit in edits_over(&current, mapped) {
            edit.apply_to(&mut after);
        }
        assert_eq!(after.emails, ["ada@example.com", "old@example.com"]);
        assert_eq!(
            after.phones, current.phones,
            "no HubSpot phone: phones untouched"
        );
        assert_eq!(after.crm_id.as_deref(), Some("501"));
    }

    #[test]
    fn a_crm_id_always_makes_the_same_contact_id() {
        let id = CrmId::parse("501").unwrap();
        assert_eq!(contact_id_for(&id), contact_id_for(&id));
        assert_ne!(
            contact_id_for(&id),
            contact_id_for(&CrmId::parse("502").unwrap())
        );
    }
}
