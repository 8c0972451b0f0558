//! Duplicate review: the open pairs by score, and the focused one side by side with the
//! fields that differ marked. Pick the primary (1/2) and per-field values (a click on a
//! cell), preview the merge (p), then merge (m, after a confirmation), not a duplicate (n)
//! or ignore (i); j/k move between pairs. A decided pair leaves at once.

use serde_json::Value;
use uuid::Uuid;
use yew::prelude::*;

use super::review_state::{compared, winner, ReviewAction, ReviewState};
use crate::api::contacts::consistency;
use crate::api::hygiene::PairSummary;
use crate::api::{self, ApiError};
use crate::components::contacts::{at, items, name, page, percent, str_at, text, FIELDS};
use crate::components::modal::{confirm_dialog, ConfirmProps};
use crate::components::status::{empty, error_view, skeleton, Load};
use crate::hooks::{use_dialog, use_query, Refresh};
use crate::infra::keys::{on_shortcut, Shortcut};
use crate::routes::{link, Route};

#[derive(Properties, PartialEq)]
pub struct DuplicatesProps {
    /// The pair to open on (`/hygiene/duplicates/{id}`).
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// What the pane's buttons and keys do to the focused pair.
#[derive(Clone, Copy, PartialEq)]
enum Act {
    Preview,
    Merge,
    NotDuplicate,
    Ignore,
}

const ACTIONS: &[(Act, &str)] = &[
    (Act::Preview, "Preview (p)"),
    (Act::Merge, "Merge… (m)"),
    (Act::NotDuplicate, "Not a duplicate (n)"),
    (Act::Ignore, "Ignore (i)"),
];

#[derive(Clone, Debug, PartialEq)]
enum Notice {
    Done(&'static str, Option<Uuid>),
    Failed(ApiError),
}

/// A field's label: the named ones', else its key (`custom.plan`).
fn label(key: &str) -> String {
    FIELDS
        .iter()
        .find(|(_, k)| *k == key)
        .map_or(key, |(l, _)| l)
        .to_string()
}

fn record_id(record: &Value) -> Option<Uuid> {
    Uuid::parse_str(str_at(record, "id")?).ok()
}

/// The open pairs with, for the focused one, its detail (`None` until read or when none is
/// focused), read in one query: the list, then the pair the list focuses.
#[hook]
pub fn use_duplicates_page(props: &DuplicatesProps) -> Html {
    let wanted = props.id.as_ref().and_then(|id| Uuid::parse_str(id).ok());
    let state = use_reducer(move || ReviewState::new(wanted));
    let dialog = use_dialog::<Uuid>();
    let notice = use_state(|| None::<Notice>);
    let busy = use_state(bool::default);

    let list = use_query(Refresh::never(), (), {
        let state = state.dispatcher();
        move |_, consistency| {
            let state = state.clone();
            async move {
                let list = api::hygiene::duplicates(consistency.as_deref()).await?;
                let pairs = items(&list).iter().filter_map(PairSummary::read).collect();
                state.dispatch(ReviewAction::Loaded(pairs));
                Ok(at(&list, "total").clone())
            }
        }
    });
    let focused = state.focused().map(|p| p.id.to_string());
    let detail = use_query(Refresh::never(), focused.clone(), |id, consistency| {
        let id = id.clone();
        async move {
            match id {
                Some(id) => api::hygiene::duplicate(&id, consistency.as_deref()).await,
                None => Ok(Value::Null),
            }
        }
    });
    let ready: Option<Value> = match &*detail {
        Load::Ready(d) if str_at(d, "pair.id").map(str::to_string) == focused => Some(d.clone()),
        _ => None,
    };

    // Preview (the dry run of the request as it stands), not a duplicate, ignore (the pair
    // leaves at once); Merge opens the confirmation.
    let act = {
        let (state, notice, busy, list, dialog) = (
            state.clone(),
            notice.clone(),
            busy.clone(),
            list.clone(),
            dialog.clone(),
        );
        Callback::from(move |act: Act| {
            let Some(pair) = state.focused() else {
                return;
            };
            let id = pair.id;
            if act == Act::Merge {
                dialog.show(id);
                return;
            }
            let request = state.merge_request(true);
            let (dispatch, notice, busy, list) = (
                state.dispatcher(),
                notice.clone(),
                busy.clone(),
                list.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let key = id.to_string();
                let answer = match (act, request.clone()) {
                    (Act::Preview, Some(request)) => api::hygiene::merge(&key, request).await,
                    (act, _) => api::hygiene::decide(&key, act == Act::Ignore).await,
                };
                busy.set(false);
                match (answer, request) {
                    (Ok(answer), Some(request)) if act == Act::Preview => {
                        dispatch.dispatch(ReviewAction::Previewed {
                            request,
                            fields: at(&answer, "merged").clone(),
                        })
                    }
                    (Ok(written), _) => {
                        dispatch.dispatch(ReviewAction::Decided(id));
                        notice.set(Some(Notice::Done(
                            if act == Act::Ignore {
                                "Ignored the pair."
                            } else {
                                "Marked not a duplicate; it will not be proposed again unless one of the records changes."
                            },
                            None,
                        )));
                        if let Some(token) = consistency(&written) {
                            list.read_after(token);
                        }
                    }
                    (Err(error), _) => notice.set(Some(Notice::Failed(error))),
                }
            });
        })
    };
    let on_merge = {
        let (state, dialog, notice, list) =
            (state.clone(), dialog.clone(), notice.clone(), list.clone());
        Callback::from(move |_| {
            let (Some(&id), Some(request)) = (dialog.shown(), state.merge_request(false)) else {
                return;
            };
            let primary = state.primary_id();
            let (dispatch, notice, list) = (state.dispatcher(), notice.clone(), list.clone());
            dialog.run(
                async move { api::hygiene::merge(&id.to_string(), request).await },
                move |merged| {
                    dispatch.dispatch(ReviewAction::Decided(id));
                    notice.set(Some(Notice::Done("Merged.", primary)));
                    if let Some(token) = consistency(&merged) {
                        list.read_after(token);
                    }
                },
            );
        })
    };

