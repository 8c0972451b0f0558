//! HubSpot webhook events, from the table `POST /api/webhooks/hubspot` stores them in
//! (`hubspot_webhook_events`, one row per HubSpot `eventId`) to the deals they are about.
//!
//! [`store`] is what the endpoint calls: one insert, an event id already stored skipped
//! (HubSpot delivers again what it did not see answered), then a wake-up. Events of a type
//! this reactor does not act on are stored already marked `ignored` (`unsupported_type`;
//! `deal.deletion` as `deletion`: CaseyOS has no command that deletes a deal).
//!
//! [`process_due`] claims due `pending` events (`FOR UPDATE SKIP LOCKED`, a lease in
//! `available_at`, so an instance that dies lets them go), reads each deal they name from
//! HubSpot once per batch, and applies it with `commands::deal_sync` exactly as the periodic
//! sync does. An event whose processing failed (HubSpot or the store failing) stays
//! `pending` with its error's code and is retried after a backoff; a deal HubSpot no longer
//! has is `ignored` (`not_found`); otherwise the event is `processed` with what the deal
//! came to (`created`, `updated`, `unchanged`, `failed`: the deal does not map or was
//! refused, logged with its id). Once a deal is applied, each of its `deal.creation` events
//! and its `deal.propertyChange` events of `dealstage` and `amount` is recorded as a
//! `hubspot` signal (dedup key: the `eventId`), carrying the deal after the batch and the
//! stage and amount before it; the signals reactor turns them into moves. Runs only when HubSpot is connected (the token): without
//! it events stay pending until it is.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use caseyos_domain::deals::{Deal, DealView};
use caseyos_domain::kernel::CrmId;
use caseyos_store::{history, CommandBus, CommandMeta};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgListener;
use sqlx::{PgPool, Row};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::hubspot_sync::SYNC_ACTOR;
use crate::commands::deal_sync::{self, Owners, SyncFailed, Synced};
use crate::commands::signals;
use crate::connectors::hubspot::{HubSpotClient, DEAL_PROPERTIES};

/// The channel [`store`] wakes the reactor on.
pub const CHANNEL: &str = "hubspot_webhooks";
/// The subscription types whose deal is read and applied.
pub const DEAL_EVENTS: &[&str] = &[
    "deal.creation",
    "deal.propertyChange",
    "deal.restore",
    "deal.merge",
    "deal.associationChange",
];
/// Stored as ignored: CaseyOS keeps a deal HubSpot deleted (there is no delete command).
pub const DEAL_DELETION: &str = "deal.deletion";

/// One event as HubSpot sent it (the parts kept; `propertyValue` is not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncomingEvent {
    pub event_id: String,
    pub subscription_type: String,
    pub object_id: String,
    pub property_name: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub portal_id: Option<i64>,
    pub attempt_number: Option<i32>,
}

/// What [`store`] did with a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Events new to CaseyOS.
    pub stored: u64,
    /// Events whose id was stored already (not stored again).
    pub duplicates: u64,
}

/// How an event of this type is stored: `(status, outcome)`.
fn initial_status(subscription_type: &str) -> (&'static str, Option<&'static str>) {
    if DEAL_EVENTS.contains(&subscription_type) {
        ("pending", None)
    } else if subscription_type == DEAL_DELETION {
        ("ignored", Some("deletion"))
    } else {
        ("ignored", Some("unsupported_type"))
    }
}

/// Stores a delivery's events (one statement; ids already stored are skipped) and wakes the
/// reactor when any of them waits for it.
pub async fn store(pool: &PgPool, events: &[IncomingEvent]) -> Result<Stored, sqlx::Error> {
    fn column(
        events: &[IncomingEvent],
        read: fn(&IncomingEvent) -> Option<&str>,
    ) -> Vec<Option<&str>> {
        events.iter().map(read).collect()
    }
    let statuses: Vec<(&str, Option<&str>)> = events
        .iter()
        .map(|e| initial_status(&e.subscription_type))
        .collect();
    let inserted: Vec<String> = sqlx::query_scalar(
        "insert into hubspot_webhook_events \
           (event_id, subscription_type, object_id, property_name, occurred_at, portal_id, \
            attempt_number, status, outcome, processed_at) \
         select e.event_id, e.subscription_type, e.object_id, e.property_name, e.occurred_at, \
                e.portal_id, e.attempt_number, e.status, e.outcome, \
                case when e.status = 'ignored' then now() end \
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], \
                     $6::bigint[], $7::int[], $8::text[], $9::text[]) \
           as e(event_id, subscription_type, object_id, property_name, occurred_at, portal_id, \
                attempt_number, status, outcome) \
         on conflict (event_id) do nothing \
         returning status",
    )
    .bind(column(events, |e| Some(e.event_id.as_str())))
    .bind(column(events, |e| Some(e.subscription_type.as_str())))
    .bind(column(events, |e| Some(e.object_id.as_str())))
    .bind(column(events, |e| e.property_name.as_deref()))
    .bind(events.iter().map(|e| e.occurred_at).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.portal_id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.attempt_number).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.0).collect::<Vec<_>>())
    .bind(statuses.iter().map(|s| s.1).collect::<Vec<_>>())
    .fetch_all(pool)
    .await?;
    if inserted.iter().any(|status| status == "pending") {
        // After the insert committed (never inside a transaction that writes).
        if let Err(error) = sqlx::query("select pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(pool)
            .await
        {
            tracing::warn!(error = %error, "could not wake the hubspot webhook reactor; it polls");
        }
    }
    let stored = inserted.len() as u64;
    Ok(Stored {
        stored,
        duplicates: (events.len() as u64).saturating_sub(stored),
    })
}

