//! Workers that execute agent runs (DESIGN.md §4).
//!
//! A worker claims a run with a lease (`FOR UPDATE SKIP LOCKED` over the runs read model,
//! then an upsert into `agent_run_leases` that only takes a free or expired lease), records
//! `started` before the agent does anything, renews the lease while the agent works, and
//! records how it ended: succeeded (after proposing its moves through the normal queue
//! command, with the run as their cause), failed, timed out or cancelled. A worker that
//! dies stops renewing; the next worker to claim the run abandons that attempt and starts
//! another, or ends the run, so no run is left running. The run aggregate refuses a second
//! start of an attempt, so two workers never execute one attempt.
//!
//! A worker renews its lease every `agent_lease_secs / 6`. When no renewal has succeeded
//! for `agent_lease_secs / 2` (renewals failing or not answering), it stops the attempt —
//! drops the agent's future — and records nothing for it: it can no longer be sure the run
//! is still its own, and it stops half a lease before any other worker may claim the run,
//! so two attempts of one run never overlap. Two failed renewals in a row are tolerated.
//!
//! An agent that panics fails its run with `agent.panicked` (retryable); the worker goes
//! on. Each worker task is supervised ([`super::supervisor`]): one that ends unexpectedly
//! is started again, and `/ready` and `/metrics` report how many are live.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caseyos_agents::{
    AgentSpec, Agents, Ctx, LlmClient, Outcome, QueueReader, VoiceProfile, Writer,
};
use caseyos_domain::agent_run::{AgentRun, AgentRunCommand, AgentRunError, AgentRunView, RunError};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::LiveEvent;
use caseyos_domain::kernel::{Actor, ActorKind, Text, UserName};
use caseyos_domain::queue::{
    ProposeQueueItem, QueueError, QueueItem, QueueItemCommand, QueueItemView, Source,
    MAX_TEXT_CHARS, MAX_TITLE_CHARS,
};
use caseyos_domain::research::ResearchDepth;
use caseyos_store::event::read_history;
use caseyos_store::history::state_of;
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use futures::FutureExt;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::Config;
use crate::connectors::web_search::{Tavily, WebSearch};
use crate::infra::metrics::Liveness;
use crate::workers::deals::DealModel;
use crate::workers::hygiene::{execute_effects, ContactModel};
use crate::workers::research::ResearchModel;
use crate::workers::supervisor::{panic_message, supervise};
use crate::workers::voice::VoiceModel;

/// How often an idle worker looks for work when no event wakes it.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// How often a running attempt checks for a cancel request.
const CANCEL_POLL: Duration = Duration::from_millis(250);
/// How long a finished run's lease is kept, so the read model can catch up before anyone
/// claims the run again.
const FINISHED_LEASE_SECS: f64 = 10.0;

/// What a worker needs; shared by the pool's tasks and the CLI.
#[derive(Clone)]
pub struct Workers {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    bus: Arc<CommandBus>,
    config: Arc<Config>,
    writer: Writer,
    agents: Agents,
    instance: String,
}

/// Reads the queue read model for agents (the agenda).
struct QueueModel(PgPool);

#[async_trait]
impl QueueReader for QueueModel {
    async fn open_moves(&self, owner: &str, limit: i64) -> Result<Vec<QueueItemView>, String> {
        caseyos_projections::queue::today(&self.0, Some(owner), None, now(), None, limit)
            .await
            .map(|page| page.items)
            .map_err(|e| e.to_string())
    }
}

/// How an attempt ended.
enum Ended {
    Done(Result<Outcome, caseyos_agents::AgentError>),
    TimedOut,
    Cancelled,
    LostLease,
    Shutdown,
}

impl Workers {
    pub fn new(
        pool: PgPool,
        bus: Arc<CommandBus>,
        config: Arc<Config>,
        agents: Agents,
        instance: &str,
    ) -> anyhow::Result<Workers> {
        let writer = match config.llm() {
            Some(llm) => Writer::Llm(Box::new(
                LlmClient::new(llm).map_err(|e| anyhow::anyhow!("language model client: {e}"))?,
            )),
            None => Writer::Offline,
        };
        Ok(Workers {
            inner: Arc::new(Inner {
                pool,
                bus,
                config,
                writer,
                agents,
                instance: format!("{instance}/{}", &Uuid::new_v4().simple().to_string()[..8]),
            }),
        })
    }

