//! What the hygiene agents read and what their effects do.
//!
//! [`ContactModel`] is the [`ContactReader`] runs get: contacts from the `contacts` read
//! model, duplicate pairs folded from their events, and the CRM sync's state. The effects
//! of an outcome are executed by [`execute_effects`] as ordinary commands, as the agent,
//! with the run as their cause; each is idempotent by its aggregate's own rule (the same
//! validation report, the same finding, an open or dismissed alert: no event), so a
//! retried attempt repeats none of them.

use std::sync::Arc;

use async_trait::async_trait;
use caseyos_agents::{
    AgentError, AlertSpec, ContactReader, ContactRecord, ContactSelection, Effect, SyncState,
};
use caseyos_domain::alerts::{
    alert_id, Alert, AlertCommand, RaiseAlert, MAX_ALERT_KEY_CHARS, MAX_ALERT_MESSAGE_CHARS,
    MAX_ALERT_TITLE_CHARS,
};
use caseyos_domain::contacts::{Contact, ContactCommand, ContactView};
use caseyos_domain::duplicates::{pair_id, DuplicatePair, DuplicatePairCommand, DuplicatePairView};
use caseyos_domain::kernel::{Actor, Text};
use caseyos_store::event::read_history;
use caseyos_store::history::state_of;
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};
use serde::Serialize;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

/// Commands of one outcome's effects in flight at once.
const EFFECT_CONCURRENCY: usize = 8;
/// Pair histories read at once.
const PAIR_READS: usize = 8;

/// Reads contacts, duplicate pairs and the sync's state for hygiene runs.
pub struct ContactModel {
    pool: PgPool,
    /// Whether HubSpot is configured (a token): without it the sync is "not connected" and
    /// nothing about it is judged.
    crm_connected: bool,
}

impl ContactModel {
    pub fn new(pool: PgPool, crm_connected: bool) -> ContactModel {
        ContactModel {
            pool,
            crm_connected,
        }
    }
}

