//! Given / when / then, one test per command outcome.

use chrono::{Duration, TimeZone};
use serde_json::json;

use super::*;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap() + Duration::seconds(secs)
}

fn request() -> AgentRunCommand {
    AgentRunCommand::Request(Box::new(RequestAgentRun {
        id: Uuid::from_u128(7),
        agent: "Validation".into(),
        domain: AgentDomain::Sales,
        input: json!({"subject": "Hello", "body": "..."}),
        trigger: RunTrigger::Api,
        retry_of: None,
        timeout_ms: 10_000,
        max_attempts: 2,
        by: Actor::user("casey"),
        at: t(0),
    }))
}

fn start(attempt: u32, at: i64) -> AgentRunCommand {
    AgentRunCommand::Start {
        attempt,
        worker: format!("w{attempt}"),
        at: t(at),
    }
}

/// Folds the commands in order, panicking on a refusal.
fn given(commands: Vec<AgentRunCommand>) -> AgentRun {
    let mut run = AgentRun::default();
    for command in commands {
        for event in run.decide(command).expect("given commands are accepted") {
            run.apply(event);
        }
    }
    run
}

fn when(run: &AgentRun, command: AgentRunCommand) -> Result<Vec<AgentRunEvent>, AgentRunError> {
    run.decide(command)
}

fn then(run: &mut AgentRun, events: Vec<AgentRunEvent>) -> &AgentRunView {
    for event in events {
        run.apply(event);
    }
    run.run.as_ref().unwrap()
}

#[test]
fn requesting_a_run_queues_it_with_its_input() {
    let mut run = AgentRun::default();
    let events = when(&run, request()).unwrap();
    let view = then(&mut run, events);
    assert_eq!(view.status, RunStatus::Queued);
    assert_eq!(view.input["subject"], "Hello");
    assert_eq!(view.trigger, RunTrigger::Api);
    assert!(view.attempts.is_empty());
}

#[test]
fn requesting_twice_is_refused() {
    let run = given(vec![request()]);
    assert_eq!(
        when(&run, request()).unwrap_err(),
        AgentRunError::AlreadyRequested
    );
}

#[test]
fn a_non_object_input_is_refused() {
    let mut command = request();
    if let AgentRunCommand::Request(r) = &mut command {
        r.input = json!([1]);
    }
    let err = when(&AgentRun::default(), command).unwrap_err();
    assert_eq!(err.code(), "request.validation");
}

#[test]
fn commands_on_a_missing_run_are_not_found() {
    assert_eq!(
        when(&AgentRun::default(), start(1, 1)).unwrap_err(),
        AgentRunError::NotFound
    );
}

#[test]
fn starting_records_the_attempt_and_worker() {
    let mut run = given(vec![request()]);
    let events = when(&run, start(1, 2)).unwrap();
    let view = then(&mut run, events);
    assert_eq!(view.status, RunStatus::Running);
    assert_eq!(view.attempts.len(), 1);
    assert_eq!(view.attempts[0].worker, "w1");
    assert_eq!(view.started_at, Some(t(2)));
}

#[test]
fn a_second_worker_cannot_start_the_same_attempt() {
    let run = given(vec![request(), start(1, 1)]);
    assert_eq!(
        when(&run, start(1, 1)).unwrap_err(),
        AgentRunError::NotQueued("running")
    );
}

#[test]
fn starting_out_of_order_is_refused() {
    let run = given(vec![request()]);
    assert_eq!(
        when(&run, start(2, 1)).unwrap_err(),
        AgentRunError::StaleAttempt { attempt: 2 }
    );
}

