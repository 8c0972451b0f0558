//! The CSV import worker: takes a running import (a lease over the `contact_imports` read
//! model, as agent runs are taken), reads its spooled file piece by piece with the
//! streaming reader, and imports it batch by batch: each batch's rows are matched to
//! contacts (CRM id first, then each email: any contact the contacts read model has with
//! it, else the one an import made with that key's id), new
//! contacts are created in one append ([`CommandBus::execute_new_many`]), matched ones are
//! edited where the row changes something, and the batch's counts, failed rows and resume
//! point are recorded as the import's event. A worker that dies loses its lease; the next
//! one resumes after the last recorded batch. Memory is bounded by a batch and a piece of
//! the file, whatever the file's size.
//!
//! Contacts created by an import get ids derived from their CRM id or email
//! ([`contact_id_for`]), so a batch done again (after a crash before its progress was
//! recorded) or a file imported again finds them instead of creating them twice.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use caseyos_domain::contact_import::{
    read_row, ContactImport, ContactImportCommand, ContactImportError, ContactImportView,
    CsvReader, Header, ImportCounts, ImportRow, ImportRowError, ImportStatus, Record,
    RecordProgress,
};
use caseyos_domain::contacts::{
    diff, ChangeSource, Contact, ContactCommand, ContactError, ContactField, ContactFields,
    ContactSource, CreateContact, EditContact, FieldEdit,
};
use caseyos_domain::kernel::{Actor, Text};
use caseyos_store::history::{state_at, states_of};
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::commands::contact_imports::{discard, SPOOL_PIECE_BYTES};

/// Rows per batch (one progress event, one append of new contacts).
pub const BATCH_ROWS: usize = 1000;

/// How long a worker's lease on an import lasts without renewal (renewed after each batch).
const LEASE_SECS: f64 = 60.0;

/// How often an idle worker looks for imports.
const IDLE_POLL: Duration = Duration::from_secs(1);

/// The namespace of the ids imports give contacts.
const CONTACT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6a0f_52d4_9a3e_4c1b_8e61_5b7c_2d90_c0f1);

/// What identifies a contact across imports: its CRM id, or one of its emails.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ContactKey {
    CrmId(String),
    Email(String),
}

/// The id an import gives the contact it creates for this key (a UUIDv5, the same every
/// time).
pub fn contact_id_for(key: &ContactKey) -> Uuid {
    let name = match key {
        ContactKey::CrmId(id) => format!("crm:{id}"),
        ContactKey::Email(email) => format!("email:{email}"),
    };
    Uuid::new_v5(&CONTACT_ID_NAMESPACE, name.as_bytes())
}

/// A row's keys, in matching order: its CRM id, then its emails.
fn keys_of(row: &ImportRow) -> Vec<ContactKey> {
    row.crm_id
        .iter()
        .map(|id| ContactKey::CrmId(id.as_str().to_string()))
        .chain(
            row.emails
                .iter()
                .map(|e| ContactKey::Email(e.as_str().to_string())),
        )
        .collect()
}

/// The import worker; shared by the server's task and the CLI.
#[derive(Clone)]
pub struct ContactImports {
    pool: PgPool,
    bus: Arc<CommandBus>,
    worker: String,
    batch_rows: usize,
}

/// How a run of an import went.
#[derive(Debug, PartialEq, Eq)]
pub struct RunReport {
    pub end: RunEnd,
    /// The most records of the file held in memory at once (a batch and what one piece of
    /// the file completes): what bounds the run's memory, whatever the file's size.
    pub most_records_held: usize,
}

/// How a run of an import ended.
#[derive(Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// It is completed or failed (now or before).
    Finished,
    /// Another worker took it over; this one stopped.
    LostLease,
    /// The server is shutting down; the next worker resumes it.
    Shutdown,
}

impl ContactImports {
    pub fn new(pool: PgPool, bus: Arc<CommandBus>, instance: &str) -> Self {
        ContactImports {
            pool,
            bus,
            worker: format!("{instance}/{}", &Uuid::new_v4().simple().to_string()[..8]),
            batch_rows: BATCH_ROWS,
        }
    }

