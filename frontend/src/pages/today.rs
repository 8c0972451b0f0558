//! Today's Moves: the ranked list, decided one by one with the mouse or the keyboard, or in
//! bulk. A decided move leaves at once and never reappears from an older read.

use caseyos_domain::api::{BulkDecisionResponse, EditQueueItemRequest, SnoozeQueueItemRequest};
use caseyos_domain::queue::QueueItemView;
use gloo_events::{EventListener, EventListenerOptions};
use uuid::Uuid;
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::app_state::use_app;
use crate::components::dialogs::{
    ConfirmDialog, DialogRunner, EditDialog, RejectDialog, SnoozeDialog,
};
use crate::components::queue_card::QueueCard;
use crate::components::status::{Empty, ErrorView, Skeleton};
use crate::keys::{shortcut, Press, Shortcut};
use crate::routes::Route;
use crate::today_state::{TodayAction, TodayState};

#[derive(Clone, Debug, PartialEq)]
enum Dialog {
    Reject(Vec<Uuid>),
    Snooze(Uuid),
    Edit(Box<QueueItemView>),
    ApproveSelected(Vec<Uuid>),
}

#[derive(Clone, Debug, PartialEq)]
enum Notice {
    Done(String),
    Failed(ApiError),
}

/// Whether the keyboard focus is in a text field (letters are typing there).
pub fn typing_in(event: &KeyboardEvent) -> bool {
    event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || el.has_attribute("contenteditable")
        })
}

pub fn press_of(event: &KeyboardEvent) -> Press {
    Press {
        key: event.key(),
        ctrl: event.ctrl_key(),
        meta: event.meta_key(),
        alt: event.alt_key(),
        typing: typing_in(event),
    }
}

/// After a bulk decision: the decided moves leave, the refused ones get their buttons back,
/// and the notice says how it went (`verb` is "Approved" or "Rejected").
fn bulk_done(
    verb: &str,
    ids: &[Uuid],
    response: BulkDecisionResponse,
    state: &UseReducerDispatcher<TodayState>,
    notice: &UseStateHandle<Option<Notice>>,
    left: &Callback<(Vec<Uuid>, String)>,
) {
    let done: Vec<Uuid> = response
        .results
        .iter()
        .filter(|r| r.ok)
        .map(|r| r.id)
        .collect();
    let failed: Vec<String> = response
        .results
        .iter()
        .filter_map(|r| r.error.as_ref().map(|e| e.message.clone()))
        .collect();
    let refused: Vec<Uuid> = ids
        .iter()
        .filter(|id| !done.contains(id))
        .copied()
        .collect();
    state.dispatch(TodayAction::Failed(refused));
    notice.set(Some(Notice::Done(if failed.is_empty() {
        format!("{verb} {} moves", done.len())
    } else {
        format!(
            "{verb} {}; {} could not be: {}",
            done.len(),
            failed.len(),
            failed.join("; ")
        )
    })));
    if let Some(consistency) = response.consistency {
        left.emit((done, consistency));
    }
}