#[async_trait]
impl ContactReader for ContactModel {
    async fn contacts(
        &self,
        selection: &ContactSelection,
        ids: Option<&[Uuid]>,
        after: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<ContactRecord>, String> {
        let mut query: QueryBuilder<Postgres> =
            QueryBuilder::new("select doc from contacts where status <> 'merged'");
        match selection {
            ContactSelection::NotMerged => {}
            ContactSelection::Active => {
                query.push(" and status = 'active'");
            }
            ContactSelection::ToValidate { rules_version } => {
                query
                    .push(
                        " and status = 'active' and (doc->'validation' is null \
                         or jsonb_typeof(doc->'validation') = 'null' \
                         or (doc->>'updated_at')::timestamptz \
                            > (doc->'validation'->>'at')::timestamptz \
                         or coalesce((doc->'validation'->'report'->>'rules_version')::int, 0) < ",
                    )
                    .push_bind(*rules_version as i32)
                    .push(")");
            }
            ContactSelection::CreatedSince(at) => {
                query
                    .push(" and status = 'active' and created_at >= ")
                    .push_bind(*at);
            }
        }
        if let Some(ids) = ids {
            query
                .push(" and id = any(")
                .push_bind(ids.to_vec())
                .push(")");
        }
        if let Some(after) = after {
            query.push(" and id > ").push_bind(after);
        }
        query
            .push(" order by id limit ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = query
            .build()
            .fetch_all(&self.pool)
            .await
            .map_err(|e| e.to_string())?;
        rows.iter()
            .map(|row| {
                row.try_get::<Json<ContactView>, _>("doc")
                    .map(|doc| ContactRecord::of(&doc.0))
                    .map_err(|e| e.to_string())
            })
            .collect()
    }

    async fn pairs(&self, ids: &[Uuid]) -> Result<Vec<DuplicatePairView>, String> {
        let pool = &self.pool;
        let pairs: Vec<Option<DuplicatePairView>> = futures::stream::iter(ids.iter().copied())
            .map(|id| async move {
                let events = read_history::<DuplicatePair>(pool, &id.to_string())
                    .await
                    .map_err(|e| e.to_string())?;
                if events.is_empty() {
                    return Ok(None);
                }
                let pair: DuplicatePair = state_of(&events).map_err(|e| e.to_string())?;
                Ok::<_, String>(pair.pair)
            })
            .buffered(PAIR_READS)
            .try_collect()
            .await?;
        Ok(pairs.into_iter().flatten().collect())
    }

    /// The sync's recorded state, from the CRM sync read model.
    async fn sync_state(&self) -> Result<SyncState, String> {
        let health =
            caseyos_projections::crm_sync::sync_health(&self.pool, now(), self.crm_connected)
                .await
                .map_err(|e| format!("{e:#}"))?;
        Ok(SyncState {
            connected: health.connected,
            last_good_sync: health.last_good_sync.map(|run| (run.id, run.at)),
            last_failure: health
                .last_error
                .map(|e| (e.run_id, e.at, format!("{}: {}", e.code, e.message))),
            calls_last_hour: health.calls_last_hour,
            failed_calls_last_hour: health.failed_calls_last_hour,
        })
    }
}

/// What executing an outcome's effects did, per kind: commands that wrote events
/// (`recorded`), that changed nothing (`unchanged`), that the aggregate refused (`refused`,
/// e.g. a contact archived since it was read).
#[derive(Debug, Default, Serialize)]
pub struct EffectsDone {
    pub validations: Tally,
    pub duplicate_pairs: Tally,
    pub alerts_raised: Tally,
    pub alerts_resolved: Tally,
}

#[derive(Debug, Default, Serialize)]
pub struct Tally {
    pub recorded: usize,
    pub unchanged: usize,
    pub refused: usize,
}

impl Tally {
    fn count(&mut self, outcome: Done) {
        match outcome {
            Done::Recorded => self.recorded += 1,
            Done::Unchanged => self.unchanged += 1,
            Done::Refused => self.refused += 1,
        }
    }
}

enum Done {
    Recorded,
    Unchanged,
    Refused,
}

fn done<A, E: std::error::Error>(
    result: Result<caseyos_store::Committed<A>, CommandError<E>>,
) -> Result<Done, AgentError> {
    match result {
        Ok(committed) if committed.events > 0 => Ok(Done::Recorded),
        Ok(_) => Ok(Done::Unchanged),
        Err(CommandError::Rejected(_) | CommandError::Refused(_)) => Ok(Done::Refused),
        Err(other) => Err(AgentError::new(
            "agent.store_error",
            format!("executing its effects failed: {other}"),
            true,
        )),
    }
}

/// Executes `effects` of run `run_id` by `agent`: validations and duplicate pairs
/// `EFFECT_CONCURRENCY` at a time, then the alerts in order.
pub async fn execute_effects(
    pool: &PgPool,
    bus: &Arc<CommandBus>,
    agent: &Actor,
    run_id: Uuid,
    meta: &CommandMeta,
    effects: &[Effect],
) -> Result<EffectsDone, AgentError> {
    let mut tally = EffectsDone::default();
    let records: Vec<BoxFuture<'_, Result<(bool, Done), AgentError>>> = effects
        .iter()
        .filter(|e| {
            matches!(
                e,
                Effect::RecordValidation { .. } | Effect::DetectDuplicate(_)
            )
        })
        .map(|effect| record(bus, agent, run_id, meta, effect).boxed())
        .collect();
    let results: Vec<(bool, Done)> = futures::stream::iter(records)
        .buffer_unordered(EFFECT_CONCURRENCY)
        .try_collect()
        .await?;
    for (validation, outcome) in results {
        if validation {
            tally.validations.count(outcome);
        } else {
            tally.duplicate_pairs.count(outcome);
        }
    }
    for effect in effects {
        match effect {
            Effect::RaiseAlert(spec) => {
                let (id, command) = raise(spec, agent, run_id)?;
                tally
                    .alerts_raised
                    .count(done(bus.execute::<Alert>(id, command, meta).await)?);
            }
            Effect::ResolveAlerts(kind) => {
                let open = caseyos_projections::alerts::open_of_kind(pool, *kind)
                    .await
                    .map_err(|e| {
                        AgentError::new(
                            "agent.read_failed",
                            format!("reading open alerts failed: {e}"),
                            true,
                        )
                    })?;
                for id in open {
                    let command = AlertCommand::Resolve {
                        run_id: Some(run_id),
                        by: agent.clone(),
                        at: now(),
                    };
                    tally
                        .alerts_resolved
                        .count(done(bus.execute::<Alert>(id, command, meta).await)?);
                }
            }
            Effect::RecordValidation { .. } | Effect::DetectDuplicate(_) => {}
        }
    }
    Ok(tally)
}

/// Executes a validation or duplicate pair effect; `true` for a validation.
async fn record(
    bus: &CommandBus,
    agent: &Actor,
    run_id: Uuid,
    meta: &CommandMeta,
    effect: &Effect,
) -> Result<(bool, Done), AgentError> {
    match effect {
        Effect::RecordValidation { contact, report } => {
            let command = ContactCommand::RecordValidation {
                report: report.clone(),
                by: agent.clone(),
                at: now(),
            };
            Ok((
                true,
                done(bus.execute::<Contact>(*contact, command, meta).await)?,
            ))
        }
        Effect::DetectDuplicate(finding) => {
            let command = DuplicatePairCommand::Detect {
                finding: finding.clone(),
                run_id: Some(run_id),
                by: agent.clone(),
                at: now(),
            };
            let id = pair_id(finding.a, finding.b);
            Ok((
                false,
                done(bus.execute::<DuplicatePair>(id, command, meta).await)?,
            ))
        }
        Effect::RaiseAlert(_) | Effect::ResolveAlerts(_) => Ok((false, Done::Unchanged)),
    }
}

/// The id and raise command of an alert an agent asked for (its texts cut to fit, never
/// refused for length).
fn raise(
    spec: &AlertSpec,
    agent: &Actor,
    run_id: Uuid,
) -> Result<(Uuid, AlertCommand), AgentError> {
    let text = |field: &str, raw: &str, max: usize| {
        let cut: String = raw.chars().take(max).collect();
        Text::parse(&cut, max).map_err(|m| {
            AgentError::new(
                "agent.invalid_effect",
                format!("the alert it raised was refused: {field} {m}"),
                false,
            )
        })
    };
    let key = text("key", &spec.key, MAX_ALERT_KEY_CHARS)?;
    let id = alert_id(key.as_str());
    let command = AlertCommand::Raise(Box::new(RaiseAlert {
        key,
        kind: spec.kind,
        severity: spec.severity,
        title: text("title", &spec.title, MAX_ALERT_TITLE_CHARS)?,
        message: text("message", &spec.message, MAX_ALERT_MESSAGE_CHARS)?,
        subjects: spec.subjects.clone(),
        run_id: Some(run_id),
        by: agent.clone(),
        at: now(),
    }));
    Ok((id, command))
}
