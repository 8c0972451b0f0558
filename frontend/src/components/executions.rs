//! The execution panel of a move: its state, the provider's ids, each guardrail's verdict,
//! the exact request of a dry run (a Gmail message decoded), why it failed or was blocked
//! (with Retry), Roll back, and Mark done for a move done by hand; then the move's outcomes.
//! Read as JSON (the move's `execution`, `GET /api/queue/{id}`).

use caseyos_domain::executions::Effect;
use serde_json::Value;
use yew::prelude::*;

use super::contacts::{at, list_table, str_at, text};
use super::deals::{text_table, when};
use super::status::{self, error_view};
use crate::api;
use crate::hooks::{confirm, use_action, use_query, Action, Query, Refresh};
use crate::infra::app_state::use_app;
use crate::infra::dom::value_of;
use crate::infra::format::{humanize, json};
use crate::infra::live::Feed;

/// How often a move is read again while its execution is on its way.
const POLL_MS: u32 = 2_000;

/// Whether the execution of `item` (`GET /api/queue/{id}` as JSON) is still on its way: approved and not
/// yet requested, requested or executing.
pub fn in_flight(item: &Value) -> bool {
    match str_at(item, "execution.status") {
        Some(status) => matches!(status, "requested" | "executing"),
        None => str_at(item, "item.status") == Some("approved"),
    }
}

/// Base64url (or base64) text decoded as UTF-8 (invalid sequences replaced); `None` when
/// it is not base64.
pub fn base64url(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Who did something (an `Actor` as JSON): a user by name, else with their kind.
fn who(actor: &Value) -> String {
    match str_at(actor, "kind") {
        Some("user") | None => text(at(actor, "id")),
        Some(kind) => format!("{} ({kind})", text(at(actor, "id"))),
    }
}

/// An execution's facts as rows (label, text): how it ran, why it is blocked, its rollback,
/// the provider's ids.
fn facts(execution: &Value) -> Vec<Vec<String>> {
    let blocked = at(execution, "blocked");
    let rollback = at(execution, "rollback");
    let mut rows: Vec<Vec<String>> = [
        ("Handler", text(at(execution, "handler"))),
        ("Attempts", text(at(execution, "attempts"))),
        ("Reconciled", text(at(execution, "reconciled"))),
        ("Approved by", who(at(execution, "approved_by"))),
        ("Requested", when(at(execution, "requested_at"))),
        ("Started", when(at(execution, "started_at"))),
        ("Finished", when(at(execution, "finished_at"))),
        ("Completed by", who(at(execution, "completed_by"))),
        ("Note", text(at(execution, "note"))),
        (
            "Blocked",
            format!(
                "{} {} (tried again from {})",
                text(at(blocked, "guardrail")),
                text(at(blocked, "reason")),
                when(at(blocked, "retry_at"))
            ),
        ),
        (
            "Roll back",
            format!(
                "asked by {} {}; done: {} {}; failure: {}",
                who(at(rollback, "requested_by")),
                when(at(rollback, "requested_at")),
                text(at(rollback, "done")),
                when(at(rollback, "done_at")),
                text(at(rollback, "failure.message"))
            ),
        ),
    ]
    .into_iter()
    .filter(|(label, _)| match *label {
        "Blocked" => !blocked.is_null(),
        "Roll back" => !rollback.is_null(),
        _ => true,
    })
    .map(|(label, value)| vec![label.to_string(), value])
    .collect();
    if let Some(ids) = at(execution, "provider_ids").as_object() {
        rows.extend(ids.iter().map(|(k, v)| vec![humanize(k), text(v)]));
    }
    let failure = at(execution, "failure");
    if !failure.is_null() {
        let line = format!(
            "{} ({})",
            text(at(failure, "message")),
            text(at(failure, "code"))
        );
        rows.push(vec!["Failed".into(), line]);
    }
    for check in at(execution, "checks")
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let line = format!(
            "{}: {}",
            text(at(check, "verdict")),
            text(at(check, "reason"))
        );
        rows.push(vec![
            format!("Check: {}", text(at(check, "guardrail"))),
            line,
        ]);
    }
    // A dry run's exact request, and a Gmail message's `raw` decoded.
    let request = at(execution, "dry_run");
    if !request.is_null() {
        let line = format!(
            "{} {}",
            text(at(request, "method")),
            text(at(request, "url"))
        );
        rows.push(vec!["Dry run".into(), line]);
        rows.push(vec!["Request body".into(), json(at(request, "body"))]);
        if let Some(message) = str_at(at(request, "body"), "raw").and_then(base64url) {
            rows.push(vec!["Message (decoded)".into(), message]);
        }
    }
    rows
}

