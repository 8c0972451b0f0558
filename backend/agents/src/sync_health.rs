//! SyncHealth: judges the CRM sync from its recorded state — healthy while the last good
//! sync is at most [`HEALTHY_MAX_LAG_SECS`] old, degraded up to [`DEGRADED_MAX_LAG_SECS`],
//! unhealthy beyond that, with no good sync at all, or when more than
//! [`MAX_FAILED_PERCENT`]% of the last hour's sync calls failed — and raises or resolves
//! its alerts. With no CRM configured it says "not connected" and judges nothing.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::alerts::{AlertKind, AlertSeverity, AlertSubject};
use caseyos_domain::api::FieldError;
use caseyos_domain::crm_sync::{sync_status, too_many_failures, SyncStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::hygiene::{read_failed, AlertSpec, Effect, SyncState};
use crate::{AgentError, Ctx, Outcome};

pub const NAME: &str = "SyncHealth";
pub const DOMAIN: AgentDomain = AgentDomain::DataHygiene;
pub const DESCRIPTION: &str = "Judges the CRM sync healthy, degraded or unhealthy from the time since its last good sync and the last hour's failed calls, and raises or resolves alerts.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

// The rule's thresholds are the sync read model's (one rule: `crm_sync::sync_status`).
pub use caseyos_domain::crm_sync::{
    DEGRADED_SECS as DEGRADED_MAX_LAG_SECS, HEALTHY_SECS as HEALTHY_MAX_LAG_SECS,
    MAX_FAILED_PERCENT,
};
/// The stable code of an unconfigured connector.
pub const NOT_CONNECTED: &str = "connector.not_connected";

/// Nothing to choose: `{}`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {}

pub fn example() -> serde_json::Value {
    serde_json::json!({})
}

pub fn schema() -> serde_json::Value {
    serde_json::json!({"type": "object", "properties": {}, "additionalProperties": false})
}

pub fn check(_input: &Input) -> Vec<FieldError> {
    Vec::new()
}

/// The sync's health.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Healthy,
    Degraded,
    Unhealthy,
    NotConnected,
}

impl Health {
    fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Degraded => "degraded",
            Health::Unhealthy => "unhealthy",
            Health::NotConnected => "not_connected",
        }
    }
}

/// The health of a connected sync at `now`, and why.
pub fn judge(state: &SyncState, now: DateTime<Utc>) -> (Health, Vec<String>) {
    let lag = state
        .last_good_sync
        .map(|(_, at)| (now - at).num_seconds().max(0));
    let mut reasons = Vec::new();
    match lag {
        None => reasons.push("no sync has completed yet".to_string()),
        Some(lag) if lag > DEGRADED_MAX_LAG_SECS => reasons.push(format!(
            "the last good sync was {lag} s ago (unhealthy beyond {DEGRADED_MAX_LAG_SECS} s)"
        )),
        Some(lag) if lag > HEALTHY_MAX_LAG_SECS => reasons.push(format!(
            "the last good sync was {lag} s ago (healthy: at most {HEALTHY_MAX_LAG_SECS} s)"
        )),
        Some(_) => {}
    }
    if too_many_failures(state.calls_last_hour, state.failed_calls_last_hour) {
        reasons.push(format!(
            "{} of the last hour's {} sync calls failed (more than {MAX_FAILED_PERCENT}%)",
            state.failed_calls_last_hour, state.calls_last_hour
        ));
    }
    let health = match sync_status(
        true,
        lag,
        state.calls_last_hour,
        state.failed_calls_last_hour,
    ) {
        SyncStatus::Healthy => Health::Healthy,
        SyncStatus::Degraded => Health::Degraded,
        // No completed sync is as bad as a stale one for alerting (the API says
        // `never_synced`; the reasons say the same).
        SyncStatus::Unhealthy | SyncStatus::NeverSynced => Health::Unhealthy,
        SyncStatus::NotConnected => Health::NotConnected,
    };
    (health, reasons)
}

#[derive(Debug, Serialize)]
struct Thresholds {
    healthy_max_lag_secs: i64,
    degraded_max_lag_secs: i64,
    max_failed_percent: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    status: Health,
    connected: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    message: String,
    last_good_sync_id: Option<Uuid>,
    last_good_sync_at: Option<DateTime<Utc>>,
    lag_secs: Option<i64>,
    last_failure_at: Option<DateTime<Utc>>,
    last_failure: Option<String>,
    calls_last_hour: u64,
    failed_calls_last_hour: u64,
    reasons: Vec<String>,
    thresholds: Thresholds,
}

