//! Risk flags against tables: each rule at and just past its threshold, with the evidence
//! it shows; closed deals unflagged; custom thresholds marked as not the defaults.

use super::*;
use crate::deals::fixture::{date, days_ago, deal, now, stage, stamp, with_activities};
use crate::deals::ActivityKind;
use crate::deals::DealStatus;
use crate::kernel::{CrmId, Money};
use crate::pipelines::{Stage, StageKind};

type Edit = fn(DealView) -> DealView;

fn kinds(view: &DealView, config: &RiskConfig) -> Vec<RiskKind> {
    risk_flags(view, now(), config)
        .iter()
        .map(|f| f.kind)
        .collect()
}

fn only(view: &DealView) -> RiskFlag {
    let flags = risk_flags(view, now(), &RiskConfig::default());
    let [flag] = flags.as_slice() else {
        panic!("one flag expected: {flags:#?}")
    };
    flag.clone()
}

fn neglected(view: DealView) -> DealView {
    let mut v = with_activities(view, vec![stamp(ActivityKind::Email, 40)]);
    v.stage = stage("contractsent");
    v.stage_entered_at = days_ago(50);
    v.close_date = Some(date("2026-11-01"));
    v.close_date_pushes = 3;
    v.amount = Some(Money::usd(2_500_000));
    v.contacts.truncate(1);
    v.next_step = None;
    v
}

#[test]
fn each_rule_flags_past_its_threshold_and_not_at_it() {
    use RiskKind::*;
    let table: Vec<(&str, Edit, Vec<RiskKind>)> = vec![
        ("well worked", |v| v, vec![]),
        (
            "last activity 14 days ago: not more than 14",
            |v| with_activities(v, vec![stamp(ActivityKind::Call, 14)]),
            vec![],
        ),
        (
            "last activity 15 days ago",
            |v| with_activities(v, vec![stamp(ActivityKind::Call, 15)]),
            vec![NoActivity],
        ),
        (
            "no activity, created 20 days ago",
            |v| with_activities(v, vec![]),
            vec![NoActivity],
        ),
        (
            "no activity, created 10 days ago",
            |mut v| {
                v.created_at = days_ago(10);
                with_activities(v, vec![])
            },
            vec![],
        ),
        (
            "closing today",
            |mut v| {
                v.close_date = Some(date("2026-11-20"));
                v
            },
            vec![],
        ),
        (
            "closing yesterday",
            |mut v| {
                v.close_date = Some(date("2026-11-19"));
                v
            },
            vec![PastCloseDate],
        ),
        (
            "no close date: nothing to pass",
            |mut v| {
                v.close_date = None;
                v
            },
            vec![],
        ),
        (
            "21 of a typical 21 days in stage",
            |mut v| {
                v.stage_entered_at = days_ago(21);
                v
            },
            vec![],
        ),
        (
            "22 of a typical 21 days in stage",
            |mut v| {
                v.stage_entered_at = days_ago(22);
                v
            },
            vec![StalledInStage],
        ),
        (
            "2 pushes",
            |mut v| {
                v.close_date_pushes = 2;
                v
            },
            vec![],
        ),
        (
            "3 pushes",
            |mut v| {
                v.close_date_pushes = 3;
                v
            },
            vec![CloseDatePushed],
        ),
        (
            "2 contacts",
            |mut v| {
                v.contacts.truncate(2);
                v
            },
            vec![],
        ),
        (
            "1 contact",
            |mut v| {
                v.contacts.truncate(1);
                v
            },
            vec![SingleThreaded],
        ),
        (
            "no contacts",
            |mut v| {
                v.contacts.clear();
                v
            },
            vec![SingleThreaded],
        ),
        (
            "amount below its largest",
            |mut v| {
                v.amount = Some(Money::usd(4_999_999));
                v
            },
            vec![AmountDropped],
        ),
        (
            "amount cleared",
            |mut v| {
                v.amount = None;
                v
            },
            vec![AmountDropped],
        ),
        (
            "no amount ever",
            |mut v| {
                v.amount = None;
                v.peak_amount = None;
                v
            },
            vec![],
        ),
        (
            "no next step",
            |mut v| {
                v.next_step = None;
                v
            },
            vec![NoNextStep],
        ),
        (
            "a blank next step",
            |mut v| {
                v.next_step = Some("  ".into());
                v
            },
            vec![NoNextStep],
        ),
        (
            "neglected: every flag, in order",
            neglected,
            vec![
                NoActivity,
                PastCloseDate,
                StalledInStage,
                CloseDatePushed,
                SingleThreaded,
                AmountDropped,
                NoNextStep,
            ],
        ),
    ];
    for (name, edit, expected) in table {
        assert_eq!(
            kinds(&edit(deal()), &RiskConfig::default()),
            expected,
            "{name}"
        );
    }
}

