//! The health score against hand-computed tables: one fact varied at a time from a
//! well-worked deal (91), every row's factors summing to its total.

use uuid::Uuid;

use super::*;
use crate::deals::fixture::{date, days_ago, deal, now, stage, stamp, with_activities};
use crate::kernel::{CrmId, Money};
use crate::pipelines::{Stage, StageKind};

type Edit = fn(DealView) -> DealView;

fn scored(view: &DealView, config: &HealthConfig) -> HealthScore {
    match deal_health(view, now(), config) {
        DealHealth::Scored(score) => score,
        other => panic!("not scored: {other:?}"),
    }
}

fn points(score: &HealthScore) -> [u8; 7] {
    let mut out = [0; 7];
    for (slot, factor) in out.iter_mut().zip(&score.factors) {
        *slot = factor.points;
    }
    out
}

fn in_stage(mut view: DealView, id: &str, days: i64) -> DealView {
    view.stage = stage(id);
    view.stage_entered_at = days_ago(days);
    view
}

fn negotiation() -> Stage {
    Stage {
        id: CrmId::parse("negotiation").unwrap(),
        label: "Negotiation".into(),
        probability: 70,
        kind: StageKind::Open,
    }
}

#[test]
fn factor_maxima_add_up_to_one_hundred() {
    let score = scored(&deal(), &HealthConfig::default());
    let maxima: Vec<u8> = score.factors.iter().map(|f| f.max).collect();
    assert_eq!(maxima, [25, 15, 15, 15, 10, 10, 10]);
    assert_eq!(maxima.iter().map(|m| u32::from(*m)).sum::<u32>(), 100);
}