#[test]
fn succeeding_records_output_duration_usage_and_moves() {
    let mut run = given(vec![request(), start(1, 1)]);
    let usage = LlmUsage {
        calls: 1,
        prompt_tokens: 10,
        completion_tokens: 5,
        total_tokens: 15,
        model: Some("m".into()),
    };
    let events = when(
        &run,
        AgentRunCommand::Succeed {
            attempt: 1,
            output: json!({"ok": true}),
            text: Some("hi".into()),
            proposed_items: vec![Uuid::from_u128(9)],
            usage: usage.clone(),
            at: t(4),
        },
    )
    .unwrap();
    let view = then(&mut run, events);
    assert_eq!(view.status, RunStatus::Succeeded);
    assert_eq!(view.duration_ms, Some(3000));
    assert_eq!(view.attempts[0].outcome, AttemptOutcome::Succeeded);
    assert_eq!(view.usage, usage);
    assert_eq!(view.proposed_items, vec![Uuid::from_u128(9)]);
}

#[test]
fn a_stale_attempt_cannot_finish_the_run() {
    let run = given(vec![
        request(),
        start(1, 1),
        AgentRunCommand::Abandon {
            attempt: 1,
            reason: "lease expired".into(),
            at: t(2),
        },
        start(2, 3),
    ]);
    let err = when(
        &run,
        AgentRunCommand::Succeed {
            attempt: 1,
            output: json!({}),
            text: None,
            proposed_items: vec![],
            usage: LlmUsage::default(),
            at: t(4),
        },
    )
    .unwrap_err();
    assert_eq!(err, AgentRunError::StaleAttempt { attempt: 1 });
}

#[test]
fn failing_keeps_the_error_and_whether_it_is_retryable() {
    let mut run = given(vec![request(), start(1, 1)]);
    let events = when(
        &run,
        AgentRunCommand::Fail {
            attempt: 1,
            error: RunError {
                code: "llm.server_error".into(),
                message: "502".into(),
            },
            retryable: true,
            usage: LlmUsage::default(),
            at: t(2),
        },
    )
    .unwrap();
    let view = then(&mut run, events);
    assert_eq!(view.status, RunStatus::Failed);
    assert_eq!(view.retryable, Some(true));
    assert_eq!(view.error.as_ref().unwrap().code, "llm.server_error");
}

#[test]
fn timing_out_ends_the_run_with_a_clear_error() {
    let mut run = given(vec![request(), start(1, 1)]);
    let events = when(
        &run,
        AgentRunCommand::TimeOut {
            attempt: 1,
            at: t(11),
        },
    )
    .unwrap();
    let view = then(&mut run, events);
    assert_eq!(view.status, RunStatus::TimedOut);
    assert_eq!(view.error.as_ref().unwrap().code, "agent.timed_out");
    assert_eq!(view.attempts[0].outcome, AttemptOutcome::TimedOut);
}

#[test]
fn a_lost_worker_with_attempts_left_queues_the_run_again() {
    let mut run = given(vec![request(), start(1, 1)]);
    let events = when(
        &run,
        AgentRunCommand::Abandon {
            attempt: 1,
            reason: "lease expired".into(),
            at: t(3),
        },
    )
    .unwrap();
    let view = then(&mut run, events);
    assert_eq!(view.status, RunStatus::Queued);
    assert_eq!(view.attempts[0].outcome, AttemptOutcome::Abandoned);
}

#[test]
fn a_lost_worker_on_the_last_attempt_fails_the_run() {
    let mut run = given(vec![
        request(),
        start(1, 1),
        AgentRunCommand::Abandon {
            attempt: 1,
            reason: "lease expired".into(),
            at: t(2),
        },
        start(2, 3),
    ]);
    let events = when(
        &run,
        AgentRunCommand::Abandon {
            attempt: 2,
            reason: "lease expired".into(),
            at: t(5),
        },
    )
    .unwrap();
    let view = then(&mut run, events);
    assert_eq!(view.status, RunStatus::Failed);
    assert_eq!(view.error.as_ref().unwrap().code, "agent.worker_lost");
    assert_eq!(view.retryable, Some(true));
    assert_eq!(view.attempts[1].outcome, AttemptOutcome::Abandoned);
}

