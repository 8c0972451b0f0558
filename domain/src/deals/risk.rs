//! Risk flags: what is wrong with an open deal, each flag with the evidence that raised it
//! (the fact, and the event that established it and when, where the view knows).
//!
//! Only open deals are flagged: a won or lost deal has no risk left to act on. Thresholds
//! are [`RiskConfig`], whose [`Default`] is issue 12's (marked as defaults on every flag).
//! Days are whole days (a part day rounds down); dates compare in UTC.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::stage_time::{days_in_stage, stage_entry_event, whole_days, TypicalStageDays};
use super::state::DealView;
use crate::kernel::Money;

/// Default: flag a deal with no activity for more than this many days.
pub const DEFAULT_NO_ACTIVITY_DAYS: u32 = 14;
/// Default: flag a deal whose close date was pushed at least this many times.
pub const DEFAULT_MAX_CLOSE_DATE_PUSHES: u32 = 3;
/// Default: a deal with at most this many contacts is single-threaded.
pub const DEFAULT_SINGLE_THREADED_CONTACTS: usize = 1;

/// The flags' thresholds. [`Default`] is issue 12's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RiskConfig {
    /// No activity for more than this many days (default 14).
    pub no_activity_days: u32,
    /// Close date pushed at least this many times (default 3).
    pub max_close_date_pushes: u32,
    /// At most this many contacts is single-threaded (default 1).
    pub single_threaded_contacts: usize,
    /// Stalled: longer in the stage than its typical days.
    pub typical_stage_days: TypicalStageDays,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            no_activity_days: DEFAULT_NO_ACTIVITY_DAYS,
            max_close_date_pushes: DEFAULT_MAX_CLOSE_DATE_PUSHES,
            single_threaded_contacts: DEFAULT_SINGLE_THREADED_CONTACTS,
            typical_stage_days: TypicalStageDays::default(),
        }
    }
}

/// What is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    NoActivity,
    PastCloseDate,
    StalledInStage,
    CloseDatePushed,
    SingleThreaded,
    AmountDropped,
    NoNextStep,
}

impl RiskKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            RiskKind::NoActivity => "no_activity",
            RiskKind::PastCloseDate => "past_close_date",
            RiskKind::StalledInStage => "stalled_in_stage",
            RiskKind::CloseDatePushed => "close_date_pushed",
            RiskKind::SingleThreaded => "single_threaded",
            RiskKind::AmountDropped => "amount_dropped",
            RiskKind::NoNextStep => "no_next_step",
        }
    }
}

/// One fact behind a flag: in words, with the event that established it and when, where
/// the view knows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub fact: String,
    /// The event type (`DealActivityLogged`, `DealStageChanged`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

impl Evidence {
    fn fact(fact: String) -> Self {
        Evidence {
            fact,
            event: None,
            at: None,
        }
    }

    fn event(fact: String, event: &str, at: DateTime<Utc>) -> Self {
        Evidence {
            fact,
            event: Some(event.to_string()),
            at: Some(at),
        }
    }
}

/// A raised flag: what, the threshold in words, and the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RiskFlag {
    pub kind: RiskKind,
    /// The rule, with its threshold (`no activity for more than 14 days`).
    pub rule: String,
    /// Whether the rule's threshold is the default; `None` for a rule without one (past
    /// close date, amount dropped, no next step).
    pub default_threshold: Option<bool>,
    pub evidence: Vec<Evidence>,
}

