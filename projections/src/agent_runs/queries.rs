//! Queries over `agent_runs`: one run, filtered pages, each agent's recent runs, the
//! quick-stats numbers.

use std::collections::HashMap;

use caseyos_domain::agent_run::{AgentRunView, RunStatus, RunTrigger};
use caseyos_domain::api::{AgentRunStatsResponse, AgentRunSummary};
use caseyos_domain::kernel::Actor;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::cursor;

/// A run as lists show it.
pub fn summary(run: &AgentRunView) -> AgentRunSummary {
    AgentRunSummary {
        id: run.id,
        agent: run.agent.clone(),
        domain: run.domain,
        status: run.status,
        trigger: run.trigger,
        requested_by: run.requested_by.clone(),
        requested_at: run.requested_at,
        started_at: run.started_at,
        finished_at: run.finished_at,
        duration_ms: run.duration_ms,
        attempts: run.attempts.len() as u32,
        error: run.error.clone(),
        retry_of: run.retry_of,
        dismissed: run.dismissed_at.is_some(),
    }
}

// ---------------------------------------------------------------------------------------
// Queries

pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<AgentRunView>> {
    let row = sqlx::query("select doc from agent_runs where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get::<Json<AgentRunView>, _>("doc")?.0),
        None => None,
    })
}

/// Which runs a list shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunFilter {
    pub agent: Option<String>,
    pub statuses: Vec<RunStatus>,
    pub triggers: Vec<RunTrigger>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub dismissed: Option<bool>,
    pub retry_of: Option<Uuid>,
    /// Only runs this actor requested (an operator's own).
    pub requested_by: Option<Actor>,
}

/// Where the next page starts: the last row's `(requested_at, id)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

impl RunCursor {
    pub fn encode(&self) -> String {
        cursor::encode(self)
    }

    pub fn decode(raw: &str) -> Option<RunCursor> {
        let decoded: RunCursor = cursor::decode(raw)?;
        cursor::instant(decoded.at)?;
        Some(decoded)
    }
}

/// A page of runs, newest first, and the cursor of the next page.
pub async fn list(
    pool: &PgPool,
    filter: &RunFilter,
    limit: i64,
    cursor: Option<&RunCursor>,
) -> anyhow::Result<(Vec<AgentRunSummary>, Option<RunCursor>)> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("select doc from agent_runs where true");
    if let Some(agent) = &filter.agent {
        qb.push(" and agent = ").push_bind(agent.clone());
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        qb.push(" and status = any(").push_bind(statuses).push(")");
    }
    if !filter.triggers.is_empty() {
        let triggers: Vec<&str> = filter.triggers.iter().map(|t| t.as_str()).collect();
        qb.push(" and trigger = any(").push_bind(triggers).push(")");
    }
    if let Some(from) = filter.from {
        qb.push(" and requested_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        qb.push(" and requested_at < ").push_bind(to);
    }
    if let Some(dismissed) = filter.dismissed {
        qb.push(" and dismissed = ").push_bind(dismissed);
    }
    if let Some(original) = filter.retry_of {
        qb.push(" and retry_of = ").push_bind(original);
    }
    if let Some(requester) = &filter.requested_by {
        qb.push(" and requested_by = ")
            .push_bind(requester.to_string());
    }
    if let Some(cursor) = cursor {
        qb.push(" and (requested_at, id) < (")
            .push_bind(cursor.at)
            .push(", ")
            .push_bind(cursor.id)
            .push(")");
    }
    qb.push(" order by requested_at desc, id desc limit ")
        .push_bind(limit + 1);
    let rows = qb.build().fetch_all(pool).await?;
    let mut runs = Vec::with_capacity(rows.len());
    for row in rows {
        let Json(view): Json<AgentRunView> = row.try_get("doc")?;
        runs.push(view);
    }
    let next = if runs.len() as i64 > limit {
        runs.truncate(limit as usize);
        runs.last().map(|r| RunCursor {
            at: r.requested_at,
            id: r.id,
        })
    } else {
        None
    };
    Ok((runs.iter().map(summary).collect(), next))
}

/// The last `per_agent` runs of each agent in `agents`, newest first (of those
/// `requested_by` asked for, when given). One index range scan per agent
/// (`agent_runs_agent_requested_idx`, or `agent_runs_requester_agent_idx` for one
/// requester), however many runs there are.
pub async fn recent_by_agent(
    pool: &PgPool,
    agents: &[&str],
    per_agent: i64,
    requested_by: Option<&Actor>,
) -> anyhow::Result<HashMap<String, Vec<AgentRunSummary>>> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new("select r.doc from unnest(");
    qb.push_bind(agents.iter().map(|a| a.to_string()).collect::<Vec<_>>())
        .push(
            "::text[]) as a(name) cross join lateral \
             (select doc, requested_at, id from agent_runs where agent = a.name",
        );
    // Two statements rather than `$n is null or ...`, so each plans with its own index.
    if let Some(requester) = requested_by {
        qb.push(" and requested_by = ")
            .push_bind(requester.to_string());
    }
    // The limit is written into the statement, not bound: a prepared statement's generic
    // plan would otherwise guess it, and may then prefer scanning every agent's runs by
    // time (agent_runs_requested_idx) and filtering.
    qb.push(format_args!(
        " order by requested_at desc, id desc limit {}) r \
         order by a.name, r.requested_at desc, r.id desc",
        per_agent.max(0)
    ));
    let rows = qb.build().fetch_all(pool).await?;
    let mut by_agent: HashMap<String, Vec<AgentRunSummary>> = HashMap::new();
    for row in rows {
        let Json(view): Json<AgentRunView> = row.try_get("doc")?;
        by_agent
            .entry(view.agent.clone())
            .or_default()
            .push(summary(&view));
    }
    Ok(by_agent)
}

/// The quick-stats numbers: over every run, or over the runs `requested_by` asked for.
/// `running` counts runs a worker holds (running or being cancelled); `queued` those
/// waiting for one.
pub async fn stats(
    pool: &PgPool,
    now: DateTime<Utc>,
    requested_by: Option<&Actor>,
) -> anyhow::Result<AgentRunStatsResponse> {
    let scope = if requested_by.is_some() {
        "and requested_by = $2"
    } else {
        ""
    };
    let sql = format!(
        "select \
           count(*) filter (where status in ('failed', 'timed_out') and not dismissed) as failed, \
           count(*) filter (where status = 'queued') as queued, \
           count(*) filter (where status in ('running', 'cancelling')) as running, \
           count(*) filter (where status = 'succeeded' and finished_at >= $1) as succeeded_24h, \
           count(*) filter (where status in ('failed', 'timed_out') and finished_at >= $1) \
             as failed_24h \
         from agent_runs \
         where (status in ('queued', 'running', 'cancelling') \
            or (status in ('failed', 'timed_out') and not dismissed) \
            or finished_at >= $1) {scope}"
    );
    let mut query = sqlx::query(&sql).bind(now - chrono::Duration::hours(24));
    if let Some(requester) = requested_by {
        query = query.bind(requester.to_string());
    }
    let row = query.fetch_one(pool).await?;
    Ok(AgentRunStatsResponse {
        failed: row.try_get("failed")?,
        queued: row.try_get("queued")?,
        running: row.try_get("running")?,
        succeeded_24h: row.try_get("succeeded_24h")?,
        failed_24h: row.try_get("failed_24h")?,
    })
}
