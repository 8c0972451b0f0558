//! Given/when/then: every deal command, every outcome, every rejection; stage order,
//! close-date pushes and sticky forecast categories.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::*;
use crate::aggregate::testing::Scenario;
use crate::aggregate::{fold, Aggregate, Payload, RecordedEvent};
use crate::kernel::{Actor, CrmId, Money, Text, UserName};
use crate::pipelines::{ForecastCategory, ForecastChoice, Pipeline, Stage, StageDirection};

type DealTest = Scenario<Deal>;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn at(minutes: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(minutes)
}

fn casey() -> Actor {
    Actor::user("casey")
}

fn deal_id() -> Uuid {
    Uuid::from_u128(7)
}

fn sid(raw: &str) -> CrmId {
    CrmId::parse(raw).unwrap()
}

fn text(raw: &str) -> Text {
    Text::parse(raw, MAX_TEXT_CHARS).unwrap()
}

fn date(raw: &str) -> NaiveDate {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").unwrap()
}

fn pipeline() -> Pipeline {
    Pipeline::default_hubspot()
}

fn stage(raw: &str) -> Stage {
    pipeline().stage(&sid(raw)).unwrap().clone()
}

fn create_in(stage: &str) -> DealCommand {
    DealCommand::Create(Box::new(CreateDeal {
        id: deal_id(),
        name: Text::parse("Acme expansion", MAX_NAME_CHARS).unwrap(),
        pipeline: pipeline(),
        stage: sid(stage),
        amount: Some(Money::usd(5_000_000)),
        close_date: Some(date("2026-12-15")),
        owner: UserName::parse("casey").unwrap(),
        source: DealSource::Manual,
        crm_id: None,
        demo: false,
        by: casey(),
        at: t0(),
    }))
}

fn move_to(stage: &str, minutes: i64) -> DealCommand {
    DealCommand::Move(Box::new(MoveDeal {
        stage: sid(stage),
        lost_reason: None,
        pipeline: pipeline(),
        by: casey(),
        at: at(minutes),
    }))
}

fn win(minutes: i64) -> DealCommand {
    DealCommand::Win(Box::new(WinDeal {
        pipeline: pipeline(),
        by: casey(),
        at: at(minutes),
    }))
}

fn lose(reason: &str, minutes: i64) -> DealCommand {
    DealCommand::Lose(Box::new(LoseDeal {
        reason: text(reason),
        pipeline: pipeline(),
        by: casey(),
        at: at(minutes),
    }))
}

fn reopen(stage: Option<&str>, minutes: i64) -> DealCommand {
    DealCommand::Reopen(Box::new(ReopenDeal {
        stage: stage.map(sid),
        pipeline: pipeline(),
        by: casey(),
        at: at(minutes),
    }))
}

fn amount(minor: Option<i64>, minutes: i64) -> DealCommand {
    DealCommand::ChangeAmount {
        amount: minor.map(Money::usd),
        by: casey(),
        at: at(minutes),
    }
}

fn close_date(raw: Option<&str>, minutes: i64) -> DealCommand {
    DealCommand::ChangeCloseDate {
        close_date: raw.map(date),
        by: casey(),
        at: at(minutes),
    }
}

fn owner(name: &str, minutes: i64) -> DealCommand {
    DealCommand::ChangeOwner {
        owner: UserName::parse(name).unwrap(),
        by: casey(),
        at: at(minutes),
    }
}

fn contacts(ids: &[u128], minutes: i64) -> DealCommand {
    DealCommand::AssociateContacts {
        contacts: ids.iter().map(|n| Uuid::from_u128(*n)).collect(),
        by: casey(),
        at: at(minutes),
    }
}

fn activity(n: u128, kind: ActivityKind, happened_days_ago: i64, minutes: i64) -> DealCommand {
    DealCommand::LogActivity(LogActivity {
        activity_id: Uuid::from_u128(n),
        kind,
        happened_at: t0() - Duration::days(happened_days_ago),
        summary: Some(text("Talked pricing")),
        by: casey(),
        at: at(minutes),
    })
}

fn next_step(step: Option<&str>, minutes: i64) -> DealCommand {
    DealCommand::SetNextStep {
        next_step: step.map(text),
        by: casey(),
        at: at(minutes),
    }
}

fn category(choice: ForecastChoice, minutes: i64) -> DealCommand {
    DealCommand::SetForecastCategory {
        choice,
        by: casey(),
        at: at(minutes),
    }
}

/// The events of running `commands` in turn from no history (panics on a rejection).
fn history(commands: Vec<DealCommand>) -> Vec<DealEvent> {
    let mut state = Deal::default();
    let mut events = Vec::new();
    for command in commands {
        for event in state.decide(command).expect("accepted") {
            state.apply(event.clone());
            events.push(event);
        }
    }
    events
}

/// A deal in "qualified to buy" (40, pipeline).
fn created() -> Vec<DealEvent> {
    history(vec![create_in("qualifiedtobuy")])
}