/// The flags an open deal raises at `now`, in [`RiskKind`] order; none for a won or lost
/// deal.
pub fn risk_flags(view: &DealView, now: DateTime<Utc>, config: &RiskConfig) -> Vec<RiskFlag> {
    if !view.status.is_open() {
        return Vec::new();
    }
    let defaults = RiskConfig::default();
    [
        no_activity(view, now, config, &defaults),
        past_close_date(view, now),
        stalled_in_stage(view, now, config, &defaults),
        close_date_pushed(view, config, &defaults),
        single_threaded(view, config, &defaults),
        amount_dropped(view),
        no_next_step(view),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn flag(kind: RiskKind, rule: String, default: Option<bool>, evidence: Vec<Evidence>) -> RiskFlag {
    RiskFlag {
        kind,
        rule,
        default_threshold: default,
        evidence,
    }
}

fn days(n: u32) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

fn no_activity(
    view: &DealView,
    now: DateTime<Utc>,
    config: &RiskConfig,
    defaults: &RiskConfig,
) -> Option<RiskFlag> {
    let limit = config.no_activity_days;
    let evidence = match view.last_activity_at {
        Some(last) => {
            let idle = whole_days(last, now);
            let kind = view
                .recent_activities
                .first()
                .filter(|s| s.happened_at == last)
                .map_or("activity", |s| s.kind.as_str());
            (idle > limit).then(|| {
                Evidence::event(
                    format!("last activity ({kind}) {} ago", days(idle)),
                    "DealActivityLogged",
                    last,
                )
            })?
        }
        None => {
            let age = whole_days(view.created_at, now);
            (age > limit).then(|| {
                Evidence::event(
                    format!(
                        "no activity logged since the deal was created {} ago",
                        days(age)
                    ),
                    "DealCreated",
                    view.created_at,
                )
            })?
        }
    };
    Some(flag(
        RiskKind::NoActivity,
        format!("no activity for more than {}", days(limit)),
        Some(limit == defaults.no_activity_days),
        vec![evidence],
    ))
}

fn past_close_date(view: &DealView, now: DateTime<Utc>) -> Option<RiskFlag> {
    let date = view.close_date?;
    let today = now.date_naive();
    if date >= today {
        return None;
    }
    let late = u32::try_from((today - date).num_days()).unwrap_or(u32::MAX);
    Some(flag(
        RiskKind::PastCloseDate,
        "close date has passed and the deal is still open".into(),
        None,
        vec![Evidence::fact(format!(
            "close date {date} was {} ago",
            days(late)
        ))],
    ))
}

fn stalled_in_stage(
    view: &DealView,
    now: DateTime<Utc>,
    config: &RiskConfig,
    defaults: &RiskConfig,
) -> Option<RiskFlag> {
    let in_stage = days_in_stage(view, now);
    let typical = config.typical_stage_days.of(&view.stage.id);
    if in_stage <= typical.days {
        return None;
    }
    let default = typical == defaults.typical_stage_days.of(&view.stage.id);
    let named = if typical.named {
        ""
    } else {
        " (no typical time set for this stage)"
    };
    Some(flag(
        RiskKind::StalledInStage,
        format!(
            "longer in {} than its typical {}{named}",
            view.stage.label,
            days(typical.days)
        ),
        Some(default),
        vec![Evidence::event(
            format!("in {} for {}", view.stage.label, days(in_stage)),
            stage_entry_event(view),
            view.stage_entered_at,
        )],
    ))
}

fn close_date_pushed(
    view: &DealView,
    config: &RiskConfig,
    defaults: &RiskConfig,
) -> Option<RiskFlag> {
    let limit = config.max_close_date_pushes;
    let pushes = view.close_date_pushes;
    if pushes < limit {
        return None;
    }
    let now_on = view
        .close_date
        .map_or_else(|| "no close date now".to_string(), |d| format!("now {d}"));
    Some(flag(
        RiskKind::CloseDatePushed,
        format!("close date pushed {limit} times or more"),
        Some(limit == defaults.max_close_date_pushes),
        vec![Evidence {
            fact: format!("close date pushed later {pushes} times; {now_on}"),
            event: Some("DealCloseDateChanged".into()),
            at: None,
        }],
    ))
}

fn single_threaded(
    view: &DealView,
    config: &RiskConfig,
    defaults: &RiskConfig,
) -> Option<RiskFlag> {
    let limit = config.single_threaded_contacts;
    let n = view.contacts.len();
    if n > limit {
        return None;
    }
    let fact = match n {
        0 => "no contacts associated".to_string(),
        1 => "1 contact associated".to_string(),
        n => format!("{n} contacts associated"),
    };
    Some(flag(
        RiskKind::SingleThreaded,
        format!("{limit} contact(s) or fewer"),
        Some(limit == defaults.single_threaded_contacts),
        vec![Evidence::fact(fact)],
    ))
}

/// The amount is below the largest it has had (same currency), or was cleared after it had
/// one.
fn amount_dropped(view: &DealView) -> Option<RiskFlag> {
    let peak = view.peak_amount?;
    let fact = match view.amount {
        None => format!("amount cleared; it was up to {peak}"),
        Some(now) if now.currency == peak.currency && now.minor < peak.minor => {
            let drop = peak.minor - now.minor;
            // Whole percent of the largest, rounded down.
            let percent = i128::from(drop) * 100 / i128::from(peak.minor.max(1));
            format!(
                "amount {now}, down {} ({percent}%) from its largest {peak}",
                Money::new(drop, peak.currency)
            )
        }
        Some(_) => return None,
    };
    Some(flag(
        RiskKind::AmountDropped,
        "amount below the largest it has had".into(),
        None,
        vec![Evidence::fact(fact)],
    ))
}

fn no_next_step(view: &DealView) -> Option<RiskFlag> {
    if view
        .next_step
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
    {
        return None;
    }
    let evidence = match view.next_step_set_at {
        Some(at) => Evidence::event("next step cleared".into(), "DealNextStepSet", at),
        None => Evidence::event(
            "no next step set since the deal was created".into(),
            "DealCreated",
            view.created_at,
        ),
    };
    Some(flag(
        RiskKind::NoNextStep,
        "no next step".into(),
        None,
        vec![evidence],
    ))
}

#[cfg(test)]
mod tests;
