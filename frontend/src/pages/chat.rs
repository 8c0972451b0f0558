//! The assistant's pages, one page for both (their list, open document, Export and Delete
//! are the same code):
//! - `/chat` and `/chat/:id`: the caller's chats in a sidebar (new, delete, export as
//!   Markdown), the open chat's messages with every tool call the assistant made — one that
//!   changes something waits for Confirm or Reject —, and a message box. The answer streams
//!   (server-sent events): the question shows at once, then each of the assistant's messages
//!   as it is written. Whether a language model is connected is said as the server says it
//!   (without one, slash commands still answer).
//! - `/research` and `/research/:id`: a question (standard or deep) above the caller's
//!   research; the open one's progress step by step (read again every few seconds while it
//!   runs), then its report — sections whose sentences cite `[n]`, the numbered sources with
//!   their links and snippets — or why it failed.

use serde_json::Value;
use yew::prelude::*;

use crate::components::fields::button;

use crate::api;
use crate::components::assistant::{export_delete, split_page};
use crate::components::contacts::{at, fields_table, items, list_table, str_at, text};
use crate::components::markdown::{markdown, parse};
use crate::components::status::{self, empty, error_view, Load};
use crate::hooks::{ask, confirm, use_action, use_query, Refresh};
use crate::infra::dom::bind;
use crate::routes::{link, push, Route};

#[derive(PartialEq)]
pub struct ChatProps {
    /// The open chat or research, if any.
    pub id: Option<AttrValue>,
    /// The research page (else the chat page).
    pub research: bool,
}

/// The columns of a message's tool calls: (heading, path).
const CALLS: &[(&str, &str)] = &[
    ("Tool", "tool"),
    ("Request", "request"),
    ("State", "state"),
    ("HTTP", "status"),
    ("Decided by", "decided_by.id"),
];

/// Confirm or reject tool call `call` (`true`: confirm).
type Decide<'a> = &'a dyn Fn(String, bool) -> Callback<MouseEvent>;

/// How often a research that runs is read again, in milliseconds.
const RESEARCH_POLL_MS: u32 = 2_000;

/// A research's facts: (label, path).
const RESEARCH: &[(&str, &str)] = &[
    ("Status", "status"),
    ("Depth", "depth"),
    ("Asked by", "requested_by"),
    ("Started", "started_at"),
    ("Finished", "finished_at"),
    ("Why it failed", "error"),
];

/// Whether a research (or any of a list of them) still runs.
fn running(value: &Value) -> bool {
    let runs = |v: &Value| str_at(v, "status") == Some("running");
    runs(value) || items(value).iter().any(runs)
}

/// The open research: its facts, its progress step by step, and its report (sections whose
/// sentences cite `[n]`, the sources they resolve to).
fn research_view(research: &Value) -> Html {
    html! {
        <>
            { fields_table(research, RESEARCH) }
            { list_table("Progress", items(at(research, "progress")), &[("Step", "detail"), ("At", "at")], None) }
            if let Some(report) = str_at(research, "report_markdown") {
                <article class="report" aria-label="Report">{ markdown(&parse(report)) }</article>
            }
        </>
    }
}

/// Puts `message` in `session`'s messages: in place of the one with its id (or of the
/// answer being written, which has none), else last.
fn with_message(session: &mut Value, message: Value) {
    let Some(messages) = session.get_mut("messages").and_then(Value::as_array_mut) else {
        return;
    };
    messages.retain(|m| m.get("id").is_some());
    match messages
        .iter_mut()
        .find(|m| m.get("id") == message.get("id"))
    {
        Some(old) => *old = message,
        None => messages.push(message),
    }
}

/// Adds `text` to the answer being written (a last message without an id), begun if none.
fn with_delta(session: &mut Value, text: &str) {
    let Some(messages) = session.get_mut("messages").and_then(Value::as_array_mut) else {
        return;
    };
    if messages.last().is_none_or(|m| m.get("id").is_some()) {
        let writing = r#"{"role": "assistant", "content": ""}"#;
        messages.push(crate::api::json::from_str(writing).unwrap_or_default());
    }
    if let Some(Value::String(content)) = messages.last_mut().and_then(|m| m.get_mut("content")) {
        content.push_str(text);
    }
}