    /// Starts `agent_workers` supervised worker tasks, woken by read-model changes and a
    /// short poll; `liveness` counts the live ones.
    pub fn spawn(
        &self,
        live: &broadcast::Sender<LiveEvent>,
        shutdown: CancellationToken,
        liveness: Arc<Liveness>,
    ) -> Vec<JoinHandle<()>> {
        liveness.set_configured(self.inner.config.agent_workers);
        (0..self.inner.config.agent_workers)
            .map(|n| {
                let workers = self.clone();
                let live = live.clone();
                let stop = shutdown.clone();
                supervise(
                    format!("{}#{n}", self.inner.instance),
                    liveness.clone(),
                    shutdown.clone(),
                    move || {
                        let workers = workers.clone();
                        let wake = live.subscribe();
                        let stop = stop.clone();
                        async move { workers.work(n, wake, stop).await }
                    },
                )
            })
            .collect()
    }

    async fn work(
        &self,
        n: usize,
        mut wake: broadcast::Receiver<LiveEvent>,
        shutdown: CancellationToken,
    ) {
        let worker = format!("{}#{n}", self.inner.instance);
        let mut last_sweep = std::time::Instant::now();
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            match self.claim_next(&worker).await {
                Ok(Some(run_id)) => {
                    if let Err(error) = self.execute(&worker, run_id, &shutdown).await {
                        tracing::error!(agent_run.id = %run_id, error = %error, "agent run worker error");
                        tokio::time::sleep(IDLE_POLL).await;
                    }
                    continue;
                }
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(error = %error, "claiming agent runs failed; retrying");
                }
            }
            if n == 0 && last_sweep.elapsed() > Duration::from_secs(60) {
                last_sweep = std::time::Instant::now();
                self.sweep_leases(&worker).await;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = wait_for_runs(&mut wake) => {}
            }
        }
    }

    /// Deletes leases that ended long ago (a failure is logged; the next sweep retries).
    async fn sweep_leases(&self, worker: &str) {
        if let Err(error) = sqlx::query(
            "delete from agent_run_leases where lease_until < now() - interval '10 minutes'",
        )
        .execute(&self.inner.pool)
        .await
        {
            tracing::warn!(
                worker = %worker,
                error = %error,
                "sweeping old agent-run leases failed; the next sweep retries"
            );
        }
    }

    fn lease_secs(&self) -> f64 {
        self.inner.config.agent_lease_secs as f64
    }

    /// How long a running attempt goes on without a successful renewal: half a lease.
    fn renewal_grace(&self) -> Duration {
        Duration::from_secs_f64(self.lease_secs() / 2.0)
    }

    /// Takes the oldest run that is queued, or whose worker's lease expired.
    async fn claim_next(&self, worker: &str) -> anyhow::Result<Option<Uuid>> {
        let mut tx = self.inner.pool.begin().await?;
        let candidate: Option<Uuid> = sqlx::query_scalar(
            "select r.id from agent_runs r \
             where r.status in ('queued', 'running', 'cancelling') \
               and not exists (select 1 from agent_run_leases l \
                               where l.run_id = r.id and l.lease_until > now()) \
             order by r.requested_at, r.id \
             limit 1 \
             for update of r skip locked",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(candidate) = candidate else {
            return Ok(None);
        };
        let claimed = self.lease(&mut tx, candidate, worker).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Takes the lease of one run if it is free or expired (the CLI's `--wait`).
    pub async fn claim(&self, worker: &str, run_id: Uuid) -> anyhow::Result<bool> {
        let mut conn = self.inner.pool.acquire().await?;
        Ok(self.lease(&mut conn, run_id, worker).await?.is_some())
    }

    async fn lease(
        &self,
        conn: &mut sqlx::PgConnection,
        run_id: Uuid,
        worker: &str,
    ) -> sqlx::Result<Option<Uuid>> {
        sqlx::query_scalar(
            "insert into agent_run_leases (run_id, worker, lease_until) \
             values ($1, $2, now() + make_interval(secs => $3)) \
             on conflict (run_id) do update set worker = excluded.worker, \
               lease_until = excluded.lease_until, updated_at = now() \
             where agent_run_leases.lease_until <= now() \
             returning run_id",
        )
        .bind(run_id)
        .bind(worker)
        .bind(self.lease_secs())
        .fetch_optional(conn)
        .await
    }

    /// Extends this worker's lease; `false` when another worker has taken it.
    async fn renew(&self, worker: &str, run_id: Uuid) -> sqlx::Result<bool> {
        self.extend_lease(worker, run_id, self.lease_secs()).await
    }

    /// Sets this worker's lease to end after `secs` (0: hand the run over now). On failure
    /// the lease ends on its own, `agent_lease_secs` after its last renewal.
    async fn release(&self, worker: &str, run_id: Uuid, secs: f64) {
        if let Err(error) = self.extend_lease(worker, run_id, secs).await {
            tracing::warn!(
                agent_run.id = %run_id,
                worker = %worker,
                error = %error,
                "releasing the run's lease failed; it expires on its own"
            );
        }
    }

    /// Sets this worker's lease to end `secs` from now; `false` when it is not this
    /// worker's (any more).
    async fn extend_lease(&self, worker: &str, run_id: Uuid, secs: f64) -> sqlx::Result<bool> {
        let updated = sqlx::query(
            "update agent_run_leases set lease_until = now() + make_interval(secs => $3), \
               updated_at = now() \
             where run_id = $1 and worker = $2",
        )
        .bind(run_id)
        .bind(worker)
        .bind(secs)
        .execute(&self.inner.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn cancel_requested(&self, run_id: Uuid) -> sqlx::Result<bool> {
        sqlx::query_scalar(
            "select exists (select 1 from events where aggregate_type = $1 \
               and aggregate_id = $2 and event_type = 'AgentRunCancelRequested')",
        )
        .bind(AgentRun::TYPE)
        .bind(run_id.to_string())
        .fetch_one(&self.inner.pool)
        .await
    }

    /// The run as its events leave it, and the correlation id of the request that asked
    /// for it (one read of the run's events).
    async fn load(&self, run_id: Uuid) -> anyhow::Result<(Option<AgentRunView>, Option<String>)> {
        let events = read_history::<AgentRun>(&self.inner.pool, &run_id.to_string()).await?;
        let correlation = events
            .first()
            .and_then(|e| e.meta("correlation_id"))
            .map(str::to_string);
        let run: AgentRun = state_of(&events)?;
        Ok((run.run, correlation))
    }

    async fn command(
        &self,
        run_id: Uuid,
        command: AgentRunCommand,
        meta: &CommandMeta,
    ) -> Result<AgentRun, CommandError<AgentRunError>> {
        Ok(self.inner.bus.execute(run_id, command, meta).await?.state)
    }

    /// Executes a claimed run to its end (or until this worker loses it).
    pub async fn execute(
        &self,
        worker: &str,
        run_id: Uuid,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        use tracing::Instrument;
        let span =
            tracing::info_span!("agent_run.execute", agent_run.id = %run_id, worker = %worker);
        self.execute_claimed(worker, run_id, shutdown)
            .instrument(span)
            .await
    }

    async fn execute_claimed(
        &self,
        worker: &str,
        run_id: Uuid,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        // Just after the claim took the lease; the agent's first renewal (as it starts) sets
        // the clock again.
        let leased_at = tokio::time::Instant::now();
        let (run, correlation) = self.load(run_id).await?;
        let meta = command_meta(
            run_id,
            correlation.as_deref(),
            Actor::system("agent-worker"),
        );
        let Some(mut run) = run else {
            self.release(worker, run_id, 0.0).await;
            return Ok(());
        };
        if run.status.is_finished() {
            self.release(worker, run_id, FINISHED_LEASE_SECS).await;
            return Ok(());
        }
        // The lease was free or expired: an attempt still marked running lost its worker.
        if let Some(current) = run.current_attempt().cloned() {
            let abandon = AgentRunCommand::Abandon {
                attempt: current.attempt,
                reason: format!("its lease expired while {} held it", current.worker),
                at: now(),
            };
            match self.command(run_id, abandon, &meta).await {
                Ok(state) => run = state.run.unwrap_or(run),
                Err(CommandError::Rejected(_)) => return Ok(()),
                Err(other) => return Err(anyhow::anyhow!(other.to_string())),
            }
            tracing::warn!(
                attempt = current.attempt,
                status = run.status.as_str(),
                "abandoned an attempt whose worker stopped answering"
            );
            if run.status.is_finished() {
                self.release(worker, run_id, FINISHED_LEASE_SECS).await;
                return Ok(());
            }
        }
        let attempt = run.attempts.len() as u32 + 1;
        let start = AgentRunCommand::Start {
            attempt,
            worker: worker.to_string(),
            at: now(),
        };
        let run = match self.command(run_id, start, &meta).await {
            Ok(state) => state.run.unwrap_or(run),
            // Someone else moved it first; their lease governs it.
            Err(CommandError::Rejected(_)) => return Ok(()),
            Err(other) => return Err(anyhow::anyhow!(other.to_string())),
        };
        let started_at = run.current_attempt().map_or_else(now, |a| a.started_at);
        let Some(spec) = self.inner.agents.find(&run.agent) else {
            let fail = AgentRunCommand::Fail {
                attempt,
                error: RunError {
                    code: "agent.not_found".into(),
                    message: format!("no agent named {} in this version of CaseyOS", run.agent),
                },
                retryable: false,
                usage: Default::default(),
                at: now(),
            };
            self.finish(worker, run_id, fail, &meta).await;
            return Ok(());
        };
        tracing::info!(agent = spec.name, attempt, "agent run started");

        let owner = owner_of(&run, &self.inner.config.operator);
        let queue = QueueModel(self.inner.pool.clone());
        let contacts = ContactModel::new(
            self.inner.pool.clone(),
            self.inner.config.hubspot().is_some(),
        );
        let deals = DealModel::new(
            self.inner.pool.clone(),
            self.inner.config.deal_risk.clone(),
            self.inner.config.deal_health.clone(),
            self.inner.config.forecast(),
        );
        let research = ResearchModel {
            pool: self.inner.pool.clone(),
            bus: self.inner.bus.clone(),
            meta: meta.clone(),
            run_id,
            owner: owner.clone(),
            question: run.input["question"]
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_string(),
            depth: ResearchDepth::of_agent(spec.name).unwrap_or_default(),
            // A client only for the runs that search.
            web: (ResearchDepth::of_agent(spec.name).is_some())
                .then(|| self.inner.config.web_search())
                .flatten()
                .and_then(|config| {
                    Tavily::new(&config)
                        .map(|client| Box::new(client) as Box<dyn WebSearch>)
                        .inspect_err(|e| tracing::warn!(error = %e, "web search is misconfigured"))
                        .ok()
                }),
            begun: Default::default(),
        };
        let examples = VoiceModel(self.inner.pool.clone());
        let voice: &VoiceProfile = &self.inner.config.voice;
        let ctx = Ctx::new(&owner, now(), voice, &self.inner.writer, &queue)
            .with_contacts(&contacts)
            .with_deals(&deals)
            .with_research(&research)
            .with_examples(&examples);
        let elapsed = (now() - started_at).to_std().unwrap_or_default();
        let limit = Duration::from_millis(run.timeout_ms).saturating_sub(elapsed);
        let ended = {
            // A panic fails the run instead of taking the worker down with it.
            let agent =
                AssertUnwindSafe(self.inner.agents.run(spec, &run.input, &ctx)).catch_unwind();
            tokio::pin!(agent);
            let deadline = tokio::time::sleep(limit);
            tokio::pin!(deadline);
            let grace = self.renewal_grace();
            // Renews at once, then every sixth of a lease.
            let mut heartbeat =
                tokio::time::interval(Duration::from_secs_f64(self.lease_secs() / 6.0));
            let mut renewed_at = leased_at;
            let lease_lost = tokio::time::sleep_until(renewed_at + grace);
            tokio::pin!(lease_lost);
            let mut cancel_poll = tokio::time::interval(CANCEL_POLL);
            loop {
                tokio::select! {
                    result = &mut agent => {
                        let result = result.unwrap_or_else(|panic| Err(panicked(panic.as_ref())));
                        break Ended::Done(result);
                    }
                    _ = &mut deadline => break Ended::TimedOut,
                    _ = &mut lease_lost => {
                        tracing::warn!(
                            grace_ms = grace.as_millis() as u64,
                            "no lease renewal succeeded within the grace period; stopping"
                        );
                        break Ended::LostLease;
                    }
                    _ = heartbeat.tick() => {
                        let asked = tokio::time::Instant::now();
                        let renewal = self.renew(worker, run_id);
                        match tokio::time::timeout_at(renewed_at + grace, renewal).await {
                            Ok(Ok(true)) => {
                                renewed_at = asked;
                                lease_lost.as_mut().reset(renewed_at + grace);
                            }
                            Ok(Ok(false)) => break Ended::LostLease,
                            Ok(Err(error)) => tracing::warn!(
                                error = %error,
                                "renewing the lease failed; stopping unless a renewal succeeds \
                                 within the grace period"
                            ),
                            Err(_) => {
                                tracing::warn!(
                                    grace_ms = grace.as_millis() as u64,
                                    "the lease renewal did not answer within the grace period; \
                                     stopping"
                                );
                                break Ended::LostLease;
                            }
                        }
                    }
                    _ = cancel_poll.tick() => match self.cancel_requested(run_id).await {
                        Ok(true) => break Ended::Cancelled,
                        Ok(false) => {}
                        Err(error) => tracing::warn!(
                            error = %error,
                            "checking for a cancel request failed; checking again"
                        ),
                    },
                    _ = shutdown.cancelled() => break Ended::Shutdown,
                }
            }
        };
        let usage = ctx.usage();
        let command = match ended {
            Ended::Done(Ok(mut outcome)) => match self
                .effects(spec, &run, &mut outcome, correlation.as_deref())
                .await
            {
                Err(error) => failed(attempt, error, usage),
                Ok(()) => match self
                    .propose(spec, &run, &owner, &outcome, correlation.as_deref())
                    .await
                {
                    Ok(items) => AgentRunCommand::Succeed {
                        attempt,
                        output: outcome.output,
                        text: outcome.text,
                        proposed_items: items,
                        usage,
                        at: now(),
                    },
                    Err(error) => failed(attempt, error, usage),
                },
            },
            Ended::Done(Err(error)) => failed(attempt, error, usage),
            Ended::TimedOut => AgentRunCommand::TimeOut { attempt, at: now() },
            Ended::Cancelled => AgentRunCommand::ConfirmCancel { attempt, at: now() },
            Ended::LostLease => {
                tracing::warn!("lost the lease; the run's next worker takes over");
                return Ok(());
            }
            Ended::Shutdown => {
                tracing::info!("shutting down mid-run; handing the run over");
                self.release(worker, run_id, 0.0).await;
                return Ok(());
            }
        };
        self.finish(worker, run_id, command, &meta).await;
        Ok(())
    }

    async fn finish(
        &self,
        worker: &str,
        run_id: Uuid,
        command: AgentRunCommand,
        meta: &CommandMeta,
    ) {
        match self.command(run_id, command, meta).await {
            Ok(state) => {
                if let Some(run) = state.run {
                    tracing::info!(
                        status = run.status.as_str(),
                        duration_ms = run.duration_ms,
                        "agent run ended"
                    );
                }
            }
            Err(error) => tracing::warn!(error = %error, "the run's end was not recorded"),
        }
        self.release(worker, run_id, FINISHED_LEASE_SECS).await;
    }

    /// Executes the outcome's effects (each idempotent by its aggregate's rule, so a retried
    /// attempt repeats none) and adds what they did to its output as `effects`.
    async fn effects(
        &self,
        spec: &AgentSpec,
        run: &AgentRunView,
        outcome: &mut Outcome,
        correlation: Option<&str>,
    ) -> Result<(), caseyos_agents::AgentError> {
        if outcome.effects.is_empty() {
            return Ok(());
        }
        let agent = Actor::agent(spec.name);
        let meta = command_meta(run.id, correlation, agent.clone());
        let done = execute_effects(
            &self.inner.pool,
            &self.inner.bus,
            &agent,
            run.id,
            &meta,
            &outcome.effects,
        )
        // Boxed: the effects' stream of borrowed futures is Send, which the compiler
        // cannot prove for every lifetime inside the worker's own future.
        .boxed()
        .await?;
        tracing::info!(
            validations = done.validations.recorded,
            duplicate_pairs = done.duplicate_pairs.recorded,
            alerts_raised = done.alerts_raised.recorded,
            alerts_resolved = done.alerts_resolved.recorded,
            "agent effects executed"
        );
        if let serde_json::Value::Object(output) = &mut outcome.output {
            output.insert(
                "effects".into(),
                serde_json::to_value(&done).unwrap_or_default(),
            );
        }
        Ok(())
    }

    /// Proposes the outcome's moves, each with an id derived from the run so a retried
    /// attempt finds the ones already proposed instead of proposing them twice.
    async fn propose(
        &self,
        spec: &AgentSpec,
        run: &AgentRunView,
        owner: &str,
        outcome: &Outcome,
        correlation: Option<&str>,
    ) -> Result<Vec<Uuid>, caseyos_agents::AgentError> {
        let agent = Actor::agent(spec.name);
        let refused = |field: &str, message: String| {
            caseyos_agents::AgentError::new(
                "agent.invalid_proposal",
                format!("the move it proposed was refused: {field} {message}"),
                false,
            )
        };
        let owner = UserName::parse(owner).map_err(|m| refused("owner", m.to_string()))?;
        let meta = command_meta(run.id, correlation, agent.clone());
        let mut items = Vec::with_capacity(outcome.proposals.len());
        for (n, proposal) in outcome.proposals.iter().enumerate() {
            let id = Uuid::new_v5(&run.id, format!("proposal/{n}").as_bytes());
            let title = Text::parse_optional(proposal.title.as_deref(), MAX_TITLE_CHARS)
                .map_err(|m| refused("title", m))?;
            let rationale = Text::parse_optional(proposal.rationale.as_deref(), MAX_TEXT_CHARS)
                .map_err(|m| refused("rationale", m))?;
            let learned = crate::commands::outcomes::learned_for(
                &self.inner.pool,
                &proposal.target,
                proposal.action_type,
                now(),
            )
            .await
            .map_err(|e| {
                caseyos_agents::AgentError::new(
                    "agent.store_unavailable",
                    format!("reading what outcomes taught: {e:#}"),
                    true,
                )
            })?;
            let command = QueueItemCommand::Propose(Box::new(ProposeQueueItem {
                id,
                title,
                action_type: proposal.action_type,
                domain: None,
                target: proposal.target.clone(),
                payload: proposal.payload.clone(),
                owner: owner.clone(),
                due_by: proposal.due_by,
                expires_at: None,
                source: Source::AgentRun { run_id: run.id },
                aps: proposal.aps,
                rationale,
                draft: proposal.draft.clone(),
                demo: false,
                learned,
                by: agent.clone(),
                at: now(),
            }));
            match self
                .inner
                .bus
                .execute::<QueueItem>(id, command, &meta)
                .await
            {
                Ok(_) | Err(CommandError::Rejected(QueueError::AlreadyProposed)) => items.push(id),
                Err(CommandError::Rejected(error)) => {
                    return Err(caseyos_agents::AgentError::new(
                        "agent.invalid_proposal",
                        format!("the move it proposed was refused: {error}"),
                        false,
                    ))
                }
                Err(other) => {
                    return Err(caseyos_agents::AgentError::new(
                        "agent.store_error",
                        format!("proposing its move failed: {other}"),
                        true,
                    ))
                }
            }
        }
        Ok(items)
    }
}

/// The error of an attempt whose agent panicked (logged here, once).
fn panicked(payload: &(dyn std::any::Any + Send)) -> caseyos_agents::AgentError {
    let message = panic_message(payload);
    tracing::error!(panic = %message, "the agent panicked");
    caseyos_agents::AgentError::new(
        "agent.panicked",
        format!("the agent panicked: {message}"),
        true,
    )
}

fn failed(
    attempt: u32,
    error: caseyos_agents::AgentError,
    usage: caseyos_domain::agent_run::LlmUsage,
) -> AgentRunCommand {
    AgentRunCommand::Fail {
        attempt,
        error: RunError {
            code: error.code,
            message: error.message,
        },
        retryable: error.retryable,
        usage,
        at: now(),
    }
}

/// The metadata of the worker's commands on a run: the correlation id of the run's
/// request, the run as the cause.
fn command_meta(run_id: Uuid, correlation: Option<&str>, actor: Actor) -> CommandMeta {
    let request_id = Uuid::now_v7().to_string();
    CommandMeta {
        actor,
        correlation_id: correlation.map_or_else(|| request_id.clone(), str::to_string),
        request_id,
        causation_id: run_id.to_string(),
        idempotency_key: None,
        request_hash: None,
    }
}

/// The user a run works for: its requester, or the operator for runs CaseyOS started.
fn owner_of(run: &AgentRunView, operator: &str) -> String {
    match run.requested_by.kind {
        ActorKind::User => run.requested_by.id.clone(),
        _ => operator.to_string(),
    }
}

/// Returns when the runs read model moved (or the channel lagged or closed).
async fn wait_for_runs(wake: &mut broadcast::Receiver<LiveEvent>) {
    loop {
        match wake.recv().await {
            Ok(event) if event.projection == "agent_runs" => return,
            Ok(_) => continue,
            Err(broadcast::error::RecvError::Lagged(_)) => return,
            Err(broadcast::error::RecvError::Closed) => {
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Mutex;

    use super::*;

    /// What a test's subscriber logged.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .expect("the log buffer")
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("the log buffer")).into_owned()
        }
    }

    /// Workers on a database nobody listens for.
    fn workers_without_a_database() -> Workers {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("an address").port()
        };
        let pool = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(Duration::from_millis(500))
            .connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/none"))
            .expect("a lazy pool");
        let bus = Arc::new(CommandBus::new(
            pool.clone(),
            100,
            0,
            Arc::new(caseyos_store::bus::Unobserved),
        ));
        Workers::new(
            pool,
            bus,
            Arc::new(Config::default()),
            Agents::registry(),
            "test",
        )
        .expect("workers")
    }

    #[tokio::test]
    async fn lease_work_that_fails_on_the_database_is_logged_with_the_run_and_the_worker() {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let workers = workers_without_a_database();
        let run_id = Uuid::new_v4();

        workers.release("test/1#0", run_id, 0.0).await;
        workers.sweep_leases("test/1#0").await;

        let text = logs.text();
        let release = text
            .lines()
            .find(|l| l.contains("releasing the run's lease failed"))
            .unwrap_or_else(|| panic!("no release failure logged:\n{text}"));
        assert!(release.contains("WARN"), "{release}");
        assert!(release.contains(&run_id.to_string()), "{release}");
        assert!(release.contains("test/1#0"), "{release}");
        let sweep = text
            .lines()
            .find(|l| l.contains("sweeping old agent-run leases failed"))
            .unwrap_or_else(|| panic!("no sweep failure logged:\n{text}"));
        assert!(sweep.contains("test/1#0"), "{sweep}");
    }
}
