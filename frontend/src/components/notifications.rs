//! The notifications bell in the header: what's up's count of unread notifications, kept
//! live, and — once opened — the open notifications, each linking to what it is about, to
//! mark read or acknowledge.

use serde_json::Value;
use yew::prelude::*;

use super::fields::button;

use super::contacts::{at, items, list_table, str_at, text};
use super::status::{self, error_view, Load};
use crate::api;
use crate::hooks::{use_action, use_query, Refresh};
use crate::infra::live::Feed;
use crate::routes::address_link;

/// The notifications' columns after the title: (heading, path).
const COLUMNS: &[(&str, &str)] = &[
    ("Priority", "priority"),
    ("What", "message"),
    ("Read", "read_at"),
    ("When", "happened_at"),
];

/// The bell's count as shown: up to 99, then "99+".
pub fn count_text(total: u64) -> String {
    if total > 99 {
        "99+".to_string()
    } else {
        total.to_string()
    }
}

/// The bell (a button) and, while it is open, its panel.
pub struct Bell {
    pub button: Html,
    pub panel: Html,
}

#[hook]
pub fn use_bell() -> Bell {
    let open = use_state(bool::default);
    // Notifications are derived from several read models: any of them moving may change them.
    let whats_up = use_query(
        Refresh::on(Feed::Any).keep_on_failure(),
        (),
        |_, consistency| async move { api::notifications::whats_up(consistency.as_deref()).await },
    );
    let list = use_query(Refresh::on(Feed::Any), *open, |open, consistency| {
        let open = *open;
        async move {
            match open {
                true => api::notifications::list(consistency.as_deref()).await,
                false => Ok(Value::Null),
            }
        }
    });
    let action = use_action();
    let busy = *action.busy;

    let total = match &*whats_up {
        Load::Ready(w) => at(w, "total").as_u64(),
        _ => None,
    };
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let bell = html! {
        <button class="button ghost bell" aria-expanded={open.to_string()} aria-controls="notifications" onclick={toggle.clone()}
            title={match &*whats_up { Load::Ready(w) => text(at(w, "summary")), _ => String::new() }}>
            <span aria-hidden="true">{ "🔔 " }</span>{ "Notifications" }
            if let Some(n) = total {
                { " " }<span class={classes!("badge", (n == 0).then_some("zero"))}>{ count_text(n) }</span>
            }
        </button>
    };
    if !*open {
        return Bell {
            button: bell,
            panel: html! {},
        };
    }
    let mark = |id: String, acknowledge: bool| {
        let (action, whats_up, list) = (action.clone(), whats_up.clone(), list.clone());
        Callback::from(move |_: MouseEvent| {
            let (whats_up, list) = (whats_up.clone(), list.clone());
            action.run(
                api::notifications::mark(id.clone(), acknowledge),
                move |done| {
                    let token = str_at(&done, "consistency").unwrap_or_default().to_string();
                    whats_up.read_after(token.clone());
                    list.read_after(token);
                },
            );
        })
    };
    // A notification's title (a link to what it is about) and its buttons.
    let lead = |n: &Value| {
        let id = str_at(n, "id").unwrap_or_default().to_string();
        html! {
            <>
                { address_link(str_at(n, "link").unwrap_or_default(), html! { text(at(n, "title")) }) }
                <div class="actions">
                    if at(n, "read_at").is_null() {
                        { button("button", "Mark read", busy, mark(id.clone(), false)) }
                    }
                    { button("button", "Acknowledge", busy, mark(id, true)) }
                </div>
            </>
        }
    };
    let shown = status::view(&*list, 3, &list.reload, |found| {
        list_table(
            "Open notifications",
            items(found),
            COLUMNS,
            Some(("Notification", &lead)),
        )
    });
    let panel = html! {
        <section id="notifications" class="notifications" aria-label="Notifications">
            if let Some(error) = &*action.error { { error_view(error, None) } }
            { shown }
            { button("button", "Close", false, toggle) }
        </section>
    };
    Bell {
        button: bell,
        panel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::mount;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[derive(Properties, PartialEq)]
    struct HostProps {
        address: &'static str,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        html! { <p>{ address_link(props.address, html! { "it" }) }</p> }
    }

    #[wasm_bindgen_test]
    async fn a_notifications_link_stays_on_the_site_or_opens_a_new_tab_or_is_text() {
        // (address, href, target)
        let table = [
            ("/queue?status=pending", Some("/queue?status=pending"), None),
            ("/runs/r-1", Some("/runs/r-1"), None),
            (
                "https://example.com/a",
                Some("https://example.com/a"),
                Some("_blank"),
            ),
            ("//evil.example", None, None),
            ("javascript:alert(1)", None, None),
            ("", None, None),
        ];
        for (address, href, target) in table {
            let root = mount::<Host>(HostProps { address }).await;
            let link = root.query_selector("a").unwrap();
            assert_eq!(root.text_content().as_deref(), Some("it"), "{address}");
            assert_eq!(
                link.as_ref()
                    .and_then(|a| a.get_attribute("href"))
                    .as_deref(),
                href,
                "{address}"
            );
            assert_eq!(
                link.and_then(|a| a.get_attribute("target")).as_deref(),
                target,
                "{address}"
            );
        }
    }

    #[wasm_bindgen_test]
    fn the_bell_counts_up_to_99() {
        let table = [(0, "0"), (7, "7"), (99, "99"), (100, "99+"), (4_000, "99+")];
        for (total, shown) in table {
            assert_eq!(count_text(total), shown, "{total}");
        }
    }
}