    /// The same worker with batches of `rows` rows (tests).
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Starts the worker task, supervised (started again if it panics): it takes running
    /// imports one after the other until `shutdown`.
    pub fn spawn(self, shutdown: CancellationToken) -> JoinHandle<()> {
        let liveness = Arc::new(crate::infra::metrics::Liveness::default());
        liveness.set_configured(1);
        let stop = shutdown.clone();
        super::supervisor::supervise(self.worker.clone(), liveness, shutdown, move || {
            let worker = self.clone();
            let stop = stop.clone();
            async move { worker.work(stop).await }
        })
    }

    async fn work(&self, shutdown: CancellationToken) {
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            match self.claim_next().await {
                Ok(Some(import_id)) => {
                    if let Err(error) = self.run(import_id, &shutdown, |_| {}).await {
                        tracing::error!(contact_import.id = %import_id, error = %error, "contact import worker error");
                        self.release(import_id).await;
                        tokio::time::sleep(IDLE_POLL).await;
                    }
                    continue;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(error = %error, "claiming contact imports failed; retrying");
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }

    /// Takes the oldest running import nobody holds a live lease on.
    pub async fn claim_next(&self) -> anyhow::Result<Option<Uuid>> {
        let mut tx = self.pool.begin().await?;
        let candidate: Option<Uuid> = sqlx::query_scalar(
            "select i.id from contact_imports i \
             where i.status = 'running' \
               and not exists (select 1 from contact_import_leases l \
                               where l.import_id = i.id and l.lease_until > now()) \
             order by i.started_at, i.id \
             limit 1 \
             for update of i skip locked",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(candidate) = candidate else {
            return Ok(None);
        };
        let claimed = self.lease(&mut tx, candidate).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Takes the lease of one import if it is free or expired (the CLI).
    pub async fn claim(&self, import_id: Uuid) -> anyhow::Result<bool> {
        let mut conn = self.pool.acquire().await?;
        Ok(self.lease(&mut conn, import_id).await?.is_some())
    }

    async fn lease(
        &self,
        conn: &mut sqlx::PgConnection,
        import_id: Uuid,
    ) -> sqlx::Result<Option<Uuid>> {
        sqlx::query_scalar(
            "insert into contact_import_leases (import_id, worker, lease_until) \
             values ($1, $2, now() + make_interval(secs => $3)) \
             on conflict (import_id) do update set worker = excluded.worker, \
               lease_until = excluded.lease_until, updated_at = now() \
             where contact_import_leases.lease_until <= now() \
             returning import_id",
        )
        .bind(import_id)
        .bind(&self.worker)
        .bind(LEASE_SECS)
        .fetch_optional(conn)
        .await
    }

    /// Extends this worker's lease; `false` when another worker has taken it.
    async fn renew(&self, import_id: Uuid) -> sqlx::Result<bool> {
        let updated = sqlx::query(
            "update contact_import_leases set lease_until = now() + make_interval(secs => $3), \
               updated_at = now() \
             where import_id = $1 and worker = $2",
        )
        .bind(import_id)
        .bind(&self.worker)
        .bind(LEASE_SECS)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    /// Hands the import over now (the next worker may take it at once).
    async fn release(&self, import_id: Uuid) {
        if let Err(error) =
            sqlx::query("delete from contact_import_leases where import_id = $1 and worker = $2")
                .bind(import_id)
                .bind(&self.worker)
                .execute(&self.pool)
                .await
        {
            tracing::warn!(contact_import.id = %import_id, error = %error, "releasing an import's lease failed; it expires on its own");
        }
    }

    /// Imports the rest of an import this worker holds the lease of, from its last
    /// recorded batch on; `progress` sees the import after each batch.
    pub async fn run(
        &self,
        import_id: Uuid,
        shutdown: &CancellationToken,
        mut progress: impl FnMut(&ContactImportView),
    ) -> anyhow::Result<RunReport> {
        let state: ContactImport = state_at(&self.pool, &import_id.to_string(), i64::MAX).await?;
        let Some(import) = state.import else {
            self.release(import_id).await;
            anyhow::bail!("no import {import_id}");
        };
        let meta = CommandMeta {
            actor: import.started_by.clone(),
            request_id: Uuid::now_v7().to_string(),
            correlation_id: import_id.to_string(),
            causation_id: import_id.to_string(),
            idempotency_key: None,
            request_hash: None,
        };
        let mut held = 0;
        let report = |end: RunEnd, held: usize| RunReport {
            end,
            most_records_held: held,
        };
        if import.status != ImportStatus::Running {
            return Ok(report(self.finish(import_id).await?, held));
        }
        let mut file = SpooledFile::new(self.pool.clone(), import_id);
        let mut records: VecDeque<Record> = VecDeque::new();

        // The header is read from the start of the file every time.
        let mut reader = CsvReader::new();
        let mut ended = false;
        while records.is_empty() && !ended {
            ended = file.feed(&mut reader, &mut records).await?;
        }
        let header = match records.pop_front() {
            None => Err("the file is empty (no header line)".to_string()),
            Some(record) => match record.fields {
                Err(bad) => Err(format!("line {}: the header: {bad}", record.line)),
                Ok(cells) => Header::read(&cells).map_err(|e| e.to_string()),
            },
        };
        let header = match header {
            Ok(header) => header,
            Err(error) => {
                let command = ContactImportCommand::Fail {
                    error: Text::parse(&error, 2000).unwrap_or_else(|_| {
                        Text::parse("the header cannot be read", 100).expect("a valid text")
                    }),
                    at: now(),
                };
                self.bus
                    .execute::<ContactImport>(import_id, command, &meta)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
                return Ok(report(self.finish(import_id).await?, held));
            }
        };
        let mut from = import.resume;
        if from.offset > 0 {
            reader = CsvReader::resume_at(from);
            records.clear();
            file.seek(from.offset);
            ended = false;
        }
        let mut view = import;
        loop {
            if shutdown.is_cancelled() {
                self.release(import_id).await;
                return Ok(report(RunEnd::Shutdown, held));
            }
            while records.len() < self.batch_rows && !ended {
                ended = file.feed(&mut reader, &mut records).await?;
                held = held.max(records.len());
            }
            if records.is_empty() {
                break;
            }
            let take = records.len().min(self.batch_rows);
            let batch: Vec<Record> = records.drain(..take).collect();
            let resume = batch.last().map(|r| r.resume).unwrap_or(from);
            let (counts, errors) = self
                .import_batch(import_id, &header, batch, &view.started_by, &meta)
                .await?;
            let command = ContactImportCommand::RecordProgress(RecordProgress {
                from,
                resume,
                counts,
                errors,
                at: now(),
            });
            match self
                .bus
                .execute::<ContactImport>(import_id, command, &meta)
                .await
            {
                Ok(committed) => {
                    if let Some(import) = committed.state.import {
                        view = import;
                    }
                }
                Err(CommandError::Rejected(
                    ContactImportError::OutOfOrder | ContactImportError::Finished,
                )) => {
                    // Another worker recorded this batch or finished the import.
                    return Ok(report(RunEnd::LostLease, held));
                }
                Err(error) => return Err(anyhow::anyhow!("{}: {error}", error.code())),
            }
            from = resume;
            progress(&view);
            if !self.renew(import_id).await? {
                return Ok(report(RunEnd::LostLease, held));
            }
        }
        let committed = self
            .bus
            .execute::<ContactImport>(
                import_id,
                ContactImportCommand::Complete { at: now() },
                &meta,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
        if let Some(import) = committed.state.import {
            progress(&import);
        }
        Ok(report(self.finish(import_id).await?, held))
    }

    /// A finished import's file is deleted (it holds personal data) and its lease ended.
    async fn finish(&self, import_id: Uuid) -> anyhow::Result<RunEnd> {
        discard(&self.pool, import_id).await?;
        self.release(import_id).await;
        Ok(RunEnd::Finished)
    }

    /// Imports one batch of records; its counts and failed rows.
    async fn import_batch(
        &self,
        import_id: Uuid,
        header: &Header,
        batch: Vec<Record>,
        by: &Actor,
        meta: &CommandMeta,
    ) -> anyhow::Result<(ImportCounts, Vec<ImportRowError>)> {
        let mut outcome = Outcome {
            counts: ImportCounts {
                rows: batch.len() as u64,
                ..ImportCounts::default()
            },
            errors: Vec::new(),
        };
        let mut rows = Vec::with_capacity(batch.len());
        for record in batch {
            match record.fields {
                Err(bad) => outcome.fail(record.line, bad.to_string()),
                Ok(cells) => match read_row(header, record.line, &cells) {
                    Ok(row) => rows.push(row),
                    Err(error) => outcome.fail(error.line, error.message()),
                },
            }
        }
        // Rows that share a key with an earlier row of the batch wait for a later pass, so
        // they meet the contact the earlier one created or changed.
        let mut pending = rows;
        while !pending.is_empty() {
            let mut pass = Vec::with_capacity(pending.len());
            let mut later = Vec::new();
            let mut seen: HashSet<ContactKey> = HashSet::new();
            for row in pending {
                let keys = keys_of(&row);
                if keys.iter().any(|k| seen.contains(k)) {
                    later.push(row);
                } else {
                    seen.extend(keys);
                    pass.push(row);
                }
            }
            self.import_pass(import_id, pass, by, meta, &mut outcome)
                .await?;
            pending = later;
        }
        outcome.errors.sort_by_key(|e| e.line);
        Ok((outcome.counts, outcome.errors))
    }

    /// Imports rows that share no key: matches them, creates the new ones in one append,
    /// edits the matched ones that change.
    async fn import_pass(
        &self,
        import_id: Uuid,
        rows: Vec<ImportRow>,
        by: &Actor,
        meta: &CommandMeta,
        outcome: &mut Outcome,
    ) -> anyhow::Result<()> {
        // Each key's contact: the read model's (any contact, however it was made; the
        // first by status and age), else the one an import made with the key's own id.
        let mut crm_ids = Vec::new();
        let mut emails = Vec::new();
        for key in rows.iter().flat_map(keys_of) {
            match key {
                ContactKey::CrmId(id) => crm_ids.push(id),
                ContactKey::Email(email) => emails.push(email),
            }
        }
        let mut known: HashMap<ContactKey, Uuid> = HashMap::new();
        for (id, crm_id, addresses) in
            caseyos_projections::contacts::find_by_keys(&self.pool, &crm_ids, &emails).await?
        {
            let keys = crm_id
                .map(ContactKey::CrmId)
                .into_iter()
                .chain(addresses.into_iter().map(ContactKey::Email));
            for key in keys {
                known.entry(key).or_insert(id);
            }
        }
        let candidates = |key: &ContactKey| {
            known
                .get(key)
                .copied()
                .into_iter()
                .chain(std::iter::once(contact_id_for(key)))
        };
        let ids: Vec<String> = rows
            .iter()
            .flat_map(keys_of)
            .flat_map(|k| candidates(&k).collect::<Vec<_>>())
            .map(|id| id.to_string())
            .collect();
        let existing: HashMap<String, Contact> = states_of::<Contact>(&self.pool, &ids).await?;
        let at = now();
        let mut creates: Vec<(Uuid, ContactCommand)> = Vec::new();
        let mut create_lines: Vec<u64> = Vec::new();
        for row in rows {
            let keys = keys_of(&row);
            let matched = keys.iter().flat_map(&candidates).find_map(|id| {
                existing
                    .get(&id.to_string())
                    .and_then(|c| c.contact.as_ref())
                    .map(|c| (id, c.fields.clone()))
            });
            match matched {
                None => {
                    let Some(key) = keys.first() else { continue };
                    let id = contact_id_for(key);
                    create_lines.push(row.line);
                    creates.push((
                        id,
                        ContactCommand::Create(Box::new(CreateContact {
                            id,
                            fields: row.fields,
                            source: ContactSource::Import,
                            import_id: Some(import_id),
                            demo: false,
                            by: by.clone(),
                            at,
                        })),
                    ));
                }
                Some((id, before)) => {
                    let line = row.line;
                    let edits = changed_edits(&before, row.fields);
                    if edits.is_empty() {
                        outcome.counts.skipped += 1;
                        continue;
                    }
                    let command = ContactCommand::Edit(EditContact {
                        fields: edits,
                        source: ChangeSource::Import,
                        by: by.clone(),
                        at,
                    });
                    match self.bus.execute::<Contact>(id, command, meta).await {
                        Ok(committed) if committed.events > 0 => outcome.counts.updated += 1,
                        Ok(_) => outcome.counts.skipped += 1,
                        Err(CommandError::Rejected(error)) => outcome.fail(line, rejection(&error)),
                        Err(error) => return Err(anyhow::anyhow!("{}: {error}", error.code())),
                    }
                }
            }
        }
        if creates.is_empty() {
            return Ok(());
        }
        let answers = self.bus.execute_new_many::<Contact>(creates, meta).await?;
        for (line, answer) in create_lines.into_iter().zip(answers) {
            match answer {
                Ok(committed) if committed.events > 0 => outcome.counts.created += 1,
                Ok(_) => outcome.counts.skipped += 1,
                // Created since the match (a batch done again after a crash): nothing new.
                Err(CommandError::Rejected(ContactError::AlreadyExists)) => {
                    outcome.counts.skipped += 1
                }
                Err(CommandError::Rejected(error)) => outcome.fail(line, rejection(&error)),
                Err(error) => return Err(anyhow::anyhow!("{}: {error}", error.code())),
            }
        }
        Ok(())
    }
}

/// A batch's counts and failed rows so far.
struct Outcome {
    counts: ImportCounts,
    errors: Vec<ImportRowError>,
}

impl Outcome {
    fn fail(&mut self, line: u64, message: String) {
        self.counts.failed += 1;
        self.errors.push(ImportRowError { line, message });
    }
}

/// A contact's refusal as a row's error message.
fn rejection(error: &ContactError) -> String {
    match error {
        ContactError::Invalid { field, message } => format!("{field}: {message}"),
        other => other.to_string(),
    }
}

/// Of a row's values for a matched contact, the edits that change it. Emails and phones
/// are added to the contact's, the row's first becoming the primary, unless the contact
/// has every one of them already; other fields take the row's value. Fields the row leaves
/// empty are not edits at all.
fn changed_edits(before: &ContactFields, edits: Vec<FieldEdit>) -> Vec<FieldEdit> {
    let mut changed = Vec::new();
    for edit in edits {
        let edit = match edit {
            FieldEdit::Emails(emails) => {
                if emails
                    .iter()
                    .all(|e| before.emails.iter().any(|b| b == e.as_str()))
                {
                    continue;
                }
                let mut merged = emails;
                for old in &before.emails {
                    if !merged.iter().any(|e| e.as_str() == old) {
                        match caseyos_domain::kernel::EmailAddress::parse(old) {
                            Ok(email) => merged.push(email),
                            Err(_) => continue,
                        }
                    }
                }
                FieldEdit::Emails(merged)
            }
            FieldEdit::Phones(phones) => {
                let same = |a: &caseyos_domain::contacts::Phone,
                            b: &caseyos_domain::contacts::Phone| match (
                    &a.e164, &b.e164,
                ) {
                    (Some(x), Some(y)) => x == y,
                    _ => a.raw == b.raw,
                };
                if phones
                    .iter()
                    .all(|p| before.phones.iter().any(|b| same(p, b)))
                {
                    continue;
                }
                let mut merged = phones;
                for old in &before.phones {
                    if !merged.iter().any(|p| same(p, old)) {
                        merged.push(old.clone());
                    }
                }
                FieldEdit::Phones(merged)
            }
            other => other,
        };
        let field: ContactField = edit.field();
        let mut after = before.clone();
        edit.clone().apply_to(&mut after);
        if diff(before, &after).iter().any(|c| c.field == field) {
            changed.push(edit);
        }
    }
    changed
}

/// An import's spooled file, read piece by piece.
struct SpooledFile {
    pool: PgPool,
    import_id: Uuid,
    seq: i32,
    /// Bytes of the next piece already read (a resume inside it).
    skip: usize,
}

impl SpooledFile {
    fn new(pool: PgPool, import_id: Uuid) -> Self {
        SpooledFile {
            pool,
            import_id,
            seq: 0,
            skip: 0,
        }
    }

    /// Reads on from byte `offset` (every piece but the last is full).
    fn seek(&mut self, offset: u64) {
        self.seq = (offset / SPOOL_PIECE_BYTES as u64) as i32;
        self.skip = (offset % SPOOL_PIECE_BYTES as u64) as usize;
    }

    /// Feeds the next piece to `reader` (or ends the file); `true` at the end of the file.
    async fn feed(
        &mut self,
        reader: &mut CsvReader,
        records: &mut VecDeque<Record>,
    ) -> anyhow::Result<bool> {
        let data: Option<Vec<u8>> = sqlx::query_scalar(
            "select data from contact_import_chunks where import_id = $1 and seq = $2",
        )
        .bind(self.import_id)
        .bind(self.seq)
        .fetch_optional(&self.pool)
        .await?;
        match data {
            Some(data) => {
                let skip = std::mem::take(&mut self.skip).min(data.len());
                reader.feed(&data[skip..], |r| records.push_back(r));
                self.seq += 1;
                Ok(false)
            }
            None => {
                reader.finish(|r| records.push_back(r));
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseyos_domain::contacts::Phone;
    use caseyos_domain::kernel::EmailAddress;

    fn fields(emails: &[&str], phones: &[&str], title: Option<&str>) -> ContactFields {
        ContactFields {
            emails: emails.iter().map(|e| e.to_string()).collect(),
            phones: phones
                .iter()
                .map(|p| Phone {
                    raw: p.to_string(),
                    e164: Some(p.to_string()),
                })
                .collect(),
            job_title: title.map(str::to_string),
            ..ContactFields::default()
        }
    }

    fn email(raw: &str) -> EmailAddress {
        EmailAddress::parse(raw).unwrap()
    }

    #[test]
    fn only_the_fields_a_row_changes_become_edits() {
        let before = fields(&["a@x.io", "b@x.io"], &["+14155550100"], Some("CTO"));
        let title = |t: &str| FieldEdit::JobTitle(Some(Text::parse(t, 100).unwrap()));
        let table: Vec<(&str, Vec<FieldEdit>, Vec<FieldEdit>)> = vec![
            ("same title", vec![title("CTO")], vec![]),
            ("new title", vec![title("CEO")], vec![title("CEO")]),
            (
                "an email the contact has",
                vec![FieldEdit::Emails(vec![email("b@x.io")])],
                vec![],
            ),
            (
                "a new email becomes the primary, the others stay",
                vec![FieldEdit::Emails(vec![email("c@x.io")])],
                vec![FieldEdit::Emails(vec![
                    email("c@x.io"),
                    email("a@x.io"),
                    email("b@x.io"),
                ])],
            ),
            (
                "a phone the contact has",
                vec![FieldEdit::Phones(vec![Phone {
                    raw: "+1 415 555 0100".into(),
                    e164: Some("+14155550100".into()),
                }])],
                vec![],
            ),
        ];
        for (name, edits, expected) in table {
            assert_eq!(changed_edits(&before, edits), expected, "{name}");
        }
    }

    #[test]
    fn contact_ids_are_the_same_for_the_same_key_and_differ_between_keys() {
        let crm = contact_id_for(&ContactKey::CrmId("123".into()));
        assert_eq!(crm, contact_id_for(&ContactKey::CrmId("123".into())));
        assert_ne!(crm, contact_id_for(&ContactKey::Email("123".into())));
        assert_ne!(crm, contact_id_for(&ContactKey::CrmId("124".into())));
    }
}
