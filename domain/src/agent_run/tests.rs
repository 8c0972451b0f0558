//! Given events / when a command / then events or a rejection, one test per outcome.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::aggregate::testing::Scenario;
use crate::aggregate::{Aggregate, DecodeError, Payload, RecordedEvent};
use crate::kernel::{Actor, Text};

type RunTest = Scenario<AgentRun>;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap() + Duration::seconds(secs)
}

fn casey() -> Actor {
    Actor::user("casey")
}

fn request_cmd() -> RequestAgentRun {
    RequestAgentRun {
        id: Uuid::from_u128(7),
        agent: "Validation".into(),
        domain: AgentDomain::Sales,
        input: json!({"subject": "Hello", "body": "..."}),
        trigger: RunTrigger::Api,
        retry_of: None,
        timeout_ms: 10_000,
        max_attempts: 2,
        by: casey(),
        at: t(0),
    }
}

fn request() -> AgentRunCommand {
    AgentRunCommand::Request(Box::new(request_cmd()))
}

fn requested() -> AgentRunEvent {
    AgentRunEvent::AgentRunRequested(Box::new(AgentRunRequested {
        run_id: Uuid::from_u128(7),
        agent: "Validation".into(),
        domain: AgentDomain::Sales,
        input: json!({"subject": "Hello", "body": "..."}),
        trigger: RunTrigger::Api,
        retry_of: None,
        timeout_ms: 10_000,
        max_attempts: 2,
        requested_by: casey(),
        requested_at: t(0),
    }))
}

fn start(attempt: u32, at: i64) -> AgentRunCommand {
    AgentRunCommand::Start {
        attempt,
        worker: format!("w{attempt}"),
        at: t(at),
    }
}

fn started(attempt: u32, at: i64) -> AgentRunEvent {
    AgentRunEvent::AgentRunStarted(AgentRunStarted {
        attempt,
        worker: format!("w{attempt}"),
        started_at: t(at),
    })
}

fn abandon(attempt: u32, at: i64) -> AgentRunCommand {
    AgentRunCommand::Abandon {
        attempt,
        reason: "lease expired".into(),
        at: t(at),
    }
}

fn abandoned(attempt: u32, at: i64) -> AgentRunEvent {
    AgentRunEvent::AgentRunAttemptAbandoned(AgentRunAttemptAbandoned {
        attempt,
        worker: format!("w{attempt}"),
        reason: "lease expired".into(),
        abandoned_at: t(at),
    })
}

fn timed_out(attempt: u32, started_at: i64, at: i64) -> AgentRunEvent {
    AgentRunEvent::AgentRunTimedOut(AgentRunTimedOut {
        attempt,
        timeout_ms: 10_000,
        duration_ms: ((at - started_at) * 1000) as u64,
        finished_at: t(at),
    })
}

fn cancel(reason: Option<&str>, at: i64) -> AgentRunCommand {
    AgentRunCommand::Cancel {
        reason: reason.map(|r| Text::parse(r, MAX_REASON_CHARS).unwrap()),
        by: casey(),
        at: t(at),
    }
}

fn cancel_requested(at: i64) -> AgentRunEvent {
    AgentRunEvent::AgentRunCancelRequested(AgentRunCancelRequested {
        reason: None,
        requested_by: casey(),
        requested_at: t(at),
    })
}

fn dismiss(at: i64) -> AgentRunCommand {
    AgentRunCommand::Dismiss {
        by: casey(),
        at: t(at),
    }
}

fn succeed(attempt: u32, at: i64, usage: LlmUsage) -> AgentRunCommand {
    AgentRunCommand::Succeed {
        attempt,
        output: json!({"ok": true}),
        text: Some("hi".into()),
        proposed_items: vec![Uuid::from_u128(9)],
        usage,
        at: t(at),
    }
}

/// The run's view after the command's events.
fn view_after(then: impl FnOnce() -> AgentRun) -> AgentRunView {
    then().run.expect("the run exists")
}

// --- request ------------------------------------------------------------------------

