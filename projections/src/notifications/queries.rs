//! The notifications a user sees now, derived from the read models of what they are about
//! (DESIGN: every number traced to events): the queue (overdue and stale moves), outcomes
//! (replies), agent runs (failures), alerts (connectors, hygiene, sync) and deals (risk
//! flags), with the user's receipts from `notification_receipts`.
//!
//! Each notification's id is [`notification_id`] of a key naming its cause, so a receipt
//! holds as long as that cause does: a move's overdue notification is keyed by its due
//! time (a new due time is a new notification), an alert's by the time it was raised, a
//! deal's by its set of flags, the stale moves' count by owner and UTC day.

use std::collections::HashMap;

use caseyos_domain::agent_run::{AgentRun, RunError};
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::alerts::Alert;
use caseyos_domain::api::{NotificationSource, NotificationView};
use caseyos_domain::deals::{risk_flags, Deal, RiskConfig};
use caseyos_domain::notifications::{notification_id, NotificationKind, Priority, PriorityCounts};
use caseyos_domain::outcomes::{Outcome, OutcomeView};
use caseyos_domain::queue::QueueItem;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// The read models notifications are derived from (a query settles on these).
pub const NOTIFICATION_VIEWS: &[&str] = &[
    "queue",
    "outcomes",
    "agent_runs",
    "alerts",
    "deals",
    "notification_receipts",
];
/// A pending move undecided for longer than this is stale.
pub const STALE_AFTER_HOURS: i64 = 24;
/// Replies and failed runs show for this long after they happened.
pub const SHOWN_FOR_DAYS: i64 = 7;
/// At most this many of one source (the oldest overdue moves, the newest replies, …).
const PER_SOURCE: i64 = 200;

/// Whose notifications: the user (receipts are theirs) and whose moves and runs they see
/// (`None`: everyone's — viewers and admins).
#[derive(Clone, Debug)]
pub struct Audience {
    pub user: String,
    pub owner: Option<String>,
    pub risk: RiskConfig,
}

/// Which of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Shown {
    /// Not acknowledged (read or not): the list's default.
    #[default]
    Open,
    /// Neither read nor acknowledged.
    Unread,
    /// Acknowledged ones too.
    All,
}

/// Every current notification of `audience` at `now`, most important first, then newest.
pub async fn current(
    pool: &PgPool,
    audience: &Audience,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<NotificationView>> {
    let owner = audience.owner.as_deref();
    let mut all = overdue_moves(pool, owner, now).await?;
    all.extend(stale_moves(pool, owner, now).await?);
    all.extend(replies(pool, owner, now).await?);
    all.extend(failed_runs(pool, owner, now).await?);
    all.extend(open_alerts(pool).await?);
    all.extend(deals_at_risk(pool, owner, now, &audience.risk).await?);
    all.retain(|n| n.expires_at.is_none_or(|e| e > now));
    with_receipts(pool, &audience.user, &mut all).await?;
    all.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then(b.happened_at.cmp(&a.happened_at))
            .then(a.id.cmp(&b.id))
    });
    Ok(all)
}

/// Whether `n` is shown under `shown`.
pub fn shown(n: &NotificationView, shown: Shown) -> bool {
    match shown {
        Shown::Open => n.acknowledged_at.is_none(),
        Shown::Unread => n.acknowledged_at.is_none() && n.read_at.is_none(),
        Shown::All => true,
    }
}

/// The unread ones per priority.
pub fn unread_counts(all: &[NotificationView]) -> PriorityCounts {
    let mut counts = PriorityCounts::default();
    for n in all.iter().filter(|n| shown(n, Shown::Unread)) {
        counts.add(n.priority);
    }
    counts
}

fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn source(aggregate_type: &str, id: impl ToString) -> Option<NotificationSource> {
    Some(NotificationSource {
        aggregate_type: aggregate_type.into(),
        id: id.to_string(),
    })
}

/// A notification of one cause, unread.
#[allow(clippy::too_many_arguments)]
fn notification(
    key: String,
    kind: NotificationKind,
    priority: Priority,
    title: String,
    message: String,
    link: String,
    source: Option<NotificationSource>,
    happened_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    demo: bool,
) -> NotificationView {
    NotificationView {
        id: notification_id(&key),
        kind,
        priority,
        title,
        message,
        link,
        source,
        count: 1,
        happened_at,
        expires_at,
        read_at: None,
        acknowledged_at: None,
        demo,
    }
}