/// Factors in order: engagement, recency, stage, age in stage, close date, amount, contacts.
/// The fixture: 2 meetings, a call, 2 emails in 30 days (3+3+2+1+1 = 10 of 10 → 25), last
/// activity 1 day ago (15), qualified to buy 40% (15×40/100 = 6), 10 of a typical 21 days
/// in stage (15), close date ahead and never pushed (10), $50,000 at its largest (10),
/// 3 contacts (10): 91.
#[test]
fn the_score_follows_each_factor() {
    let table: Vec<(&str, Edit, [u8; 7], u8)> = vec![
        ("well worked", |v| v, [25, 15, 6, 15, 10, 10, 10], 91),
        // Engagement: weighted activities in the window, 25 × weighted / 10 rounded down.
        (
            "a meeting and two emails: 5 of 10 → 12",
            |v| {
                with_activities(
                    v,
                    vec![
                        stamp(ActivityKind::Meeting, 2),
                        stamp(ActivityKind::Email, 1),
                        stamp(ActivityKind::Email, 12),
                    ],
                )
            },
            [12, 15, 6, 15, 10, 10, 10],
            78,
        ),
        (
            "notes only: weighted 0",
            |v| {
                with_activities(
                    v,
                    vec![
                        stamp(ActivityKind::Note, 1),
                        stamp(ActivityKind::Note, 2),
                        stamp(ActivityKind::Note, 3),
                    ],
                )
            },
            [0, 15, 6, 15, 10, 10, 10],
            66,
        ),
        (
            "exactly 30 days ago is outside the window; 29 inside (call 2 → 5)",
            |v| {
                with_activities(
                    v,
                    vec![
                        stamp(ActivityKind::Meeting, 30),
                        stamp(ActivityKind::Call, 29),
                    ],
                )
            },
            [5, 0, 6, 15, 10, 10, 10],
            56,
        ),
        (
            "no activity at all",
            |v| with_activities(v, vec![]),
            [0, 0, 6, 15, 10, 10, 10],
            51,
        ),
        // Recency: ≤3 days 15, ≤7 days 15/2 = 7, ≤14 days 15/3 = 5, else 0.
        (
            "one email 3 days ago: engagement 25×1/10 = 2, recency full",
            |v| with_activities(v, vec![stamp(ActivityKind::Email, 3)]),
            [2, 15, 6, 15, 10, 10, 10],
            68,
        ),
        (
            "one email 5 days ago: recency half",
            |v| with_activities(v, vec![stamp(ActivityKind::Email, 5)]),
            [2, 7, 6, 15, 10, 10, 10],
            60,
        ),
        (
            "one meeting 14 days ago: engagement 25×3/10 = 7, recency a third",
            |v| with_activities(v, vec![stamp(ActivityKind::Meeting, 14)]),
            [7, 5, 6, 15, 10, 10, 10],
            63,
        ),
        (
            "one call 15 days ago: recency none",
            |v| with_activities(v, vec![stamp(ActivityKind::Call, 15)]),
            [5, 0, 6, 15, 10, 10, 10],
            56,
        ),
        // Stage: 15 × probability / 100 rounded down.
        (
            "contract sent 90%: 13 (13.5), typical 14 days",
            |v| in_stage(v, "contractsent", 10),
            [25, 15, 13, 15, 10, 10, 10],
            98,
        ),
        (
            "appointment scheduled 20%: 3",
            |v| in_stage(v, "appointmentscheduled", 10),
            [25, 15, 3, 15, 10, 10, 10],
            88,
        ),
        // Age in stage: full to the typical days, then 15 × (2T − d) / T down to 0 at 2T.
        (
            "21 of 21 days",
            |v| in_stage(v, "qualifiedtobuy", 21),
            [25, 15, 6, 15, 10, 10, 10],
            91,
        ),
        (
            "28 of 21 days: 15×14/21 = 10",
            |v| in_stage(v, "qualifiedtobuy", 28),
            [25, 15, 6, 10, 10, 10, 10],
            86,
        ),
        (
            "35 of 21 days: 15×7/21 = 5",
            |v| in_stage(v, "qualifiedtobuy", 35),
            [25, 15, 6, 5, 10, 10, 10],
            81,
        ),
        (
            "42 of 21 days: 0",
            |v| in_stage(v, "qualifiedtobuy", 42),
            [25, 15, 6, 0, 10, 10, 10],
            76,
        ),
        (
            "a stage with no typical time: 30 by default; 40 days → 15×20/30 = 10; 70% → 10",
            |mut v| {
                v.stage = negotiation();
                v.stage_entered_at = days_ago(40);
                v
            },
            [25, 15, 10, 10, 10, 10, 10],
            90,
        ),
        // Close date: 10 − 4 per push; none caps at 5; passed is 0.
        (
            "1 push",
            |mut v| {
                v.close_date_pushes = 1;
                v
            },
            [25, 15, 6, 15, 6, 10, 10],
            87,
        ),
        (
            "2 pushes",
            |mut v| {
                v.close_date_pushes = 2;
                v
            },
            [25, 15, 6, 15, 2, 10, 10],
            83,
        ),
        (
            "3 pushes",
            |mut v| {
                v.close_date_pushes = 3;
                v
            },
            [25, 15, 6, 15, 0, 10, 10],
            81,
        ),
        (
            "closing today has not passed",
            |mut v| {
                v.close_date = Some(date("2026-11-20"));
                v
            },
            [25, 15, 6, 15, 10, 10, 10],
            91,
        ),
        (
            "closing yesterday has passed",
            |mut v| {
                v.close_date = Some(date("2026-11-19"));
                v
            },
            [25, 15, 6, 15, 0, 10, 10],
            81,
        ),
        (
            "no close date",
            |mut v| {
                v.close_date = None;
                v
            },
            [25, 15, 6, 15, 5, 10, 10],
            86,
        ),
        (
            "no close date after 2 pushes: min(2, 5)",
            |mut v| {
                v.close_date = None;
                v.close_date_pushes = 2;
                v
            },
            [25, 15, 6, 15, 2, 10, 10],
            83,
        ),
        // Amount: 10 at its largest, 10 × amount / largest when dropped, 0 without.
        (
            "no amount",
            |mut v| {
                v.amount = None;
                v
            },
            [25, 15, 6, 15, 10, 0, 10],
            81,
        ),
        (
            "a zero amount",
            |mut v| {
                v.amount = Some(Money::usd(0));
                v
            },
            [25, 15, 6, 15, 10, 0, 10],
            81,
        ),
        (
            "$40,000 of $50,000: 8",
            |mut v| {
                v.amount = Some(Money::usd(4_000_000));
                v
            },
            [25, 15, 6, 15, 10, 8, 10],
            89,
        ),
        (
            "$33,333.33 of $50,000: 6 (6.67)",
            |mut v| {
                v.amount = Some(Money::usd(3_333_333));
                v
            },
            [25, 15, 6, 15, 10, 6, 10],
            87,
        ),
        (
            "no peak remembered (a view stored before peaks): full",
            |mut v| {
                v.peak_amount = None;
                v
            },
            [25, 15, 6, 15, 10, 10, 10],
            91,
        ),
        // Contacts: 10 × n / 3 rounded down, full from 3.
        (
            "no contacts",
            |mut v| {
                v.contacts.clear();
                v
            },
            [25, 15, 6, 15, 10, 10, 0],
            81,
        ),
        (
            "1 contact: 3",
            |mut v| {
                v.contacts.truncate(1);
                v
            },
            [25, 15, 6, 15, 10, 10, 3],
            84,
        ),
        (
            "2 contacts: 6",
            |mut v| {
                v.contacts.truncate(2);
                v
            },
            [25, 15, 6, 15, 10, 10, 6],
            87,
        ),
        (
            "5 contacts: full",
            |mut v| {
                v.contacts.extend([Uuid::from_u128(4), Uuid::from_u128(5)]);
                v
            },
            [25, 15, 6, 15, 10, 10, 10],
            91,
        ),
        (
            "neglected: no activity, 50 days in contract sent, passed, pushed 3 times, no amount, 1 contact",
            |v| {
                let mut v = in_stage(with_activities(v, vec![]), "contractsent", 50);
                v.close_date = Some(date("2026-11-01"));
                v.close_date_pushes = 3;
                v.amount = None;
                v.contacts.truncate(1);
                v
            },
            [0, 0, 13, 0, 0, 0, 3],
            16,
        ),
    ];
    for (name, edit, expected, total) in table {
        let score = scored(&edit(deal()), &HealthConfig::default());
        assert_eq!(points(&score), expected, "{name}: {score:#?}");
        assert_eq!(score.total, total, "{name}");
        let sum: u32 = score.factors.iter().map(|f| u32::from(f.points)).sum();
        assert_eq!(
            sum,
            u32::from(score.total),
            "{name}: factors add up to the total"
        );
        assert!(
            score.factors.iter().all(|f| f.points <= f.max),
            "{name}: no factor above its maximum"
        );
        assert!(score.defaults, "{name}");
    }
}

