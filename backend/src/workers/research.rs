//! Research's side of the workers: where the research agents look ([`ResearchModel`]:
//! PostgreSQL full-text search over the read models of contacts, deals, moves, runs and
//! signals; the web through the configured [`WebSearch`] provider), the progress they report
//! (recorded on the run's `research_session` as it happens), and the reactor that records
//! a research's report — or why it failed — once its run has ended.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caseyos_agents::{Found, ResearchSources};
use caseyos_domain::agent_run::{AgentRun, AgentRunEvent, AgentRunView, RunStatus};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::contacts::Contact;
use caseyos_domain::deals::Deal;
use caseyos_domain::research::{
    Report, ResearchCommand, ResearchDepth, ResearchFailure, ResearchSession, ResearchStage,
    SourceKind,
};
use caseyos_domain::signals::Signal;
use caseyos_store::event::StoredEvent;
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandBus, CommandError, CommandMeta};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::reactor::{failed, Reactor, Stop};
use crate::connectors::web_search::WebSearch;

/// The reactor's name (its checkpoint row, its lock, its actor).
pub const NAME: &str = "research";
/// How often it looks for new events.
pub const TICK: Duration = Duration::from_millis(500);

/// What a research run searches with, and where its progress goes.
pub struct ResearchModel {
    pub pool: PgPool,
    pub bus: Arc<CommandBus>,
    pub meta: CommandMeta,
    /// The run (and its research session).
    pub run_id: Uuid,
    pub owner: String,
    pub question: String,
    pub depth: ResearchDepth,
    pub web: Option<Box<dyn WebSearch>>,
    /// Whether this attempt has begun the session (or found it begun): once per run, not
    /// once per step.
    pub begun: AtomicBool,
}