#[test]
fn won_and_lost_deals_are_not_flagged() {
    for status in [DealStatus::Won, DealStatus::Lost] {
        let mut view = neglected(deal());
        view.status = status;
        assert_eq!(kinds(&view, &RiskConfig::default()), [], "{status:?}");
    }
}

#[test]
fn every_flag_shows_its_rule_and_evidence() {
    let neglected = neglected(deal());
    let flags = risk_flags(&neglected, now(), &RiskConfig::default());
    let shown: Vec<(&str, Option<bool>, Vec<Evidence>)> = flags
        .iter()
        .map(|f| (f.rule.as_str(), f.default_threshold, f.evidence.clone()))
        .collect();
    let event = |fact: &str, event: &str, at| Evidence {
        fact: fact.into(),
        event: Some(event.into()),
        at: Some(at),
    };
    let fact = |fact: &str| Evidence {
        fact: fact.into(),
        event: None,
        at: None,
    };
    assert_eq!(
        shown,
        vec![
            (
                "no activity for more than 14 days",
                Some(true),
                vec![event(
                    "last activity (email) 40 days ago",
                    "DealActivityLogged",
                    days_ago(40)
                )]
            ),
            (
                "close date has passed and the deal is still open",
                None,
                vec![fact("close date 2026-11-01 was 19 days ago")]
            ),
            (
                "longer in Contract sent than its typical 14 days",
                Some(true),
                vec![event(
                    "in Contract sent for 50 days",
                    "DealStageChanged",
                    days_ago(50)
                )]
            ),
            (
                "close date pushed 3 times or more",
                Some(true),
                vec![Evidence {
                    fact: "close date pushed later 3 times; now 2026-11-01".into(),
                    event: Some("DealCloseDateChanged".into()),
                    at: None,
                }]
            ),
            (
                "1 contact(s) or fewer",
                Some(true),
                vec![fact("1 contact associated")]
            ),
            (
                "amount below the largest it has had",
                None,
                // $50,000 − $25,000 = $25,000, 50% of the largest.
                vec![fact(
                    "amount $25,000.00, down $25,000.00 (50%) from its largest $50,000.00"
                )]
            ),
            (
                "no next step",
                None,
                vec![event("next step cleared", "DealNextStepSet", days_ago(3))]
            ),
        ]
    );
}

