//! Today's Moves: the ranked list, decided one by one with the mouse or the keyboard, or in
//! bulk. A decided move leaves at once and never reappears from an older read.

use std::future::Future;

use crate::components::modal::{Hooked, HookedView};
use crate::components::queue::dialogs::{EditProps, RejectProps, SnoozeProps};
use caseyos_domain::api::{EditQueueItemRequest, SnoozeQueueItemRequest};
use caseyos_domain::queue::QueueItemView;
use futures::future::LocalBoxFuture;
use uuid::Uuid;
use yew::prelude::*;

use super::today_state::{TodayAction, TodayState};
use crate::api::{self, ApiError};
use crate::components::modal::{confirm_dialog, ConfirmProps};
use crate::components::queue::load_more::{load_more, LoadMoreProps};
use crate::components::queue::queue_card::{queue_card, QueueCardProps};
use crate::components::status::{empty, error_view, skeleton, Load};
use crate::hooks::{use_dialog, use_query, DialogHandle, Refresh};
use crate::infra::app_state::use_app;
use crate::infra::format::{now, relative};
use crate::infra::keys::{on_shortcut, Shortcut};
use crate::infra::live::Feed;
use crate::routes::{push, Route};

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

/// After a bulk decision (its `BulkDecisionResponse` read as JSON): the decided moves leave,
/// the refused ones get their buttons back, and the notice says how it went (`verb` is
/// "Approved" or "Rejected").
fn bulk_done(
    verb: &str,
    ids: &[Uuid],
    response: serde_json::Value,
    state: &UseReducerDispatcher<TodayState>,
    notice: &UseStateHandle<Option<Notice>>,
    left: &Callback<(Vec<Uuid>, String)>,
) {
    let results = crate::components::contacts::items(&response["results"]);
    let done: Vec<Uuid> = results
        .iter()
        .filter(|r| r["ok"].as_bool() == Some(true))
        .filter_map(|r| r["id"].as_str()?.parse().ok())
        .collect();
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| r["error"]["message"].as_str().map(str::to_string))
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
    if let Some(consistency) = response["consistency"].as_str() {
        left.emit((done, consistency.to_string()));
    }
}

/// Runs a dialog's decision on `ids`: their buttons are busy until it answers, and come back
/// if it fails.
fn decide<T: 'static>(
    dialog: &DialogHandle<Dialog>,
    state: &UseReducerDispatcher<TodayState>,
    ids: Vec<Uuid>,
    request: impl Future<Output = Result<T, ApiError>> + 'static,
    done: impl FnOnce(T) + 'static,
) {
    decide_boxed(dialog, state, ids, Box::pin(request), Box::new(done));
}

/// [`decide`], one copy per answer type.
fn decide_boxed<T: 'static>(
    dialog: &DialogHandle<Dialog>,
    state: &UseReducerDispatcher<TodayState>,
    ids: Vec<Uuid>,
    request: LocalBoxFuture<'static, Result<T, ApiError>>,
    done: Box<dyn FnOnce(T)>,
) {
    state.dispatch(TodayAction::Started(ids.clone()));
    let state = state.clone();
    dialog.run(
        async move {
            let result = request.await;
            if result.is_err() {
                state.dispatch(TodayAction::Failed(ids));
            }
            result
        },
        done,
    );
}