pub async fn run(_input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let state = ctx.contacts.sync_state().await.map_err(read_failed)?;
    let (status, reasons) = if state.connected {
        judge(&state, ctx.now)
    } else {
        (Health::NotConnected, Vec::new())
    };
    let message = match status {
        Health::NotConnected => {
            "HubSpot is not connected: nothing is synced, so there is no sync to judge.".into()
        }
        Health::Healthy => "The CRM sync is healthy.".to_string(),
        Health::Degraded | Health::Unhealthy => {
            format!(
                "The CRM sync is {}: {}.",
                status.as_str(),
                reasons.join("; ")
            )
        }
    };
    // The sync the alert is about: the last good one, or none yet.
    let sync_key = state
        .last_good_sync
        .map_or_else(|| "never".to_string(), |(id, _)| id.to_string());
    let subjects: Vec<AlertSubject> = state
        .last_good_sync
        .map(|(id, _)| AlertSubject::Sync(id))
        .into_iter()
        .chain(
            state
                .last_failure
                .as_ref()
                .map(|(id, _, _)| AlertSubject::Sync(*id)),
        )
        .collect();
    let alert = |kind: AlertKind, severity: AlertSeverity| {
        Effect::RaiseAlert(AlertSpec {
            key: format!("{}/{sync_key}", kind.as_str()),
            kind,
            severity,
            title: format!("The CRM sync is {}", status.as_str()),
            message: message.clone(),
            subjects: subjects.clone(),
        })
    };
    let effects = match status {
        Health::NotConnected => Vec::new(),
        Health::Healthy => vec![
            Effect::ResolveAlerts(AlertKind::SyncDegraded),
            Effect::ResolveAlerts(AlertKind::SyncUnhealthy),
        ],
        Health::Degraded => vec![
            Effect::ResolveAlerts(AlertKind::SyncUnhealthy),
            alert(AlertKind::SyncDegraded, AlertSeverity::Normal),
        ],
        Health::Unhealthy => vec![
            Effect::ResolveAlerts(AlertKind::SyncDegraded),
            alert(AlertKind::SyncUnhealthy, AlertSeverity::High),
        ],
    };
    let report = Report {
        status,
        connected: state.connected,
        code: (status == Health::NotConnected).then_some(NOT_CONNECTED),
        message: message.clone(),
        last_good_sync_id: state.last_good_sync.map(|(id, _)| id),
        last_good_sync_at: state.last_good_sync.map(|(_, at)| at),
        lag_secs: state
            .last_good_sync
            .filter(|_| state.connected)
            .map(|(_, at)| (ctx.now - at).num_seconds().max(0)),
        last_failure_at: state.last_failure.as_ref().map(|(_, at, _)| *at),
        last_failure: state.last_failure.as_ref().map(|(_, _, why)| why.clone()),
        calls_last_hour: state.calls_last_hour,
        failed_calls_last_hour: state.failed_calls_last_hour,
        reasons,
        thresholds: Thresholds {
            healthy_max_lag_secs: HEALTHY_MAX_LAG_SECS,
            degraded_max_lag_secs: DEGRADED_MAX_LAG_SECS,
            max_failed_percent: MAX_FAILED_PERCENT,
        },
    };
    let mut outcome = Outcome::report(&report, format!("## Sync health\n\n{message}\n"))?;
    outcome.effects = effects;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::hygiene::testing::FakeContacts;
    use crate::llm::testing::{fixed_now, Harness};

    fn connected(lag_secs: Option<i64>, calls: u64, failed: u64) -> SyncState {
        SyncState {
            connected: true,
            last_good_sync: lag_secs
                .map(|s| (Uuid::from_u128(42), fixed_now() - Duration::seconds(s))),
            last_failure: None,
            calls_last_hour: calls,
            failed_calls_last_hour: failed,
        }
    }

    #[test]
    fn health_follows_the_lag_and_the_failed_share_at_each_threshold() {
        // (lag, calls, failed, health)
        let table = [
            (Some(0), 0, 0, Health::Healthy),
            (Some(300), 100, 5, Health::Healthy),
            (Some(301), 100, 0, Health::Degraded),
            (Some(900), 0, 0, Health::Degraded),
            (Some(901), 0, 0, Health::Unhealthy),
            (None, 0, 0, Health::Unhealthy),
            (Some(10), 100, 6, Health::Unhealthy),
            (Some(10), 20, 1, Health::Healthy),
            (Some(10), 19, 1, Health::Unhealthy),
            (Some(600), 100, 50, Health::Unhealthy),
        ];
        for (lag, calls, failed, expected) in table {
            let (health, reasons) = judge(&connected(lag, calls, failed), fixed_now());
            assert_eq!(health, expected, "lag {lag:?}, {failed} of {calls} failed");
            assert_eq!(
                reasons.is_empty(),
                expected == Health::Healthy,
                "{reasons:?}"
            );
        }
    }

    async fn run_with(sync: SyncState) -> Outcome {
        let fake = FakeContacts {
            sync,
            ..FakeContacts::default()
        };
        let harness = Harness::offline();
        let ctx = harness.ctx().with_contacts(&fake);
        let spec = crate::find(NAME).expect("registered");
        crate::run(spec, &serde_json::json!({}), &ctx)
            .await
            .expect("runs")
    }

    #[tokio::test]
    async fn without_hubspot_it_says_not_connected_and_raises_nothing() {
        let outcome = run_with(SyncState::default()).await;
        assert_eq!(outcome.output["status"], "not_connected");
        assert_eq!(outcome.output["code"], NOT_CONNECTED);
        assert!(outcome.effects.is_empty(), "{:?}", outcome.effects);
    }

    #[tokio::test]
    async fn an_unhealthy_sync_raises_one_alert_keyed_by_the_sync_and_a_healthy_one_resolves() {
        let outcome = run_with(connected(Some(2000), 10, 0)).await;
        assert_eq!(outcome.output["status"], "unhealthy");
        let raised: Vec<&AlertSpec> = outcome
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::RaiseAlert(a) => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(raised.len(), 1);
        assert_eq!(
            raised[0].key,
            format!("sync.unhealthy/{}", Uuid::from_u128(42))
        );
        assert_eq!(raised[0].severity, AlertSeverity::High);

        let outcome = run_with(connected(Some(20), 10, 0)).await;
        assert_eq!(outcome.output["status"], "healthy");
        assert_eq!(
            outcome.effects,
            vec![
                Effect::ResolveAlerts(AlertKind::SyncDegraded),
                Effect::ResolveAlerts(AlertKind::SyncUnhealthy)
            ]
        );
    }
}