/// One message (the `n`th): who wrote it (the assistant's marked when it answered without a
/// model), its text, and its tool calls, a call that waits
/// with Confirm and Reject.
fn message(n: usize, m: &Value, decide: Decide, busy: bool) -> Html {
    let mine = str_at(m, "role") == Some("user");
    let content = str_at(m, "content").unwrap_or_default();
    let calls = items(at(m, "tool_calls"));
    let buttons = |call: &Value| {
        let id = str_at(call, "id").unwrap_or_default().to_string();
        match str_at(call, "state") {
            Some("awaiting_confirmation") => html! {
                <>
                    { button("button primary", "Confirm", busy, decide(id.clone(), true)) }
                    { button("button", "Reject", busy, decide(id, false)) }
                </>
            },
            _ => html! {},
        }
    };
    html! {
        <li class={if mine { "message mine" } else { "message" }}>
            <strong>{ if mine { "You" } else { "Assistant" } }</strong>
            if at(m, "offline").as_bool() == Some(true) {
                { " " }<span class="chip offline" title="Answered without a language model">{ "offline" }</span>
            }
            <p class="said">{ content }</p>
            if !calls.is_empty() {
                { list_table(&format!("Tool calls of message {n}"), calls, CALLS, Some(("Decide", &buttons))) }
            }
        </li>
    }
}

