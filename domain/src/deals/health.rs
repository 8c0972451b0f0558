//! The deal health score: 0–100 points from seven factors, each with its points, its
//! maximum and a reason in words; the points add up to the total. A **score, not a
//! probability**: 80 does not mean "80% likely to close" (HubSpot's deal score is a
//! probability, Gong's a percentile; this is neither — it says how well the deal is being
//! worked by rules anyone can read).
//!
//! Only open deals are scored. A won or lost deal is [`DealHealth::NotScored`]: there is
//! nothing left to work, HubSpot's deal score and Gong's likelihood describe open deals
//! only, and a lost deal at 0 would read the same as a neglected open deal at 0 (the seed
//! read a closed-lost 0 as "unknown"). The outcome is the deal's status.
//!
//! Integer arithmetic throughout; every division rounds down. Days are whole days (a part
//! day rounds down); dates compare in UTC.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::stage_time::{days_in_stage, whole_days, TypicalStageDays};
use super::state::DealView;
use super::types::{ActivityCounts, ActivityKind, DealStatus};

/// Most points engagement gives: activities in the recent window, weighted by kind.
pub const ENGAGEMENT_MAX: u8 = 25;
/// Most points activity recency gives.
pub const RECENCY_MAX: u8 = 15;
/// Most points the stage gives (its probability scaled to this).
pub const STAGE_MAX: u8 = 15;
/// Most points age in stage gives.
pub const STAGE_AGE_MAX: u8 = 15;
/// Most points the close date gives (pushes and a passed date cost them).
pub const CLOSE_DATE_MAX: u8 = 10;
/// Most points the amount gives.
pub const AMOUNT_MAX: u8 = 10;
/// Most points contacts involved give.
pub const CONTACTS_MAX: u8 = 10;
/// The score's scale.
pub const HEALTH_MAX: u8 = 100;

const _: () = assert!(
    ENGAGEMENT_MAX as u16
        + RECENCY_MAX as u16
        + STAGE_MAX as u16
        + STAGE_AGE_MAX as u16
        + CLOSE_DATE_MAX as u16
        + AMOUNT_MAX as u16
        + CONTACTS_MAX as u16
        == HEALTH_MAX as u16
);

/// Engagement points per activity kind (default: meeting 3, call 2, email 1, note 0 — a
/// note is the rep writing to themselves, not the buyer engaging).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ActivityWeights {
    pub email: u32,
    pub call: u32,
    pub meeting: u32,
    pub note: u32,
}

impl Default for ActivityWeights {
    fn default() -> Self {
        ActivityWeights {
            email: 1,
            call: 2,
            meeting: 3,
            note: 0,
        }
    }
}

impl ActivityWeights {
    pub const fn of(&self, kind: ActivityKind) -> u32 {
        match kind {
            ActivityKind::Email => self.email,
            ActivityKind::Call => self.call,
            ActivityKind::Meeting => self.meeting,
            ActivityKind::Note => self.note,
        }
    }
}

/// Recency points: full within `full_days` of the last activity, `half_days` half (rounded
/// down), none after `none_after_days` or without any activity; between `half_days` and
/// `none_after_days` a third (rounded down).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RecencyDays {
    pub full_days: u32,
    pub half_days: u32,
    pub none_after_days: u32,
}

/// What the score is computed with. Every field has a default ([`Default`]); a score says
/// whether it used them ([`HealthScore::defaults`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct HealthConfig {
    /// The engagement window, in days before `now` (default 30).
    pub engagement_window_days: u32,
    /// Engagement points per kind of activity.
    pub activity_weights: ActivityWeights,
    /// Weighted activities in the window that earn full engagement points (default 10:
    /// e.g. two meetings, a call and two emails).
    pub engagement_target: u32,
    /// Default: full within 3 days, half within 7, a third within 14 (the "no activity"
    /// flag's threshold), none after.
    pub recency: RecencyDays,
    pub typical_stage_days: TypicalStageDays,
    /// Points each close-date push costs (default 4: 10, 6, 2, then 0 at 3 pushes).
    pub points_per_push: u8,
    /// Contacts that earn full contact points (default 3); fewer earn their share.
    pub multithreaded_contacts: u32,
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            engagement_window_days: 30,
            activity_weights: ActivityWeights::default(),
            engagement_target: 10,
            recency: RecencyDays {
                full_days: 3,
                half_days: 7,
                none_after_days: 14,
            },
            typical_stage_days: TypicalStageDays::default(),
            points_per_push: 4,
            multithreaded_contacts: 3,
        }
    }
}