/// Outcomes (an `/api/outcomes` answer) as a table, newest first, or what shows them.
pub fn outcomes_table(found: &Value) -> Html {
    let items: Vec<Value> = super::contacts::items(found)
        .iter()
        .map(|o| {
            let mut o = o.clone();
            if let Some(at_) = o.get("occurred_at").map(when) {
                if let Some(fields) = o.as_object_mut() {
                    fields.insert("occurred_at".into(), Value::String(at_));
                }
            }
            o
        })
        .collect();
    if items.is_empty() {
        return html! { <p class="muted">{ "No outcome yet: a reply, a meeting or a bounce shows here." }</p> };
    }
    list_table(
        "Each outcome",
        &items,
        &[
            ("Outcome", "outcome_type"),
            ("Impact", "impact"),
            ("Summary", "summary"),
            ("Who", "subject.name"),
            ("Email", "subject.email"),
            ("When", "occurred_at"),
        ],
        None,
    )
}

/// A move's execution and outcomes as read, the buttons' request, the note of "Mark done",
/// and whether the user may act (a hook of the move's page rather than a component of its
/// own: ARCHITECTURE.md, "The SPA" → Size).
pub struct ExecutionState {
    item: Query<Value>,
    outcomes: Query<Value>,
    action: Action,
    note: UseStateHandle<String>,
    may_act: bool,
}

/// The execution and outcomes of the move `id`, read again while it runs.
#[hook]
pub fn use_execution(id: AttrValue) -> ExecutionState {
    let app = use_app();
    let may_act = app.session().is_some_and(|s| s.can_decide());
    let item = use_query(
        Refresh::on(Feed::Queue)
            .every(POLL_MS)
            .while_ready(in_flight)
            .keep_on_failure(),
        id.clone(),
        |id, consistency| {
            let id = id.clone();
            async move { api::executions::of_item(&id, consistency.as_deref()).await }
        },
    );
    let outcomes = use_query(Refresh::on(Feed::Any), id.clone(), |id, consistency| {
        let id = id.clone();
        let filter = crate::routes::query::pair("item", &id);
        async move { api::executions::outcomes(&filter, consistency.as_deref()).await }
    });
    ExecutionState {
        item,
        outcomes,
        action: use_action(),
        note: use_state(String::new),
        may_act,
    }
}