#[component]
pub fn TodayPage() -> Html {
    let app = use_app();
    let state = use_reducer(TodayState::default);
    let load_error = use_state(|| None::<ApiError>);
    let dialog = use_state(|| None::<Dialog>);
    let dialog_busy = use_state(|| false);
    let dialog_error = use_state(|| None::<ApiError>);
    let notice = use_state(|| None::<Notice>);
    let navigator = use_navigator();
    let can_decide = app.session().is_some_and(|s| s.can_decide());

    let load = {
        let state = state.dispatcher();
        let load_error = load_error.clone();
        let app = app.clone();
        Callback::from(move |consistency: Option<String>| {
            let state = state.clone();
            let load_error = load_error.clone();
            let app = app.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match api::today(consistency.as_deref()).await {
                    Ok(list) => {
                        load_error.set(None);
                        state.dispatch(TodayAction::Loaded {
                            items: list.items,
                            consistency,
                        });
                    }
                    Err(error) => {
                        app.check(&error);
                        load_error.set(Some(error));
                    }
                }
            });
        })
    };

    // First load, then again whenever the server says the queue moved.
    {
        let load = load.clone();
        use_effect_with((), move |_| {
            load.emit(None);
        });
    }
    {
        let load = load.clone();
        let consistency = app.live.consistency.clone();
        use_effect_with(app.live.tick, move |tick| {
            if *tick > 0 {
                load.emit(consistency);
            }
        });
    }

    // A write left `ids` at `consistency`: drop them now, then read at that point.
    let left = {
        let state = state.dispatcher();
        let load = load.clone();
        Callback::from(move |(ids, consistency): (Vec<Uuid>, String)| {
            state.dispatch(TodayAction::Left {
                ids,
                consistency: consistency.clone(),
            });
            load.emit(Some(consistency));
        })
    };

    let approve = {
        let state = state.dispatcher();
        let notice = notice.clone();
        let left = left.clone();
        let app = app.clone();
        Callback::from(move |item: QueueItemView| {
            state.dispatch(TodayAction::Started(vec![item.id]));
            let (state, notice, left, app) =
                (state.clone(), notice.clone(), left.clone(), app.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::approve(&item.id.to_string(), None).await {
                    Ok(response) => {
                        notice.set(Some(Notice::Done(format!("Approved “{}”", item.title))));
                        left.emit((vec![item.id], response.consistency));
                    }
                    Err(error) => {
                        app.check(&error);
                        state.dispatch(TodayAction::Failed(vec![item.id]));
                        notice.set(Some(Notice::Failed(error)));
                    }
                }
            });
        })
    };

    let close_dialog = {
        let (dialog, busy, error) = (dialog.clone(), dialog_busy.clone(), dialog_error.clone());
        Callback::from(move |_| {
            dialog.set(None);
            busy.set(false);
            error.set(None);
        })
    };

    let runner = DialogRunner {
        busy: dialog_busy.clone(),
        error: dialog_error.clone(),
        close: close_dialog.clone(),
        app: app.clone(),
    };

    let on_reject = {
        let ctx = (dialog.clone(), runner.clone());
        let (left, notice, state) = (left.clone(), notice.clone(), state.dispatcher());
        Callback::from(move |reason: String| {
            let (dialog, runner) = ctx.clone();
            let Some(Dialog::Reject(ids)) = (*dialog).clone() else {
                return;
            };
            let (left, notice, state) = (left.clone(), notice.clone(), state.clone());
            state.dispatch(TodayAction::Started(ids.clone()));
            if let [id] = ids.as_slice() {
                let id = *id;
                let failed_state = state.clone();
                runner.run(
                    async move {
                        let result = api::reject(&id.to_string(), reason).await;
                        if result.is_err() {
                            failed_state.dispatch(TodayAction::Failed(vec![id]));
                        }
                        result
                    },
                    move |response| {
                        notice.set(Some(Notice::Done(format!(
                            "Rejected “{}”",
                            response.item.title
                        ))));
                        left.emit((vec![id], response.consistency));
                    },
                );
            } else {
                let all = ids.clone();
                let failed_state = state.clone();
                runner.run(
                    async move {
                        let result = api::bulk_reject(all.clone(), reason).await;
                        if result.is_err() {
                            failed_state.dispatch(TodayAction::Failed(all));
                        }
                        result
                    },
                    move |response| bulk_done("Rejected", &ids, response, &state, &notice, &left),
                );
            }
        })
    };

    let on_snooze = {
        let ctx = (dialog.clone(), runner.clone());
        let (left, notice) = (left.clone(), notice.clone());
        Callback::from(move |request: SnoozeQueueItemRequest| {
            let (dialog, runner) = ctx.clone();
            let Some(Dialog::Snooze(id)) = *dialog else {
                return;
            };
            let (left, notice) = (left.clone(), notice.clone());
            runner.run(
                async move { api::snooze(&id.to_string(), &request).await },
                move |response| {
                    let until = response
                        .item
                        .snoozed_until
                        .map(|u| crate::format::relative(crate::format::now(), u))
                        .unwrap_or_default();
                    notice.set(Some(Notice::Done(format!(
                        "Snoozed “{}” until {until}",
                        response.item.title
                    ))));
                    left.emit((vec![id], response.consistency));
                },
            );
        })
    };

    let on_edit = {
        let ctx = (dialog.clone(), runner.clone());
        let (load, notice) = (load.clone(), notice.clone());
        Callback::from(move |request: EditQueueItemRequest| {
            let (dialog, runner) = ctx.clone();
            let Some(Dialog::Edit(item)) = (*dialog).clone() else {
                return;
            };
            let (load, notice) = (load.clone(), notice.clone());
            runner.run(
                async move { api::edit(&item.id.to_string(), &request).await },
                move |response| {
                    notice.set(Some(Notice::Done(format!(
                        "Saved “{}”",
                        response.item.title
                    ))));
                    load.emit(Some(response.consistency));
                },
            );
        })
    };

    let on_approve_selected = {
        let ctx = (dialog.clone(), runner.clone());
        let (left, notice, state) = (left.clone(), notice.clone(), state.dispatcher());
        Callback::from(move |_| {
            let (dialog, runner) = ctx.clone();
            let Some(Dialog::ApproveSelected(ids)) = (*dialog).clone() else {
                return;
            };
            let (left, notice, state) = (left.clone(), notice.clone(), state.clone());
            state.dispatch(TodayAction::Started(ids.clone()));
            let all = ids.clone();
            let failed_state = state.clone();
            runner.run(
                async move {
                    let result = api::bulk_approve(all.clone()).await;
                    if result.is_err() {
                        failed_state.dispatch(TodayAction::Failed(all));
                    }
                    result
                },
                move |response| bulk_done("Approved", &ids, response, &state, &notice, &left),
            );
        })
    };

    // Keyboard: j/k move, a/r/s/e act on the focused move, x selects, o opens.
    {
        let state = state.clone();
        let dialog = dialog.clone();
        let approve = approve.clone();
        let navigator = navigator.clone();
        use_effect_with((state.clone(), dialog.clone(), can_decide), move |_| {
            let document = web_sys::window().and_then(|w| w.document());
            let listener = document.map(|document| {
                EventListener::new_with_options(
                    &document,
                    "keydown",
                    EventListenerOptions::enable_prevent_default(),
                    move |event| {
                        let Some(event) = event.dyn_ref::<KeyboardEvent>() else {
                            return;
                        };
                        if dialog.is_some() {
                            return;
                        }
                        let Some(action) = shortcut(&press_of(event)) else {
                            return;
                        };
                        let focused = state.focused().cloned();
                        let busy = focused
                            .as_ref()
                            .is_some_and(|f| state.in_flight.contains(&f.id));
                        let handled = match (action, focused) {
                            (Shortcut::Next, _) => {
                                state.dispatch(TodayAction::Next);
                                true
                            }
                            (Shortcut::Previous, _) => {
                                state.dispatch(TodayAction::Previous);
                                true
                            }
                            (Shortcut::Open, Some(item)) => {
                                if let Some(nav) = &navigator {
                                    nav.push(&Route::Item {
                                        id: item.id.to_string(),
                                    });
                                }
                                true
                            }
                            (_, Some(_)) if !can_decide || busy => false,
                            (Shortcut::Approve, Some(item)) => {
                                approve.emit(item);
                                true
                            }
                            (Shortcut::Reject, Some(item)) => {
                                dialog.set(Some(Dialog::Reject(vec![item.id])));
                                true
                            }
                            (Shortcut::Snooze, Some(item)) => {
                                dialog.set(Some(Dialog::Snooze(item.id)));
                                true
                            }
                            (Shortcut::Edit, Some(item)) => {
                                dialog.set(Some(Dialog::Edit(Box::new(item))));
                                true
                            }
                            (Shortcut::ToggleSelect, Some(item)) => {
                                state.dispatch(TodayAction::ToggleSelect(item.id));
                                true
                            }
                            _ => false,
                        };
                        if handled {
                            event.prevent_default();
                        }
                    },
                )
            });
            move || drop(listener)
        });
    }

    // Keep the focused move in view.
    {
        let focused = state.focused().map(|i| i.id);
        use_effect_with(focused, move |focused| {
            if let Some(id) = focused {
                let selector = format!("li[data-id='{id}']");
                if let Some(el) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.query_selector(&selector).ok().flatten())
                {
                    el.scroll_into_view_with_bool(false);
                }
            }
        });
    }

    let selected: Vec<Uuid> = state.selected.iter().copied().collect();
    let list = if let Some(error) = (*load_error).clone().filter(|_| !state.loaded) {
        let load = load.clone();
        html! { <ErrorView error={error} on_retry={Callback::from(move |_| load.emit(None))} /> }
    } else if !state.loaded {
        html! { <Skeleton rows={4} /> }
    } else if state.items.is_empty() {
        html! {
            <Empty title="Nothing is waiting for you.">
                <p class="muted">{ "New moves appear here as agents and signals propose them." }</p>
            </Empty>
        }
    } else {
        html! {
            <ol class="cards" aria-label="Today's moves, highest priority first">
                { for state.items.iter().enumerate().map(|(index, item)| {
                    let focus = { let s = state.dispatcher(); Callback::from(move |_| s.dispatch(TodayAction::Focus(index))) };
                    let select = { let s = state.dispatcher(); let id = item.id; Callback::from(move |_| s.dispatch(TodayAction::ToggleSelect(id))) };
                    let on_approve = { let a = approve.clone(); let i = item.clone(); Callback::from(move |_| a.emit(i.clone())) };
                    let on_reject = { let d = dialog.clone(); let id = item.id; Callback::from(move |_| d.set(Some(Dialog::Reject(vec![id])))) };
                    let on_snooze = { let d = dialog.clone(); let id = item.id; Callback::from(move |_| d.set(Some(Dialog::Snooze(id)))) };
                    let on_edit = { let d = dialog.clone(); let i = item.clone(); Callback::from(move |_| d.set(Some(Dialog::Edit(Box::new(i.clone()))))) };
                    html! {
                        <QueueCard key={item.id.to_string()} item={item.clone()} focused={index == state.cursor}
                            selected={state.selected.contains(&item.id)} busy={state.in_flight.contains(&item.id)}
                            {can_decide} on_focus={focus} on_select={select}
                            {on_approve} {on_reject} {on_snooze} {on_edit} />
                    }
                }) }
            </ol>
        }
    };

    let all_selected =
        state.loaded && !state.items.is_empty() && state.selected.len() == state.items.len();
    html! {
        <section class="page" aria-labelledby="today-title">
            <header class="page-header">
                <h1 id="today-title">{ "Today's Moves" }</h1>
                <p class="muted">{ "Ranked by APS, then due time. Press ? for shortcuts." }</p>
            </header>
            <div class="notice-area" aria-live="polite">
                { for (*notice).clone().map(|n| match n {
                    Notice::Done(text) => html! { <p class="notice">{ text }</p> },
                    Notice::Failed(error) => html! { <ErrorView error={error} /> },
                }) }
            </div>
            if can_decide && state.loaded && !state.items.is_empty() {
                <div class="bulk-bar" role="toolbar" aria-label="Bulk decisions">
                    <label class="checkbox">
                        <input type="checkbox" checked={all_selected}
                               onchange={let s = state.dispatcher(); move |_| s.dispatch(TodayAction::SelectAll(!all_selected))} />
                        { if selected.is_empty() { "Select all".to_string() } else { format!("{} selected", selected.len()) } }
                    </label>
                    <button class="button primary" disabled={selected.is_empty()}
                            onclick={let d = dialog.clone(); let ids = selected.clone(); move |_| d.set(Some(Dialog::ApproveSelected(ids.clone())))}>
                        { "Approve selected" }
                    </button>
                    <button class="button danger" disabled={selected.is_empty()}
                            onclick={let d = dialog.clone(); let ids = selected.clone(); move |_| d.set(Some(Dialog::Reject(ids.clone())))}>
                        { "Reject selected" }
                    </button>
                </div>
            }
            { list }
            { match (*dialog).clone() {
                None => html! {},
                Some(Dialog::Reject(ids)) => html! {
                    <RejectDialog count={ids.len()} busy={*dialog_busy} error={(*dialog_error).clone()}
                        on_submit={on_reject} on_close={close_dialog.clone()} />
                },
                Some(Dialog::Snooze(_)) => html! {
                    <SnoozeDialog busy={*dialog_busy} error={(*dialog_error).clone()} on_submit={on_snooze} on_close={close_dialog.clone()} />
                },
                Some(Dialog::Edit(item)) => html! {
                    <EditDialog item={*item} busy={*dialog_busy} error={(*dialog_error).clone()} on_submit={on_edit} on_close={close_dialog.clone()} />
                },
                Some(Dialog::ApproveSelected(ids)) => html! {
                    <ConfirmDialog title="Approve the selected moves?"
                        message={format!("{} moves will be approved. Decisions are final.", ids.len())}
                        confirm={format!("Approve {}", ids.len())} busy={*dialog_busy}
                        on_confirm={on_approve_selected} on_close={close_dialog.clone()} />
                },
            } }
        </section>
    }
}
