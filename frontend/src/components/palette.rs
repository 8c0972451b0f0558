//! The command palette (Ctrl/⌘ K): jump to a page or to any open move by typing.

pub use crate::components::modal::PaletteProps;
use caseyos_domain::queue::QueueItemView;
use web_sys::KeyboardEvent;
use yew::prelude::*;

use super::modal::modal;
use super::status::Load;
use crate::api;
use crate::hooks::{use_query, Refresh};
use crate::infra::dom::value_of;
use crate::infra::format::lowercase;
use crate::routes::{push, Route};

#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub label: String,
    pub hint: String,
    pub route: Route,
}

/// Choices whose label contains every word of the query (case-insensitive), pages first.
pub fn matching(query: &str, pages: &[Choice], items: &[QueueItemView]) -> Vec<Choice> {
    let words: Vec<String> = query.split_whitespace().map(lowercase).collect();
    let fits = |label: &str| {
        let label = lowercase(label);
        words.iter().all(|w| label.contains(w.as_str()))
    };
    pages
        .iter()
        .filter(|c| fits(&c.label))
        .cloned()
        .chain(items.iter().filter(|i| fits(&i.title)).map(|i| Choice {
            label: i.title.clone(),
            hint: format!(
                "{} · APS {}",
                i.status.as_str(),
                crate::infra::format::score(i.aps.score)
            ),
            route: Route::Item {
                id: i.id.to_string(),
            },
        }))
        .take(12)
        .collect()
}

fn pages() -> Vec<Choice> {
    vec![
        Choice {
            label: "Dashboard".into(),
            hint: "page".into(),
            route: Route::Dashboard,
        },
        Choice {
            label: "Pipeline — the board".into(),
            hint: "page".into(),
            route: Route::Pipeline,
        },
        Choice {
            label: "Forecast — against quota".into(),
            hint: "page".into(),
            route: Route::Forecast,
        },
        Choice {
            label: "Today's Moves".into(),
            hint: "page".into(),
            route: Route::Today,
        },
        Choice {
            label: "Queue — all moves".into(),
            hint: "page".into(),
            route: Route::Queue,
        },
        Choice {
            label: "Agents — run an agent".into(),
            hint: "page".into(),
            route: Route::Agents,
        },
        Choice {
            label: "Runs — agent runs".into(),
            hint: "page".into(),
            route: Route::Runs,
        },
        Choice {
            label: "Duplicates — review pairs".into(),
            hint: "page".into(),
            route: Route::Duplicates,
        },
        Choice {
            label: "Import contacts from CSV".into(),
            hint: "page".into(),
            route: Route::ContactImport,
        },
        Choice {
            label: "Contacts — search".into(),
            hint: "page".into(),
            route: Route::Contacts,
        },
        Choice {
            label: "Hygiene — checks, reports, alerts".into(),
            hint: "page".into(),
            route: Route::Hygiene,
        },
        Choice {
            label: "Signals — what came in".into(),
            hint: "page".into(),
            route: Route::Signals,
        },
        Choice {
            label: "Connectors — Gmail, Calendar, HubSpot".into(),
            hint: "settings".into(),
            route: Route::Connectors,
        },
        Choice {
            label: "Auto-approval — rules".into(),
            hint: "settings".into(),
            route: Route::AutoApproval,
        },
    ]
}

#[hook]
pub fn use_palette(props: &PaletteProps) -> Html {
    let query = use_state(String::new);
    let active = use_state(|| 0usize);
    // Open moves to jump to; until they come (or if they cannot), pages only.
    let open_moves = use_query(Refresh::never(), (), |_, _| async {
        api::queue::list(
            "status=pending,snoozed&limit=100&consistency=eventual",
            None,
        )
        .await
    });
    let items = match &*open_moves {
        Load::Ready(list) => list.items.as_slice(),
        _ => &[],
    };

    let choices = matching(&query, &pages(), items);
    let go = {
        let on_close = props.on_close.clone();
        Callback::from(move |route: Route| {
            on_close.emit(());
            push(&route, "");
        })
    };
    let oninput = {
        let (query, active) = (query.clone(), active.clone());
        Callback::from(move |e: InputEvent| {
            query.set(value_of(&e));
            active.set(0);
        })
    };
    let onkeydown = {
        let (active, go, choices) = (active.clone(), go.clone(), choices.clone());
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "ArrowDown" => {
                e.prevent_default();
                active.set((*active + 1).min(choices.len().saturating_sub(1)));
            }
            "ArrowUp" => {
                e.prevent_default();
                active.set(active.saturating_sub(1));
            }
            "Enter" => {
                e.prevent_default();
                if let Some(choice) = choices.get(*active) {
                    go.emit(choice.route.clone());
                }
            }
            _ => {}
        })
    };
    let active_id = choices
        .get(*active)
        .map(|_| format!("palette-option-{}", *active));
    html! {
        { modal("Go to…".into(), &props.on_close, "dialog", html! { <>
            <label for="palette-input" class="visually-hidden">{ "Search pages and moves" }</label>
            <input id="palette-input" type="search" placeholder="Type a page or a move" autocomplete="off"
                   role="combobox" aria-expanded="true" aria-controls="palette-list"
                   aria-activedescendant={active_id} value={(*query).clone()} {oninput} {onkeydown} />
            <ul id="palette-list" role="listbox" class="palette-list" aria-label="Results">
                { for choices.iter().enumerate().map(|(i, c)| {
                    let pick = { let go = go.clone(); let r = c.route.clone(); Callback::from(move |_| go.emit(r.clone())) };
                    html! {
                        <li id={format!("palette-option-{i}")} role="option" aria-selected={(i == *active).to_string()}
                            class={classes!((i == *active).then_some("active"))} onclick={pick}>
                            <span>{ &c.label }</span><span class="muted">{ &c.hint }</span>
                        </li>
                    }
                }) }
                if choices.is_empty() {
                    <li class="muted" role="option" aria-selected="false" aria-disabled="true">{ "Nothing matches." }</li>
                }
            </ul>
        </> }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn every_word_must_match_and_pages_come_first() {
        let found = matching("queue", &pages(), &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].route, Route::Queue);
        // At most twelve choices show; typing finds the rest.
        assert_eq!(pages().len(), 14);
        assert_eq!(matching("", &pages(), &[]).len(), 12);
        let rules = matching("auto-approval", &pages(), &[]);
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].route, Route::AutoApproval);
        let forecast = matching("forecast", &pages(), &[]);
        assert_eq!(forecast.len(), 1);
        assert_eq!(forecast[0].route, Route::Forecast);
        let runs = matching("runs", &pages(), &[]);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].route, Route::Runs);
        assert_eq!(matching("agent", &pages(), &[]).len(), 2);
        assert!(matching("today zebra", &pages(), &[]).is_empty());
    }
}