#[test]
fn evidence_names_creation_when_nothing_happened_since() {
    let mut view = with_activities(deal(), vec![]);
    view.next_step = None;
    view.next_step_set_at = None;
    view.stage_entered_at = view.created_at;
    let flags = risk_flags(&view, now(), &RiskConfig::default());
    let evidence: Vec<(RiskKind, &str, Option<&str>)> = flags
        .iter()
        .map(|f| {
            (
                f.kind,
                f.evidence[0].fact.as_str(),
                f.evidence[0].event.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        evidence,
        [
            (
                RiskKind::NoActivity,
                "no activity logged since the deal was created 20 days ago",
                Some("DealCreated")
            ),
            (
                RiskKind::NoNextStep,
                "no next step set since the deal was created",
                Some("DealCreated")
            ),
        ]
    );
}

#[test]
fn a_dropped_amount_shows_the_drop_in_whole_percent_rounded_down() {
    // (amount in cents, largest in cents, the fact shown)
    let table = [
        (
            4_000_000,
            5_000_000,
            "amount $40,000.00, down $10,000.00 (20%) from its largest $50,000.00",
        ),
        (
            4_999_999,
            5_000_000,
            // 1 cent of $50,000 is 0.00002%: rounds down to 0.
            "amount $49,999.99, down $0.01 (0%) from its largest $50,000.00",
        ),
        (
            100,
            300,
            // 200 / 300 = 66.7%: 66.
            "amount $1.00, down $2.00 (66%) from its largest $3.00",
        ),
    ];
    for (amount, peak, shown) in table {
        let mut view = deal();
        view.amount = Some(Money::usd(amount));
        view.peak_amount = Some(Money::usd(peak));
        assert_eq!(only(&view).evidence[0].fact, shown);
    }
    let mut cleared = deal();
    cleared.amount = None;
    assert_eq!(
        only(&cleared).evidence[0].fact,
        "amount cleared; it was up to $50,000.00"
    );
}

#[test]
fn a_stage_without_a_typical_time_uses_the_fallback_and_says_so() {
    let mut view = deal();
    view.stage = Stage {
        id: CrmId::parse("negotiation").unwrap(),
        label: "Negotiation".into(),
        probability: 70,
        kind: StageKind::Open,
    };
    view.stage_entered_at = days_ago(30);
    assert_eq!(kinds(&view, &RiskConfig::default()), []);
    view.stage_entered_at = days_ago(31);
    let flag = only(&view);
    assert_eq!(
        flag.rule,
        "longer in Negotiation than its typical 30 days (no typical time set for this stage)"
    );
    assert_eq!(flag.default_threshold, Some(true));
}

#[test]
fn custom_thresholds_are_used_and_marked_as_not_the_defaults() {
    // Last activity 8 days ago, 12 days in qualified to buy, 2 pushes, 2 contacts: none
    // flagged by default; all four under tighter thresholds.
    let mut view = with_activities(deal(), vec![stamp(ActivityKind::Meeting, 8)]);
    view.stage_entered_at = days_ago(12);
    view.close_date_pushes = 2;
    view.contacts.truncate(2);
    assert_eq!(kinds(&view, &RiskConfig::default()), []);
    let mut config = RiskConfig {
        no_activity_days: 7,
        max_close_date_pushes: 2,
        single_threaded_contacts: 2,
        ..RiskConfig::default()
    };
    config.typical_stage_days.stages[1].days = 10;
    let flags = risk_flags(&view, now(), &config);
    let shown: Vec<(RiskKind, &str, Option<bool>)> = flags
        .iter()
        .map(|f| (f.kind, f.rule.as_str(), f.default_threshold))
        .collect();
    assert_eq!(
        shown,
        [
            (
                RiskKind::NoActivity,
                "no activity for more than 7 days",
                Some(false)
            ),
            (
                RiskKind::StalledInStage,
                "longer in Qualified to buy than its typical 10 days",
                Some(false)
            ),
            (
                RiskKind::CloseDatePushed,
                "close date pushed 2 times or more",
                Some(false)
            ),
            (
                RiskKind::SingleThreaded,
                "2 contact(s) or fewer",
                Some(false)
            ),
        ]
    );
}

#[test]
fn flags_read_as_json_with_snake_case_kinds() {
    let mut view = deal();
    view.next_step = None;
    let json = serde_json::to_value(risk_flags(&view, now(), &RiskConfig::default())).unwrap();
    assert_eq!(json[0]["kind"], "no_next_step");
    assert_eq!(json[0]["evidence"][0]["event"], "DealNextStepSet");
    assert_eq!(RiskKind::NoNextStep.as_str(), "no_next_step");
}