#[hook]
pub fn use_today_page() -> Html {
    let app = use_app();
    let state = use_reducer(TodayState::default);
    let dialog = use_dialog::<Dialog>();
    let notice = use_state(|| None::<Notice>);
    let can_decide = app.session().is_some_and(|s| s.can_decide());

    // First load, again whenever the server says the queue moved, after each write here and
    // after "Load more". Every read reads all the pages shown, so the list stays in rank order
    // and live. The list lives in the page's state, which keeps decided moves from coming back.
    let today = use_query(Refresh::on(Feed::Queue), state.pages(), {
        let state = state.dispatcher();
        move |pages: &usize, consistency: Option<String>| {
            let (state, pages) = (state.clone(), *pages);
            async move {
                let (items, total) = api::queue::today_pages(pages, consistency.as_deref()).await?;
                state.dispatch(TodayAction::Loaded {
                    items,
                    consistency,
                    total,
                    pages,
                });
                Ok(())
            }
        }
    });
    let on_load_more = {
        let state = state.dispatcher();
        Callback::from(move |_| state.dispatch(TodayAction::LoadMore))
    };

    // A write left `ids` at `consistency`: drop them now, then read at least that far.
    let left = {
        let (state, today) = (state.dispatcher(), today.clone());
        Callback::from(move |(ids, consistency): (Vec<Uuid>, String)| {
            state.dispatch(TodayAction::Left {
                ids,
                consistency: consistency.clone(),
            });
            today.read_after(consistency);
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
                match api::queue::approve(item.id, None).await {
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

    let on_reject = {
        let (dialog, left, notice, state) = (
            dialog.clone(),
            left.clone(),
            notice.clone(),
            state.dispatcher(),
        );
        Callback::from(move |reason: String| {
            let Some(Dialog::Reject(ids)) = dialog.shown().cloned() else {
                return;
            };
            let (left, notice) = (left.clone(), notice.clone());
            if let [id] = ids.as_slice() {
                let id = *id;
                decide(
                    &dialog,
                    &state,
                    ids,
                    api::queue::reject(id, reason),
                    move |response| {
                        notice.set(Some(Notice::Done(format!(
                            "Rejected “{}”",
                            response.item.title
                        ))));
                        left.emit((vec![id], response.consistency));
                    },
                );
            } else {
                let done = {
                    let (ids, state) = (ids.clone(), state.clone());
                    move |response| bulk_done("Rejected", &ids, response, &state, &notice, &left)
                };
                decide(
                    &dialog,
                    &state,
                    ids.clone(),
                    api::queue::bulk_reject(ids, reason),
                    done,
                );
            }
        })
    };

    let on_snooze = {
        let (dialog, left, notice) = (dialog.clone(), left.clone(), notice.clone());
        Callback::from(move |request: SnoozeQueueItemRequest| {
            let Some(Dialog::Snooze(id)) = dialog.shown().cloned() else {
                return;
            };
            let (left, notice) = (left.clone(), notice.clone());
            dialog.run(
                async move { api::queue::snooze(id, &request).await },
                move |response| {
                    let until = response
                        .item
                        .snoozed_until
                        .map(|u| relative(now(), u))
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
        let (dialog, today, notice) = (dialog.clone(), today.clone(), notice.clone());
        Callback::from(move |request: EditQueueItemRequest| {
            let Some(Dialog::Edit(item)) = dialog.shown().cloned() else {
                return;
            };
            let (today, notice) = (today.clone(), notice.clone());
            dialog.run(
                async move { api::queue::edit(item.id, &request).await },
                move |response| {
                    notice.set(Some(Notice::Done(format!(
                        "Saved “{}”",
                        response.item.title
                    ))));
                    today.read_after(response.consistency);
                },
            );
        })
    };

    let on_approve_selected = {
        let (dialog, left, notice, state) = (
            dialog.clone(),
            left.clone(),
            notice.clone(),
            state.dispatcher(),
        );
        Callback::from(move |_| {
            let Some(Dialog::ApproveSelected(ids)) = dialog.shown().cloned() else {
                return;
            };
            let done = {
                let (ids, state, notice, left) =
                    (ids.clone(), state.clone(), notice.clone(), left.clone());
                move |response| bulk_done("Approved", &ids, response, &state, &notice, &left)
            };
            decide(
                &dialog,
                &state,
                ids.clone(),
                api::queue::bulk_approve(ids),
                done,
            );
        })
    };

    // Keyboard: j/k move, a/r/s/e act on the focused move, x selects, o opens.
    {
        let state = state.clone();
        let dialog = dialog.clone();
        let approve = approve.clone();
        let open = dialog.shown().is_some();
        use_effect_with((state.clone(), open, can_decide), move |_| {
            let listener = on_shortcut(move |action| {
                if open {
                    return false;
                }
                let focused = state.focused().cloned();
                let busy = focused
                    .as_ref()
                    .is_some_and(|f| state.in_flight.contains(&f.id));
                match (action, focused) {
                    (Shortcut::Next, _) => {
                        state.dispatch(TodayAction::Next);
                        true
                    }
                    (Shortcut::Previous, _) => {
                        state.dispatch(TodayAction::Previous);
                        true
                    }
                    (Shortcut::Open, Some(item)) => {
                        push(
                            &Route::Item {
                                id: item.id.to_string(),
                            },
                            "",
                        );
                        true
                    }
                    (_, Some(_)) if !can_decide || busy => false,
                    (Shortcut::Approve, Some(item)) => {
                        approve.emit(item);
                        true
                    }
                    (Shortcut::Reject, Some(item)) => {
                        dialog.show(Dialog::Reject(vec![item.id]));
                        true
                    }
                    (Shortcut::Snooze, Some(item)) => {
                        dialog.show(Dialog::Snooze(item.id));
                        true
                    }
                    (Shortcut::Edit, Some(item)) => {
                        dialog.show(Dialog::Edit(Box::new(item)));
                        true
                    }
                    (Shortcut::ToggleSelect, Some(item)) => {
                        state.dispatch(TodayAction::ToggleSelect(item.id));
                        true
                    }
                    _ => false,
                }
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
    let list = if let (Load::Failed(error), false) = (&*today, state.loaded) {
        error_view(error, Some(&today.reload))
    } else if !state.loaded {
        skeleton(4)
    } else if state.items.is_empty() {
        empty(
            "Nothing is waiting for you.",
            html! { <p class="muted">{ "New moves appear here as agents and signals propose them." }</p> },
        )
    } else {
        html! {
            <ol class="cards" aria-label="Today's moves, highest priority first">
                { for state.items.iter().enumerate().map(|(index, item)| {
                    let focus = { let s = state.dispatcher(); Callback::from(move |_| s.dispatch(TodayAction::Focus(index))) };
                    let select = { let s = state.dispatcher(); let id = item.id; Callback::from(move |_| s.dispatch(TodayAction::ToggleSelect(id))) };
                    let on_approve = { let a = approve.clone(); let i = item.clone(); Callback::from(move |_| a.emit(i.clone())) };
                    let on_reject = dialog.opener(Dialog::Reject(vec![item.id]));
                    let on_snooze = dialog.opener(Dialog::Snooze(item.id));
                    let on_edit = dialog.opener(Dialog::Edit(Box::new(item.clone())));
                    html! {
                        { queue_card(&yew::props!(QueueCardProps { item: item.clone(), focused: index == state.cursor, selected: state.selected.contains(&item.id), busy: state.in_flight.contains(&item.id), can_decide, on_focus: focus, on_select: select, on_approve, on_reject, on_snooze, on_edit })) }
                    }
                }) }
            </ol>
        }
    };

    let more = html! {
        { load_more(&yew::props!(LoadMoreProps { more: state.more(), busy: state.loading_more, on_load: on_load_more })) }
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
                    Notice::Failed(error) => error_view(&error, None),
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
                            onclick={dialog.opener(Dialog::ApproveSelected(selected.clone()))}>
                        { "Approve selected" }
                    </button>
                    <button class="button danger" disabled={selected.is_empty()}
                            onclick={dialog.opener(Dialog::Reject(selected.clone()))}>
                        { "Reject selected" }
                    </button>
                </div>
            }
            { list }
            if state.loaded {
                { more }
            }
            { match dialog.shown().cloned() {
                None => html! {},
                Some(Dialog::Reject(ids)) => html! {
                    <HookedView key="reject" view={Hooked::Reject(RejectProps { count: ids.len(), busy: dialog.busy(), error: dialog.error(),
                        on_submit: on_reject, on_close: dialog.close() })} />
                },
                Some(Dialog::Snooze(_)) => html! {
                    <HookedView key="snooze" view={Hooked::Snooze(SnoozeProps { busy: dialog.busy(), error: dialog.error(), on_submit: on_snooze, on_close: dialog.close() })} />
                },
                Some(Dialog::Edit(item)) => html! {
                    <HookedView key="edit" view={Hooked::Edit(Box::new(EditProps { item: *item, busy: dialog.busy(), error: dialog.error(), on_submit: on_edit, on_close: dialog.close() }))} />
                },
                Some(Dialog::ApproveSelected(ids)) => html! {
                    { confirm_dialog(&yew::props!(ConfirmProps { title: "Approve the selected moves?", message: format!("{} moves will be approved. Decisions are final.", ids.len()), confirm: format!("Approve {}", ids.len()), busy: dialog.busy(), on_confirm: on_approve_selected, on_close: dialog.close() })) }
                },
            } }
        </section>
    }
}