/// Pending moves past their due time, oldest due first.
async fn overdue_moves(
    pool: &PgPool,
    owner: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<NotificationView>> {
    let rows = sqlx::query(
        "select id, title, due_by, demo from queue_items \
         where status = 'pending' and due_by < $1 and ($2::text is null or owner = $2) \
         order by due_by, id limit $3",
    )
    .bind(now)
    .bind(owner)
    .bind(PER_SOURCE)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let id: Uuid = row.try_get("id")?;
            let title: String = row.try_get("title")?;
            let due: DateTime<Utc> = row.try_get("due_by")?;
            Ok(notification(
                format!("move_overdue:{id}:{}", at(due)),
                NotificationKind::MoveOverdue,
                Priority::High,
                format!("Overdue: {title}"),
                format!(
                    "This move was due {} and is still waiting for a decision.",
                    at(due)
                ),
                format!("/queue/{id}"),
                source(QueueItem::TYPE, id),
                due,
                None,
                row.try_get("demo")?,
            ))
        })
        .collect()
}

/// Per owner, the pending moves (not overdue) undecided for more than a day: one
/// notification counting them, per UTC day.
async fn stale_moves(
    pool: &PgPool,
    owner: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<NotificationView>> {
    let rows = sqlx::query(
        "select owner, count(*) as n, min(created_at) as oldest, max(created_at) as newest, \
                bool_and(demo) as demo \
         from queue_items \
         where status = 'pending' and created_at < $1 and (due_by is null or due_by >= $2) \
           and ($3::text is null or owner = $3) \
         group by owner order by owner",
    )
    .bind(now - Duration::hours(STALE_AFTER_HOURS))
    .bind(now)
    .bind(owner)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let who: String = row.try_get("owner")?;
            let n: i64 = row.try_get("n")?;
            let oldest: DateTime<Utc> = row.try_get("oldest")?;
            let newest: DateTime<Utc> = row.try_get("newest")?;
            let moves = if n == 1 { "move has" } else { "moves have" };
            let mut stale = notification(
                format!("moves_stale:{who}:{}", now.date_naive()),
                NotificationKind::MovesStale,
                Priority::Normal,
                format!("{n} {moves} waited over a day ({who})"),
                format!(
                    "{n} pending {} of {who}'s undecided for more than {STALE_AFTER_HOURS} hours; \
                     the oldest since {}.",
                    if n == 1 { "move" } else { "moves" },
                    at(oldest)
                ),
                "/queue?status=pending".into(),
                None,
                newest + Duration::hours(STALE_AFTER_HOURS),
                None,
                row.try_get("demo")?,
            );
            stale.count = u32::try_from(n).unwrap_or(u32::MAX);
            Ok(stale)
        })
        .collect()
}

/// Replies to our emails in the last week, newest first (of the audience's moves, and
/// those of no move).
async fn replies(
    pool: &PgPool,
    owner: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<NotificationView>> {
    let rows = sqlx::query(
        "select o.doc, coalesce(q.demo, false) as demo from outcomes o \
         left join queue_items q on q.id = o.item_id \
         where o.outcome_type = 'email_replied' and o.occurred_at > $1 \
           and ($2::text is null or q.owner = $2 or o.item_id is null) \
         order by o.occurred_at desc, o.id limit $3",
    )
    .bind(now - Duration::days(SHOWN_FOR_DAYS))
    .bind(owner)
    .bind(PER_SOURCE)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let o = row.try_get::<Json<OutcomeView>, _>("doc")?.0;
            let link = match (o.item_id, &o.subject.contact_id) {
                (Some(item), _) => format!("/queue/{item}"),
                (None, Some(contact)) => format!("/contacts/{contact}"),
                (None, None) => "/signals".into(),
            };
            Ok(notification(
                format!("reply:{}", o.id),
                NotificationKind::ReplyReceived,
                Priority::High,
                format!("Reply from {}", o.subject.who()),
                o.summary.clone(),
                link,
                source(Outcome::TYPE, o.id),
                o.occurred_at,
                Some(o.occurred_at + Duration::days(SHOWN_FOR_DAYS)),
                row.try_get("demo")?,
            ))
        })
        .collect()
}