fn with(mut commands: Vec<DealCommand>) -> Vec<DealEvent> {
    commands.insert(0, create_in("qualifiedtobuy"));
    history(commands)
}

fn view_after(commands: Vec<DealCommand>) -> DealView {
    let events = with(commands);
    let mut state = Deal::default();
    for event in events {
        state.apply(event);
    }
    state.deal.unwrap()
}

fn stage_changed(
    from: &str,
    to: &str,
    direction: Option<StageDirection>,
    category: ForecastCategory,
    minutes: i64,
) -> DealEvent {
    DealEvent::DealStageChanged(Box::new(DealStageChanged {
        from: stage(from),
        to: stage(to),
        direction,
        forecast_category: category,
        by: casey(),
        at: at(minutes),
    }))
}

// ---------------------------------------------------------------------------------------
// Create

#[test]
fn creating_records_the_deal_in_its_open_stage_with_the_auto_category() {
    DealTest::given_no_previous_events()
        .when(create_in("qualifiedtobuy"))
        .then_expect_events(vec![DealEvent::DealCreated(Box::new(DealCreated {
            deal_id: deal_id(),
            name: "Acme expansion".into(),
            pipeline: sid("default"),
            stage: stage("qualifiedtobuy"),
            amount: Some(Money::usd(5_000_000)),
            close_date: Some(date("2026-12-15")),
            owner: "casey".into(),
            forecast_category: ForecastCategory::Pipeline,
            source: DealSource::Manual,
            crm_id: None,
            demo: false,
            by: casey(),
            at: t0(),
        }))]);
    let view = view_after(vec![]);
    assert_eq!(view.status, DealStatus::Open);
    assert_eq!(view.probability(), 40);
    assert_eq!(view.stage_entered_at, t0());
    assert_eq!(view.forecast_choice, ForecastChoice::Auto);
    assert!(!view.forecast_category_explicit);
    assert_eq!(view.close_date_pushes, 0);
    assert_eq!(view.version, 1);
    assert_eq!(
        Deal {
            deal: Some(view),
            ..Deal::default()
        }
        .ownership()
        .map(|o| o.owner),
        Some(casey())
    );
}

#[test]
fn creating_twice_is_refused_as_already_existing() {
    DealTest::given(created())
        .when(create_in("qualifiedtobuy"))
        .then_expect_error(DealError::AlreadyExists);
}

#[test]
fn creating_in_a_stage_not_in_the_pipeline_is_refused() {
    DealTest::given_no_previous_events()
        .when(create_in("negotiation"))
        .then_expect_error(DealError::UnknownStage("negotiation".into()));
}

#[test]
fn creating_in_a_won_or_lost_stage_is_refused() {
    for closed in ["closedwon", "closedlost"] {
        assert_eq!(
            Deal::default().decide(create_in(closed)),
            Err(DealError::StageNotOpen(closed.into())),
            "{closed}"
        );
    }
}

#[test]
fn creating_with_a_negative_amount_is_refused() {
    let DealCommand::Create(mut create) = create_in("qualifiedtobuy") else {
        unreachable!()
    };
    create.amount = Some(Money::usd(-1));
    DealTest::given_no_previous_events()
        .when(DealCommand::Create(create))
        .then_expect_error_message("amount must not be negative");
}

// ---------------------------------------------------------------------------------------
// Move, win, lose, reopen

#[test]
fn moving_forward_is_an_advance_carrying_both_stages_and_the_new_category() {
    DealTest::given(created())
        .when(move_to("decisionmakerboughtin", 5))
        .then_expect_events(vec![stage_changed(
            "qualifiedtobuy",
            "decisionmakerboughtin",
            Some(StageDirection::Advanced),
            ForecastCategory::Commit,
            5,
        )]);
}

#[test]
fn moving_back_is_a_regression_by_stage_order_not_by_name() {
    // "contractsent" sorts before "qualifiedtobuy" by name; the order says regression.
    DealTest::given(with(vec![move_to("contractsent", 5)]))
        .when(move_to("qualifiedtobuy", 10))
        .then_expect_events(vec![stage_changed(
            "contractsent",
            "qualifiedtobuy",
            Some(StageDirection::Regressed),
            ForecastCategory::Pipeline,
            10,
        )]);
    let view = view_after(vec![move_to("contractsent", 5)]);
    assert_eq!(view.stage.id, sid("contractsent"));
    assert_eq!(view.probability(), 90);
    assert_eq!(view.stage_entered_at, at(5));
    assert_eq!(view.forecast_category, ForecastCategory::Commit);
}

#[test]
fn moving_to_the_current_stage_records_nothing() {
    DealTest::given(created())
        .when(move_to("qualifiedtobuy", 5))
        .then_expect_events(vec![]);
}

#[test]
fn moving_to_a_stage_not_in_the_pipeline_is_refused() {
    DealTest::given(created())
        .when(move_to("negotiation", 5))
        .then_expect_error_message("the pipeline has no stage negotiation");
}

