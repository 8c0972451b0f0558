//! The rules the periodic sweep evaluates (the seed's HubSpot signal rules, which were the
//! only path that produced titled moves in production), over CaseyOS's own read models:
//!
//! | rule | condition | priority |
//! |---|---|---|
//! | `deal_stalled` | an open deal unchanged for ≥ 7 days | CRITICAL if amount ≥ $50k; HIGH if ≥ $10k or stalled ≥ 14 d; else MEDIUM |
//! | `deal_closing_soon` | an open deal closing in 0–7 days | HIGH, CRITICAL if ≥ $50k |
//! | `big_deal_moved` | an open deal of ≥ $50k changed ≤ 1 day ago | HIGH |
//! | `lead_gone_cold` | a contact last contacted 14–90 days ago | LOW, MEDIUM if ≥ 30 d |
//!
//! Score: CRITICAL 95, HIGH 80, MEDIUM 60, LOW 40; +10 if the amount is ≥ $50k, else +5 if
//! ≥ $10k; +5 if stalled ≥ 14 days; +10 if ≤ 3 days to close; at most 100. Due: CRITICAL
//! now, HIGH in 1 day, MEDIUM in 3, LOW in 7. Fixed from the seed: closed deals never match
//! (the seed flagged won deals as stalled), amounts compare in whole dollars of integer minor
//! units, and a day is a UTC calendar day.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::SignalKind;
use crate::kernel::Money;

/// Days without a change before an open deal counts as stalled.
pub const STALLED_DAYS: i64 = 7;
/// Stalled this long raises the priority (and the score by [`STALLED_LONG_BONUS`]).
pub const STALLED_LONG_DAYS: i64 = 14;
/// A deal closing within this many days (0 = today) is closing soon.
pub const CLOSING_SOON_DAYS: i64 = 7;
/// Closing within this many days adds [`CLOSING_VERY_SOON_BONUS`].
pub const CLOSING_VERY_SOON_DAYS: i64 = 3;
/// A big deal: at least this many whole dollars.
pub const BIG_DEAL_DOLLARS: i64 = 50_000;
/// A mid-sized deal: at least this many whole dollars.
pub const MID_DEAL_DOLLARS: i64 = 10_000;
/// A big deal changed at most this many days ago "moved".
pub const MOVED_WITHIN_DAYS: i64 = 1;
/// A lead last contacted between these many days ago (inclusive) has gone cold.
pub const COLD_FROM_DAYS: i64 = 14;
pub const COLD_UNTIL_DAYS: i64 = 90;
/// Cold this long is MEDIUM rather than LOW.
pub const COLD_MEDIUM_DAYS: i64 = 30;

pub const BIG_DEAL_BONUS: u8 = 10;
pub const MID_DEAL_BONUS: u8 = 5;
pub const STALLED_LONG_BONUS: u8 = 5;
pub const CLOSING_VERY_SOON_BONUS: u8 = 10;

/// How pressing a rule's finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Critical,
}

impl Priority {
    /// The seed's base score.
    pub const fn base_score(self) -> u8 {
        match self {
            Priority::Critical => 95,
            Priority::High => 80,
            Priority::Medium => 60,
            Priority::Low => 40,
        }
    }

    /// How long until the move is due.
    pub fn due_in(self) -> Duration {
        match self {
            Priority::Critical => Duration::zero(),
            Priority::High => Duration::days(1),
            Priority::Medium => Duration::days(3),
            Priority::Low => Duration::days(7),
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "CRITICAL",
            Priority::High => "HIGH",
            Priority::Medium => "MEDIUM",
            Priority::Low => "LOW",
        }
    }
}

/// What a rule measured about its entity: what the signal records and the processor
/// scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFacts {
    /// Days since the deal's last change (stalled, big deal moved), days until it closes
    /// (closing soon), or days since the contact was last contacted (gone cold).
    pub days: i64,
    /// The deal's amount, when it has one.
    pub amount: Option<Money>,
    /// Days until the deal closes, when it has a close date (any rule on a deal).
    pub days_to_close: Option<i64>,
}

/// A rule's priority and score, with the reasons for each part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scored {
    pub priority: Priority,
    /// 0–100.
    pub score: u8,
    pub reasons: Vec<String>,
}

fn dollars(amount: Option<Money>) -> i64 {
    amount
        .filter(|m| m.minor > 0)
        .map_or(0, |m| m.minor / m.currency.minor_per_major().max(1))
}

/// Whole UTC calendar days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to.date_naive() - from.date_naive()).num_days()
}

/// Days from `now`'s UTC date to `date`.
pub fn days_until(now: DateTime<Utc>, date: NaiveDate) -> i64 {
    (date - now.date_naive()).num_days()
}

