use chrono::TimeZone;

use super::*;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, minute, 0).unwrap()
}

fn id() -> Uuid {
    Uuid::from_u128(7)
}

fn begun() -> ResearchSession {
    let mut s = ResearchSession::default();
    for e in s
        .decide(ResearchCommand::Begin {
            id: id(),
            question: "What do we know about Acme?".into(),
            depth: ResearchDepth::Standard,
            requested_by: "casey".into(),
            at: at(0),
        })
        .unwrap()
    {
        s.apply(e);
    }
    s
}

fn run(s: &mut ResearchSession, command: ResearchCommand) -> usize {
    let events = s.decide(command).unwrap();
    let n = events.len();
    for e in events {
        s.apply(e);
    }
    n
}

fn report() -> Report {
    Report {
        title: "Acme".into(),
        sections: vec![Section {
            heading: "Deals".into(),
            body: "Acme has one open deal [1].".into(),
        }],
        sources: vec![ResearchSource {
            n: 1,
            kind: SourceKind::Internal,
            title: "Acme renewal".into(),
            link: "/deals/1".into(),
            snippet: "renewal".into(),
            record_type: Some("deal".into()),
        }],
        web: WebUse::NotConfigured,
        writer: "offline".into(),
        model: None,
        queries: vec!["acme".into()],
    }
}

#[test]
fn a_research_begins_progresses_completes_and_repeats_change_nothing() {
    let mut s = begun();
    let view = s.view().unwrap();
    assert_eq!(
        (view.id, view.run_id, view.status),
        (id(), id(), ResearchStatus::Running)
    );
    let again = ResearchCommand::Begin {
        id: id(),
        question: "What do we know about Acme?".into(),
        depth: ResearchDepth::Standard,
        requested_by: "casey".into(),
        at: at(1),
    };
    assert_eq!(s.decide(again).unwrap(), vec![]);
    let other = ResearchCommand::Begin {
        id: id(),
        question: "Another".into(),
        depth: ResearchDepth::Standard,
        requested_by: "casey".into(),
        at: at(1),
    };
    assert_eq!(s.decide(other), Err(ResearchError::OtherQuestion));
    let step = |detail: &str| ResearchCommand::Progress {
        stage: ResearchStage::InternalSearch,
        detail: detail.into(),
        at: at(2),
    };
    assert_eq!(run(&mut s, step("searching internal data")), 1);
    assert_eq!(
        run(&mut s, step("searching internal data")),
        0,
        "the same step twice"
    );
    assert_eq!(run(&mut s, step("found 3")), 1);
    let complete = || ResearchCommand::Complete {
        report: Box::new(report()),
        at: at(3),
    };
    assert_eq!(run(&mut s, complete()), 1);
    assert_eq!(run(&mut s, complete()), 0);
    assert_eq!(run(&mut s, step("late")), 0, "no progress after the end");
    let fail = ResearchCommand::Fail {
        failure: ResearchFailure {
            code: "x".into(),
            message: "y".into(),
        },
        at: at(4),
    };
    assert_eq!(run(&mut s, fail), 0, "no failure after a report");
    let view = s.view().unwrap();
    assert_eq!(view.status, ResearchStatus::Completed);
    assert_eq!(view.progress.len(), 2);
    assert_eq!(view.finished_at, Some(at(3)));
    assert_eq!(view.source_count(), 1);
}

#[test]
fn a_failed_research_completes_when_a_later_attempt_succeeds_and_a_deleted_one_takes_nothing() {
    let mut s = begun();
    let fail = ResearchCommand::Fail {
        failure: ResearchFailure {
            code: "llm.unavailable".into(),
            message: "down".into(),
        },
        at: at(1),
    };
    assert_eq!(run(&mut s, fail), 1);
    assert_eq!(s.view().unwrap().status, ResearchStatus::Failed);
    let complete = ResearchCommand::Complete {
        report: Box::new(report()),
        at: at(2),
    };
    assert_eq!(run(&mut s, complete), 1);
    let view = s.view().unwrap();
    assert_eq!(
        (view.status, view.error.clone()),
        (ResearchStatus::Completed, None)
    );
    let delete = || ResearchCommand::Delete {
        by: Actor::user("casey"),
        at: at(3),
    };
    assert_eq!(run(&mut s, delete()), 1);
    assert_eq!(run(&mut s, delete()), 0);
    assert!(s.view().unwrap().deleted);
    let step = ResearchCommand::Progress {
        stage: ResearchStage::Synthesis,
        detail: "x".into(),
        at: at(4),
    };
    assert_eq!(s.decide(step), Err(ResearchError::Deleted));
    let nothing = ResearchSession::default().decide(ResearchCommand::Delete {
        by: Actor::user("casey"),
        at: at(0),
    });
    assert_eq!(nothing, Err(ResearchError::NotFound));
}

#[test]
fn citations_are_read_and_a_sentence_without_a_source_is_not_written() {
    assert_eq!(
        citations("Revenue grew [1][3]. Also [x] and [12]."),
        vec![1, 3, 12]
    );
    assert_eq!(citations("no [ citations ] here [1"), Vec::<u32>::new());
    let text = "Acme has 200 staff [1]. They are the market leader. Churn is low [2][3]. \
                Margins rose [4]. Growth is steady. [2]";
    assert_eq!(
        cited_only(text, 3),
        "Acme has 200 staff [1]. Churn is low [2][3]. Growth is steady. [2]"
    );
    assert_eq!(cited_only("Nothing cited at all.", 3), "");
    assert_eq!(
        cited_only("v2.5 shipped on time [1]", 1),
        "v2.5 shipped on time [1]"
    );
}

#[test]
fn the_markdown_export_has_the_sections_and_numbered_sources() {
    let mut s = begun();
    run(
        &mut s,
        ResearchCommand::Complete {
            report: Box::new(report()),
            at: at(3),
        },
    );
    let md = to_markdown(s.view().unwrap());
    assert!(md.starts_with("# Acme\n"), "{md}");
    assert!(
        md.contains("## Deals\n\nAcme has one open deal [1]."),
        "{md}"
    );
    assert!(md.contains("1. [Acme renewal](/deals/1): renewal"), "{md}");
    assert!(md.contains("internal sources only"), "{md}");
    assert!(md.contains("offline: no language model configured"), "{md}");

    // A report without sources has no Sources heading.
    let mut empty = report();
    empty.sources.clear();
    let md = report_markdown(&empty);
    assert!(!md.contains("## Sources"), "{md}");
}

#[test]
fn depths_name_their_agents() {
    assert_eq!(
        ResearchDepth::of_agent("DeepResearch"),
        Some(ResearchDepth::Deep)
    );
    assert_eq!(
        ResearchDepth::of_agent("StandardResearch"),
        Some(ResearchDepth::Standard)
    );
    assert_eq!(ResearchDepth::of_agent("DraftWriter"), None);
}
