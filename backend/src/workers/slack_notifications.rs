//! Notifications out to Slack: every `slack_post_interval_secs`, while a bot token is
//! configured, the notifications of the whole workspace that arose in the last day and were
//! not posted yet go to their kind's channel (`slack_channels`) with `chat.postMessage` —
//! at most [`PER_PASS`] a pass, most important first, one instance at a time.
//!
//! Each is posted at most once: its `slack_posts` row is written `sending` before the call
//! and `sent` (with Slack's `ts`) or `failed` after; a row still `sending` on a later pass
//! (the process died between the call and the record) is marked `unknown` and not sent
//! again — a missed notification is better than a repeated one in a channel.

use std::time::Duration;

use caseyos_domain::api::NotificationView;
use caseyos_domain::deals::RiskConfig;
use caseyos_domain::notifications::Priority;
use caseyos_projections::notifications::{current, Audience};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::SlackConfig;
use crate::connectors::slack::SlackClient;
use crate::connectors::ConnectorError;

const ACTOR: &str = "slack_notifications";
/// The most notifications posted in one pass.
pub const PER_PASS: usize = 20;
/// Notifications older than this are not posted (a first start does not flood a channel).
const RECENT_HOURS: i64 = 24;
/// A `sending` row older than this is given up as `unknown`.
const SENDING_GRACE_SECS: i64 = 300;

/// What a pass needs.
#[derive(Clone)]
pub struct SlackNotifications {
    pub pool: PgPool,
    pub slack: SlackConfig,
    pub risk: RiskConfig,
    /// The channel of each kind (`Config::slack_channel`), resolved.
    pub channels: std::collections::BTreeMap<String, String>,
    /// Where the notifications' links point (`public_url`).
    pub public_url: String,
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlackPass {
    pub posted: usize,
    pub failed: usize,
    /// Another instance holds the lock.
    pub skipped: bool,
}

pub fn spawn(
    worker: SlackNotifications,
    interval: Duration,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    super::supervisor::supervise_every(ACTOR, Some(interval), None, shutdown, move || {
        let worker = worker.clone();
        async move { worker.tick(Utc::now()).await.map(drop) }
    })
}

/// The message of a notification.
fn message(n: &NotificationView, public_url: &str) -> (String, serde_json::Value) {
    let mark = match n.priority {
        Priority::Urgent => ":rotating_light:",
        Priority::High => ":warning:",
        Priority::Normal => ":bell:",
        Priority::Low => ":information_source:",
    };
    let demo = if n.demo { " (demo data)" } else { "" };
    let link = format!("{}{}", public_url.trim_end_matches('/'), n.link);
    let text = format!(
        "{mark} {}{demo}\n{}\n<{link}|Open in CaseyOS>",
        n.title, n.message
    );
    let blocks = json!([
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
            "{} · {}", n.priority.as_str(), n.happened_at.format("%Y-%m-%d %H:%M UTC"))}]},
    ]);
    (format!("{}{demo}: {}", n.title, n.message), blocks)
}

impl SlackNotifications {
    pub async fn tick(&self, now: DateTime<Utc>) -> anyhow::Result<SlackPass> {
        let ran =
            super::reactor::locked(&self.pool, ACTOR, false, async || self.pass(now).await).await?;
        Ok(ran.unwrap_or(SlackPass {
            skipped: true,
            ..SlackPass::default()
        }))
    }

    async fn pass(&self, now: DateTime<Utc>) -> anyhow::Result<SlackPass> {
        sqlx::query(
            "update slack_posts set status = 'unknown', updated_at = now() \
             where status = 'sending' and updated_at < now() - make_interval(secs => $1)",
        )
        .bind(SENDING_GRACE_SECS as f64)
        .execute(&self.pool)
        .await?;
        let audience = Audience {
            user: format!("system:{ACTOR}"),
            owner: None,
            risk: self.risk.clone(),
        };
        let since = now - chrono::Duration::hours(RECENT_HOURS);
        let fresh: Vec<NotificationView> = current(&self.pool, &audience, now)
            .await?
            .into_iter()
            .filter(|n| n.happened_at >= since)
            .collect();
        let ids: Vec<uuid::Uuid> = fresh.iter().map(|n| n.id).collect();
        let posted: Vec<uuid::Uuid> = sqlx::query_scalar(
            "select notification_id from slack_posts where notification_id = any($1)",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        let client = SlackClient::new(&self.slack)?;
        let mut pass = SlackPass::default();
        let due = fresh.iter().filter(|n| !posted.contains(&n.id));
        for n in due.take(PER_PASS) {
            let kind = n.kind.as_str();
            let Some(channel) = self
                .channels
                .get(kind)
                .or_else(|| self.channels.get("default"))
            else {
                continue;
            };
            let claimed = sqlx::query(
                "insert into slack_posts (notification_id, kind, channel, status) \
                 values ($1, $2, $3, 'sending') on conflict (notification_id) do nothing",
            )
            .bind(n.id)
            .bind(kind)
            .bind(channel)
            .execute(&self.pool)
            .await?
            .rows_affected()
                == 1;
            if !claimed {
                continue;
            }
            let (text, blocks) = message(n, &self.public_url);
            match client.post_message(channel, &text, Some(&blocks)).await {
                Ok(ts) => {
                    pass.posted += 1;
                    sqlx::query(
                        "update slack_posts set status = 'sent', ts = $2, updated_at = now() \
                         where notification_id = $1",
                    )
                    .bind(n.id)
                    .bind(ts)
                    .execute(&self.pool)
                    .await?;
                }
                Err(error) => {
                    pass.failed += 1;
                    tracing::warn!(error.code = error.code(), notification = %n.id, "a Slack post failed");
                    // Throttled: not posted, so tried again on a later pass. No answer: it
                    // may have been posted — not again. Refused: recorded as failed.
                    let status = match &error {
                        ConnectorError::RateLimited { .. } => None,
                        ConnectorError::Timeout { .. }
                        | ConnectorError::Transport { .. }
                        | ConnectorError::ServerError { .. } => Some("unknown"),
                        _ => Some("failed"),
                    };
                    match status {
                        None => {
                            sqlx::query("delete from slack_posts where notification_id = $1")
                                .bind(n.id)
                                .execute(&self.pool)
                                .await?;
                        }
                        Some(status) => {
                            sqlx::query(
                                "update slack_posts set status = $2, error_code = $3, \
                                 updated_at = now() where notification_id = $1",
                            )
                            .bind(n.id)
                            .bind(status)
                            .bind(error.code())
                            .execute(&self.pool)
                            .await?;
                        }
                    }
                }
            }
        }
        Ok(pass)
    }
}