/// An open deal as the rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DealState {
    pub open: bool,
    pub amount: Option<Money>,
    pub close_date: Option<NaiveDate>,
    /// Its last change.
    pub updated_at: DateTime<Utc>,
}

/// The rules an open deal matches at `now`, each with its facts.
pub fn deal_rules(deal: &DealState, now: DateTime<Utc>) -> Vec<(SignalKind, RuleFacts)> {
    if !deal.open {
        return Vec::new();
    }
    let days_to_close = deal.close_date.map(|d| days_until(now, d));
    let unchanged = days_between(deal.updated_at, now);
    let facts = |days| RuleFacts {
        days,
        amount: deal.amount,
        days_to_close,
    };
    let mut hits = Vec::new();
    if unchanged >= STALLED_DAYS {
        hits.push((SignalKind::DealStalled, facts(unchanged)));
    }
    if let Some(days) = days_to_close.filter(|d| (0..=CLOSING_SOON_DAYS).contains(d)) {
        hits.push((SignalKind::DealClosingSoon, facts(days)));
    }
    if dollars(deal.amount) >= BIG_DEAL_DOLLARS && (0..=MOVED_WITHIN_DAYS).contains(&unchanged) {
        hits.push((SignalKind::BigDealMoved, facts(unchanged)));
    }
    hits
}

/// Whether a contact last contacted at `last` has gone cold at `now`, and how many days ago.
pub fn lead_gone_cold(last: DateTime<Utc>, now: DateTime<Utc>) -> Option<RuleFacts> {
    let days = days_between(last, now);
    (COLD_FROM_DAYS..=COLD_UNTIL_DAYS)
        .contains(&days)
        .then_some(RuleFacts {
            days,
            amount: None,
            days_to_close: None,
        })
}

/// The seed's priority and score of a rule's finding, each part with its reason; `None`
/// for a kind that is not a rule.
pub fn score(kind: SignalKind, facts: &RuleFacts) -> Option<Scored> {
    let dollars = dollars(facts.amount);
    let amount = facts.amount.map(|m| m.to_string()).unwrap_or_default();
    let (priority, why) = match kind {
        SignalKind::DealStalled => {
            if dollars >= BIG_DEAL_DOLLARS {
                (
                    Priority::Critical,
                    format!("stalled and its amount {amount} is ≥ $50,000"),
                )
            } else if dollars >= MID_DEAL_DOLLARS {
                (
                    Priority::High,
                    format!("stalled and its amount {amount} is ≥ $10,000"),
                )
            } else if facts.days >= STALLED_LONG_DAYS {
                (
                    Priority::High,
                    format!("stalled for {} days (≥ {STALLED_LONG_DAYS})", facts.days),
                )
            } else {
                (Priority::Medium, "stalled".to_string())
            }
        }
        SignalKind::DealClosingSoon => {
            if dollars >= BIG_DEAL_DOLLARS {
                (
                    Priority::Critical,
                    format!("closing soon and its amount {amount} is ≥ $50,000"),
                )
            } else {
                (Priority::High, "closing soon".to_string())
            }
        }
        SignalKind::BigDealMoved => (Priority::High, "a big deal moved".to_string()),
        SignalKind::LeadGoneCold => {
            if facts.days >= COLD_MEDIUM_DAYS {
                (
                    Priority::Medium,
                    format!("cold for {} days (≥ {COLD_MEDIUM_DAYS})", facts.days),
                )
            } else {
                (Priority::Low, format!("cold for {} days", facts.days))
            }
        }
        _ => return None,
    };
    let mut score = priority.base_score();
    let mut reasons = vec![format!(
        "priority {} ({why}): base score {score}",
        priority.as_str()
    )];
    let mut add = |bonus: u8, why: String| {
        score = score.saturating_add(bonus);
        reasons.push(format!("+{bonus} {why}"));
    };
    if dollars >= BIG_DEAL_DOLLARS {
        add(BIG_DEAL_BONUS, format!("amount {amount} ≥ $50,000"));
    } else if dollars >= MID_DEAL_DOLLARS {
        add(MID_DEAL_BONUS, format!("amount {amount} ≥ $10,000"));
    }
    if kind == SignalKind::DealStalled && facts.days >= STALLED_LONG_DAYS {
        add(
            STALLED_LONG_BONUS,
            format!("stalled {} days (≥ {STALLED_LONG_DAYS})", facts.days),
        );
    }
    if let Some(days) = facts
        .days_to_close
        .filter(|d| (0..=CLOSING_VERY_SOON_DAYS).contains(d))
    {
        add(
            CLOSING_VERY_SOON_BONUS,
            format!("closes in {days} days (≤ {CLOSING_VERY_SOON_DAYS})"),
        );
    }
    if score > 100 {
        reasons.push("capped at 100".to_string());
        score = 100;
    }
    Some(Scored {
        priority,
        score,
        reasons,
    })
}