#[test]
fn requesting_a_run_queues_it_with_its_input() {
    RunTest::given_no_previous_events()
        .when(request())
        .then_expect_events(vec![requested()]);
    let view = view_after(|| RunTest::given(vec![requested()]).state().clone());
    assert_eq!(view.status, RunStatus::Queued);
    assert_eq!(view.input["subject"], "Hello");
    assert_eq!(view.trigger, RunTrigger::Api);
    assert!(view.attempts.is_empty());
}

#[test]
fn requesting_twice_is_refused() {
    RunTest::given(vec![requested()])
        .when(request())
        .then_expect_error(AgentRunError::AlreadyRequested);
}

#[test]
fn a_non_object_input_is_refused() {
    let mut command = request_cmd();
    command.input = json!([1]);
    RunTest::given_no_previous_events()
        .when(AgentRunCommand::Request(Box::new(command)))
        .then_expect_error(AgentRunError::Invalid {
            field: "input",
            message: "must be a JSON object".into(),
        });
}

#[test]
fn commands_on_a_missing_run_are_not_found() {
    for command in [start(1, 1), cancel(None, 1), dismiss(1), abandon(1, 1)] {
        RunTest::given_no_previous_events()
            .when(command)
            .then_expect_error(AgentRunError::NotFound);
    }
}

// --- start ----------------------------------------------------------------------------

#[test]
fn starting_records_the_attempt_and_worker() {
    RunTest::given(vec![requested()])
        .when(start(1, 2))
        .then_expect_events(vec![started(1, 2)]);
    let view = view_after(|| {
        RunTest::given(vec![requested()])
            .when(start(1, 2))
            .state_after()
    });
    assert_eq!(view.status, RunStatus::Running);
    assert_eq!(view.attempts.len(), 1);
    assert_eq!(view.attempts[0].worker, "w1");
    assert_eq!(view.started_at, Some(t(2)));
}

#[test]
fn a_second_worker_cannot_start_the_same_attempt() {
    RunTest::given(vec![requested(), started(1, 1)])
        .when(start(1, 1))
        .then_expect_error(AgentRunError::NotQueued("running"));
}

#[test]
fn starting_out_of_order_is_refused() {
    RunTest::given(vec![requested()])
        .when(start(2, 1))
        .then_expect_error(AgentRunError::StaleAttempt { attempt: 2 });
}

// --- succeed and fail -------------------------------------------------------------------

#[test]
fn succeeding_records_output_duration_usage_and_moves() {
    let usage = LlmUsage {
        calls: 1,
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        model: Some("m".into()),
    };
    RunTest::given(vec![requested(), started(1, 1)])
        .when(succeed(1, 4, usage.clone()))
        .then_expect_events(vec![AgentRunEvent::AgentRunSucceeded(Box::new(
            AgentRunSucceeded {
                attempt: 1,
                output: json!({"ok": true}),
                text: Some("hi".into()),
                proposed_items: vec![Uuid::from_u128(9)],
                usage: usage.clone(),
                duration_ms: 3000,
                finished_at: t(4),
            },
        ))]);
    let view = view_after(|| {
        RunTest::given(vec![requested(), started(1, 1)])
            .when(succeed(1, 4, usage.clone()))
            .state_after()
    });
    assert_eq!(view.status, RunStatus::Succeeded);
    assert_eq!(view.duration_ms, Some(3000));
    assert_eq!(view.attempts[0].outcome, AttemptOutcome::Succeeded);
    assert_eq!(view.usage, usage);
    assert_eq!(view.proposed_items, vec![Uuid::from_u128(9)]);
    assert!(!view.status.may_retry());
}

#[test]
fn a_stale_attempt_cannot_finish_the_run() {
    RunTest::given(vec![
        requested(),
        started(1, 1),
        abandoned(1, 2),
        started(2, 3),
    ])
    .when(succeed(1, 4, LlmUsage::default()))
    .then_expect_error(AgentRunError::StaleAttempt { attempt: 1 });
}

