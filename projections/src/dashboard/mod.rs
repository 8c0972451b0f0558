//! The dashboard read model: every widget of `GET /api/dashboard`.
//!
//! Now, the widgets read the queue, agent runs, pipelines, deals and CRM sync read models
//! and the log's latest events; as of an instant, the same aggregates folded from the log
//! up to that instant's position. Both feed one [`Inputs`] into the same functions
//! ([`stats`], [`agent_performance`], [`pipeline_health`]), so the two cannot disagree on
//! what a number means.

use std::collections::BTreeMap;

use caseyos_domain::agent_run::{AgentRun, RunStatus};
use caseyos_domain::api::{
    ActivityEntry, AgentActivity, AgentPerformance, AtRiskDeal, ConnectorState, DashboardStats,
    PipelineHealth, StageHealth,
};
use caseyos_domain::crm_sync::{CrmSync, SyncRunStatus};
use caseyos_domain::deals::{risk_flags, DealView, RiskConfig};
use caseyos_domain::forecast::{weighted_minor, BASIS_POINTS};
use caseyos_domain::kernel::{Currency, Money};
use caseyos_domain::pipelines::{PipelineDefinition, PipelineView, StageKind};
use caseyos_domain::queue::{QueueItem, QueueItemView, QueueStatus};
use caseyos_store::log::{latest, position_as_of, Entry};
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgPool, Row};

use crate::forecast::{deals_at, fold_upto};

/// The read models the dashboard reads now.
pub const DASHBOARD_VIEWS: &[&str] = &["queue", "agent_runs", "pipelines", "deals", "crm_sync"];
/// How many moves the top-moves widget shows.
pub const TOP_MOVES: usize = 5;
/// How many events the activity feed shows.
pub const ACTIVITY_EVENTS: i64 = 20;
/// How many at-risk deals a pipeline's widget lists.
pub const AT_RISK_LISTED: usize = 10;
/// The agent-performance window.
pub const AGENT_WINDOW_HOURS: i64 = 24;

/// What the dashboard is computed with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub risk: RiskConfig,
    /// The reporting currency: the only one summed.
    pub currency: Currency,
    /// Whose moves the caller sees (`None`: everyone's).
    pub owner: Option<String>,
    /// Every connector's state now (`GET /api/connectors`'s), in the widget's order.
    pub connectors: Vec<ConnectorState>,
}

/// Everything the widgets are computed from, at one position of the log.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub pending_moves: i64,
    /// Today's Moves in rank order, at least the first [`TOP_MOVES`].
    pub top_moves: Vec<QueueItemView>,
    /// Each agent's runs requested in the window (not yet ranked).
    pub agents: Vec<AgentActivity>,
    pub pipelines: Vec<PipelineView>,
    pub open_deals: Vec<DealView>,
    pub activity: Vec<Entry>,
    pub hubspot_last_good: Option<DateTime<Utc>>,
    pub llm_last_good: Option<DateTime<Utc>>,
}

/// The dashboard's widgets (all but the hygiene card, which the caller adds).
pub struct Widgets {
    pub stats: DashboardStats,
    pub top_moves: Vec<QueueItemView>,
    pub agents: AgentPerformance,
    pub pipelines: Vec<PipelineHealth>,
    pub activity: Vec<ActivityEntry>,
    pub connectors: Vec<ConnectorState>,
}

/// Every widget from `inputs`, at `at`.
pub fn widgets(inputs: Inputs, settings: &Settings, at: DateTime<Utc>) -> Widgets {
    let pipelines = pipeline_health(&inputs.pipelines, &inputs.open_deals, settings, at);
    let agents = agent_performance(inputs.agents, at);
    let stats = stats(inputs.pending_moves, &pipelines, &agents, settings.currency);
    Widgets {
        stats,
        top_moves: inputs.top_moves.into_iter().take(TOP_MOVES).collect(),
        agents,
        pipelines,
        activity: inputs
            .activity
            .into_iter()
            .map(|e| ActivityEntry {
                position: e.position,
                aggregate_type: e.aggregate_type,
                aggregate_id: e.aggregate_id,
                event_type: e.event_type,
                actor: e.actor,
                recorded_at: e.recorded_at,
            })
            .collect(),
        connectors: settings
            .connectors
            .iter()
            .map(|c| {
                // The last good call the log shows (a sync, a run), or the one the
                // connector recorded, whichever is later.
                let from_log = match c.name.as_str() {
                    "hubspot" => inputs.hubspot_last_good,
                    "llm" => inputs.llm_last_good,
                    _ => None,
                };
                ConnectorState {
                    last_good_call: c.last_good_call.max(from_log),
                    ..c.clone()
                }
            })
            .collect(),
    }
}