/// What a factor measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthFactorKind {
    Engagement,
    Recency,
    Stage,
    StageAge,
    CloseDate,
    Amount,
    Contacts,
}

/// One factor of the score: the points it gave out of its maximum, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HealthFactor {
    pub kind: HealthFactorKind,
    pub points: u8,
    pub max: u8,
    pub reason: String,
}

/// An open deal's score: the total and the factors it is the sum of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct HealthScore {
    /// 0–100, the sum of the factors' points.
    pub total: u8,
    pub factors: Vec<HealthFactor>,
    /// Whether the score was computed with [`HealthConfig::default`].
    pub defaults: bool,
}

/// A deal's health: scored while open, not scored once won or lost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DealHealth {
    Scored(HealthScore),
    NotScored { status: DealStatus, reason: String },
}

impl DealHealth {
    pub fn score(&self) -> Option<&HealthScore> {
        match self {
            DealHealth::Scored(score) => Some(score),
            DealHealth::NotScored { .. } => None,
        }
    }
}

/// The deal's health at `now`.
pub fn deal_health(view: &DealView, now: DateTime<Utc>, config: &HealthConfig) -> DealHealth {
    if !view.status.is_open() {
        return DealHealth::NotScored {
            status: view.status,
            reason: format!(
                "{} deals are not scored: the score is for deals still being worked",
                view.status.as_str()
            ),
        };
    }
    let factors = vec![
        engagement(view, now, config),
        recency(view, now, config),
        stage(view),
        stage_age(view, now, config),
        close_date(view, now, config),
        amount(view),
        contacts(view, config),
    ];
    let total = factors.iter().map(|f| f.points).sum();
    DealHealth::Scored(HealthScore {
        total,
        factors,
        defaults: *config == HealthConfig::default(),
    })
}

fn factor(kind: HealthFactorKind, points: u64, max: u8, reason: String) -> HealthFactor {
    HealthFactor {
        kind,
        points: u8::try_from(points.min(u64::from(max))).unwrap_or(max),
        max,
        reason,
    }
}

