//! Voice training's side of the workers: the top-rated samples DraftWriter follows
//! ([`VoiceModel`]), and the reactor that collects every email CaseyOS sent or drafted for
//! an approved move as a voice sample (once per execution).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caseyos_agents::{VoiceExample, VoiceExamples};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::executions::plan::Plan;
use caseyos_domain::executions::{ActionExecution, Effect, ExecutionEvent};
use caseyos_domain::kernel::Actor;
use caseyos_domain::voice::{
    collected_sample_id, SampleSource, VoiceSample, VoiceSampleCommand, MAX_SAMPLE_CHARS,
    MAX_SUBJECT_CHARS,
};
use caseyos_store::event::StoredEvent;
use caseyos_store::history::state_at;
use caseyos_store::{CommandBus, CommandError, CommandMeta};
use sqlx::PgPool;
use uuid::Uuid;

use super::reactor::{failed, Reactor, Stop};

/// The reactor's name (its checkpoint row, its lock, its actor).
pub const NAME: &str = "voice-samples";
/// How often it looks for new events.
pub const TICK: Duration = Duration::from_millis(500);

/// Reads the voice samples' read model for DraftWriter.
pub struct VoiceModel(pub PgPool);

#[async_trait]
impl VoiceExamples for VoiceModel {
    async fn top_rated(&self, limit: usize) -> Result<Vec<VoiceExample>, String> {
        let samples = caseyos_projections::voice::top_rated(&self.0, limit as i64)
            .await
            .map_err(|e| format!("the voice samples could not be read: {e}"))?;
        Ok(samples
            .into_iter()
            .map(|s| VoiceExample {
                id: s.id,
                content: s.content,
                rating: s.rating.unwrap_or_default(),
            })
            .collect())
    }
}

/// Collects sent and drafted emails as voice samples.
pub struct VoiceCollector {
    pub pool: PgPool,
    pub bus: Arc<CommandBus>,
}

#[async_trait]
impl Reactor for VoiceCollector {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn handle(&self, stored: &StoredEvent) -> Result<(), Stop> {
        if stored.aggregate_type != ActionExecution::TYPE {
            return Ok(());
        }
        let ExecutionEvent::ExecutionSucceeded(succeeded) =
            ActionExecution::decode(stored.recorded()).map_err(failed)?
        else {
            return Ok(());
        };
        let Ok(id) = stored.aggregate_id.parse::<Uuid>() else {
            return Ok(());
        };
        let state: ActionExecution = state_at(&self.pool, &stored.aggregate_id, stored.sequence)
            .await
            .map_err(failed)?;
        let Some(execution) = state.into_view() else {
            return Ok(());
        };
        let source = match execution.effect {
            Some(Effect::EmailSent) => SampleSource::SentEmail,
            Some(Effect::DraftCreated) => SampleSource::Draft,
            _ => return Ok(()),
        };
        let Some(Plan::Email(email) | Plan::Draft(email)) = &execution.plan else {
            return Ok(());
        };
        let content: String = email.body.trim().chars().take(MAX_SAMPLE_CHARS).collect();
        if content.is_empty() {
            return Ok(());
        }
        let subject = Some(
            email
                .subject
                .trim()
                .chars()
                .take(MAX_SUBJECT_CHARS)
                .collect(),
        )
        .filter(|s: &String| !s.is_empty());
        let add = VoiceSampleCommand::Add {
            id: collected_sample_id(id),
            content,
            subject,
            source,
            rating: None,
            feedback: None,
            origin: Some(format!("execution:{id}")),
            by: Actor::system(NAME),
            at: succeeded.at,
        };
        match self
            .bus
            .execute::<VoiceSample>(collected_sample_id(id), add, &CommandMeta::system(NAME))
            .await
        {
            Ok(_) => Ok(()),
            Err(CommandError::Rejected(refusal)) => {
                tracing::warn!(execution = %id, reason = %refusal, "a voice sample was refused");
                Ok(())
            }
            Err(other) => Err(failed(other)),
        }
    }
}
