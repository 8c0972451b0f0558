//! Pipeline validation, stage order and forecast categories as tables; given/when/then for
//! every pipeline command, outcome and rejection.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::*;
use crate::aggregate::testing::Scenario;
use crate::kernel::{Actor, CrmId, Text};

type PipelineTest = Scenario<PipelineDefinition>;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn admin() -> Actor {
    Actor::user("admin")
}

fn id(raw: &str) -> CrmId {
    CrmId::parse(raw).unwrap()
}

fn label(raw: &str) -> Text {
    Text::parse(raw, MAX_LABEL_CHARS).unwrap()
}

fn stage(raw: &str, probability: u8, kind: StageKind) -> Stage {
    Stage::new(id(raw), label(raw), probability, kind)
}

fn small(stages: Vec<Stage>) -> Result<Pipeline, PipelineError> {
    Pipeline::new(id("renewals"), label("Renewals"), stages)
}

fn renewals() -> Pipeline {
    small(vec![
        stage("open", 30, StageKind::Open),
        stage("won", 100, StageKind::Won),
        stage("lost", 0, StageKind::Lost),
    ])
    .unwrap()
}

fn define(pipeline: Pipeline) -> PipelineCommand {
    PipelineCommand::Define(DefinePipeline {
        pipeline,
        source: PipelineSource::Local,
        by: admin(),
        at: t0(),
    })
}

fn update(pipeline: Pipeline, minutes: i64) -> PipelineCommand {
    PipelineCommand::Update(DefinePipeline {
        pipeline,
        source: PipelineSource::Local,
        by: admin(),
        at: t0() + Duration::minutes(minutes),
    })
}

fn defined(pipeline: Pipeline) -> PipelineEvent {
    PipelineEvent::PipelineDefined(PipelineDefined {
        pipeline,
        source: PipelineSource::Local,
        by: admin(),
        at: t0(),
    })
}

#[test]
fn the_default_pipeline_is_hubspots_stages_in_order_with_their_probabilities() {
    let pipeline = Pipeline::default_hubspot();
    assert_eq!(pipeline.id().as_str(), "default");
    let stages: Vec<(&str, u8, StageKind)> = pipeline
        .stages()
        .iter()
        .map(|s| (s.id.as_str(), s.probability, s.kind))
        .collect();
    assert_eq!(
        stages,
        [
            ("appointmentscheduled", 20, StageKind::Open),
            ("qualifiedtobuy", 40, StageKind::Open),
            ("presentationscheduled", 60, StageKind::Open),
            ("decisionmakerboughtin", 80, StageKind::Open),
            ("contractsent", 90, StageKind::Open),
            ("closedwon", 100, StageKind::Won),
            ("closedlost", 0, StageKind::Lost),
        ]
    );
    // It passes the same checks as any other pipeline.
    let rebuilt = Pipeline::new(
        pipeline.id().clone(),
        label(pipeline.label()),
        pipeline.stages().to_vec(),
    );
    assert_eq!(rebuilt.as_ref(), Ok(&pipeline));
    assert_eq!(pipeline.won_stage().id.as_str(), "closedwon");
    assert_eq!(pipeline.lost_stage().id.as_str(), "closedlost");
    assert_eq!(
        pipeline.first_open_stage().id.as_str(),
        "appointmentscheduled"
    );
}

#[test]
fn pipelines_are_validated() {
    let open = || stage("open", 30, StageKind::Open);
    let won = || stage("won", 100, StageKind::Won);
    let lost = || stage("lost", 0, StageKind::Lost);
    // (stages, the rejection's message or None when valid)
    let table: Vec<(Vec<Stage>, Option<&str>)> = vec![
        (vec![open(), won(), lost()], None),
        (
            vec![open(), stage("open", 50, StageKind::Open), won(), lost()],
            Some("stages has the stage id open more than once"),
        ),
        (
            vec![stage("open", 101, StageKind::Open), won(), lost()],
            Some("stages open: a probability must be 0–100"),
        ),
        (
            vec![open(), stage("won", 90, StageKind::Won), lost()],
            Some("stages won: a won stage has probability 100"),
        ),
        (
            vec![open(), won(), stage("lost", 10, StageKind::Lost)],
            Some("stages lost: a lost stage has probability 0"),
        ),
        (
            vec![won(), lost()],
            Some("stages needs at least one open stage"),
        ),
        (
            vec![open(), lost()],
            Some("stages needs at least one won stage"),
        ),
        (
            vec![open(), won()],
            Some("stages needs at least one lost stage"),
        ),
        (vec![], Some("stages needs at least one open stage")),
        (
            vec![
                Stage {
                    label: " ".into(),
                    ..open()
                },
                won(),
                lost(),
            ],
            Some("stages open: a label must be 1–256 characters"),
        ),
        // Open stages may sit at 0 or 100; order is the author's.
        (
            vec![
                stage("b", 100, StageKind::Open),
                stage("a", 0, StageKind::Open),
                won(),
                lost(),
            ],
            None,
        ),
    ];
    for (stages, expected) in table {
        let ids: Vec<String> = stages.iter().map(|s| s.id.as_str().to_string()).collect();
        let result = small(stages).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            result,
            expected.map_or(Ok(()), |m| Err(m.to_string())),
            "{ids:?}"
        );
    }
    let too_many: Vec<Stage> = (0..=MAX_STAGES)
        .map(|i| stage(&format!("s{i}"), 10, StageKind::Open))
        .collect();
    assert_eq!(
        small(too_many).unwrap_err().to_string(),
        "stages may hold at most 100 stages"
    );
}