#[test]
fn failing_keeps_the_error_and_whether_it_is_retryable() {
    let error = RunError {
        code: "llm.server_error".into(),
        message: "502".into(),
    };
    let fail = || AgentRunCommand::Fail {
        attempt: 1,
        error: error.clone(),
        retryable: true,
        usage: LlmUsage::default(),
        at: t(2),
    };
    RunTest::given(vec![requested(), started(1, 1)])
        .when(fail())
        .then_expect_events(vec![AgentRunEvent::AgentRunFailed(AgentRunFailed {
            attempt: 1,
            error: error.clone(),
            retryable: true,
            usage: LlmUsage::default(),
            duration_ms: 1000,
            finished_at: t(2),
        })]);
    let view = view_after(|| {
        RunTest::given(vec![requested(), started(1, 1)])
            .when(fail())
            .state_after()
    });
    assert_eq!(view.status, RunStatus::Failed);
    assert_eq!(view.retryable, Some(true));
    assert_eq!(view.error, Some(error));
    assert!(view.status.may_retry());
}

// --- time limits and lost workers ---------------------------------------------------------

#[test]
fn timing_out_ends_the_run_with_a_clear_error() {
    let timeout = AgentRunCommand::TimeOut {
        attempt: 1,
        at: t(11),
    };
    RunTest::given(vec![requested(), started(1, 1)])
        .when(timeout.clone())
        .then_expect_events(vec![timed_out(1, 1, 11)]);
    let view = view_after(|| {
        RunTest::given(vec![requested(), started(1, 1)])
            .when(timeout)
            .state_after()
    });
    assert_eq!(view.status, RunStatus::TimedOut);
    assert_eq!(view.error.as_ref().unwrap().code, "agent.timed_out");
    assert_eq!(view.attempts[0].outcome, AttemptOutcome::TimedOut);
    assert!(view.status.may_retry());
}

#[test]
fn a_lost_worker_with_attempts_left_queues_the_run_again() {
    RunTest::given(vec![requested(), started(1, 1)])
        .when(abandon(1, 3))
        .then_expect_events(vec![abandoned(1, 3)]);
    let view = view_after(|| {
        RunTest::given(vec![requested(), started(1, 1)])
            .when(abandon(1, 3))
            .state_after()
    });
    assert_eq!(view.status, RunStatus::Queued);
    assert_eq!(view.attempts[0].outcome, AttemptOutcome::Abandoned);
}

#[test]
fn a_lost_worker_on_the_last_attempt_fails_the_run() {
    let history = || vec![requested(), started(1, 1), abandoned(1, 2), started(2, 3)];
    let events = RunTest::given(history())
        .when(abandon(2, 5))
        .inspect_result()
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0], abandoned(2, 5));
    let view = view_after(|| RunTest::given(history()).when(abandon(2, 5)).state_after());
    assert_eq!(view.status, RunStatus::Failed);
    assert_eq!(view.error.as_ref().unwrap().code, "agent.worker_lost");
    assert_eq!(view.retryable, Some(true));
    assert_eq!(view.attempts[1].outcome, AttemptOutcome::Abandoned);
}

#[test]
fn a_lost_worker_past_the_time_limit_times_the_run_out() {
    RunTest::given(vec![requested(), started(1, 1)])
        .when(abandon(1, 30))
        .then_expect_events(vec![abandoned(1, 30), timed_out(1, 1, 30)]);
}

// --- cancel ---------------------------------------------------------------------------------

#[test]
fn cancelling_a_queued_run_ends_it_at_once() {
    RunTest::given(vec![requested()])
        .when(cancel(Some("wrong input"), 1))
        .then_expect_events(vec![AgentRunEvent::AgentRunCancelled(AgentRunCancelled {
            attempt: None,
            reason: Some("wrong input".into()),
            cancelled_by: casey(),
            cancelled_at: t(1),
        })]);
    let view = view_after(|| {
        RunTest::given(vec![requested()])
            .when(cancel(Some("wrong input"), 1))
            .state_after()
    });
    assert_eq!(view.status, RunStatus::Cancelled);
    assert_eq!(view.cancel_reason.as_deref(), Some("wrong input"));
}

#[test]
fn cancelling_a_running_run_asks_its_worker_to_stop() {
    RunTest::given(vec![requested(), started(1, 1)])
        .when(cancel(None, 2))
        .then_expect_events(vec![cancel_requested(2)]);
    let view = view_after(|| {
        RunTest::given(vec![requested(), started(1, 1)])
            .when(cancel(None, 2))
            .state_after()
    });
    assert_eq!(view.status, RunStatus::Cancelling);
}

