//! The agent runs read model — `agent_runs` (history, filters, the Agents page's recent
//! runs, the quick-stats numbers, and the work the workers pick up) — its projector and
//! the queries that read it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use caseyos_domain::agent_run::{AgentRun, AgentRunEvent, AgentRunView};
use sqlx::types::Json;
use sqlx::PgConnection;
use uuid::Uuid;

use caseyos_domain::aggregate::Aggregate;
use caseyos_store::StoredEvent;

use crate::projector::{decode_batch, load_docs, Projector, Tables};

mod queries;

pub use queries::*;

const RUNS: &str = "agent_runs";

/// Writes `agent_runs`.
pub struct AgentRunsProjector;

#[async_trait]
impl Projector for AgentRunsProjector {
    fn name(&self) -> &'static str {
        "agent_runs"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[RUNS]
    }

    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> anyhow::Result<()> {
        let decoded = decode_batch::<AgentRun>(events)?;
        if decoded.is_empty() {
            return Ok(());
        }
        let runs = tables.name(RUNS);

        // Runs the batch touches, and the originals of retries it requests.
        let mut ids: Vec<Uuid> = decoded.iter().map(|(id, _)| *id).collect();
        for (_, event) in &decoded {
            if let AgentRunEvent::AgentRunRequested(e) = event {
                ids.extend(e.retry_of);
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let mut states: BTreeMap<Uuid, AgentRun> = BTreeMap::new();
        for view in load_docs::<AgentRunView>(&mut *conn, &runs, &ids).await? {
            states.insert(view.id, AgentRun { run: Some(view) });
        }
        for (id, event) in decoded {
            let retry = match &event {
                AgentRunEvent::AgentRunRequested(e) => e.retry_of,
                _ => None,
            };
            states.entry(id).or_default().apply(event);
            // `retried_by` lives only in the read model, filled from the retries' requests.
            if let Some(original) = retry.and_then(|o| states.get_mut(&o)) {
                if let Some(run) = original.run.as_mut() {
                    if !run.retried_by.contains(&id) {
                        run.retried_by.push(id);
                    }
                }
            }
        }
        for state in states.values() {
            let Some(run) = &state.run else { continue };
            upsert(&mut *conn, &runs, run).await?;
        }
        Ok(())
    }
}

async fn upsert(conn: &mut PgConnection, table: &str, run: &AgentRunView) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "insert into {table} (id, agent, domain, status, trigger, requested_by, requested_at, \
           started_at, finished_at, duration_ms, attempts, error_code, retry_of, dismissed, \
           created_at, updated_at, version, doc) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $7, $15, $16, $17) \
         on conflict (id) do update set status = excluded.status, \
           started_at = excluded.started_at, finished_at = excluded.finished_at, \
           duration_ms = excluded.duration_ms, attempts = excluded.attempts, \
           error_code = excluded.error_code, dismissed = excluded.dismissed, \
           updated_at = excluded.updated_at, version = excluded.version, doc = excluded.doc"
    ))
    .bind(run.id)
    .bind(&run.agent)
    .bind(run.domain.as_str())
    .bind(run.status.as_str())
    .bind(run.trigger.as_str())
    .bind(run.requested_by.to_string())
    .bind(run.requested_at)
    .bind(run.started_at)
    .bind(run.finished_at)
    .bind(run.duration_ms.map(|d| d as i64))
    .bind(run.attempts.len() as i32)
    .bind(run.error.as_ref().map(|e| e.code.clone()))
    .bind(run.retry_of)
    .bind(run.dismissed_at.is_some())
    .bind(run.updated_at)
    .bind(run.version as i64)
    .bind(Json(run))
    .execute(&mut *conn)
    .await?;
    Ok(())
}