/// `max × part / whole`, rounded down; `max` when `whole` is 0.
fn share(max: u8, part: u64, whole: u64) -> u64 {
    if whole == 0 {
        return u64::from(max);
    }
    u64::from(max) * part.min(whole) / whole
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn engagement(view: &DealView, now: DateTime<Utc>, config: &HealthConfig) -> HealthFactor {
    let since = now - Duration::days(i64::from(config.engagement_window_days));
    let mut counts = ActivityCounts::default();
    let mut weighted = 0u64;
    for stamp in &view.recent_activities {
        if stamp.happened_at > since && stamp.happened_at <= now {
            counts.add(stamp.kind);
            weighted += u64::from(config.activity_weights.of(stamp.kind));
        }
    }
    let target = u64::from(config.engagement_target);
    let points = share(ENGAGEMENT_MAX, weighted, target);
    let reason = if counts.total() == 0 {
        format!(
            "no activity in the last {} days",
            config.engagement_window_days
        )
    } else {
        format!(
            "{}, {}, {}, {} in the last {} days: {weighted} of {target} weighted",
            plural(counts.meeting.into(), "meeting", "meetings"),
            plural(counts.call.into(), "call", "calls"),
            plural(counts.email.into(), "email", "emails"),
            plural(counts.note.into(), "note", "notes"),
            config.engagement_window_days,
        )
    };
    factor(HealthFactorKind::Engagement, points, ENGAGEMENT_MAX, reason)
}

fn recency(view: &DealView, now: DateTime<Utc>, config: &HealthConfig) -> HealthFactor {
    let Some(last) = view.last_activity_at else {
        return factor(
            HealthFactorKind::Recency,
            0,
            RECENCY_MAX,
            "no activity logged".into(),
        );
    };
    let days = whole_days(last, now);
    let r = config.recency;
    let max = u64::from(RECENCY_MAX);
    let points = if days <= r.full_days {
        max
    } else if days <= r.half_days {
        max / 2
    } else if days <= r.none_after_days {
        max / 3
    } else {
        0
    };
    let reason = format!("last activity {} ago", plural(days.into(), "day", "days"));
    factor(HealthFactorKind::Recency, points, RECENCY_MAX, reason)
}

fn stage(view: &DealView) -> HealthFactor {
    let probability = view.probability();
    let points = share(STAGE_MAX, probability.into(), 100);
    let reason = format!("{} ({probability}%)", view.stage.label);
    factor(HealthFactorKind::Stage, points, STAGE_MAX, reason)
}

/// Full points up to the stage's typical days, falling in a straight line to none at twice
/// them.
fn stage_age(view: &DealView, now: DateTime<Utc>, config: &HealthConfig) -> HealthFactor {
    let days = u64::from(days_in_stage(view, now));
    let typical = config.typical_stage_days.of(&view.stage.id);
    let t = u64::from(typical.days);
    let points = if days <= t {
        u64::from(STAGE_AGE_MAX)
    } else {
        share(STAGE_AGE_MAX, (2 * t).saturating_sub(days), t.max(1))
    };
    let reason = format!(
        "{} in {}; typical {}{}",
        plural(days, "day", "days"),
        view.stage.label,
        plural(t, "day", "days"),
        if typical.named {
            ""
        } else {
            " (no typical time set for this stage)"
        },
    );
    factor(HealthFactorKind::StageAge, points, STAGE_AGE_MAX, reason)
}

/// Each push costs `points_per_push`; a missing close date caps the factor at half; a close
/// date already passed gives nothing.
fn close_date(view: &DealView, now: DateTime<Utc>, config: &HealthConfig) -> HealthFactor {
    let pushes = view.close_date_pushes;
    let cost = u64::from(pushes) * u64::from(config.points_per_push);
    let after_pushes = u64::from(CLOSE_DATE_MAX).saturating_sub(cost);
    let pushed = plural(pushes.into(), "push", "pushes");
    let today = now.date_naive();
    let (points, reason) = match view.close_date {
        None => (
            after_pushes.min(u64::from(CLOSE_DATE_MAX / 2)),
            format!("no close date; {pushed}"),
        ),
        Some(date) if date < today => (
            0,
            format!(
                "close date {date} passed {} ago; {pushed}",
                plural((today - date).num_days().unsigned_abs(), "day", "days")
            ),
        ),
        Some(date) => (after_pushes, format!("close date {date}; {pushed}")),
    };
    factor(HealthFactorKind::CloseDate, points, CLOSE_DATE_MAX, reason)
}

/// Full points for an amount at its largest; a dropped amount its share of the largest
/// (rounded down); none without an amount.
fn amount(view: &DealView) -> HealthFactor {
    let (points, reason) = match view.amount {
        None => (0, "no amount".to_string()),
        Some(amount) if amount.minor <= 0 => (0, format!("amount {amount}")),
        Some(amount) => match view.peak_amount {
            Some(peak) if peak.currency == amount.currency && peak.minor > amount.minor => (
                share(
                    AMOUNT_MAX,
                    amount.minor.unsigned_abs(),
                    peak.minor.unsigned_abs(),
                ),
                format!("amount {amount}, down from {peak}"),
            ),
            _ => (u64::from(AMOUNT_MAX), format!("amount {amount}")),
        },
    };
    factor(HealthFactorKind::Amount, points, AMOUNT_MAX, reason)
}

fn contacts(view: &DealView, config: &HealthConfig) -> HealthFactor {
    let n = view.contacts.len() as u64;
    let full = u64::from(config.multithreaded_contacts);
    let points = share(CONTACTS_MAX, n, full);
    let reason = format!(
        "{} involved; {full} for full points",
        plural(n, "contact", "contacts")
    );
    factor(HealthFactorKind::Contacts, points, CONTACTS_MAX, reason)
}

#[cfg(test)]
mod tests;
