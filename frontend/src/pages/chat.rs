//! `/chat` and `/chat/:id`: the assistant. The caller's chats in a sidebar (new, delete,
//! export as Markdown), the open chat's messages with every tool call the assistant made —
//! one that changes something waits for Confirm or Reject —, and a message box (the question
//! stays in it until the answer comes whole: the SPA reads the JSON answer, not the
//! server-sent events, to keep the wasm within its budget). Whether a language model is connected is
//! said as the server says it (without one, slash commands still answer).

use serde_json::Value;
use yew::prelude::*;

use crate::components::fields::button;

use crate::api;
use crate::components::assistant::{export_delete, split_page};
use crate::components::contacts::{at, items, list_table, str_at, text};
use crate::components::status::{self, empty, error_view, Load};
use crate::hooks::{confirm, use_action, use_query, Refresh};
use crate::infra::dom::bind;
use crate::routes::{link, push, Route};

#[derive(PartialEq)]
pub struct ChatProps {
    /// The open chat, if any.
    pub id: Option<AttrValue>,
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
    let id = props.id.clone();
    let list = use_query(Refresh::never(), (), |_, consistency| async move {
        api::chat::list(consistency.as_deref()).await
    });
    let chat = use_query(Refresh::never(), id.clone(), |id, _| {
        let id = id.clone();
        async move {
            match id {
                Some(id) => api::chat::one(&id).await,
                None => Ok(Value::Null),
            }
        }
    });
    let llm = use_query(Refresh::never(), (), |_, _| api::connectors::one("llm"));
    let action = use_action();
    let draft = use_state(String::new);
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
    let send = {
        let (action, chat, list, draft, id) = (
            action.clone(),
            chat.clone(),
            list.clone(),
            draft.clone(),
            id.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(id) = id.clone() else { return };
            // The question stays in the box until the answer comes.
            let (chat, list, draft) = (chat.clone(), list.clone(), draft.clone());
            let answer = api::chat::ask(id.to_string(), draft.trim().to_string());
            action.run(answer, move |after| {
                draft.set(String::new());
                chat.set(after);
                list.reload.emit(());
            });
        })
    };
    let remove = {
        let (action, list, id) = (action.clone(), list.clone(), id.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(id) = id.clone() else { return };
            if !confirm(
                "Delete this chat? It is no longer listed (its history stays in the audit trail).",
            ) {
                return;
            }
            let list = list.clone();
            action.run(api::chat::delete(id.to_string()), move |_| {
                list.reload.emit(());
                push(&Route::Chat { id: None }, "");
            });
        })
    };

    let title = |c: &Value| {
        let id = str_at(c, "id").map(str::to_string);
        link(Route::Chat { id }, html! { text(at(c, "title")) })
    };
    let side = html! {
        <>
            { button("button primary", "New chat", busy, start) }
            { status::view(&*list, 3, &list.reload, |found| {
                list_table("Your chats", items(found), &[("Waiting", "awaiting")], Some(("Chat", &title)))
            }) }
        </>
    };
    let decide: Decide = &decide;
    let open = match id.as_deref() {
        None => empty(
            "No chat open",
            html! { <p class="muted">{ "Open a chat, or start a new one. The assistant acts through CaseyOS's own commands, as you; what changes something waits for your confirmation." }</p> },
        ),
        Some(cid) => status::view(&*chat, 4, &chat.reload, |session| {
            let messages = items(at(session, "messages"));
            html! {
                <>
                    <h2>{ text(at(session, "title")) }</h2>
                    { export_delete(format!("{}/export?format=md", api::chat::path(cid)), &remove, busy) }
                    if let Some(summary) = str_at(session, "summary.text") {
                        <p class="notice">{ "Summary of older messages: " }{ summary }</p>
                    }
                    <ol class="messages" aria-label="Messages">
                        { for messages.iter().enumerate().map(|(n, m)| message(n + 1, m, decide, busy)) }
                    </ol>
                    <form class="ask" onsubmit={send.clone()}>
                        <label for="chat-message">{ "Message" }</label>
                        <textarea id="chat-message" rows="3" maxlength="8000"
                            value={(*draft).clone()} oninput={bind(&draft)}
                            placeholder="What is my top move today? Or /today, /approve 1, /help" />
                        <button class="button primary" type="submit" disabled={busy || draft.trim().is_empty()}>
                            { if busy { "Answering…" } else { "Send" } }
                        </button>
                    </form>
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
    split_page("chat-title", "Chat", sub, "Chats", side, open)
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

    #[wasm_bindgen_test]
    async fn an_answer_without_a_model_is_marked_offline() {
        let m = json!({"role": "assistant", "content": "No language model is configured.", "offline": true,
            "tool_calls": []});
        let root = mount::<Host>(HostProps { message: m }).await;
        assert_eq!(texts(&root, ".chip.offline"), ["offline"]);
        assert!(root.query_selector("table").unwrap().is_none());
    }
}