#[test]
fn pipeline_json_is_read_through_the_same_checks() {
    let good = serde_json::to_value(renewals()).unwrap();
    assert_eq!(
        serde_json::from_value::<Pipeline>(good).unwrap(),
        renewals()
    );
    let bad = json!({"id": "x", "label": "X", "stages": [
        {"id": "a", "label": "A", "probability": 10, "kind": "open"},
        {"id": "w", "label": "W", "probability": 90, "kind": "won"},
        {"id": "l", "label": "L", "probability": 0, "kind": "lost"}
    ]});
    assert_eq!(
        serde_json::from_value::<Pipeline>(bad)
            .unwrap_err()
            .to_string(),
        "stages w: a won stage has probability 100"
    );
}

#[test]
fn direction_is_judged_by_stage_order_never_by_names() {
    let pipeline = Pipeline::default_hubspot();
    // (from, to, direction): names sort differently from the order on purpose.
    let table = [
        (
            "qualifiedtobuy",
            "contractsent",
            Some(StageDirection::Advanced),
        ),
        (
            "contractsent",
            "qualifiedtobuy",
            Some(StageDirection::Regressed),
        ),
        (
            "appointmentscheduled",
            "qualifiedtobuy",
            Some(StageDirection::Advanced),
        ),
        (
            "decisionmakerboughtin",
            "appointmentscheduled",
            Some(StageDirection::Regressed),
        ),
        ("contractsent", "closedwon", Some(StageDirection::Advanced)),
        (
            "closedlost",
            "qualifiedtobuy",
            Some(StageDirection::Regressed),
        ),
        ("qualifiedtobuy", "qualifiedtobuy", None),
        ("qualifiedtobuy", "nosuchstage", None),
        ("nosuchstage", "qualifiedtobuy", None),
    ];
    for (from, to, expected) in table {
        assert_eq!(
            pipeline.direction(&id(from), &id(to)),
            expected,
            "{from} → {to}"
        );
    }
}

#[test]
fn auto_forecast_categories_follow_the_stage_kind_and_probability() {
    // (kind, probability, category)
    let table = [
        (StageKind::Open, 0, ForecastCategory::Pipeline),
        (StageKind::Open, 20, ForecastCategory::Pipeline),
        (StageKind::Open, 40, ForecastCategory::Pipeline),
        (StageKind::Open, 49, ForecastCategory::Pipeline),
        (StageKind::Open, 50, ForecastCategory::BestCase),
        (StageKind::Open, 60, ForecastCategory::BestCase),
        (StageKind::Open, 79, ForecastCategory::BestCase),
        (StageKind::Open, 80, ForecastCategory::Commit),
        (StageKind::Open, 90, ForecastCategory::Commit),
        (StageKind::Open, 100, ForecastCategory::Commit),
        (StageKind::Won, 100, ForecastCategory::ClosedWon),
        (StageKind::Lost, 0, ForecastCategory::Omitted),
    ];
    for (kind, probability, expected) in table {
        assert_eq!(
            auto_category(kind, probability),
            expected,
            "{kind:?} at {probability}"
        );
    }
    let default: Vec<ForecastCategory> = Pipeline::default_hubspot()
        .stages()
        .iter()
        .map(stage_category)
        .collect();
    assert_eq!(
        default,
        [
            ForecastCategory::Pipeline,
            ForecastCategory::Pipeline,
            ForecastCategory::BestCase,
            ForecastCategory::Commit,
            ForecastCategory::Commit,
            ForecastCategory::ClosedWon,
            ForecastCategory::Omitted,
        ]
    );
}