#[test]
fn moving_with_another_pipeline_than_the_deals_is_refused() {
    let other = Pipeline::new(
        sid("renewals"),
        text("Renewals"),
        pipeline().stages().to_vec(),
    )
    .unwrap();
    DealTest::given(created())
        .when(DealCommand::Move(Box::new(MoveDeal {
            stage: sid("contractsent"),
            lost_reason: None,
            pipeline: other,
            by: casey(),
            at: at(5),
        })))
        .then_expect_error(DealError::PipelineMismatch);
}

#[test]
fn commands_on_an_unknown_deal_are_not_found() {
    let commands = [
        move_to("contractsent", 5),
        win(5),
        lose("budget", 5),
        reopen(None, 5),
        amount(Some(1), 5),
        close_date(None, 5),
        owner("sam", 5),
        contacts(&[1], 5),
        activity(1, ActivityKind::Call, 0, 5),
        next_step(Some("Call"), 5),
        category(ForecastChoice::Commit, 5),
    ];
    for command in commands {
        let name = Deal::command_name(&command);
        assert_eq!(
            Deal::default().decide(command),
            Err(DealError::NotFound),
            "{name}"
        );
    }
}

#[test]
fn moving_to_the_won_stage_wins_the_deal() {
    DealTest::given(created())
        .when(move_to("closedwon", 5))
        .then_expect_events(vec![
            stage_changed(
                "qualifiedtobuy",
                "closedwon",
                Some(StageDirection::Advanced),
                ForecastCategory::ClosedWon,
                5,
            ),
            DealEvent::DealWon(DealWon {
                stage: sid("closedwon"),
                by: casey(),
                at: at(5),
            }),
        ]);
}

#[test]
fn moving_to_a_lost_stage_without_a_reason_is_refused() {
    DealTest::given(created())
        .when(move_to("closedlost", 5))
        .then_expect_error(DealError::LostReasonRequired);
}

#[test]
fn moving_to_a_lost_stage_with_a_reason_loses_the_deal() {
    DealTest::given(created())
        .when(DealCommand::Move(Box::new(MoveDeal {
            stage: sid("closedlost"),
            lost_reason: Some(text("No budget")),
            pipeline: pipeline(),
            by: casey(),
            at: at(5),
        })))
        .then_expect_events(vec![
            stage_changed(
                "qualifiedtobuy",
                "closedlost",
                Some(StageDirection::Advanced),
                ForecastCategory::Omitted,
                5,
            ),
            DealEvent::DealLost(DealLost {
                stage: sid("closedlost"),
                reason: "No budget".into(),
                by: casey(),
                at: at(5),
            }),
        ]);
}

#[test]
fn moving_a_closed_deal_is_refused_until_it_is_reopened() {
    DealTest::given(with(vec![win(5)]))
        .when(move_to("contractsent", 10))
        .then_expect_error_message("this deal is won; reopen it first");
    DealTest::given(with(vec![lose("No budget", 5)]))
        .when(move_to("contractsent", 10))
        .then_expect_error(DealError::Closed(DealStatus::Lost));
}

#[test]
fn winning_moves_the_deal_to_the_won_stage() {
    let state = DealTest::given(created()).when(win(5)).state_after();
    let view = state.deal.unwrap();
    assert_eq!(view.status, DealStatus::Won);
    assert_eq!(view.stage.id, sid("closedwon"));
    assert_eq!(view.probability(), 100);
    assert_eq!(view.forecast_category, ForecastCategory::ClosedWon);
    assert_eq!(view.closed_at, Some(at(5)));
    assert_eq!(view.version, 3);
    assert_eq!(
        with(vec![win(5)])[1..],
        with(vec![move_to("closedwon", 5)])[1..],
        "winning and moving to the won stage are the same events"
    );
}

#[test]
fn winning_a_won_deal_again_records_nothing() {
    DealTest::given(with(vec![win(5)]))
        .when(win(10))
        .then_expect_events(vec![]);
}

#[test]
fn winning_a_lost_deal_is_refused() {
    DealTest::given(with(vec![lose("No budget", 5)]))
        .when(win(10))
        .then_expect_error(DealError::Closed(DealStatus::Lost));
}

#[test]
fn losing_moves_the_deal_to_the_lost_stage_with_its_reason() {
    let view = view_after(vec![lose("No budget", 5)]);
    assert_eq!(view.status, DealStatus::Lost);
    assert_eq!(view.stage.id, sid("closedlost"));
    assert_eq!(view.probability(), 0);
    assert_eq!(view.lost_reason.as_deref(), Some("No budget"));
    assert_eq!(view.forecast_category, ForecastCategory::Omitted);
    assert_eq!(view.closed_at, Some(at(5)));
}

#[test]
fn losing_again_for_the_same_reason_records_nothing() {
    DealTest::given(with(vec![lose("No budget", 5)]))
        .when(lose("No budget", 10))
        .then_expect_events(vec![]);
}