#[test]
fn the_worker_confirms_a_cancel_and_the_run_ends_cancelled() {
    let view = view_after(|| {
        RunTest::given(vec![requested(), started(1, 1), cancel_requested(2)])
            .when(AgentRunCommand::ConfirmCancel {
                attempt: 1,
                at: t(3),
            })
            .state_after()
    });
    assert_eq!(view.status, RunStatus::Cancelled);
    assert_eq!(view.cancelled_by, Some(casey()));
    assert_eq!(view.attempts[0].outcome, AttemptOutcome::Cancelled);
    assert!(view.status.may_retry());
}

#[test]
fn cancelling_twice_while_cancelling_writes_nothing() {
    RunTest::given(vec![requested(), started(1, 1), cancel_requested(2)])
        .when(cancel(None, 2))
        .then_expect_events(vec![]);
}

#[test]
fn cancelling_a_finished_run_is_refused() {
    RunTest::given(vec![requested(), started(1, 1), timed_out(1, 1, 11)])
        .when(cancel(None, 12))
        .then_expect_error(AgentRunError::AlreadyFinished("timed_out"));
}

// --- dismiss --------------------------------------------------------------------------------

#[test]
fn a_finished_run_can_be_dismissed_once() {
    let finished = || vec![requested(), started(1, 1), timed_out(1, 1, 11)];
    RunTest::given(finished())
        .when(dismiss(12))
        .then_expect_events(vec![AgentRunEvent::AgentRunDismissed(AgentRunDismissed {
            dismissed_by: casey(),
            dismissed_at: t(12),
        })]);
    let view = view_after(|| RunTest::given(finished()).when(dismiss(12)).state_after());
    assert_eq!(view.dismissed_at, Some(t(12)));
    let mut history = finished();
    history.push(AgentRunEvent::AgentRunDismissed(AgentRunDismissed {
        dismissed_by: casey(),
        dismissed_at: t(12),
    }));
    RunTest::given(history)
        .when(dismiss(13))
        .then_expect_error(AgentRunError::AlreadyDismissed);
}

#[test]
fn a_running_run_cannot_be_dismissed() {
    RunTest::given(vec![requested(), started(1, 1)])
        .when(dismiss(2))
        .then_expect_error_message("only a finished run can be dismissed");
}

// --- retry rule and stored events -----------------------------------------------------------

#[test]
fn only_failed_timed_out_or_cancelled_runs_may_be_retried() {
    for status in RunStatus::ALL {
        let expected = matches!(
            status,
            RunStatus::Failed | RunStatus::TimedOut | RunStatus::Cancelled
        );
        assert_eq!(status.may_retry(), expected, "{status:?}");
    }
}

#[test]
fn events_round_trip_through_json_and_decode() {
    for event in [
        requested(),
        started(1, 1),
        abandoned(1, 2),
        timed_out(1, 1, 3),
        cancel_requested(4),
    ] {
        let payload = serde_json::to_value(&event).unwrap();
        let text = payload.to_string();
        // Parsed, or straight from the JSON text the database sends: the same event.
        for payload in [Payload::Value(&payload), Payload::Json(&text)] {
            let decoded = AgentRun::decode(RecordedEvent {
                event_type: event.name(),
                event_version: AGENT_RUN_EVENT_VERSION,
                payload,
            })
            .unwrap();
            assert_eq!(decoded, event);
        }
    }
    for payload in [Payload::Value(&json!({})), Payload::Json("{}")] {
        let future = RecordedEvent {
            event_type: "AgentRunRequested",
            event_version: "9",
            payload,
        };
        assert!(matches!(
            AgentRun::decode(future),
            Err(DecodeError::UnknownVersion { .. })
        ));
    }
    let malformed = RecordedEvent {
        event_type: "AgentRunRequested",
        event_version: AGENT_RUN_EVENT_VERSION,
        payload: Payload::Json("{\"AgentRunRequested\": 1}"),
    };
    assert!(matches!(
        AgentRun::decode(malformed),
        Err(DecodeError::Malformed { .. })
    ));
}