#[test]
fn an_explicit_category_holds_while_open_and_closing_decides_it() {
    use ForecastCategory::*;
    // (kind, probability, explicit, effective)
    let table = [
        (StageKind::Open, 20, None, Pipeline),
        (StageKind::Open, 20, Some(Commit), Commit),
        (StageKind::Open, 90, Some(Omitted), Omitted),
        (StageKind::Open, 90, None, Commit),
        (StageKind::Won, 100, Some(Omitted), ClosedWon),
        (StageKind::Lost, 0, Some(Commit), Omitted),
    ];
    for (kind, probability, explicit, expected) in table {
        assert_eq!(
            effective_category(kind, probability, explicit),
            expected,
            "{kind:?} {probability} {explicit:?}"
        );
    }
    assert_eq!(ForecastChoice::Auto.explicit(), None);
    assert_eq!(ForecastChoice::BestCase.explicit(), Some(BestCase));
}

#[test]
fn defining_a_pipeline_records_its_whole_definition() {
    PipelineTest::given_no_previous_events()
        .when(define(renewals()))
        .then_expect_events(vec![defined(renewals())]);
}

#[test]
fn defining_the_same_pipeline_again_records_nothing() {
    PipelineTest::given(vec![defined(renewals())])
        .when(define(renewals()))
        .then_expect_events(vec![]);
}

#[test]
fn defining_a_different_pipeline_under_an_existing_id_is_refused() {
    PipelineTest::given(vec![defined(renewals())])
        .when(define(Pipeline::default_hubspot()))
        .then_expect_error(PipelineError::AlreadyExists);
}

#[test]
fn updating_replaces_the_stages() {
    let mut stages = renewals().stages().to_vec();
    stages.insert(1, stage("verbal", 80, StageKind::Open));
    let changed = small(stages).unwrap();
    let state = PipelineTest::given(vec![defined(renewals())])
        .when(update(changed.clone(), 5))
        .state_after();
    let view = state.pipeline.unwrap();
    assert_eq!(view.pipeline, changed);
    assert_eq!(view.version, 2);
    assert_eq!(view.created_at, t0());
    assert_eq!(view.updated_at, t0() + Duration::minutes(5));
}

#[test]
fn updating_to_the_same_definition_records_nothing() {
    PipelineTest::given(vec![defined(renewals())])
        .when(update(renewals(), 5))
        .then_expect_events(vec![]);
}

#[test]
fn updating_an_unknown_pipeline_is_not_found() {
    PipelineTest::given_no_previous_events()
        .when(update(renewals(), 5))
        .then_expect_error(PipelineError::NotFound);
}

#[test]
fn updating_with_another_pipelines_id_is_refused() {
    PipelineTest::given(vec![defined(renewals())])
        .when(update(Pipeline::default_hubspot(), 5))
        .then_expect_error_message("id must be the pipeline's own id");
}

#[test]
fn pipeline_errors_have_stable_codes() {
    assert_eq!(PipelineError::NotFound.code(), "pipeline.not_found");
    assert_eq!(
        PipelineError::AlreadyExists.code(),
        "pipeline.already_exists"
    );
    assert_eq!(
        PipelineError::invalid("stages", "x").code(),
        "request.validation"
    );
}

#[test]
fn stored_pipeline_events_fold_back_into_the_same_pipeline() {
    use crate::aggregate::{fold, Aggregate, Payload, RecordedEvent};
    let events = [
        defined(Pipeline::default_hubspot()),
        PipelineEvent::PipelineUpdated(PipelineUpdated {
            pipeline: renewals(),
            source: PipelineSource::Hubspot,
            by: admin(),
            at: t0() + Duration::minutes(1),
        }),
    ];
    let stored: Vec<(&str, serde_json::Value)> = events
        .iter()
        .map(|e| {
            (
                PipelineDefinition::event_name(e),
                serde_json::to_value(e).unwrap(),
            )
        })
        .collect();
    let folded: PipelineDefinition = fold(stored.iter().map(|(name, payload)| RecordedEvent {
        event_type: name,
        event_version: PIPELINE_EVENT_VERSION,
        payload: Payload::Value(payload),
    }))
    .unwrap();
    let view = folded.pipeline.unwrap();
    assert_eq!(view.pipeline, renewals());
    assert_eq!(view.source, PipelineSource::Hubspot);
    assert_eq!(view.version, 2);
}