/// The quick-stats bar, from the other widgets' numbers.
pub fn stats(
    pending_moves: i64,
    pipelines: &[PipelineHealth],
    agents: &AgentPerformance,
    currency: Currency,
) -> DashboardStats {
    let sum = |f: fn(&PipelineHealth) -> i64| Money::total_minor(pipelines.iter().map(f));
    DashboardStats {
        pending_moves,
        open_deals: sum(|p| p.open_deals),
        open_total: Money::new(sum(|p| p.open_total.minor), currency),
        weighted_total: Money::new(sum(|p| p.weighted_total.minor), currency),
        at_risk_deals: sum(|p| p.at_risk_count),
        agent_runs_24h: agents.agents.iter().map(|a| a.runs).sum(),
        agent_failures_24h: agents.agents.iter().map(|a| a.failed).sum(),
    }
}

/// Agents ranked by runs, with the most active, the best success rate and the most failed.
pub fn agent_performance(mut agents: Vec<AgentActivity>, at: DateTime<Utc>) -> AgentPerformance {
    for agent in &mut agents {
        let finished = agent.succeeded + agent.failed;
        agent.success_basis_points =
            (finished > 0).then(|| agent.succeeded * BASIS_POINTS / finished);
    }
    agents.sort_by(|a, b| b.runs.cmp(&a.runs).then_with(|| a.agent.cmp(&b.agent)));
    let most_active = agents.first().map(|a| a.agent.clone());
    let best_success_rate = agents
        .iter()
        .filter_map(|a| a.success_basis_points.map(|bp| (bp, a)))
        .max_by(|(x, a), (y, b)| {
            x.cmp(y)
                .then(a.succeeded.cmp(&b.succeeded))
                .then(b.agent.cmp(&a.agent))
        })
        .map(|(_, a)| a.agent.clone());
    let most_failed = agents
        .iter()
        .filter(|a| a.failed > 0)
        .max_by(|a, b| a.failed.cmp(&b.failed).then(b.agent.cmp(&a.agent)))
        .map(|a| a.agent.clone());
    AgentPerformance {
        since: at - Duration::hours(AGENT_WINDOW_HOURS),
        until: at,
        agents,
        most_active,
        best_success_rate,
        most_failed,
    }
}

/// Each pipeline's open deals by stage (count, total, weighted in the reporting currency)
/// and its at-risk deals, largest first.
pub fn pipeline_health(
    pipelines: &[PipelineView],
    open_deals: &[DealView],
    settings: &Settings,
    at: DateTime<Utc>,
) -> Vec<PipelineHealth> {
    let currency = settings.currency;
    let money = |minor| Money::new(minor, currency);
    pipelines
        .iter()
        .map(|view| {
            let pipeline = &view.pipeline;
            let mut stages: Vec<StageHealth> = pipeline
                .stages()
                .iter()
                .filter(|s| s.kind == StageKind::Open)
                .map(|s| StageHealth {
                    stage: s.id.as_str().to_string(),
                    label: s.label.clone(),
                    probability: s.probability,
                    count: 0,
                    total: money(0),
                    weighted: money(0),
                })
                .collect();
            let mut at_risk = Vec::new();
            let (mut count, mut total, mut weighted) = (0, 0i64, 0i64);
            for deal in open_deals.iter().filter(|d| &d.pipeline == pipeline.id()) {
                let minor = deal
                    .amount
                    .filter(|m| m.currency == currency)
                    .map_or(0, |m| m.minor);
                let part = weighted_minor(minor, deal.probability());
                count += 1;
                total = total.saturating_add(minor);
                weighted = weighted.saturating_add(part);
                if let Some(stage) = stages
                    .iter_mut()
                    .find(|s| s.stage == deal.stage.id.as_str())
                {
                    stage.count += 1;
                    stage.total.minor = stage.total.minor.saturating_add(minor);
                    stage.weighted.minor = stage.weighted.minor.saturating_add(part);
                }
                let flags = risk_flags(deal, at, &settings.risk);
                if !flags.is_empty() {
                    at_risk.push(AtRiskDeal {
                        id: deal.id,
                        name: deal.name.clone(),
                        owner: deal.owner.clone(),
                        amount: deal.amount,
                        risks: flags.iter().map(|f| f.kind).collect(),
                    });
                }
            }
            let at_risk_count = at_risk.len() as i64;
            at_risk.sort_by(|a, b| {
                let minor = |d: &AtRiskDeal| d.amount.map_or(i64::MIN, |m| m.minor);
                minor(b).cmp(&minor(a)).then(a.id.cmp(&b.id))
            });
            at_risk.truncate(AT_RISK_LISTED);
            PipelineHealth {
                pipeline: pipeline.id().as_str().to_string(),
                label: pipeline.label().to_string(),
                stages: std::mem::take(&mut stages),
                open_deals: count,
                open_total: money(total),
                weighted_total: money(weighted),
                at_risk_count,
                at_risk,
            }
        })
        .collect()
}

