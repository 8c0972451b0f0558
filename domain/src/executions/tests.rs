//! Given/when/then for an execution's life.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::plan::{plan, EmailPlan, MoveParts, PlanContext, PlanProblem};
use super::*;
use crate::aggregate::testing::Scenario;
use crate::kernel::EmailAddress;

type ExecutionTest = Scenario<ActionExecution>;

fn t0() -> DateTime<Utc> {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

fn email_plan() -> Plan {
    Plan::Email(EmailPlan {
        to: vec![EmailAddress::parse("dana@acme.io").unwrap()],
        cc: vec![],
        subject: "Hello".into(),
        body: "Hi Dana".into(),
        thread_id: None,
        in_reply_to: None,
        message_id: "<x@caseyos.local>".into(),
        attachment: None,
    })
}

fn request(plan: Result<Plan, String>) -> ExecutionCommand {
    ExecutionCommand::Request(Box::new(RequestExecution {
        execution_id: execution_id(Uuid::from_u128(7)),
        item_id: Uuid::from_u128(7),
        action_type: ActionType::SendEmail,
        title: "Send email — Dana".into(),
        owner: "ada".into(),
        plan,
        approved_by: Actor::user("ada"),
        by: Actor::system("executions"),
        at: t0(),
    }))
}

fn requested() -> Vec<ExecutionEvent> {
    ExecutionTest::given_no_previous_events()
        .when(request(Ok(email_plan())))
        .inspect_result()
        .unwrap()
}

fn then(mut events: Vec<ExecutionEvent>, command: ExecutionCommand) -> Vec<ExecutionEvent> {
    let new = ExecutionTest::given(events.clone())
        .when(command)
        .inspect_result()
        .unwrap();
    events.extend(new);
    events
}

fn start(effect: Effect) -> ExecutionCommand {
    ExecutionCommand::Start {
        effect,
        checks: vec![],
        at: t0(),
    }
}

fn status(events: &[ExecutionEvent]) -> ExecutionStatus {
    ExecutionTest::given(events.to_vec())
        .state()
        .execution
        .as_ref()
        .unwrap()
        .status
}

#[test]
fn a_move_without_a_plan_fails_at_once_and_cannot_be_retried() {
    let events = ExecutionTest::given_no_previous_events()
        .when(request(Err("the move names no recipient".into())))
        .inspect_result()
        .unwrap();
    assert_eq!(events.len(), 2);
    let state = ExecutionTest::given(events.clone()).state_after_view();
    assert_eq!(state.status, ExecutionStatus::Failed);
    assert_eq!(
        state.failure.as_ref().unwrap().code,
        "execution.incomplete_move"
    );
    ExecutionTest::given(events)
        .when(ExecutionCommand::Retry {
            by: Actor::user("ada"),
            at: t0(),
        })
        .then_expect_error(ExecutionError::NotRetryable("failed"));
}

#[test]
fn a_second_request_for_the_same_move_records_nothing() {
    ExecutionTest::given(requested())
        .when(request(Ok(email_plan())))
        .then_expect_events(vec![]);
}

#[test]
fn an_attempt_is_started_before_it_succeeds_and_a_failure_can_be_retried() {
    let events = then(requested(), start(Effect::EmailSent));
    assert_eq!(status(&events), ExecutionStatus::Executing);
    let failed = then(
        events,
        ExecutionCommand::Fail {
            failure: ExecutionFailure {
                code: "gmail.server_error".into(),
                message: "503".into(),
                retryable: true,
            },
            at: t0(),
        },
    );
    assert_eq!(status(&failed), ExecutionStatus::Failed);
    let retried = then(
        failed,
        ExecutionCommand::Retry {
            by: Actor::user("ada"),
            at: t0(),
        },
    );
    assert_eq!(status(&retried), ExecutionStatus::Requested);
    let second = then(retried, start(Effect::EmailSent));
    let done = then(
        second,
        ExecutionCommand::Succeed {
            provider_ids: [("gmail_message_id".to_string(), "m1".to_string())].into(),
            reconciled: false,
            at: t0(),
        },
    );
    let view = ExecutionTest::given(done).state_after_view();
    assert_eq!(
        (view.status, view.attempts, view.failure.is_none()),
        (ExecutionStatus::Succeeded, 2, true)
    );
}

#[test]
fn a_sent_email_cannot_be_rolled_back_but_a_draft_can() {
    let succeed = ExecutionCommand::Succeed {
        provider_ids: Default::default(),
        reconciled: false,
        at: t0(),
    };
    let rollback = ExecutionCommand::RequestRollback {
        by: Actor::user("ada"),
        at: t0(),
    };
    let sent = then(then(requested(), start(Effect::EmailSent)), succeed.clone());
    ExecutionTest::given(sent)
        .when(rollback.clone())
        .then_expect_error(ExecutionError::CannotRollBack(
            "a sent email cannot be unsent",
        ));
    let drafted = then(then(requested(), start(Effect::DraftCreated)), succeed);
    let asked = then(drafted, rollback);
    let done = then(
        asked,
        ExecutionCommand::RolledBack {
            what: "the Gmail draft r-1 was deleted".into(),
            at: t0(),
        },
    );
    assert_eq!(status(&done), ExecutionStatus::RolledBack);
}

#[test]
fn the_executor_cannot_skip_a_step() {
    ExecutionTest::given(requested())
        .when(ExecutionCommand::Succeed {
            provider_ids: Default::default(),
            reconciled: false,
            at: t0(),
        })
        .then_expect_error(ExecutionError::OutOfOrder("requested"));
}

#[test]
fn by_hand_moves_wait_for_the_operator() {
    let events = ExecutionTest::given_no_previous_events()
        .when(request(Ok(Plan::ByHand {
            instructions: "Call Dana".into(),
        })))
        .inspect_result()
        .unwrap();
    assert_eq!(status(&events), ExecutionStatus::Manual);
    let done = then(
        events,
        ExecutionCommand::CompleteByHand {
            note: Some("called".into()),
            by: Actor::user("ada"),
            at: t0(),
        },
    );
    let view = ExecutionTest::given(done).state_after_view();
    assert_eq!(view.status, ExecutionStatus::Succeeded);
    assert_eq!(view.completed_by, Some(Actor::user("ada")));
}

fn context() -> PlanContext {
    PlanContext {
        execution_id: Uuid::from_u128(42),
        message_domain: "caseyos.local".into(),
        owner_time_zone: "Europe/Berlin".into(),
        now: t0(),
        ..PlanContext::default()
    }
}

#[test]
fn an_email_plan_takes_the_payload_then_the_contact_and_default_subjects() {
    let contact = EmailAddress::parse("dana@acme.io").unwrap();
    let payload = json!({"body": "Just checking in."});
    let parts = MoveParts {
        action_type: ActionType::CheckIn,
        title: "Check in — Dana",
        payload: &payload,
        contact_email: Some(&contact),
        rationale: None,
        due_by: None,
    };
    match plan(&parts, &context()).unwrap() {
        Plan::Email(e) => {
            assert_eq!(e.to, vec![contact.clone()]);
            assert_eq!(e.subject, "Quick check-in");
            assert_eq!(
                e.message_id,
                format!("<{}@caseyos.local>", Uuid::from_u128(42).simple())
            );
        }
        other => panic!("{other:?}"),
    }
    let empty = json!({});
    let parts = MoveParts {
        payload: &empty,
        ..parts
    };
    assert_eq!(
        plan(&parts, &context()),
        Err(PlanProblem::Missing { field: "body" })
    );
    let nobody = MoveParts {
        contact_email: None,
        payload: &payload,
        ..parts
    };
    assert_eq!(plan(&nobody, &context()), Err(PlanProblem::NoRecipient));
}

#[test]
fn prep_meeting_and_review_deal_become_crm_tasks_with_their_context() {
    let payload = json!({});
    let parts = MoveParts {
        action_type: ActionType::ReviewDeal,
        title: "Review deal — Acme",
        payload: &payload,
        contact_email: None,
        rationale: Some("close date moved twice"),
        due_by: None,
    };
    let context = PlanContext {
        deal_crm_id: Some("9001".into()),
        deal_summary: Some("Acme — $40,000 in Contract sent".into()),
        ..context()
    };
    match plan(&parts, &context).unwrap() {
        Plan::CrmTask(task) => {
            assert_eq!(task.subject, "Review deal — Acme");
            assert!(task.body.contains("Why: close date moved twice"));
            assert!(task.body.contains("Acme — $40,000"));
            assert_eq!(task.deal_crm_ids, vec!["9001".to_string()]);
            assert_eq!(task.due, t0() + chrono::Duration::days(1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn send_proposal_needs_the_document_and_attaches_it() {
    let payload = json!({"to": "dana@acme.io", "body": "Attached.",
        "document": {"title": "Acme proposal", "text": "# Proposal"}});
    let parts = MoveParts {
        action_type: ActionType::SendProposal,
        title: "Send proposal",
        payload: &payload,
        contact_email: None,
        rationale: None,
        due_by: None,
    };
    match plan(&parts, &context()).unwrap() {
        Plan::Email(e) => {
            let a = e.attachment.unwrap();
            assert_eq!(a.filename, "Acme_proposal.md");
            assert_eq!(a.text, "# Proposal");
        }
        other => panic!("{other:?}"),
    }
    let bare = json!({"to": "dana@acme.io", "body": "Attached."});
    assert_eq!(
        plan(
            &MoveParts {
                payload: &bare,
                ..parts
            },
            &context()
        ),
        Err(PlanProblem::Missing { field: "document" })
    );
}

#[test]
fn every_action_type_has_a_handler_and_the_issue_lists_have_real_ones() {
    for t in [
        ActionType::SendEmail,
        ActionType::CreateDraft,
        ActionType::FollowUp,
        ActionType::CheckIn,
        ActionType::BookMeeting,
        ActionType::CreateTask,
        ActionType::CompleteTask,
        ActionType::UpdateDealStage,
        ActionType::SendProposal,
        ActionType::PrepMeeting,
        ActionType::ReviewDeal,
    ] {
        assert_ne!(t.handler(), Handler::ByHand, "{t}");
    }
    assert_eq!(ActionType::SocialPost.handler(), Handler::ByHand);
}

trait ViewAfter {
    fn state_after_view(self) -> ExecutionView;
}

impl ViewAfter for crate::aggregate::testing::Given<ActionExecution> {
    fn state_after_view(self) -> ExecutionView {
        self.state().execution.clone().unwrap()
    }
}
