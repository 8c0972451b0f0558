//! How APS learns from outcomes: adjustments per contact, per company and per action type,
//! each bounded, decaying with time, and each with the reason people read on the move
//! ("+8: Dana replied to the email").
//!
//! - An outcome's weight falls linearly from 1 when it happened to 0 after
//!   [`DECAY_DAYS`] days; older outcomes no longer count.
//! - Contact: the weighted sum of that contact's outcomes' impacts, within ±20 points.
//! - Company: the weighted sum of the company's other contacts' outcomes, halved, within ±10.
//! - Action type: the weighted mean impact of outcomes of moves of that type, within ±10.
//! - The three together stay within ±20.
//!
//! (The seed took a weighted *mean* capped at ±20 that could never reach its cap, and never
//! applied it to any score.)

use chrono::{DateTime, Utc};

use super::{OutcomeType, OutcomeView};
use crate::queue::ActionType;

/// Days after which an outcome no longer counts.
pub const DECAY_DAYS: i64 = 30;
/// The bounds, in hundredths of a point.
pub const CONTACT_BOUND: i32 = 2_000;
pub const COMPANY_BOUND: i32 = 1_000;
pub const ACTION_TYPE_BOUND: i32 = 1_000;
pub const TOTAL_BOUND: i32 = 2_000;

pub use crate::queue::aps::{Learned, LearnedScope};

/// What the move is about, to find its outcomes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LearningTarget {
    pub contact_id: Option<String>,
    pub email: Option<String>,
    pub company_domain: Option<String>,
    pub action_type: Option<ActionType>,
}

/// `weight` in thousandths: 1000 now, 0 at [`DECAY_DAYS`].
fn weight(occurred_at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    let age = (now - occurred_at).num_minutes().max(0);
    let span = DECAY_DAYS * 24 * 60;
    ((span - age).max(0) * 1000) / span
}

fn ago(occurred_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    match (now - occurred_at).num_days() {
        0 => "today".into(),
        1 => "yesterday".into(),
        n => format!("{n} days ago"),
    }
}

/// "+8", "-4.5", "+0.3".
pub fn signed_points(centi: i32) -> String {
    let sign = if centi < 0 { "-" } else { "+" };
    let abs = centi.unsigned_abs();
    if abs.is_multiple_of(100) {
        format!("{sign}{}", abs / 100)
    } else {
        let tenths = (abs + 5) / 10;
        format!("{sign}{}.{}", tenths / 10, tenths % 10)
    }
}

fn same(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
}

/// The adjustments `outcomes` make to a move about `target` at `now`.
pub fn learn(
    target: &LearningTarget,
    outcomes: &[OutcomeView],
    now: DateTime<Utc>,
) -> Vec<Learned> {
    let counted: Vec<(&OutcomeView, i64)> = outcomes
        .iter()
        .map(|o| (o, weight(o.occurred_at, now)))
        .filter(|(o, w)| *w > 0 && o.occurred_at <= now)
        .collect();
    let is_contact = |o: &OutcomeView| {
        same(
            o.subject.contact_id.as_deref(),
            target.contact_id.as_deref(),
        ) || same(
            o.subject.email.as_ref().map(|e| e.as_str()),
            target.email.as_deref(),
        )
    };
    let mut learned = Vec::new();
    let mut scoped = |scope: LearnedScope,
                      picked: Vec<&(&OutcomeView, i64)>,
                      mean: bool,
                      bound: i32,
                      share: i64| {
        if picked.is_empty() {
            return;
        }
        let weighted: i64 = picked
            .iter()
            .map(|(o, w)| i64::from(o.impact_centi()) * w)
            .sum();
        let total_weight: i64 = picked.iter().map(|(_, w)| *w).sum();
        let raw = if mean {
            weighted / total_weight.max(1)
        } else {
            weighted / 1000
        } * share
            / 100;
        let points = (raw as i32).clamp(-bound, bound);
        if points == 0 {
            return;
        }
        // The reason names the outcome that weighs most.
        let (top, _) = picked
            .iter()
            .max_by_key(|(o, w)| (i64::from(o.impact_centi()) * w).abs())
            .expect("not empty");
        let what = match scope {
            LearnedScope::Contact => format!(
                "{} {} ({})",
                top.subject.who(),
                top.summary,
                ago(top.occurred_at, now)
            ),
            LearnedScope::Company => format!(
                "at {}, {} {} ({})",
                top.subject
                    .company_domain
                    .as_deref()
                    .unwrap_or("their company"),
                top.subject.who(),
                top.summary,
                ago(top.occurred_at, now)
            ),
            LearnedScope::ActionType => format!(
                "{} moves lately: {} outcome(s), e.g. {} {}",
                top.action_type.map_or("these", |t| t.label()),
                picked.len(),
                top.subject.who(),
                top.summary
            ),
        };
        learned.push((scope, points, what, picked.len() as u32));
    };
    let contact: Vec<_> = counted.iter().filter(|(o, _)| is_contact(o)).collect();
    scoped(LearnedScope::Contact, contact, false, CONTACT_BOUND, 100);
    let company: Vec<_> = counted
        .iter()
        .filter(|(o, _)| {
            !is_contact(o)
                && same(
                    o.subject.company_domain.as_deref(),
                    target.company_domain.as_deref(),
                )
        })
        .collect();
    scoped(LearnedScope::Company, company, false, COMPANY_BOUND, 50);
    let of_type: Vec<_> = counted
        .iter()
        .filter(|(o, _)| target.action_type.is_some() && o.action_type == target.action_type)
        // A send's own "was emailed" says nothing about how moves of the type fare.
        .filter(|(o, _)| o.outcome_type != OutcomeType::EmailSent)
        .collect();
    scoped(
        LearnedScope::ActionType,
        of_type,
        true,
        ACTION_TYPE_BOUND,
        100,
    );
    // The three together stay within the total bound: the later ones are trimmed.
    let mut total: i32 = 0;
    learned
        .into_iter()
        .filter_map(|(scope, points, what, outcomes)| {
            let points = points.clamp(-TOTAL_BOUND - total, TOTAL_BOUND - total);
            total += points;
            (points != 0).then(|| Learned {
                scope,
                points_centi: points,
                reason: format!("{}: {what}", signed_points(points)),
                outcomes,
            })
        })
        .collect()
}