#[test]
fn losing_a_lost_deal_for_another_reason_is_refused() {
    DealTest::given(with(vec![lose("No budget", 5)]))
        .when(lose("Went with a competitor", 10))
        .then_expect_error(DealError::Closed(DealStatus::Lost));
}

#[test]
fn losing_a_won_deal_is_refused() {
    DealTest::given(with(vec![win(5)]))
        .when(lose("No budget", 10))
        .then_expect_error(DealError::Closed(DealStatus::Won));
}

#[test]
fn reopening_goes_back_to_the_stage_the_deal_closed_from() {
    DealTest::given(with(vec![
        move_to("contractsent", 5),
        lose("No budget", 10),
    ]))
    .when(reopen(None, 15))
    .then_expect_events(vec![
        DealEvent::DealReopened(DealReopened {
            by: casey(),
            at: at(15),
        }),
        stage_changed(
            "closedlost",
            "contractsent",
            Some(StageDirection::Regressed),
            ForecastCategory::Commit,
            15,
        ),
    ]);
    let view = view_after(vec![
        move_to("contractsent", 5),
        lose("No budget", 10),
        reopen(None, 15),
    ]);
    assert_eq!(view.status, DealStatus::Open);
    assert_eq!(view.lost_reason, None);
    assert_eq!(view.closed_at, None);
}

#[test]
fn reopening_into_a_chosen_open_stage() {
    let view = view_after(vec![win(5), reopen(Some("presentationscheduled"), 10)]);
    assert_eq!(view.status, DealStatus::Open);
    assert_eq!(view.stage.id, sid("presentationscheduled"));
    assert_eq!(view.forecast_category, ForecastCategory::BestCase);
}

#[test]
fn reopening_into_a_won_or_lost_stage_is_refused() {
    DealTest::given(with(vec![win(5)]))
        .when(reopen(Some("closedlost"), 10))
        .then_expect_error(DealError::StageNotOpen("closedlost".into()));
}

#[test]
fn reopening_an_open_deal_records_nothing() {
    DealTest::given(created())
        .when(reopen(None, 5))
        .then_expect_events(vec![]);
}

#[test]
fn reopening_goes_to_the_first_open_stage_when_the_old_one_is_gone() {
    let stages: Vec<Stage> = pipeline()
        .stages()
        .iter()
        .filter(|s| s.id.as_str() != "qualifiedtobuy")
        .cloned()
        .collect();
    let changed = Pipeline::new(sid("default"), text("Sales"), stages).unwrap();
    DealTest::given(with(vec![win(5)]))
        .when(DealCommand::Reopen(Box::new(ReopenDeal {
            stage: None,
            pipeline: changed,
            by: casey(),
            at: at(10),
        })))
        .then_expect_events(vec![
            DealEvent::DealReopened(DealReopened {
                by: casey(),
                at: at(10),
            }),
            stage_changed(
                "closedwon",
                "appointmentscheduled",
                Some(StageDirection::Regressed),
                ForecastCategory::Pipeline,
                10,
            ),
        ]);
}