/// How the reactor paces itself.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Between two looks at the table when nothing woke it.
    pub poll: Duration,
    /// How long a claim lasts: an instance that dies lets its events go after this.
    pub lease: Duration,
    /// Events claimed at once.
    pub batch: i64,
    /// The wait after a first failed attempt; each further one waits twice as long …
    pub base_backoff: Duration,
    /// … up to this.
    pub max_backoff: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            poll: Duration::from_secs(5),
            lease: Duration::from_secs(120),
            batch: 50,
            base_backoff: Duration::from_secs(10),
            max_backoff: Duration::from_secs(3_600),
        }
    }
}

impl WebhookSettings {
    /// The wait before attempt `attempts + 1`.
    fn backoff(&self, attempts: i32) -> Duration {
        let factor = 2u32.saturating_pow(u32::try_from(attempts.max(1) - 1).unwrap_or(0).min(16));
        self.base_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Starts the reactor with the app's HubSpot client; `None` (events stay pending) when
/// HubSpot is not connected.
pub fn spawn(
    pool: PgPool,
    bus: Arc<CommandBus>,
    client: Option<HubSpotClient>,
    settings: WebhookSettings,
    shutdown: CancellationToken,
) -> Option<JoinHandle<()>> {
    let Some(client) = client else {
        tracing::info!("HubSpot is not connected: stored webhook events wait until it is");
        return None;
    };
    Some(tokio::spawn(async move {
        // Until HubSpot is connected there is nothing to process: no listener either.
        while !client.is_connected().await {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(settings.poll) => {}
            }
        }
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => Some(listener),
                Err(error) => {
                    tracing::warn!(error = %error, "hubspot webhooks: not listening; polling");
                    None
                }
            },
            Err(error) => {
                tracing::warn!(error = %error, "hubspot webhooks: not listening; polling");
                None
            }
        };
        loop {
            // Stored events wait while HubSpot is not connected.
            while client.is_connected().await {
                match process_due(&pool, &bus, &client, &settings).await {
                    // A full batch: there may be more.
                    Ok(claimed) if claimed as i64 >= settings.batch => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(error = %format!("{error:#}"), "hubspot webhook processing failed");
                        break;
                    }
                }
            }
            let woken = async {
                match listener.as_mut() {
                    Some(listener) => {
                        if listener.recv().await.is_err() {
                            tokio::time::sleep(settings.poll).await;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(settings.poll) => {}
                _ = woken => {}
            }
        }
    }))
}

/// One claimed event.
struct Claimed {
    event_id: String,
    object_id: String,
    subscription_type: String,
    property_name: Option<String>,
    occurred_at: Option<DateTime<Utc>>,
    attempts: i32,
}

/// Claims the due pending events (at most `settings.batch`), applies the deals they name,
/// and records each event's outcome; answers how many it claimed. Safe to call from several
/// instances at once.
pub async fn process_due(
    pool: &PgPool,
    bus: &CommandBus,
    client: &HubSpotClient,
    settings: &WebhookSettings,
) -> anyhow::Result<usize> {
    let lease_ms = i64::try_from(settings.lease.as_millis()).unwrap_or(i64::MAX);
    let claimed: Vec<Claimed> = sqlx::query(
        "update hubspot_webhook_events set \
           available_at = now() + make_interval(secs => $2::double precision / 1000), \
           attempts = attempts + 1 \
         where event_id in ( \
           select event_id from hubspot_webhook_events \
           where status = 'pending' and available_at <= now() \
           order by available_at, received_at limit $1 \
           for update skip locked) \
         returning event_id, object_id, subscription_type, property_name, occurred_at, \
           attempts",
    )
    .bind(settings.batch)
    .bind(lease_ms)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        Ok(Claimed {
            event_id: row.try_get("event_id")?,
            object_id: row.try_get("object_id")?,
            subscription_type: row.try_get("subscription_type")?,
            property_name: row.try_get("property_name")?,
            occurred_at: row.try_get("occurred_at")?,
            attempts: row.try_get("attempts")?,
        })
    })
    .collect::<Result<_, sqlx::Error>>()?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let count = claimed.len();
    // One read and one apply per deal, however many of its events came.
    let mut by_deal: BTreeMap<String, Vec<Claimed>> = BTreeMap::new();
    for event in claimed {
        by_deal
            .entry(event.object_id.clone())
            .or_default()
            .push(event);
    }
    let mut owners = Owners::new(client);
    for (object_id, events) in by_deal {
        let span = tracing::info_span!("hubspot.webhook", hubspot.deal_id = %object_id, events = events.len());
        let outcome = apply_one(pool, bus, client, &mut owners, &object_id, &events)
            .instrument(span)
            .await;
        let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
        match outcome {
            Ok((status, outcome)) => {
                sqlx::query(
                    "update hubspot_webhook_events set status = $2, outcome = $3, \
                       processed_at = now(), last_error = null \
                     where event_id = any($1)",
                )
                .bind(&ids)
                .bind(status)
                .bind(outcome)
                .execute(pool)
                .await?;
            }
            Err(error) => {
                tracing::warn!(hubspot.deal_id = %object_id, error.code = error.code, error = %error, "a hubspot webhook event failed; it will be retried");
                let attempts = events.iter().map(|e| e.attempts).max().unwrap_or(1);
                let wait_ms =
                    i64::try_from(settings.backoff(attempts).as_millis()).unwrap_or(i64::MAX);
                sqlx::query(
                    "update hubspot_webhook_events set last_error = $2, \
                       available_at = now() + make_interval(secs => $3::double precision / 1000) \
                     where event_id = any($1)",
                )
                .bind(&ids)
                .bind(error.code)
                .bind(wait_ms)
                .execute(pool)
                .await?;
            }
        }
    }
    Ok(count)
}