    // Keyboard: j/k, 1/2, p, m, n, i.
    {
        let (state, act) = (state.clone(), act.clone());
        let open = dialog.shown().is_some();
        let (loaded, working) = (ready.is_some(), *busy);
        use_effect_with((state.clone(), open, loaded, working), move |_| {
            let listener = on_shortcut(move |shortcut| {
                if open {
                    return false;
                }
                let ready = loaded && !working;
                match shortcut {
                    Shortcut::Next => state.dispatch(ReviewAction::Next),
                    Shortcut::Previous => state.dispatch(ReviewAction::Previous),
                    Shortcut::First => state.dispatch(ReviewAction::PrimaryNumber(1)),
                    Shortcut::Second => state.dispatch(ReviewAction::PrimaryNumber(2)),
                    Shortcut::Preview if ready => act.emit(Act::Preview),
                    Shortcut::Merge if ready => act.emit(Act::Merge),
                    Shortcut::NotDuplicate if ready => act.emit(Act::NotDuplicate),
                    Shortcut::Ignore if ready => act.emit(Act::Ignore),
                    _ => return false,
                }
                true
            });
            move || drop(listener)
        });
    }

    let pairs = if let (Load::Failed(error), false) = (&*list, state.loaded) {
        error_view(error, Some(&list.reload))
    } else if !state.loaded {
        skeleton(4)
    } else if state.pairs.is_empty() {
        empty(
            "No open duplicate pairs.",
            html! { <p class="muted">{ "DuplicateWatcher proposes pairs here when it finds records that look like one person." }</p> },
        )
    } else {
        html! {
            <ol class="cards pairs" aria-label="Open duplicate pairs, highest score first">
                { for state.pairs.iter().enumerate().map(|(index, pair)| {
                    let focus = { let s = state.dispatcher(); Callback::from(move |_| s.dispatch(ReviewAction::Focus(index))) };
                    let current = index == state.cursor;
                    html! {
                        <li key={pair.id.to_string()} class={classes!("card", current.then_some("focused"))}>
                            <button type="button" class="pair-hit" aria-current={current.then_some("true")} onclick={focus}>
                                <strong>{ format!("{} and {}", pair.a.label, pair.b.label) }</strong>
                                <span class="muted">{ format!(" · {} match: {}", percent(pair.score), pair.reasons.join("; ")) }</span>
                            </button>
                        </li>
                    }
                }) }
            </ol>
        }
    };

    let pane = match (state.focused(), &*detail, &ready) {
        (None, _, _) => html! {},
        (Some(_), Load::Failed(error), _) => error_view(error, Some(&detail.reload)),
        (Some(_), _, None) => skeleton(6),
        (Some(_), _, Some(found)) => comparison(&state, found, *busy, &act),
    };

    let confirm = match (dialog.shown(), &ready) {
        (Some(_), Some(found)) => {
            let crm = ["a", "b"]
                .iter()
                .any(|k| str_at(found, &format!("{k}.fields.crm_id")).is_some());
            let message = format!(
                "The other record is merged into the primary with the values chosen; it stays in CaseyOS, marked merged, and the merge can be undone from its page. {}",
                if crm { "These records have CRM ids: the merge is pushed to HubSpot, where merges are permanent (HubSpot cannot undo them)." } else { str_at(found, "crm_note").unwrap_or_default() }
            );
            confirm_dialog(&yew::props!(ConfirmProps {
                title: "Merge these two records?",
                message,
                confirm: "Merge",
                busy: dialog.busy(),
                error: dialog.error(),
                on_confirm: on_merge,
                on_close: dialog.close(),
            }))
        }
        _ => html! {},
    };