/// The execution panel and the outcomes of a move.
pub fn execution_panel(state: &ExecutionState) -> Html {
    let ExecutionState {
        item,
        outcomes,
        action,
        note,
        may_act,
    } = state;
    let may_act = *may_act;
    let busy = *action.busy;

    let panel = status::view(&**item, 2, &item.reload, |found| {
        let execution = at(found, "execution");
        if execution.is_null() {
            return html! { <p class="muted">{ "Nothing runs until the move is approved." }</p> };
        }
        let id = text(at(execution, "id"));
        let state = str_at(execution, "status").unwrap_or("requested");
        // Each button sends its command, then the move is read again.
        let send = |command: &'static str, body: Value, ask: Option<&'static str>| {
            let (action, item, id) = (action.clone(), item.clone(), id.clone());
            Callback::from(move |_: MouseEvent| {
                if ask.is_some_and(|q| !confirm(q)) {
                    return;
                }
                let (id, body, reload) = (id.clone(), body.clone(), item.reload.clone());
                action.run(
                    async move { api::executions::command(&id, command, body).await },
                    move |_| reload.emit(()),
                );
            })
        };
        let rolled_back = !at(execution, "rollback").is_null();
        // What rolling back would do, or why it cannot (the domain's answer for the effect).
        let undo = str_at(execution, "effect")
            .and_then(Effect::named)
            .map(Effect::rollback);
        let retryable = matches!(state, "failed" | "blocked" | "dry_run");
        html! {
            <>
                <p class="meta">
                    <span class={classes!("chip", "execution-status", state.to_string())}>{ humanize(state) }</span>
                    <span>{ text(at(execution, "title")) }</span>
                </p>
                { text_table("The execution's facts", "fields-table execution-facts", &[], &facts(execution), None) }
                if may_act {
                    <div class="actions">
                        if retryable {
                            <button class="button primary" disabled={busy}
                                onclick={send("retry", api::object(vec![]), None)}>{ "Retry" }</button>
                        }
                        if state == "succeeded" && !rolled_back {
                            if let Some(Ok(what)) = undo {
                                <button class="button" disabled={busy}
                                    onclick={send("rollback", api::object(vec![]), Some("Roll back what this move did?"))}>
                                    { format!("Roll back: {what}") }
                                </button>
                            }
                            if let Some(Err(why)) = undo {
                                <p class="muted">{ format!("No rollback: {why}.") }</p>
                            }
                        }
                        if state == "manual" {
                            <label for="done-note" class="visually-hidden">{ "Note (optional)" }</label>
                            <input id="done-note" class="input" placeholder="Note (optional)" value={(**note).clone()}
                                oninput={let note = note.clone(); move |e: InputEvent| note.set(value_of(&e))} />
                            <button class="button primary" disabled={busy}
                                onclick={send("complete", api::object(vec![("note", api::text_or_null(Some((**note).clone()).filter(|n| !n.trim().is_empty())))]), None)}>
                                { "Mark done" }
                            </button>
                        }
                    </div>
                }
                if let Some(error) = &*action.error {
                    { error_view(error, None) }
                }
            </>
        }
    });

    let outcomes_view = status::view(&**outcomes, 1, &outcomes.reload, outcomes_table);

    html! {
        <>
            <section class="execution" aria-labelledby="execution-title">
                <h2 id="execution-title">{ "Execution" }</h2>
                { panel }
            </section>
            <section class="outcomes" aria-labelledby="outcomes-title">
                <h2 id="outcomes-title">{ "Outcomes" }</h2>
                { outcomes_view }
            </section>
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn gmail_raw_messages_decode_from_base64url() {
        // (encoded, decoded)
        let table = [
            ("VG86IGRhbmFAYWNtZS5pbw", Some("To: dana@acme.io")),
            ("VG86IGRhbmFAYWNtZS5pbw==", Some("To: dana@acme.io")),
            ("w6lsYW4_", Some("élan?")),
            ("w6lsYW4/", Some("élan?")),
            ("", Some("")),
            ("not base64!", None),
        ];
        for (encoded, decoded) in table {
            assert_eq!(base64url(encoded).as_deref(), decoded, "{encoded}");
        }
    }

    #[wasm_bindgen_test]
    fn an_execution_is_in_flight_until_it_ends() {
        // (move, in flight)
        let table = [
            (
                json!({"item": {"status": "pending"}, "execution": null}),
                false,
            ),
            (
                json!({"item": {"status": "approved"}, "execution": null}),
                true,
            ),
            (
                json!({"item": {"status": "approved"}, "execution": {"status": "requested"}}),
                true,
            ),
            (
                json!({"item": {"status": "approved"}, "execution": {"status": "executing"}}),
                true,
            ),
            (
                json!({"item": {"status": "approved"}, "execution": {"status": "succeeded"}}),
                false,
            ),
            (
                json!({"item": {"status": "approved"}, "execution": {"status": "blocked"}}),
                false,
            ),
        ];
        for (item, expected) in table {
            assert_eq!(in_flight(&item), expected, "{item}");
        }
    }
}
