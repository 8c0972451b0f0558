//! Chat sessions: messages once, tool calls confirmed or rejected once, summaries forward.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::*;
use crate::aggregate::testing::Scenario;

fn t0() -> DateTime<Utc> {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

fn sid() -> Uuid {
    Uuid::from_u128(42)
}

fn started() -> ChatEvent {
    ChatEvent::ChatStarted {
        session_id: sid(),
        owner: "casey".into(),
        title: "Acme".into(),
        at: t0(),
    }
}

fn call(id: &str, changes_state: bool) -> ToolCallView {
    ToolCallView {
        id: id.into(),
        tool: "approve_queue_item".into(),
        arguments: json!({"id": "x"}),
        changes_state,
        state: if changes_state {
            ToolCallState::AwaitingConfirmation
        } else {
            ToolCallState::Succeeded
        },
        request: None,
        status: None,
        result: None,
        decided_by: None,
        decided_at: None,
        finished_at: None,
    }
}

fn message(n: u128, role: ChatRole, content: &str, calls: Vec<ToolCallView>) -> NewMessage {
    NewMessage {
        id: Uuid::from_u128(n),
        role,
        content: content.into(),
        tool_calls: calls,
        tokens: estimate_tokens(content),
        tokens_method: "estimate".into(),
        offline: false,
        model: None,
    }
}

fn added(m: NewMessage) -> ChatEvent {
    ChatEvent::ChatMessageAdded {
        message: Box::new(m),
        at: t0(),
    }
}

fn with_call() -> Vec<ChatEvent> {
    vec![
        started(),
        added(message(1, ChatRole::User, "approve it", vec![])),
        added(message(2, ChatRole::Assistant, "", vec![call("c1", true)])),
    ]
}

fn state(events: Vec<ChatEvent>) -> ChatSessionView {
    let mut chat = ChatSession::default();
    for e in events {
        chat.apply(e);
    }
    chat.session.unwrap()
}

fn decide(confirm: bool) -> ChatCommand {
    ChatCommand::Decide {
        call_id: "c1".into(),
        confirm,
        by: Actor::user("casey"),
        at: t0(),
    }
}

#[test]
fn a_session_starts_once_and_a_message_is_added_once() {
    Scenario::<ChatSession>::given(vec![started()])
        .when(ChatCommand::Start {
            session_id: sid(),
            owner: "casey".into(),
            title: "Acme".into(),
            at: t0(),
        })
        .then_expect_events(vec![]);
    let hello = message(1, ChatRole::User, "hello", vec![]);
    Scenario::<ChatSession>::given(vec![started(), added(hello.clone())])
        .when(ChatCommand::Add {
            message: Box::new(hello),
            at: t0(),
        })
        .then_expect_events(vec![]);
    Scenario::<ChatSession>::given(vec![started()])
        .when(ChatCommand::Add {
            message: Box::new(message(3, ChatRole::User, "   ", vec![])),
            at: t0(),
        })
        .then_expect_error(ChatError::BadMessage);
    Scenario::<ChatSession>::given_no_previous_events()
        .when(ChatCommand::Add {
            message: Box::new(message(3, ChatRole::User, "hi", vec![])),
            at: t0(),
        })
        .then_expect_error(ChatError::NotFound);
    assert_eq!(state(vec![started()]).id, sid());
}

#[test]
fn a_tool_call_that_changes_state_runs_only_once_confirmed() {
    let finish = ChatCommand::Finish {
        call_id: "c1".into(),
        succeeded: true,
        request: "POST /api/queue/x/approve".into(),
        status: 200,
        result: json!({"status": "approved"}),
        at: t0(),
    };
    // Not confirmed: it cannot have run.
    Scenario::<ChatSession>::given(with_call())
        .when(finish.clone())
        .then_expect_error(ChatError::NotAwaiting("c1".into()));
    let mut confirmed = with_call();
    confirmed.push(ChatEvent::ChatToolCallDecided {
        call_id: "c1".into(),
        confirmed: true,
        by: Actor::user("casey"),
        at: t0(),
    });
    // Confirming twice is a repeat; rejecting after confirming is a conflict.
    Scenario::<ChatSession>::given(confirmed.clone())
        .when(decide(true))
        .then_expect_events(vec![]);
    Scenario::<ChatSession>::given(confirmed.clone())
        .when(decide(false))
        .then_expect_error(ChatError::NotAwaiting("c1".into()));
    let events = Scenario::<ChatSession>::given(confirmed.clone())
        .when(finish.clone())
        .inspect_result()
        .unwrap();
    assert_eq!(events.len(), 1);
    confirmed.extend(events);
    let view = state(confirmed.clone());
    let (_, c) = view.tool_call("c1").unwrap();
    assert_eq!(c.state, ToolCallState::Succeeded);
    assert_eq!(c.status, Some(200));
    assert_eq!(c.decided_by, Some(Actor::user("casey")));
    assert_eq!(view.awaiting().count(), 0);
    Scenario::<ChatSession>::given(confirmed)
        .when(finish)
        .then_expect_events(vec![]);
}

#[test]
fn a_rejected_tool_call_never_runs() {
    let mut rejected = with_call();
    rejected.push(ChatEvent::ChatToolCallDecided {
        call_id: "c1".into(),
        confirmed: false,
        by: Actor::user("casey"),
        at: t0(),
    });
    let view = state(rejected.clone());
    assert_eq!(
        view.tool_call("c1").unwrap().1.state,
        ToolCallState::Rejected
    );
    Scenario::<ChatSession>::given(rejected.clone())
        .when(decide(false))
        .then_expect_events(vec![]);
    Scenario::<ChatSession>::given(rejected)
        .when(ChatCommand::Finish {
            call_id: "c1".into(),
            succeeded: true,
            request: "POST".into(),
            status: 200,
            result: json!({}),
            at: t0(),
        })
        .then_expect_error(ChatError::NotAwaiting("c1".into()));
    Scenario::<ChatSession>::given(with_call())
        .when(ChatCommand::Decide {
            call_id: "nope".into(),
            confirm: true,
            by: Actor::user("casey"),
            at: t0(),
        })
        .then_expect_error(ChatError::NoSuchToolCall("nope".into()));
}

#[test]
fn a_summary_moves_forward_and_the_model_sees_what_follows_it() {
    let mut events = vec![started()];
    for n in 1..=8 {
        events.push(added(message(n, ChatRole::User, &format!("m{n}"), vec![])));
    }
    let summary = |through: u128| ChatSummary {
        text: "earlier".into(),
        through: Uuid::from_u128(through),
        covers: through as u32,
        tokens: 2,
        model: None,
        at: t0(),
    };
    let summarised = Scenario::<ChatSession>::given(events.clone())
        .when(ChatCommand::Summarise {
            summary: summary(3),
        })
        .inspect_result()
        .unwrap();
    events.extend(summarised);
    let view = state(events.clone());
    let rest: Vec<&str> = view
        .unsummarised()
        .iter()
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(rest, vec!["m4", "m5", "m6", "m7", "m8"]);
    Scenario::<ChatSession>::given(events.clone())
        .when(ChatCommand::Summarise {
            summary: summary(2),
        })
        .then_expect_events(vec![]);
    Scenario::<ChatSession>::given(events)
        .when(ChatCommand::Summarise {
            summary: summary(99),
        })
        .then_expect_error(ChatError::BadSummary);
}

#[test]
fn a_deleted_session_takes_nothing_more() {
    let deleted = vec![
        started(),
        ChatEvent::ChatDeleted {
            by: Actor::user("casey"),
            at: t0(),
        },
    ];
    Scenario::<ChatSession>::given(deleted.clone())
        .when(ChatCommand::Add {
            message: Box::new(message(1, ChatRole::User, "hi", vec![])),
            at: t0(),
        })
        .then_expect_error(ChatError::Deleted);
    Scenario::<ChatSession>::given(deleted)
        .when(ChatCommand::Delete {
            by: Actor::user("casey"),
            at: t0(),
        })
        .then_expect_events(vec![]);
}

#[test]
fn titles_and_token_estimates() {
    assert_eq!(
        title_from("What's Acme's revenue?\nand more"),
        "What's Acme's revenue?"
    );
    assert_eq!(title_from(&"a".repeat(70)).chars().count(), 61);
    assert_eq!(title_from("  "), "New chat");
    assert_eq!(estimate_tokens(""), 0);
    assert_eq!(estimate_tokens("abcd"), 1);
    assert_eq!(estimate_tokens("abcde"), 2);
}
