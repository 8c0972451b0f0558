//! The attendees' answers to the meetings CaseyOS booked, as outcomes: every
//! `calendar_poll_interval_secs`, each succeeded execution of the last [`LOOKBACK_DAYS`] days
//! that put an event in the calendar (its `calendar_event_id`) has its event read
//! (`events.get`), and each attendee's `responseStatus` becomes an outcome once per attendee
//! and answer (key `calendar:<event id>:<address>:<answer>`):
//!
//! - `accepted` → `positive_response` (+6): they said yes. The booking itself is the
//!   execution's `meeting_booked`, recorded when the invitation went out; an acceptance is
//!   not a second booking.
//! - `declined` → `negative_response` (−6).
//! - `tentative`, `needsAction`: nothing yet. The organizer (us) is skipped.
//!
//! An event deleted since (`google_calendar.gone`) or cancelled says nothing. Nothing is
//! read while Google Calendar is not connected; one instance reads at a time (an advisory
//! lock).

use std::sync::Arc;
use std::time::Duration;

use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::connectors::ConnectorName;
use caseyos_domain::executions::ExecutionView;
use caseyos_domain::kernel::{Actor, EmailAddress};
use caseyos_domain::outcomes::{OutcomeSource, OutcomeSubject, OutcomeType, RecordOutcome};
use caseyos_domain::queue::QueueItem;
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandBus, CommandMeta};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::execution_providers::CALENDAR_ID;
use super::outcomes::{record, subject_of};
use crate::commands::outcomes::company_domain;
use crate::config::GoogleConfig;
use crate::connectors::calendar::{Attendee, CalendarClient};
use crate::connectors::credentials::Credentials;
use crate::connectors::ConnectorError;

/// Its actor (`system:calendar_responses`) and lock name.
pub const ACTOR: &str = "calendar_responses";
/// How far back booked meetings are followed.
pub const LOOKBACK_DAYS: i64 = 60;
/// Events read per tick at most (the newest bookings first).
pub const MAX_EVENTS: i64 = 200;

/// The worker's parts.
#[derive(Clone)]
pub struct CalendarResponses {
    pub pool: PgPool,
    pub bus: Arc<CommandBus>,
    pub credentials: Credentials,
    pub google: GoogleConfig,
}

/// What a tick did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponsesTick {
    /// Another instance was reading, or Calendar is not connected: nothing done.
    pub skipped: bool,
    /// Events read.
    pub events: usize,
    /// Answers recorded as outcomes (or found recorded).
    pub answers: usize,
}

/// The outcome an attendee's answer is, if any.
pub fn outcome_of(response_status: &str) -> Option<OutcomeType> {
    match response_status {
        "accepted" => Some(OutcomeType::PositiveResponse),
        "declined" => Some(OutcomeType::NegativeResponse),
        _ => None,
    }
}

/// Runs a tick at start and every `interval` until shutdown, supervised.
pub fn spawn(
    worker: CalendarResponses,
    interval: Duration,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    super::supervisor::supervise_every(ACTOR, Some(interval), None, shutdown, move || {
        let worker = worker.clone();
        async move { worker.tick().await.map(drop) }
    })
}

impl CalendarResponses {
    /// Reads the booked meetings' events and records their answers, if Calendar is
    /// connected and no other instance is reading.
    pub async fn tick(&self) -> anyhow::Result<ResponsesTick> {
        if !self
            .credentials
            .is_connected(ConnectorName::GoogleCalendar)
            .await
        {
            return Ok(ResponsesTick {
                skipped: true,
                ..ResponsesTick::default()
            });
        }
        let ticked =
            super::reactor::locked(&self.pool, ACTOR, false, async || self.tick_locked().await)
                .await?;
        Ok(ticked.unwrap_or(ResponsesTick {
            skipped: true,
            ..ResponsesTick::default()
        }))
    }

    async fn tick_locked(&self) -> anyhow::Result<ResponsesTick> {
        let token = self
            .credentials
            .access_token(ConnectorName::GoogleCalendar)
            .await?;
        let client = CalendarClient::new(&self.google, token.secret)?;
        let since = now() - chrono::Duration::days(LOOKBACK_DAYS);
        let executions =
            caseyos_projections::executions::calendar_events_since(&self.pool, since, MAX_EVENTS)
                .await?;
        let mut done = ResponsesTick::default();
        for execution in executions {
            let Some(event_id) = execution.provider_ids.get("calendar_event_id") else {
                continue;
            };
            let event = match client.get_event(CALENDAR_ID, event_id).await {
                Ok(event) => event,
                Err(ConnectorError::Gone { .. }) => continue,
                Err(error) => {
                    self.credentials
                        .record_call(ConnectorName::GoogleCalendar, Err(&error))
                        .await;
                    return Err(error.into());
                }
            };
            self.credentials
                .record_call(ConnectorName::GoogleCalendar, Ok(()))
                .await;
            done.events += 1;
            if event.status.as_deref() == Some("cancelled") {
                continue;
            }
            let at = event.updated.unwrap_or_else(now);
            for attendee in &event.attendees {
                if attendee.is_self || attendee.organizer {
                    continue;
                }
                let Some(outcome_type) = outcome_of(&attendee.response_status) else {
                    continue;
                };
                self.record_answer(&execution, &event.id, attendee, outcome_type, at)
                    .await?;
                done.answers += 1;
            }
        }
        Ok(done)
    }

    async fn record_answer(
        &self,
        execution: &ExecutionView,
        event_id: &str,
        attendee: &Attendee,
        outcome_type: OutcomeType,
        occurred_at: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<()> {
        let Ok(email) = EmailAddress::parse(attendee.email.trim()) else {
            return Ok(());
        };
        let item: QueueItem =
            state_at(&self.pool, &execution.item_id.to_string(), i64::MAX).await?;
        let item = item.into_view();
        // The move's contact when it is them; else the attendee as Calendar names them.
        let subject = item
            .as_ref()
            .map(|i| subject_of(i, &[]))
            .filter(|s| s.email.as_ref() == Some(&email))
            .unwrap_or_else(|| OutcomeSubject {
                company_domain: company_domain(email.as_str()),
                name: attendee
                    .display_name
                    .clone()
                    .filter(|n| !n.trim().is_empty()),
                email: Some(email.clone()),
                ..OutcomeSubject::default()
            });
        let title = item
            .as_ref()
            .map(|i| i.title.clone())
            .unwrap_or_else(|| execution.title.clone());
        let summary = match outcome_type {
            OutcomeType::PositiveResponse => format!("accepted the invitation to \"{title}\""),
            _ => format!("declined the invitation to \"{title}\""),
        };
        record(
            &self.bus,
            RecordOutcome {
                key: format!(
                    "calendar:{event_id}:{}:{}",
                    email.as_str(),
                    attendee.response_status
                ),
                outcome_type,
                source: OutcomeSource::Calendar,
                confidence: 100,
                subject,
                item_id: item.as_ref().map(|i| i.id),
                action_type: item.as_ref().map(|i| i.action_type),
                execution_id: Some(execution.id),
                summary,
                occurred_at,
                by: Actor::system(ACTOR),
                at: now(),
            },
            &CommandMeta::system(ACTOR),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_and_declined_are_outcomes_and_the_rest_wait() {
        // (responseStatus, outcome)
        let table = [
            ("accepted", Some(OutcomeType::PositiveResponse)),
            ("declined", Some(OutcomeType::NegativeResponse)),
            ("tentative", None),
            ("needsAction", None),
            ("", None),
        ];
        for (status, outcome) in table {
            assert_eq!(outcome_of(status), outcome, "{status:?}");
        }
    }
}