#[test]
fn a_lost_worker_past_the_time_limit_times_the_run_out() {
    let mut run = given(vec![request(), start(1, 1)]);
    let events = when(
        &run,
        AgentRunCommand::Abandon {
            attempt: 1,
            reason: "lease expired".into(),
            at: t(30),
        },
    )
    .unwrap();
    assert_eq!(then(&mut run, events).status, RunStatus::TimedOut);
}

#[test]
fn cancelling_a_queued_run_ends_it_at_once() {
    let mut run = given(vec![request()]);
    let events = when(
        &run,
        AgentRunCommand::Cancel {
            reason: Some("wrong input".into()),
            by: Actor::user("casey"),
            at: t(1),
        },
    )
    .unwrap();
    let view = then(&mut run, events);
    assert_eq!(view.status, RunStatus::Cancelled);
    assert_eq!(view.cancel_reason.as_deref(), Some("wrong input"));
}

#[test]
fn cancelling_a_running_run_asks_its_worker_to_stop() {
    let mut run = given(vec![request(), start(1, 1)]);
    let events = when(
        &run,
        AgentRunCommand::Cancel {
            reason: None,
            by: Actor::user("casey"),
            at: t(2),
        },
    )
    .unwrap();
    assert_eq!(then(&mut run, events).status, RunStatus::Cancelling);
    let events = when(
        &run,
        AgentRunCommand::ConfirmCancel {
            attempt: 1,
            at: t(3),
        },
    )
    .unwrap();
    let view = then(&mut run, events);
    assert_eq!(view.status, RunStatus::Cancelled);
    assert_eq!(view.cancelled_by, Some(Actor::user("casey")));
    assert_eq!(view.attempts[0].outcome, AttemptOutcome::Cancelled);
}

#[test]
fn cancelling_twice_while_cancelling_writes_nothing() {
    let cancel = || AgentRunCommand::Cancel {
        reason: None,
        by: Actor::user("casey"),
        at: t(2),
    };
    let run = given(vec![request(), start(1, 1), cancel()]);
    assert!(when(&run, cancel()).unwrap().is_empty());
}

#[test]
fn cancelling_a_finished_run_is_refused() {
    let run = given(vec![
        request(),
        start(1, 1),
        AgentRunCommand::TimeOut {
            attempt: 1,
            at: t(11),
        },
    ]);
    let err = when(
        &run,
        AgentRunCommand::Cancel {
            reason: None,
            by: Actor::user("casey"),
            at: t(12),
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "agent_run.already_finished");
}

#[test]
fn a_finished_run_can_be_dismissed_once() {
    let mut run = given(vec![
        request(),
        start(1, 1),
        AgentRunCommand::TimeOut {
            attempt: 1,
            at: t(11),
        },
    ]);
    let dismiss = || AgentRunCommand::Dismiss {
        by: Actor::user("casey"),
        at: t(12),
    };
    let events = when(&run, dismiss()).unwrap();
    assert_eq!(then(&mut run, events).dismissed_at, Some(t(12)));
    assert_eq!(
        when(&run, dismiss()).unwrap_err(),
        AgentRunError::AlreadyDismissed
    );
}

#[test]
fn a_running_run_cannot_be_dismissed() {
    let run = given(vec![request(), start(1, 1)]);
    let err = when(
        &run,
        AgentRunCommand::Dismiss {
            by: Actor::user("casey"),
            at: t(2),
        },
    )
    .unwrap_err();
    assert_eq!(err.code(), "agent_run.not_finished");
}

#[test]
fn events_round_trip_through_json_and_decode() {
    let run = AgentRun::default();
    for event in run.decide(request()).unwrap() {
        let payload = serde_json::to_value(&event).unwrap();
        let decoded =
            AgentRunEvent::decode(event.name(), AGENT_RUN_EVENT_VERSION, payload).unwrap();
        assert_eq!(decoded, event);
    }
    assert!(AgentRunEvent::decode("AgentRunRequested", "9", json!({})).is_err());
}