/// The inputs now, from the read models.
pub async fn inputs_now(
    pool: &PgPool,
    settings: &Settings,
    at: DateTime<Utc>,
) -> anyhow::Result<(Inputs, i64)> {
    let position = crate::runner::checkpoints(pool, DASHBOARD_VIEWS)
        .await?
        .iter()
        .map(|c| c.position)
        .min()
        .unwrap_or(0);
    let today = crate::queue::today(
        pool,
        settings.owner.as_deref(),
        None,
        at,
        None,
        TOP_MOVES as i64,
    )
    .await?;
    let agents = sqlx::query(
        "select agent, count(*) as runs, \
                count(*) filter (where status = 'succeeded') as succeeded, \
                count(*) filter (where status in ('failed', 'timed_out')) as failed \
         from agent_runs where requested_at > $1 and requested_at <= $2 group by agent",
    )
    .bind(at - Duration::hours(AGENT_WINDOW_HOURS))
    .bind(at)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        Ok(AgentActivity {
            agent: row.try_get("agent")?,
            runs: row.try_get("runs")?,
            succeeded: row.try_get("succeeded")?,
            failed: row.try_get("failed")?,
            success_basis_points: None,
        })
    })
    .collect::<anyhow::Result<Vec<_>>>()?;
    let last_good = sqlx::query(
        "select (select max(finished_at) from crm_sync_runs where status = 'completed') as hubspot, \
                (select max(finished_at) from agent_runs \
                  where coalesce((doc -> 'usage' ->> 'calls')::bigint, 0) > 0) as llm",
    )
    .fetch_one(pool)
    .await?;
    Ok((
        Inputs {
            pending_moves: today.total,
            top_moves: today.items,
            agents,
            pipelines: crate::pipelines::all(pool).await?,
            open_deals: crate::deals::open_summaries(pool).await?,
            activity: latest(pool, i64::MAX, ACTIVITY_EVENTS).await?,
            hubspot_last_good: last_good.try_get("hubspot")?,
            llm_last_good: last_good.try_get("llm")?,
        },
        position,
    ))
}

/// The inputs as they stood at `at`: the log folded up to the position of the last event
/// recorded at or before it.
pub async fn inputs_as_of(
    pool: &PgPool,
    settings: &Settings,
    at: DateTime<Utc>,
) -> anyhow::Result<(Inputs, i64)> {
    let position = position_as_of(pool, at).await?;
    let (moves, _) = fold_upto::<QueueItem>(pool, position).await?;
    let mut today: Vec<QueueItemView> = moves
        .into_values()
        .filter_map(|m| m.item)
        .filter(|m| settings.owner.as_deref().is_none_or(|o| o == m.owner))
        .filter(|m| match m.status {
            QueueStatus::Pending => true,
            QueueStatus::Snoozed => m.snoozed_until.is_some_and(|until| until <= at),
            _ => false,
        })
        .collect();
    // Today's Moves' order: APS descending, then due time (none last) and id.
    today.sort_by(|a, b| {
        b.aps
            .score
            .centi()
            .cmp(&a.aps.score.centi())
            .then_with(|| match (a.due_by, b.due_by) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then(a.id.cmp(&b.id))
    });
    let since = at - Duration::hours(AGENT_WINDOW_HOURS);
    let (runs, _) = fold_upto::<AgentRun>(pool, position).await?;
    let mut agents: BTreeMap<String, AgentActivity> = BTreeMap::new();
    let mut llm_last_good = None;
    for run in runs.into_values().filter_map(|r| r.run) {
        if run.usage.calls > 0 {
            llm_last_good = llm_last_good.max(run.finished_at);
        }
        if run.requested_at <= since || run.requested_at > at {
            continue;
        }
        let entry = agents
            .entry(run.agent.clone())
            .or_insert_with(|| AgentActivity {
                agent: run.agent.clone(),
                runs: 0,
                succeeded: 0,
                failed: 0,
                success_basis_points: None,
            });
        entry.runs += 1;
        match run.status {
            RunStatus::Succeeded => entry.succeeded += 1,
            RunStatus::Failed | RunStatus::TimedOut => entry.failed += 1,
            _ => {}
        }
    }
    let (pipelines, _) = fold_upto::<PipelineDefinition>(pool, position).await?;
    let mut pipelines: Vec<PipelineView> =
        pipelines.into_values().filter_map(|p| p.pipeline).collect();
    pipelines.sort_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then_with(|| a.pipeline.id().as_str().cmp(b.pipeline.id().as_str()))
    });
    let (deals, _) = deals_at(pool, position).await?;
    let (syncs, _) = fold_upto::<CrmSync>(pool, position).await?;
    let hubspot_last_good = syncs
        .into_values()
        .filter_map(|s| s.run)
        .filter(|run| run.status == SyncRunStatus::Completed)
        .filter_map(|run| run.finished_at)
        .max();
    Ok((
        Inputs {
            pending_moves: today.len() as i64,
            top_moves: today.into_iter().take(TOP_MOVES).collect(),
            agents: agents.into_values().collect(),
            pipelines,
            open_deals: deals.into_iter().filter(|d| d.status.is_open()).collect(),
            activity: latest(pool, position, ACTIVITY_EVENTS).await?,
            hubspot_last_good,
            llm_last_good,
        },
        position,
    ))
}