/// Runs that failed or timed out in the last week, not dismissed and not since retried
/// with success, newest first (the audience's own, for operators).
async fn failed_runs(
    pool: &PgPool,
    owner: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<NotificationView>> {
    let rows = sqlx::query(
        "select a.id, a.agent, a.status, a.finished_at, a.doc -> 'error' as error from agent_runs a \
         where a.status in ('failed', 'timed_out') and not a.dismissed and a.finished_at > $1 \
           and ($2::text is null or a.requested_by = 'user:' || $2) \
           and not exists (select 1 from agent_runs r \
                           where r.retry_of = a.id and r.status = 'succeeded') \
         order by a.finished_at desc, a.id limit $3",
    )
    .bind(now - Duration::days(SHOWN_FOR_DAYS))
    .bind(owner)
    .bind(PER_SOURCE)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let id: Uuid = row.try_get("id")?;
            let agent: String = row.try_get("agent")?;
            let status: String = row.try_get("status")?;
            let finished: DateTime<Utc> = row.try_get("finished_at")?;
            let error = row
                .try_get::<Option<Json<RunError>>, _>("error")?
                .map(|e| e.0);
            let what = if status == "timed_out" {
                "timed out"
            } else {
                "failed"
            };
            let message = match error {
                Some(e) => format!("{} ({}). Retry it or dismiss it.", e.message, e.code),
                None => "Retry it or dismiss it.".into(),
            };
            Ok(notification(
                format!("run_failed:{id}"),
                NotificationKind::RunFailed,
                Priority::High,
                format!("{agent} run {what}"),
                message,
                format!("/runs/{id}"),
                source(AgentRun::TYPE, id),
                finished,
                Some(finished + Duration::days(SHOWN_FOR_DAYS)),
                false,
            ))
        })
        .collect()
}

/// Open alerts, with the alert's own severity as priority.
async fn open_alerts(pool: &PgPool) -> anyhow::Result<Vec<NotificationView>> {
    let rows = sqlx::query(
        "select id, kind, severity, raised_at, doc ->> 'title' as title, \
                doc ->> 'message' as message \
         from alerts where status = 'open' order by severity_rank, raised_at desc, id limit $1",
    )
    .bind(PER_SOURCE)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let id: Uuid = row.try_get("id")?;
            let kind: String = row.try_get("kind")?;
            let severity: String = row.try_get("severity")?;
            let raised: DateTime<Utc> = row.try_get("raised_at")?;
            let priority = Priority::ALL
                .into_iter()
                .find(|p| p.as_str() == severity)
                .unwrap_or(Priority::Normal);
            let link = if kind.starts_with("connector.") {
                "/settings/connectors"
            } else {
                "/hygiene"
            };
            Ok(notification(
                format!("alert:{id}:{}", at(raised)),
                NotificationKind::Alert,
                priority,
                row.try_get("title")?,
                row.try_get("message")?,
                link.into(),
                source(Alert::TYPE, id),
                raised,
                None,
                false,
            ))
        })
        .collect()
}

/// Open deals with risk flags (the audience's own, for operators): high with two flags or
/// more.
async fn deals_at_risk(
    pool: &PgPool,
    owner: Option<&str>,
    now: DateTime<Utc>,
    risk: &RiskConfig,
) -> anyhow::Result<Vec<NotificationView>> {
    let mut out = Vec::new();
    for deal in crate::deals::open_summaries(pool).await? {
        if owner.is_some_and(|o| o != deal.owner) {
            continue;
        }
        let flags = risk_flags(&deal, now, risk);
        if flags.is_empty() {
            continue;
        }
        let kinds: Vec<&str> = flags.iter().map(|f| f.kind.as_str()).collect();
        let rules: Vec<&str> = flags.iter().map(|f| f.rule.as_str()).collect();
        let priority = if flags.len() >= 2 {
            Priority::High
        } else {
            Priority::Normal
        };
        out.push(notification(
            format!("deal_at_risk:{}:{}", deal.id, kinds.join(",")),
            NotificationKind::DealAtRisk,
            priority,
            format!("{} is at risk", deal.name),
            format!("{}.", rules.join("; ")),
            format!("/deals/{}", deal.id),
            source(Deal::TYPE, deal.id),
            deal.updated_at,
            None,
            deal.demo,
        ));
        if out.len() as i64 >= PER_SOURCE {
            break;
        }
    }
    Ok(out)
}

/// Fills in when `user` read and acknowledged each.
async fn with_receipts(
    pool: &PgPool,
    user: &str,
    all: &mut [NotificationView],
) -> anyhow::Result<()> {
    let ids: Vec<Uuid> = all.iter().map(|n| n.id).collect();
    let rows = sqlx::query(
        "select notification_id, read_at, acknowledged_at from notification_receipts \
         where user_name = $1 and notification_id = any($2)",
    )
    .bind(user)
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let mut receipts = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: Uuid = row.try_get("notification_id")?;
        receipts.insert(
            id,
            (
                row.try_get::<Option<DateTime<Utc>>, _>("read_at")?,
                row.try_get::<Option<DateTime<Utc>>, _>("acknowledged_at")?,
            ),
        );
    }
    for n in all {
        if let Some((read, acknowledged)) = receipts.get(&n.id) {
            n.read_at = *read;
            n.acknowledged_at = *acknowledged;
        }
    }
    Ok(())
}