/// The query behind [`ResearchModel::internal`]: each read model's matches by PostgreSQL
/// full-text search over every string of the row's document (`jsonb_to_tsvector`), ranked
/// by `ts_rank`; the best `$2` across them, each with a passage around the match (from the
/// document's strings less ids and instants, which are no reading). Moves and
/// runs are the owner's (`$3`); research runs themselves (`$8`) are left out. `$4`…`$7` name
/// the record types.
const INTERNAL_SEARCH: &str = r#"
with q as (select to_tsquery('english', $1) as q),
hits as (
    select $4::text as record_type, c.id, c.doc,
           coalesce(nullif(c.name, ''), c.primary_email, 'Contact') as title,
           ts_rank(jsonb_to_tsvector('english', c.doc, '["string"]'), q.q) as rank
      from contacts c, q
     where c.status <> 'merged' and jsonb_to_tsvector('english', c.doc, '["string"]') @@ q.q
    union all
    select $5::text, d.id, d.doc, d.name,
           ts_rank(jsonb_to_tsvector('english', d.doc, '["string"]'), q.q)
      from deals d, q
     where jsonb_to_tsvector('english', d.doc, '["string"]') @@ q.q
    union all
    select 'move', m.id, m.doc, m.title,
           ts_rank(jsonb_to_tsvector('english', m.doc, '["string"]'), q.q)
      from queue_items m, q
     where m.owner = $3 and jsonb_to_tsvector('english', m.doc, '["string"]') @@ q.q
    union all
    select $6::text, r.id, r.doc, r.agent || ' run',
           ts_rank(jsonb_to_tsvector('english', r.doc, '["string"]'), q.q)
      from agent_runs r, q
     where r.requested_by = 'user:' || $3
       and r.agent <> all($8)
       and jsonb_to_tsvector('english', r.doc, '["string"]') @@ q.q
    union all
    select $7::text, s.id, s.doc, initcap(replace(s.kind, '_', ' ')) || ' signal',
           ts_rank(jsonb_to_tsvector('english', s.doc, '["string"]'), q.q)
      from signals s, q
     where jsonb_to_tsvector('english', s.doc, '["string"]') @@ q.q
)
select h.record_type, h.id, h.title,
       ts_headline('english',
           (select string_agg(v #>> '{}', ' ')
              from jsonb_path_query(h.doc, 'strict $.** ? (@.type() == "string"
                   && !(@ like_regex "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
                   && !(@ like_regex "^[0-9]{4}-[0-9]{2}-[0-9]{2}T"))') v),
           q.q,
           'MaxWords=35, MinWords=12, MaxFragments=2, FragmentDelimiter=" … ", StartSel="", StopSel=""')
           as snippet
  from (select * from hits order by rank desc, id limit $2) h, q
 order by h.rank desc, h.id
"#;

/// The app's page of a record.
fn link(record_type: &str, id: Uuid) -> String {
    match record_type {
        t if t == Contact::TYPE => format!("/contacts/{id}"),
        t if t == Deal::TYPE => format!("/deals/{id}"),
        t if t == AgentRun::TYPE => format!("/runs/{id}"),
        "move" => format!("/queue/{id}"),
        _ => "/signals".to_string(),
    }
}

impl ResearchModel {
    /// Begins the session the first time (nothing when the API began it), then records
    /// `command`.
    async fn record(&self, command: ResearchCommand) -> Result<(), String> {
        let execute = |command| async {
            self.bus
                .execute::<ResearchSession>(self.run_id, command, &self.meta)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        if !self.begun.load(Ordering::Relaxed) {
            execute(ResearchCommand::Begin {
                id: self.run_id,
                question: self.question.clone(),
                depth: self.depth,
                requested_by: self.owner.clone(),
                at: now(),
            })
            .await?;
            self.begun.store(true, Ordering::Relaxed);
        }
        execute(command).await
    }
}

#[async_trait]
impl ResearchSources for ResearchModel {
    async fn internal(&self, terms: &[String], limit: usize) -> Result<Vec<Found>, String> {
        let query = terms.join(" | ");
        let rows = sqlx::query(INTERNAL_SEARCH)
            .bind(&query)
            .bind(limit as i64)
            .bind(&self.owner)
            .bind(Contact::TYPE)
            .bind(Deal::TYPE)
            .bind(AgentRun::TYPE)
            .bind(Signal::TYPE)
            .bind([ResearchDepth::Standard.agent(), ResearchDepth::Deep.agent()])
            .fetch_all(&self.pool)
            .await
            .map_err(|e| format!("the internal search failed: {e}"))?;
        rows.iter()
            .map(|row| {
                let record_type: String = row.try_get("record_type")?;
                let id: Uuid = row.try_get("id")?;
                Ok(Found {
                    kind: SourceKind::Internal,
                    title: row.try_get("title")?,
                    link: link(&record_type, id),
                    snippet: row
                        .try_get::<Option<String>, _>("snippet")?
                        .unwrap_or_default(),
                    record_type: Some(record_type),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| e.to_string())
    }

    async fn web(&self, query: &str, limit: usize) -> Option<Result<Vec<Found>, String>> {
        let web = self.web.as_ref()?;
        Some(
            web.search(query, limit)
                .await
                .map(|results| {
                    results
                        .into_iter()
                        .map(|r| Found {
                            kind: SourceKind::Web,
                            title: r.title,
                            link: r.url,
                            snippet: r.snippet,
                            record_type: None,
                        })
                        .collect()
                })
                .map_err(|e| format!("{}: {e}", e.code())),
        )
    }

    async fn progress(&self, stage: ResearchStage, detail: &str) {
        let step = ResearchCommand::Progress {
            stage,
            detail: detail.to_string(),
            at: now(),
        };
        if let Err(error) = self.record(step).await {
            tracing::warn!(error = %error, "a research step was not recorded");
        }
    }
}

/// Records each research run's end on its session.
pub struct Research {
    pub pool: PgPool,
    pub bus: Arc<CommandBus>,
}

#[async_trait]
impl Reactor for Research {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn handle(&self, stored: &StoredEvent) -> Result<(), Stop> {
        if stored.aggregate_type != AgentRun::TYPE {
            return Ok(());
        }
        let ended = matches!(
            AgentRun::decode(stored.recorded()).map_err(failed)?,
            AgentRunEvent::AgentRunSucceeded(_)
                | AgentRunEvent::AgentRunFailed(_)
                | AgentRunEvent::AgentRunTimedOut(_)
                | AgentRunEvent::AgentRunCancelled(_)
                | AgentRunEvent::AgentRunAttemptAbandoned(_)
        );
        if !ended {
            return Ok(());
        }
        let run: AgentRun = state_at(&self.pool, &stored.aggregate_id, stored.sequence)
            .await
            .map_err(failed)?;
        let Some(run) = run.into_view() else {
            return Ok(());
        };
        let Some(depth) = ResearchDepth::of_agent(&run.agent) else {
            return Ok(());
        };
        if !run.status.is_finished() {
            return Ok(());
        }
        self.record_end(&run, depth).await
    }
}

impl Research {
    async fn record_end(&self, run: &AgentRunView, depth: ResearchDepth) -> Result<(), Stop> {
        let meta = CommandMeta::system(NAME);
        let at = run.finished_at.unwrap_or_else(now);
        let end = match (run.status, &run.output) {
            (RunStatus::Succeeded, Some(output)) => {
                match serde_json::from_value::<Report>(output.clone()) {
                    Ok(report) => ResearchCommand::Complete {
                        report: Box::new(report),
                        at,
                    },
                    Err(error) => ResearchCommand::Fail {
                        failure: ResearchFailure {
                            code: "research.unreadable_report".into(),
                            message: format!("the run's output is not a report: {error}"),
                        },
                        at,
                    },
                }
            }
            _ => ResearchCommand::Fail {
                failure: match &run.error {
                    Some(error) => ResearchFailure {
                        code: error.code.clone(),
                        message: error.message.clone(),
                    },
                    None => ResearchFailure {
                        code: format!("agent_run.{}", run.status.as_str()),
                        message: format!("the research run ended {}", run.status.as_str()),
                    },
                },
                at,
            },
        };
        // A run that failed before its first step has no session yet: begin it, so the
        // failure shows where people look.
        let begin = ResearchCommand::Begin {
            id: run.id,
            question: run.input["question"]
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_string(),
            depth,
            requested_by: run.requested_by.id.clone(),
            at: run.requested_at,
        };
        for command in [begin, end] {
            match self
                .bus
                .execute::<ResearchSession>(run.id, command, &meta)
                .await
            {
                Ok(_) => {}
                // Deleted, or begun for another question: nothing more to record.
                Err(CommandError::Rejected(refusal)) => {
                    tracing::info!(run = %run.id, reason = %refusal, "research end not recorded");
                    return Ok(());
                }
                Err(other) => return Err(failed(other)),
            }
        }
        Ok(())
    }
}