    let total = match &*list {
        Load::Ready(total) => format!("{} open pairs. ", text(total)),
        _ => String::new(),
    };
    page(
        "dupes-title",
        "Duplicates",
        html! { { total } },
        html! {
            <>
                <p class="hint">{ "Keys: j/k pair · 1/2 primary · p preview · m merge · n not a duplicate · i ignore. Click a value to keep it." }</p>
                { match &*notice {
                    None => html! {},
                    Some(Notice::Done(text, primary)) => html! {
                        <p class="notice" role="status">{ *text }
                            if let Some(primary) = primary {
                                { " " }{ link(Route::Contact { id: primary.to_string() }, html! { "Open the merged contact" }) }
                            }
                        </p>
                    },
                    Some(Notice::Failed(error)) => error_view(error, None),
                } }
                <div class="review">
                    <div class="review-list">{ pairs }</div>
                    <div class="review-pane" aria-live="polite">{ pane }</div>
                </div>
                { confirm }
            </>
        },
    )
}

/// The focused pair side by side: each record with its primary button, each field with both values (the
/// differing ones marked; a click takes a value), the merged preview, and the actions.
fn comparison(
    state: &UseReducerHandle<ReviewState>,
    found: &Value,
    busy: bool,
    act: &Callback<Act>,
) -> Html {
    let (a, b) = (at(found, "a"), at(found, "b"));
    let (Some(a_id), Some(b_id)) = (record_id(a), record_id(b)) else {
        return html! { <p>{ "One of the two records no longer exists; the next DuplicateWatcher run closes this pair." }</p> };
    };
    let (af, bf) = (at(a, "fields"), at(b, "fields"));
    let primary = state.primary_id().unwrap_or(a_id);
    let (p, o) = if primary == b_id {
        ((b_id, bf), (a_id, af))
    } else {
        ((a_id, af), (b_id, bf))
    };
    let merged = state.current_preview();
    let records = [(1, a_id, a), (2, b_id, b)];
    let cell = |key: &str, id: Uuid, fields: &Value| {
        let kept = winner(key, state.choice(key), p, o) == id;
        let take = {
            let (s, field) = (state.dispatcher(), key.to_string());
            Callback::from(move |_: MouseEvent| {
                s.dispatch(ReviewAction::Take {
                    field: field.clone(),
                    contact: id,
                })
            })
        };
        html! {
            <td class={classes!(kept.then_some("kept"))}>
                <button type="button" class="cell" aria-pressed={kept.to_string()} onclick={take}>
                    { text(at(fields, key)) }
                </button>
            </td>
        }
    };
    let crm_note = str_at(found, "crm_note").unwrap_or_default();
    html! {
        <div class="comparison">
            <p>
                <strong>{ percent(at(found, "pair.finding.score").as_f64().unwrap_or(0.0)) }</strong>{ " match" }
                if !crm_note.is_empty() { <span class="muted">{ format!(" · {crm_note}") }</span> }
            </p>
            <div class="table-wrap" tabindex="0" role="region" aria-label="The two records side by side">
                <table class="data compare">
                    <thead>
                        <tr>
                            <th scope="col">{ "Field" }</th>
                            { for records.iter().map(|(n, id, record)| {
                                let (s, id) = (state.dispatcher(), *id);
                                html! {
                                    <th scope="col">
                                        <button type="button" class="button" aria-pressed={(primary == id).to_string()} onclick={Callback::from(move |_: MouseEvent| s.dispatch(ReviewAction::Primary(id)))}>{ format!("Primary ({n})") }</button>
                                        { " " }{ link(Route::Contact { id: id.to_string() }, html! { { name(at(record, "fields")) } }) }
                                    </th>
                                }
                            }) }
                            <th scope="col">{ "Merged (preview)" }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for compared(af, bf).into_iter().map(|(key, differs)| html! {
                            <tr class={classes!(differs.then_some("differs"))}>
                                <th scope="row">
                                    { label(&key) }
                                    if differs { <span class="chip">{ "differs" }</span> }
                                </th>
                                { for [(a_id, af), (b_id, bf)].into_iter().map(|(id, fields)| cell(&key, id, fields)) }
                                <td>{ merged.map(|m| text(at(m, &key))).unwrap_or_default() }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            <p class="muted">{ "Highlighted values are kept; emails and phones of both are kept." }</p>
            <div class="actions">
                { for ACTIONS.iter().map(|(what, label)| {
                    let what = *what;
                    html! { <button type="button" class="button" disabled={busy} onclick={act.reform(move |_| what)}>{ *label }</button> }
                }) }
            </div>
        </div>
    }
}