#[hook]
pub fn use_chat_page(props: &ChatProps) -> Html {
    let (id, research) = (props.id.clone(), props.research);
    let base = if research {
        api::chat::RESEARCH
    } else {
        api::chat::CHATS
    };
    let route = move |id: Option<String>| match research {
        true => Route::Research { id },
        false => Route::Chat { id },
    };
    let refresh = || {
        Refresh::never()
            .every(RESEARCH_POLL_MS)
            .while_ready(running)
    };
    let list = use_query(refresh(), base, |base, consistency| {
        let base = *base;
        async move { api::chat::list(base, consistency.as_deref()).await }
    });
    let chat = use_query(refresh(), id.clone(), move |id, _| {
        let id = id.clone();
        async move {
            match id {
                Some(id) => api::chat::one(base, &id).await,
                None => Ok(Value::Null),
            }
        }
    });
    let llm = use_query(Refresh::never(), (), |_, _| api::connectors::one("llm"));
    // What the assistant keeps of how you like answers (a chat's page only).
    let preferences = use_query(Refresh::never(), research, |research, _| {
        let research = *research;
        async move {
            match research {
                true => Ok(Value::Null),
                false => api::chat::preferences().await,
            }
        }
    });
    let action = use_action();
    let draft = use_state(String::new);
    let deep = use_state(|| false);
    let busy = *action.busy;

    let start = {
        let (action, list) = (action.clone(), list.clone());
        Callback::from(move |_: MouseEvent| {
            let list = list.clone();
            action.run(api::chat::start(), move |started| {
                list.reload.emit(());
                let id = str_at(&started, "id").map(str::to_string);
                push(&Route::Chat { id }, "");
            });
        })
    };
    let decide = |call: String, yes: bool| {
        let (action, chat, list, id) = (action.clone(), chat.clone(), list.clone(), id.clone());
        Callback::from(move |_: MouseEvent| {
            let (chat, list) = (chat.clone(), list.clone());
            let id = id.as_deref().unwrap_or_default().to_string();
            action.run(api::chat::decide(id, call.clone(), yes), move |after| {
                chat.set(after);
                list.reload.emit(());
            });
        })
    };
    // Sends the box: a message to the open chat, or a question to research (then opened).
    let send = {
        let (action, chat, list, draft, deep, id) = (
            action.clone(),
            chat.clone(),
            list.clone(),
            draft.clone(),
            deep.clone(),
            id.clone(),
        );
        let reread = preferences.reload.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (chat, list, draft) = (chat.clone(), list.clone(), draft.clone());
            let (text, deep, id) = (draft.trim().to_string(), *deep, id.clone());
            // The chat as shown: each message goes in as it comes (the text leaves the box
            // once the question is in the chat).
            let shown = match &*chat {
                Load::Ready(session) => session.clone(),
                _ => Value::Null,
            };
            let shown = std::rc::Rc::new(std::cell::RefCell::new(shown));
            let streamed = {
                let (chat, draft) = (chat.clone(), draft.clone());
                move |event: &str, data: Value| {
                    if str_at(&data, "role") == Some("user") {
                        draft.set(String::new());
                    }
                    let mut session = shown.borrow_mut();
                    match event {
                        "delta" => {
                            with_delta(&mut session, str_at(&data, "text").unwrap_or_default())
                        }
                        _ => with_message(&mut session, data),
                    }
                    chat.set(session.clone());
                }
            };
            let answer = async move {
                match id {
                    Some(id) if !research => api::chat::ask(id.to_string(), text, streamed).await,
                    _ => api::chat::research(text, deep).await,
                }
            };
            let preferences = reread.clone();
            action.run(answer, move |after| {
                // A preference may have been stated.
                preferences.emit(());
                draft.set(String::new());
                list.reload.emit(());
                match research {
                    true => push(&route(str_at(&after, "id").map(str::to_string)), ""),
                    false => chat.set(after),
                }
            });
        })
    };
    let remove = {
        let (action, list, id) = (action.clone(), list.clone(), id.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(id) = id.clone() else { return };
            if !confirm(
                "Delete this? It is no longer listed (its history stays in the audit trail).",
            ) {
                return;
            }
            let list = list.clone();
            action.run(api::chat::delete(base, id.to_string()), move |_| {
                list.reload.emit(());
                push(&route(None), "");
            });
        })
    };

    // A preference's Change: the new value asked for (left empty, it is forgotten).
    let prefer = |p: &Value| {
        let key = str_at(p, "key").unwrap_or_default().to_string();
        let (action, preferences) = (action.clone(), preferences.clone());
        let change = Callback::from(move |_: MouseEvent| {
            let Some(value) = ask(&format!("Your preference for {key} (empty to forget it):"))
            else {
                return;
            };
            let value = Some(value.trim().to_string()).filter(|v| !v.is_empty());
            let preferences = preferences.clone();
            action.run(api::chat::prefer(key.clone(), value), move |after| {
                preferences.set(after)
            });
        });
        button("button", "Change", busy, change)
    };
    let title = |c: &Value| {
        let id = str_at(c, "id").map(str::to_string);
        link(
            route(id),
            html! { text(at(c, if research { "question" } else { "title" })) },
        )
    };
    let (label, columns, heading): (_, &[_], _) = match research {
        true => (
            "Your research",
            &[("Status", "status"), ("Sources", "source_count")],
            "Question",
        ),
        false => ("Your chats", &[("Waiting", "awaiting")], "Chat"),
    };
    let side = html! {
        <>
            if research {
                { link(route(None), html! { "New research" }) }
            } else {
                { button("button primary", "New chat", busy, start) }
            }
            { status::view(&*list, 3, &list.reload, |found| {
                list_table(label, items(found), columns, Some((heading, &title)))
            }) }
            if let Load::Ready(found) = &*preferences {
                if !research {
                    { list_table("Your preferences", items(found), &[("Preference", "key"), ("Value", "value")], Some(("Change", &prefer))) }
                }
            }
        </>
    };
    let decide: Decide = &decide;
    // The box: a chat's message, or (nothing open) research's question.
    let ask = html! {
        <form class="ask" onsubmit={send}>
            <label for="ask">{ if research { "Question" } else { "Message" } }</label>
            <textarea id="ask" rows="3" maxlength={if research { "500" } else { "8000" }}
                value={(*draft).clone()} oninput={bind(&draft)}
                placeholder={if research {
                    "What do we know about Northwind Logistics and its renewal?"
                } else {
                    "What is my top move today? Or /today, /approve 1, /help"
                }} />
            if research {
                <label>
                    <input type="checkbox" checked={*deep}
                        onchange={Callback::from(move |_: Event| deep.set(!*deep))} />
                    { " Deep: also asks narrower follow-up questions" }
                </label>
            }
            <button class="button primary" type="submit" disabled={busy || draft.trim().is_empty()}>
                { if busy { "Working…" } else if research { "Research" } else { "Send" } }
            </button>
        </form>
    };
    let open = match id.as_deref() {
        None if research => html! {
            <>
                <p class="muted">{ "Searches CaseyOS's own data (and the web, when connected); every sentence of the report cites its source." }</p>
                { ask }
            </>
        },
        None => empty(
            "No chat open",
            html! { <p class="muted">{ "Open a chat, or start a new one. The assistant acts through CaseyOS's own commands, as you; what changes something waits for your confirmation." }</p> },
        ),
        Some(cid) => status::view(&*chat, 4, &chat.reload, |session| {
            let messages = items(at(session, "messages"));
            html! {
                <>
                    <h2>{ text(at(session, if research { "question" } else { "title" })) }</h2>
                    { export_delete(format!("{}/export?format=md", api::chat::path(base, cid)), &remove, busy) }
                    if research {
                        { research_view(session) }
                    } else {
                        if let Some(summary) = str_at(session, "summary.text") {
                            <p class="notice">{ "Summary of older messages: " }{ summary }</p>
                        }
                        <ol class="messages" aria-label="Messages">
                            { for messages.iter().enumerate().map(|(n, m)| message(n + 1, m, decide, busy)) }
                        </ol>
                        { ask.clone() }
                    }
                </>
            }
        }),
    };
    let sub = html! {
        <>
            if let Load::Ready(llm) = &*llm {
                <p class="notice" role="status">
                    { "Language model: " }{ text(at(llm, "status")) }{ ". " }{ text(at(llm, "note")) }
                </p>
            }
            if let Some(error) = &*action.error { { error_view(error, None) } }
        </>
    };
    let (id, title, side_label) = match research {
        true => ("research-title", "Research", "Research"),
        false => ("chat-title", "Chat", "Chats"),
    };
    split_page(id, title, sub, side_label, side, open)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::mount;
    use serde_json::json;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[derive(Properties, PartialEq)]
    struct HostProps {
        message: Value,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        let decide = |call: String, yes: bool| Callback::from(move |_| panic!("{call} {yes}"));
        html! { <ol>{ message(1, &props.message, &decide, false) }</ol> }
    }

    fn texts(root: &web_sys::Element, css: &str) -> Vec<String> {
        let found = root.query_selector_all(css).unwrap();
        (0..found.length())
            .filter_map(|i| {
                found
                    .get(i)?
                    .dyn_into::<web_sys::Element>()
                    .ok()?
                    .text_content()
            })
            .collect()
    }

    #[wasm_bindgen_test]
    async fn only_a_tool_call_that_waits_offers_confirm_and_reject() {
        let call = |state: &str| {
            json!({"id": "call_1", "tool": "approve_queue_item", "state": state, "arguments": {"id": "q-1"},
                   "request": "POST /api/queue/q-1/approve", "status": null, "decided_by": null})
        };
        // (state, buttons)
        let table = [
            ("awaiting_confirmation", vec!["Confirm", "Reject"]),
            ("succeeded", vec![]),
            ("rejected", vec![]),
        ];
        for (state, buttons) in table {
            let m = json!({"role": "assistant", "content": "I will approve it.", "offline": false,
                "tool_calls": [call(state)]});
            let root = mount::<Host>(HostProps { message: m }).await;
            let row = texts(&root, "tbody tr").join("");
            assert!(row.contains(state), "{state}: {row}");
            assert!(
                row.contains("POST /api/queue/q-1/approve"),
                "{state}: {row}"
            );
            assert_eq!(texts(&root, "tbody button"), buttons, "{state}");
        }
    }

    #[derive(Properties, PartialEq)]
    struct ResearchProps {
        research: Value,
    }

    #[component]
    fn Research(props: &ResearchProps) -> Html {
        research_view(&props.research)
    }

    #[wasm_bindgen_test]
    async fn a_research_shows_its_progress_and_its_report_with_citations_and_sources() {
        let research = json!({"id": "r-1", "question": "What do we know about Northwind?",
            "depth": "standard", "status": "completed", "requested_by": "casey",
            "started_at": "2026-12-01T09:00:00Z", "finished_at": "2026-12-01T09:00:04Z",
            "error": null,
            "progress": [
                {"stage": "internal_search", "detail": "searching internal data", "at": "2026-12-01T09:00:01Z"},
                {"stage": "synthesis", "detail": "synthesising 1 source", "at": "2026-12-01T09:00:02Z"}],
            "report_markdown": "## Contacts\n\nDana Whitfield: VP of Sales at Northwind [1].\n\n## Sources\n\n1. [Dana Whitfield](/contacts/c-1): VP of Sales\n"});
        let root = mount::<Research>(ResearchProps { research }).await;
        assert_eq!(
            texts(&root, "[aria-label=Progress] tbody td:first-child"),
            ["searching internal data", "synthesising 1 source"]
        );
        let report = texts(&root, "article.report").join("");
        assert!(report.contains("VP of Sales at Northwind [1]."), "{report}");
        let source = root
            .query_selector("article.report ol a")
            .unwrap()
            .expect("a source's link");
        assert_eq!(
            source.get_attribute("href").as_deref(),
            Some("/contacts/c-1")
        );
        assert_eq!(source.text_content().as_deref(), Some("Dana Whitfield"));

        // Running: its progress so far, no report yet; failed: why.
        let running =
            json!({"status": "running", "progress": [], "report_markdown": null, "error": null});
        let root = mount::<Research>(ResearchProps { research: running }).await;
        assert!(root.query_selector("article.report").unwrap().is_none());
        let failed =
            json!({"status": "failed", "progress": [], "error": "the run failed: timed out"});
        let root = mount::<Research>(ResearchProps { research: failed }).await;
        let facts = texts(&root, ".fields-table td").join(" | ");
        assert!(facts.contains("the run failed: timed out"), "{facts}");
    }

    #[wasm_bindgen_test]
    fn a_streamed_answer_is_shown_as_it_is_written_then_as_its_message() {
        let mut chat =
            json!({"id": "c-1", "messages": [{"id": "m-1", "role": "user", "content": "Hi"}]});
        with_delta(&mut chat, "Your top");
        with_delta(&mut chat, " move: Call Dana.");
        assert_eq!(
            chat["messages"][1],
            json!({"role": "assistant", "content": "Your top move: Call Dana."})
        );
        // The message with the whole text takes the place of what was being written.
        let answer =
            json!({"id": "m-2", "role": "assistant", "content": "Your top move: Call Dana."});
        with_message(&mut chat, answer.clone());
        assert_eq!(chat["messages"].as_array().unwrap().len(), 2);
        assert_eq!(chat["messages"][1], answer);
        // A message already shown is replaced, not repeated; a new one goes last.
        let edited = json!({"id": "m-1", "role": "user", "content": "Hi!"});
        with_message(&mut chat, edited.clone());
        assert_eq!(chat["messages"][0], edited);
        with_delta(&mut chat, "More");
        assert_eq!(chat["messages"][2]["content"], "More");
        // Nothing to add to without a chat.
        let mut none = Value::Null;
        with_delta(&mut none, "x");
        with_message(&mut none, answer);
        assert_eq!(none, Value::Null);
    }

    #[wasm_bindgen_test]
    async fn an_answer_without_a_model_is_marked_offline() {
        let m = json!({"role": "assistant", "content": "No language model is configured.", "offline": true,
            "tool_calls": []});
        let root = mount::<Host>(HostProps { message: m }).await;
        assert_eq!(texts(&root, ".chip.offline"), ["offline"]);
        assert!(root.query_selector("table").unwrap().is_none());
    }
}
