//! Connector tokens kept alive: every few minutes, on every instance (the per-connector
//! advisory lock makes one refresh of each token), tokens expiring within the next 15
//! minutes are refreshed (not "within the hour": Google's access tokens live one hour and
//! HubSpot's 30 minutes, so every fresh token would be refreshed again at each tick); a refused refresh (`invalid_grant`) or one that keeps failing raises a
//! `connector.failing` alert, and a token expiring within 24 hours that cannot be refreshed
//! raises `connector.expiring`. Alerts are keyed per connector and day (or expiry), so a
//! condition that persists raises one alert, not one per tick. Authorizations nobody
//! completed are deleted.

use std::sync::Arc;
use std::time::Duration;

use caseyos_domain::alerts::{
    alert_id, Alert, AlertCommand, AlertKind, AlertSeverity, RaiseAlert, MAX_ALERT_KEY_CHARS,
    MAX_ALERT_MESSAGE_CHARS, MAX_ALERT_TITLE_CHARS,
};
use caseyos_domain::api::ConnectorStatus;
use caseyos_domain::connectors::ConnectorName;
use caseyos_domain::kernel::{Actor, Text};
use caseyos_store::{CommandBus, CommandMeta};
use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::connectors::credentials::{Credentials, STORED};
use crate::connectors::oauth::display_name;

/// Who the alerts are raised by (`system:connector_tokens`).
pub const ACTOR: &str = "connector_tokens";

/// When the worker looks and how far ahead.
#[derive(Clone, Debug)]
pub struct TokenSettings {
    /// Between two ticks (default 5 minutes).
    pub interval: Duration,
    /// Tokens expiring within this are refreshed (default 15 minutes: three ticks ahead of
    /// the five minutes within which a client refreshes on its own).
    pub refresh_within: chrono::Duration,
}

impl Default for TokenSettings {
    fn default() -> Self {
        TokenSettings {
            interval: Duration::from_secs(300),
            refresh_within: chrono::Duration::minutes(15),
        }
    }
}

/// What a tick did, per connector.
#[derive(Debug, Default)]
pub struct TokenTick {
    pub refreshed: Vec<ConnectorName>,
    pub failed: Vec<(ConnectorName, String)>,
    /// Alerts raised (their keys); an alert already open is not raised again.
    pub alerts: Vec<String>,
}

/// Runs [`tick`] at start and every `settings.interval` until shutdown, supervised (started again if it
/// panics).
pub fn spawn(
    credentials: Credentials,
    bus: Arc<CommandBus>,
    settings: TokenSettings,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let every = Some(settings.interval);
    super::supervisor::supervise_every(ACTOR, every, None, shutdown, move || {
        let (credentials, bus, settings) = (credentials.clone(), bus.clone(), settings.clone());
        async move { tick(&credentials, &bus, &settings).await.map(drop) }
    })
}

/// Refreshes what expires within `settings.refresh_within`, then raises the alerts the
/// connectors' states call for.
pub async fn tick(
    credentials: &Credentials,
    bus: &CommandBus,
    settings: &TokenSettings,
) -> anyhow::Result<TokenTick> {
    let mut done = TokenTick::default();
    if let Err(error) = credentials.forget_expired_authorizations().await {
        tracing::warn!(error = %error, "deleting expired connector authorizations failed");
    }
    for name in credentials
        .refreshable_within(settings.refresh_within)
        .await?
    {
        match credentials
            .refresh_locked(name, settings.refresh_within)
            .await
        {
            Ok(_) => done.refreshed.push(name),
            Err(error) => done.failed.push((name, error.code().to_string())),
        }
    }
    let now = caseyos_store::now();
    for name in STORED {
        let state = credentials.state(*name).await?;
        let alert = match state.status(now) {
            ConnectorStatus::Expiring => {
                let expires = state
                    .expires_at
                    .map(|at| at.to_rfc3339())
                    .unwrap_or_default();
                Some((
                    AlertKind::ConnectorExpiring,
                    AlertSeverity::High,
                    format!("{}/{name}/{expires}", AlertKind::ConnectorExpiring.as_str()),
                    format!("{}'s token expires within 24 hours", display_name(*name)),
                    format!(
                        "The {} token expires at {expires} and cannot be refreshed. Connect {} \
                         again on the connectors page before then, or its actions will fail \
                         with connector.not_connected.",
                        display_name(*name),
                        display_name(*name)
                    ),
                ))
            }
            ConnectorStatus::Error => {
                let code = state
                    .last_error
                    .as_ref()
                    .map(|(code, _)| code.clone())
                    .unwrap_or_else(|| "connector.invalid_grant".into());
                Some((
                    AlertKind::ConnectorFailing,
                    AlertSeverity::Urgent,
                    format!(
                        "{}/{name}/{}",
                        AlertKind::ConnectorFailing.as_str(),
                        now.date_naive()
                    ),
                    format!("{} needs to be connected again", display_name(*name)),
                    format!(
                        "{}'s stored credential no longer works ({code}). Connect it again on \
                         the connectors page; until then its actions fail.",
                        display_name(*name)
                    ),
                ))
            }
            ConnectorStatus::Connected | ConnectorStatus::NotConnected => None,
        };
        if let Some((kind, severity, key, title, message)) = alert {
            if raise(bus, kind, severity, &key, &title, &message, now).await? {
                done.alerts.push(key);
            }
        }
    }
    Ok(done)
}

/// Raises an alert by `system:connector_tokens`; answers whether it was new (an open one
/// with the key records nothing).
pub async fn raise(
    bus: &CommandBus,
    kind: AlertKind,
    severity: AlertSeverity,
    key: &str,
    title: &str,
    message: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let text = |raw: &str, max: usize| {
        let cut: String = raw.chars().take(max).collect();
        Text::parse(&cut, max).map_err(|m| anyhow::anyhow!("alert text: {m}"))
    };
    let key = text(key, MAX_ALERT_KEY_CHARS)?;
    let id = alert_id(key.as_str());
    let command = AlertCommand::Raise(Box::new(RaiseAlert {
        key,
        kind,
        severity,
        title: text(title, MAX_ALERT_TITLE_CHARS)?,
        message: text(message, MAX_ALERT_MESSAGE_CHARS)?,
        subjects: Vec::new(),
        run_id: None,
        by: Actor::system(ACTOR),
        at,
    }));
    let committed = bus
        .execute::<Alert>(id, command, &CommandMeta::system(ACTOR))
        .await
        .map_err(|e| anyhow::anyhow!("raising the alert: {e}"))?;
    Ok(committed.events > 0)
}