#[test]
fn a_move_from_a_stage_the_pipeline_no_longer_has_has_no_direction() {
    let stages: Vec<Stage> = pipeline()
        .stages()
        .iter()
        .filter(|s| s.id.as_str() != "qualifiedtobuy")
        .cloned()
        .collect();
    let changed = Pipeline::new(sid("default"), text("Sales"), stages).unwrap();
    let events = DealTest::given(created())
        .when(DealCommand::Move(Box::new(MoveDeal {
            stage: sid("contractsent"),
            lost_reason: None,
            pipeline: changed,
            by: casey(),
            at: at(5),
        })))
        .inspect_result()
        .unwrap();
    let [DealEvent::DealStageChanged(changed)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(changed.direction, None);
}

// ---------------------------------------------------------------------------------------
// Amount, close date, owner

#[test]
fn changing_the_amount_records_old_and_new() {
    DealTest::given(created())
        .when(amount(Some(4_000_000), 5))
        .then_expect_events(vec![DealEvent::DealAmountChanged(DealAmountChanged {
            old: Some(Money::usd(5_000_000)),
            new: Some(Money::usd(4_000_000)),
            by: casey(),
            at: at(5),
        })]);
    assert_eq!(view_after(vec![amount(None, 5)]).amount, None);
}

#[test]
fn changing_the_amount_to_what_it_is_records_nothing() {
    DealTest::given(created())
        .when(amount(Some(5_000_000), 5))
        .then_expect_events(vec![]);
}

#[test]
fn a_negative_amount_is_refused() {
    DealTest::given(created())
        .when(amount(Some(-100), 5))
        .then_expect_error_message("amount must not be negative");
}

#[test]
fn a_later_close_date_is_a_push_and_pushes_are_counted() {
    DealTest::given(created())
        .when(close_date(Some("2027-01-15"), 5))
        .then_expect_events(vec![DealEvent::DealCloseDateChanged(
            DealCloseDateChanged {
                old: Some(date("2026-12-15")),
                new: Some(date("2027-01-15")),
                pushed: true,
                by: casey(),
                at: at(5),
            },
        )]);
    // (the close dates set in turn, the pushes counted)
    let table: [(&[Option<&str>], u32); 5] = [
        (&[Some("2027-01-15")], 1),
        (&[Some("2026-12-01")], 0),
        (
            &[Some("2027-01-15"), Some("2026-12-20"), Some("2027-02-01")],
            2,
        ),
        (&[None, Some("2027-06-01")], 0),
        (
            &[Some("2027-01-01"), Some("2027-02-01"), Some("2027-03-01")],
            3,
        ),
    ];
    for (dates, pushes) in table {
        let commands = dates
            .iter()
            .enumerate()
            .map(|(i, d)| close_date(*d, i as i64 + 1))
            .collect();
        let view = view_after(commands);
        assert_eq!(view.close_date_pushes, pushes, "{dates:?}");
        assert_eq!(
            view.close_date,
            dates.last().unwrap().map(date),
            "{dates:?}"
        );
    }
}

#[test]
fn pulling_the_close_date_in_is_not_a_push() {
    let events = DealTest::given(created())
        .when(close_date(Some("2026-12-01"), 5))
        .inspect_result()
        .unwrap();
    let [DealEvent::DealCloseDateChanged(changed)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert!(!changed.pushed);
}

#[test]
fn changing_the_close_date_to_what_it_is_records_nothing() {
    DealTest::given(created())
        .when(close_date(Some("2026-12-15"), 5))
        .then_expect_events(vec![]);
}

#[test]
fn changing_the_owner_records_old_and_new_and_the_deal_becomes_theirs() {
    let state = DealTest::given(created())
        .when(owner("sam", 5))
        .state_after();
    assert_eq!(state.ownership().map(|o| o.owner), Some(Actor::user("sam")));
    DealTest::given(created())
        .when(owner("sam", 5))
        .then_expect_events(vec![DealEvent::DealOwnerChanged(DealOwnerChanged {
            old: "casey".into(),
            new: "sam".into(),
            by: casey(),
            at: at(5),
        })]);
}

#[test]
fn changing_the_owner_to_the_owner_records_nothing() {
    DealTest::given(created())
        .when(owner("casey", 5))
        .then_expect_events(vec![]);
}

#[test]
fn a_closed_deal_refuses_changes_to_its_numbers_until_reopened() {
    let changes = || {
        [
            amount(Some(1), 20),
            close_date(Some("2027-03-01"), 20),
            owner("sam", 20),
            next_step(Some("Call"), 20),
            category(ForecastChoice::Commit, 20),
        ]
    };
    for (close, status) in [
        (win(5), DealStatus::Won),
        (lose("No budget", 5), DealStatus::Lost),
    ] {
        let mut closed = Deal::default();
        for event in with(vec![close.clone()]) {
            closed.apply(event);
        }
        for change in changes() {
            let name = Deal::command_name(&change);
            assert_eq!(
                closed.decide(change),
                Err(DealError::Closed(status)),
                "{name}"
            );
        }
        let mut reopened = Deal::default();
        for event in with(vec![close, reopen(None, 10)]) {
            reopened.apply(event);
        }
        for change in changes() {
            let name = Deal::command_name(&change);
            assert_eq!(reopened.decide(change).map(|e| e.len()), Ok(1), "{name}");
        }
    }
}

#[test]
fn a_retry_of_a_change_that_took_effect_records_nothing_even_once_closed() {
    let mut state = Deal::default();
    for event in with(vec![
        amount(Some(1), 5),
        next_step(Some("Call"), 6),
        win(10),
    ]) {
        state.apply(event);
    }
    assert_eq!(state.decide(amount(Some(1), 5)), Ok(vec![]));
    assert_eq!(state.decide(next_step(Some("Call"), 6)), Ok(vec![]));
}

// ---------------------------------------------------------------------------------------
// Contacts and activities

#[test]
fn associating_contacts_records_only_the_new_ones() {
    DealTest::given(with(vec![contacts(&[1], 5)]))
        .when(contacts(&[1, 2, 2, 3], 10))
        .then_expect_events(vec![DealEvent::DealContactsAssociated(
            DealContactsAssociated {
                contacts: vec![Uuid::from_u128(2), Uuid::from_u128(3)],
                by: casey(),
                at: at(10),
            },
        )]);
}

#[test]
fn associating_contacts_already_associated_records_nothing() {
    DealTest::given(with(vec![contacts(&[1, 2], 5)]))
        .when(contacts(&[2, 1], 10))
        .then_expect_events(vec![]);
}

#[test]
fn associating_no_contacts_is_refused() {
    DealTest::given(created())
        .when(contacts(&[], 5))
        .then_expect_error_message("contacts must name at least one contact");
}

#[test]
fn logging_an_activity_records_when_it_happened_apart_from_when_it_was_recorded() {
    DealTest::given(created())
        .when(activity(1, ActivityKind::Meeting, 3, 5))
        .then_expect_events(vec![DealEvent::DealActivityLogged(DealActivityLogged {
            activity_id: Uuid::from_u128(1),
            kind: ActivityKind::Meeting,
            happened_at: t0() - Duration::days(3),
            summary: Some("Talked pricing".into()),
            by: casey(),
            at: at(5),
        })]);
    // An older activity logged later does not move the last activity back.
    let view = view_after(vec![
        activity(1, ActivityKind::Email, 2, 5),
        activity(2, ActivityKind::Call, 10, 6),
        activity(3, ActivityKind::Email, 5, 7),
        activity(4, ActivityKind::Note, 30, 8),
    ]);
    assert_eq!(view.last_activity_at, Some(t0() - Duration::days(2)));
    assert_eq!(
        view.activity_counts,
        ActivityCounts {
            email: 2,
            call: 1,
            meeting: 0,
            note: 1
        }
    );
    assert_eq!(view.activity_counts.total(), 4);
    assert_eq!(view.updated_at, at(8));
}

#[test]
fn recent_activities_are_kept_newest_first_by_when_they_happened() {
    let view = view_after(vec![
        activity(1, ActivityKind::Email, 2, 5),
        activity(2, ActivityKind::Call, 10, 6),
        activity(3, ActivityKind::Meeting, 5, 7),
    ]);
    let stamp = |kind, days| ActivityStamp {
        kind,
        happened_at: t0() - Duration::days(days),
    };
    assert_eq!(
        view.recent_activities,
        vec![
            stamp(ActivityKind::Email, 2),
            stamp(ActivityKind::Meeting, 5),
            stamp(ActivityKind::Call, 10),
        ]
    );
}

#[test]
fn recent_activities_keep_only_the_latest_ones() {
    // One more than kept, logged oldest last: the oldest (day 100 + kept) falls off.
    let kept = RECENT_ACTIVITIES_KEPT as i64;
    let commands = (0..=kept)
        .map(|i| activity(i as u128 + 1, ActivityKind::Email, 100 + i, i + 1))
        .collect();
    let view = view_after(commands);
    assert_eq!(view.recent_activities.len(), RECENT_ACTIVITIES_KEPT);
    assert_eq!(
        view.recent_activities.first().map(|s| s.happened_at),
        Some(t0() - Duration::days(100))
    );
    assert_eq!(
        view.recent_activities.last().map(|s| s.happened_at),
        Some(t0() - Duration::days(100 + kept - 1))
    );
    // A newer one still goes in at the front; the counts keep counting every activity.
    let mut commands: Vec<DealCommand> = (0..=kept)
        .map(|i| activity(i as u128 + 1, ActivityKind::Email, 100 + i, i + 1))
        .collect();
    commands.push(activity(999, ActivityKind::Call, 1, 500));
    let view = view_after(commands);
    assert_eq!(view.recent_activities.len(), RECENT_ACTIVITIES_KEPT);
    assert_eq!(view.recent_activities[0].kind, ActivityKind::Call);
    assert_eq!(view.activity_counts.total(), kept as u32 + 2);
}

#[test]
fn the_peak_amount_is_the_largest_the_deal_has_had() {
    // (the amounts set in turn after creation at $50,000, the peak after them)
    let table: [(&[Option<i64>], Option<i64>); 5] = [
        (&[], Some(5_000_000)),
        (&[Some(4_000_000)], Some(5_000_000)),
        (&[Some(6_000_000), Some(3_000_000)], Some(6_000_000)),
        (&[None], Some(5_000_000)),
        (&[None, Some(7_000_000), Some(1_000)], Some(7_000_000)),
    ];
    for (amounts, peak) in table {
        let commands = amounts
            .iter()
            .enumerate()
            .map(|(i, a)| amount(*a, i as i64 + 1))
            .collect();
        let view = view_after(commands);
        assert_eq!(view.peak_amount, peak.map(Money::usd), "{amounts:?}");
    }
}

#[test]
fn logging_the_same_activity_again_records_nothing() {
    DealTest::given(with(vec![activity(1, ActivityKind::Call, 1, 5)]))
        .when(activity(1, ActivityKind::Call, 1, 9))
        .then_expect_events(vec![]);
}

#[test]
fn an_activity_that_happens_after_it_is_recorded_is_refused() {
    DealTest::given(created())
        .when(DealCommand::LogActivity(LogActivity {
            activity_id: Uuid::from_u128(1),
            kind: ActivityKind::Meeting,
            happened_at: at(60),
            summary: None,
            by: casey(),
            at: at(5),
        }))
        .then_expect_error_message("happened_at must not be later than the time it is recorded");
}

#[test]
fn activities_and_contacts_can_be_added_to_a_closed_deal() {
    let view = view_after(vec![
        lose("No budget", 5),
        activity(1, ActivityKind::Email, 0, 10),
        contacts(&[9], 11),
    ]);
    assert_eq!(view.status, DealStatus::Lost);
    assert_eq!(view.activity_counts.email, 1);
    assert_eq!(view.contacts, vec![Uuid::from_u128(9)]);
}

// ---------------------------------------------------------------------------------------
// Next step and forecast category

#[test]
fn setting_and_clearing_the_next_step() {
    DealTest::given(created())
        .when(next_step(Some("Send the order form"), 5))
        .then_expect_events(vec![DealEvent::DealNextStepSet(DealNextStepSet {
            next_step: Some("Send the order form".into()),
            by: casey(),
            at: at(5),
        })]);
    let view = view_after(vec![next_step(Some("Call"), 5), next_step(None, 10)]);
    assert_eq!(view.next_step, None);
    assert_eq!(view.next_step_set_at, Some(at(10)));
}

#[test]
fn setting_the_next_step_it_has_records_nothing() {
    DealTest::given(with(vec![next_step(Some("Call"), 5)]))
        .when(next_step(Some("Call"), 10))
        .then_expect_events(vec![]);
}

#[test]
fn choosing_a_forecast_category_records_the_choice_and_the_category_before_and_after() {
    DealTest::given(created())
        .when(category(ForecastChoice::Commit, 5))
        .then_expect_events(vec![DealEvent::DealForecastCategorySet(
            DealForecastCategorySet {
                choice: ForecastChoice::Commit,
                old: ForecastCategory::Pipeline,
                new: ForecastCategory::Commit,
                by: casey(),
                at: at(5),
            },
        )]);
}

#[test]
fn choosing_the_forecast_category_already_chosen_records_nothing() {
    DealTest::given(with(vec![category(ForecastChoice::BestCase, 5)]))
        .when(category(ForecastChoice::BestCase, 10))
        .then_expect_events(vec![]);
    DealTest::given(created())
        .when(category(ForecastChoice::Auto, 10))
        .then_expect_events(vec![]);
}

#[test]
fn an_explicit_category_is_sticky_when_the_stage_changes() {
    DealTest::given(with(vec![category(ForecastChoice::BestCase, 5)]))
        .when(move_to("contractsent", 10))
        .then_expect_events(vec![stage_changed(
            "qualifiedtobuy",
            "contractsent",
            Some(StageDirection::Advanced),
            ForecastCategory::BestCase,
            10,
        )]);
    let view = view_after(vec![
        category(ForecastChoice::BestCase, 5),
        move_to("contractsent", 10),
    ]);
    assert_eq!(view.forecast_category, ForecastCategory::BestCase);
    assert!(view.forecast_category_explicit);
}

#[test]
fn auto_follows_the_stage_again() {
    DealTest::given(with(vec![
        category(ForecastChoice::Omitted, 5),
        move_to("contractsent", 10),
    ]))
    .when(category(ForecastChoice::Auto, 15))
    .then_expect_events(vec![DealEvent::DealForecastCategorySet(
        DealForecastCategorySet {
            choice: ForecastChoice::Auto,
            old: ForecastCategory::Omitted,
            new: ForecastCategory::Commit,
            by: casey(),
            at: at(15),
        },
    )]);
    let view = view_after(vec![
        category(ForecastChoice::Omitted, 5),
        category(ForecastChoice::Auto, 10),
        move_to("presentationscheduled", 15),
    ]);
    assert_eq!(view.forecast_category, ForecastCategory::BestCase);
    assert!(!view.forecast_category_explicit);
}

#[test]
fn closing_decides_the_category_and_reopening_brings_the_choice_back() {
    let won = view_after(vec![category(ForecastChoice::Pipeline, 5), win(10)]);
    assert_eq!(won.forecast_category, ForecastCategory::ClosedWon);
    assert!(!won.forecast_category_explicit);
    assert_eq!(won.forecast_choice, ForecastChoice::Pipeline);
    let reopened = view_after(vec![
        category(ForecastChoice::Pipeline, 5),
        move_to("contractsent", 6),
        win(10),
        reopen(None, 15),
    ]);
    assert_eq!(reopened.forecast_category, ForecastCategory::Pipeline);
    assert!(reopened.forecast_category_explicit);
}

// ---------------------------------------------------------------------------------------
// Errors and replay

#[test]
fn deal_errors_have_stable_codes() {
    let table = [
        (DealError::NotFound, "deal.not_found"),
        (DealError::AlreadyExists, "deal.already_exists"),
        (DealError::Closed(DealStatus::Won), "deal.closed"),
        (DealError::UnknownStage("x".into()), "deal.unknown_stage"),
        (DealError::StageNotOpen("x".into()), "deal.stage_not_open"),
        (DealError::LostReasonRequired, "deal.lost_reason_required"),
        (DealError::PipelineMismatch, "deal.pipeline_mismatch"),
        (DealError::invalid("amount", "x"), "request.validation"),
    ];
    for (error, code) in table {
        assert_eq!(error.code(), code, "{error:?}");
    }
}

#[test]
fn stored_events_fold_back_into_the_same_deal() {
    let events = with(vec![
        move_to("presentationscheduled", 1),
        amount(Some(6_000_000), 2),
        close_date(Some("2027-01-31"), 3),
        owner("sam", 4),
        contacts(&[1, 2], 5),
        activity(1, ActivityKind::Call, 1, 6),
        next_step(Some("Demo for the CFO"), 7),
        category(ForecastChoice::Commit, 8),
        lose("Timing", 9),
        reopen(None, 10),
        win(11),
    ]);
    let stored: Vec<(String, serde_json::Value)> = events
        .iter()
        .map(|e| {
            (
                Deal::event_name(e).to_string(),
                serde_json::to_value(e).unwrap(),
            )
        })
        .collect();
    let folded: Deal = fold(stored.iter().map(|(name, payload)| RecordedEvent {
        event_type: name,
        event_version: DEAL_EVENT_VERSION,
        payload: Payload::Value(payload),
    }))
    .unwrap();
    let mut direct = Deal::default();
    for event in events {
        direct.apply(event);
    }
    assert_eq!(folded, direct);
    let view = folded.deal.unwrap();
    assert_eq!(view.status, DealStatus::Won);
    assert_eq!(view.close_date_pushes, 1);
    assert_eq!(view.version, 15);
}

#[test]
fn rejections_name_the_field_or_say_what_kind_they_are() {
    use crate::aggregate::{DomainError, RejectionKind};
    let invalid = |field: &'static str, message: &str| RejectionKind::Invalid {
        field,
        message: message.into(),
    };
    let table = [
        (DealError::NotFound, RejectionKind::NotFound),
        (DealError::AlreadyExists, RejectionKind::Conflict),
        (DealError::Closed(DealStatus::Lost), RejectionKind::Conflict),
        (DealError::UnknownStage("x".into()), RejectionKind::Conflict),
        (DealError::StageNotOpen("x".into()), RejectionKind::Conflict),
        (DealError::LostReasonRequired, RejectionKind::Conflict),
        (
            DealError::PipelineMismatch,
            invalid("pipeline", "must be the deal's pipeline"),
        ),
        (
            DealError::invalid("amount", "must not be negative"),
            invalid("amount", "must not be negative"),
        ),
    ];
    for (error, kind) in table {
        assert_eq!(DomainError::kind(&error), kind, "{error:?}");
    }
}

#[test]
fn a_view_stored_before_peaks_and_recent_activities_still_reads() {
    let view = view_after(vec![activity(1, ActivityKind::Call, 1, 5)]);
    let mut json = serde_json::to_value(&view).unwrap();
    let object = json.as_object_mut().unwrap();
    object.remove("peak_amount");
    object.remove("recent_activities");
    let read: DealView = serde_json::from_value(json).unwrap();
    assert_eq!(read.peak_amount, None);
    assert_eq!(read.recent_activities, vec![]);
}

// ---------------------------------------------------------------------------------------
// Health and risk over a folded history

#[test]
fn a_folded_history_is_scored_and_flagged() {
    // Created in qualified to buy at t0 ($50,000, closing 2026-12-15), cut to $40,000, a
    // meeting 3 days before t0; read 20 days after t0.
    let view = view_after(vec![
        amount(Some(4_000_000), 5),
        activity(1, ActivityKind::Meeting, 3, 6),
    ]);
    let now = t0() + Duration::days(20);
    let score = deal_health(&view, now, &HealthConfig::default());
    let score = score.score().unwrap();
    // Meeting 23 days ago: in the window, 25×3/10 = 7; recency 0 (over 14 days); 40% → 6;
    // 20 of 21 days in stage → 15; close date ahead, unpushed → 10; $40,000 of $50,000 → 8;
    // no contacts → 0. 7 + 0 + 6 + 15 + 10 + 8 + 0 = 46.
    let points: Vec<u8> = score.factors.iter().map(|f| f.points).collect();
    assert_eq!(points, [7, 0, 6, 15, 10, 8, 0]);
    assert_eq!(score.total, 46);
    let flags = risk_flags(&view, now, &RiskConfig::default());
    let kinds: Vec<RiskKind> = flags.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            RiskKind::NoActivity,
            RiskKind::SingleThreaded,
            RiskKind::AmountDropped,
            RiskKind::NoNextStep
        ]
    );
    assert_eq!(
        flags[0].evidence[0].at,
        Some(t0() - Duration::days(3)),
        "the meeting's happened-at, not its recording time"
    );
    // Won: not scored, not flagged.
    let won = view_after(vec![amount(Some(4_000_000), 5), win(10)]);
    assert!(deal_health(&won, now, &HealthConfig::default())
        .score()
        .is_none());
    assert!(risk_flags(&won, now, &RiskConfig::default()).is_empty());
}