#[test]
fn every_factor_says_why_in_words() {
    let score = scored(&deal(), &HealthConfig::default());
    let reasons: Vec<(HealthFactorKind, &str)> = score
        .factors
        .iter()
        .map(|f| (f.kind, f.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                HealthFactorKind::Engagement,
                "2 meetings, 1 call, 2 emails, 0 notes in the last 30 days: 10 of 10 weighted"
            ),
            (HealthFactorKind::Recency, "last activity 1 day ago"),
            (HealthFactorKind::Stage, "Qualified to buy (40%)"),
            (
                HealthFactorKind::StageAge,
                "10 days in Qualified to buy; typical 21 days"
            ),
            (
                HealthFactorKind::CloseDate,
                "close date 2026-12-15; 0 pushes"
            ),
            (HealthFactorKind::Amount, "amount $50,000.00"),
            (
                HealthFactorKind::Contacts,
                "3 contacts involved; 3 for full points"
            ),
        ]
    );
    let mut dropped = deal();
    dropped.amount = Some(Money::usd(4_000_000));
    dropped.close_date = Some(date("2026-11-15"));
    dropped.close_date_pushes = 1;
    dropped.stage = negotiation();
    let score = scored(&dropped, &HealthConfig::default());
    assert_eq!(
        score.factors[3].reason,
        "10 days in Negotiation; typical 30 days (no typical time set for this stage)"
    );
    assert_eq!(
        score.factors[4].reason,
        "close date 2026-11-15 passed 5 days ago; 1 push"
    );
    assert_eq!(
        score.factors[5].reason,
        "amount $40,000.00, down from $50,000.00"
    );
    let silent = with_activities(deal(), vec![]);
    let score = scored(&silent, &HealthConfig::default());
    assert_eq!(score.factors[0].reason, "no activity in the last 30 days");
    assert_eq!(score.factors[1].reason, "no activity logged");
}

#[test]
fn a_custom_config_is_used_and_says_it_is_not_the_default() {
    // A 7-day window holds the meeting (2 days), the call (5) and an email (1): 3+2+1 = 6;
    // a target of 12 gives 25×6/12 = 12. Contract-sent typical 5 days: 10 days in stage is
    // 15×(10−10)/5 = 0. Pushes cost 5: one push → 5.
    let mut config = HealthConfig {
        engagement_window_days: 7,
        engagement_target: 12,
        points_per_push: 5,
        ..HealthConfig::default()
    };
    config.typical_stage_days.stages[4].days = 5;
    let mut view = in_stage(deal(), "contractsent", 10);
    view.close_date_pushes = 1;
    let score = scored(&view, &config);
    assert_eq!(points(&score), [12, 15, 13, 0, 5, 10, 10]);
    assert_eq!(score.total, 65);
    assert!(!score.defaults);
}

#[test]
fn activities_after_now_are_not_counted() {
    // A view read "as of" an earlier instant never holds later activities, but a caller may
    // pass an earlier `now`: what happened after it does not count.
    let view = with_activities(deal(), vec![stamp(ActivityKind::Meeting, -2)]);
    let score = scored(&view, &HealthConfig::default());
    assert_eq!(score.factors[0].points, 0);
}

#[test]
fn won_and_lost_deals_are_not_scored() {
    for status in [DealStatus::Won, DealStatus::Lost] {
        let mut view = deal();
        view.status = status;
        assert_eq!(
            deal_health(&view, now(), &HealthConfig::default()),
            DealHealth::NotScored {
                status,
                reason: format!(
                    "{} deals are not scored: the score is for deals still being worked",
                    status.as_str()
                ),
            }
        );
    }
    assert!(deal_health(&deal(), now(), &HealthConfig::default())
        .score()
        .is_some());
}

#[test]
fn the_health_reads_as_json_with_its_state() {
    let mut won = deal();
    won.status = DealStatus::Won;
    let json = serde_json::to_value(deal_health(&won, now(), &HealthConfig::default())).unwrap();
    assert_eq!(json["state"], "not_scored");
    assert_eq!(json["status"], "won");
    let json = serde_json::to_value(deal_health(&deal(), now(), &HealthConfig::default())).unwrap();
    assert_eq!(json["state"], "scored");
    assert_eq!(json["total"], 91);
    assert_eq!(json["factors"][3]["kind"], "stage_age");
}