/// Reads the deal an event names and applies it: `(status, outcome)` of its events.
async fn apply_one(
    pool: &PgPool,
    bus: &CommandBus,
    client: &HubSpotClient,
    owners: &mut Owners,
    object_id: &str,
    events: &[Claimed],
) -> Result<(&'static str, &'static str), SyncFailed> {
    let Ok(crm_id) = CrmId::parse(object_id) else {
        return Ok(("ignored", "invalid_object_id"));
    };
    let Some(deal) = client
        .read_deal(&crm_id, DEAL_PROPERTIES)
        .await
        .map_err(SyncFailed::connector)?
    else {
        return Ok(("ignored", "not_found"));
    };
    let mut meta = CommandMeta::system(SYNC_ACTOR);
    if let Some(first) = events.first() {
        meta.causation_id = format!("hubspot-webhook:{}", first.event_id);
    }
    let id = deal_sync::deal_id_for(&crm_id).to_string();
    let before = history::state_at::<Deal>(pool, &id, i64::MAX)
        .await
        .map_err(SyncFailed::store)?;
    let synced = deal_sync::apply_deal(pool, bus, &meta, owners, &deal).await?;
    let after = history::state_at::<Deal>(pool, &id, i64::MAX)
        .await
        .map_err(SyncFailed::store)?;
    if let Some(after) = after.deal.as_ref() {
        record_signals(bus, &meta, events, before.deal.as_ref(), after).await?;
    }
    Ok((
        "processed",
        match synced {
            Synced::Created => "created",
            Synced::Updated => "updated",
            Synced::Unchanged => "unchanged",
            Synced::Failed => "failed",
        },
    ))
}

/// Records the `hubspot` signal of each deal creation, stage change and amount change the
/// batch applied (dedup key: HubSpot's `eventId`, so a redelivered or retried event is
/// recorded once).
async fn record_signals(
    bus: &CommandBus,
    meta: &CommandMeta,
    events: &[Claimed],
    before: Option<&DealView>,
    after: &DealView,
) -> Result<(), SyncFailed> {
    for event in events {
        let Some(signal) = signals::hubspot_deal_signal(
            &event.event_id,
            &event.subscription_type,
            event.property_name.as_deref(),
            event.occurred_at,
            before,
            after,
        ) else {
            continue;
        };
        signals::record(bus, signal, meta)
            .await
            .map_err(SyncFailed::command)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deal_events_wait_deletions_and_unknown_types_are_ignored() {
        // (subscription type, status, outcome)
        let table = [
            ("deal.creation", "pending", None),
            ("deal.propertyChange", "pending", None),
            ("deal.deletion", "ignored", Some("deletion")),
            ("contact.creation", "ignored", Some("unsupported_type")),
            ("object.propertyChange", "ignored", Some("unsupported_type")),
        ];
        for (kind, status, outcome) in table {
            assert_eq!(initial_status(kind), (status, outcome), "{kind}");
        }
    }

    #[test]
    fn retries_back_off_doubling_up_to_the_cap() {
        let settings = WebhookSettings::default();
        // (attempts so far, wait s)
        let table = [
            (1, 10),
            (2, 20),
            (3, 40),
            (9, 2_560),
            (10, 3_600),
            (99, 3_600),
        ];
        for (attempts, wait) in table {
            assert_eq!(settings.backoff(attempts).as_secs(), wait, "{attempts}");
        }
    }
}
