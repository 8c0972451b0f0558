//! Duplicate review: the open pairs by score, and the focused one side by side with the
//! fields that differ marked. Pick the primary (1/2) and per-field values (a click on a
//! cell), preview the merge (p), then merge (m, after a confirmation), not a duplicate (n)
//! or ignore (i); j/k move between pairs. A decided pair leaves at once.

use caseyos_domain::contacts::{ContactField, ContactView};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use super::review_state::{compared, winner, ReviewAction, ReviewState};
use crate::api::hygiene::PairDetail;
use crate::api::{self, ApiError};
use crate::components::contacts::{chips, label, name, percent, value};
use crate::components::modal::{confirm_dialog, ConfirmProps};
use crate::components::status::{empty, error_view, skeleton, Load};
use crate::hooks::{use_dialog, use_query, Refresh};
use crate::infra::keys::{on_shortcut, Shortcut};
use crate::routes::Route;

#[derive(Properties, PartialEq)]
pub struct DuplicatesProps {
    /// The pair to open on (`/hygiene/duplicates/{id}`).
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

#[derive(Clone, Debug, PartialEq)]
enum Notice {
    Done(String, Option<Uuid>),
    Failed(ApiError),
}

/// The keys this page answers, shown above the list.
fn keys_hint() -> Html {
    let key =
        |k: &str, what: &str| html! { <><kbd>{ k.to_string() }</kbd>{ format!(" {what} · ") }</> };
    html! {
        <p class="hint">
            { key("j/k", "next/previous pair") }{ key("1/2", "primary") }{ key("p", "preview") }
            { key("m", "merge") }{ key("n", "not a duplicate") }<kbd>{ "i" }</kbd>{ " ignore. Click a value to keep it." }
        </p>
    }
}

/// A record's heading in the comparison: its number, name and chips, and a link to it.
fn record_head(n: usize, contact: &ContactView) -> Html {
    html! {
        <>
            { format!("{n}: ") }
            <Link<Route> to={Route::Contact { id: contact.id.to_string() }}>{ name(&contact.fields) }</Link<Route>>
            { chips(contact.status, contact.demo) }
        </>
    }
}

#[component]
pub fn DuplicatesPage(props: &DuplicatesProps) -> Html {
    let wanted = props.id.as_ref().and_then(|id| Uuid::parse_str(id).ok());
    let state = use_reducer(move || ReviewState::new(wanted));
    let dialog = use_dialog::<Uuid>();
    let notice = use_state(|| None::<Notice>);
    let busy = use_state(|| false);

    let list = use_query(Refresh::never(), (), {
        let state = state.dispatcher();
        move |_, consistency| {
            let state = state.clone();
            async move {
                let list = api::hygiene::duplicates("", consistency.as_deref()).await?;
                let total = list.total;
                state.dispatch(ReviewAction::Loaded(list.items));
                Ok(total)
            }
        }
    });
    let focused = state.focused().map(|p| p.id.to_string());
    let detail = use_query(Refresh::never(), focused.clone(), |id, consistency| {
        let id = id.clone();
        async move {
            match id {
                Some(id) => api::hygiene::duplicate(&id, consistency.as_deref())
                    .await
                    .map(Some),
                None => Ok(None),
            }
        }
    });
    let ready: Option<PairDetail> = match &*detail {
        Load::Ready(Some(d)) if Some(d.pair.id.to_string()) == focused => Some(d.clone()),
        _ => None,
    };

    // Preview: the dry run of the request as it stands.
    let preview = {
        let (state, notice, busy) = (state.clone(), notice.clone(), busy.clone());
        Callback::from(move |_: ()| {
            let (Some(pair), Some(request)) = (state.focused(), state.merge_request(true)) else {
                return;
            };
            let (id, dispatch) = (pair.id.to_string(), state.dispatcher());
            let (notice, busy) = (notice.clone(), busy.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let answer = api::hygiene::merge(&id, request.clone()).await;
                busy.set(false);
                match answer {
                    Ok(answer) => dispatch.dispatch(ReviewAction::Previewed {
                        request,
                        fields: answer.merged,
                    }),
                    Err(error) => notice.set(Some(Notice::Failed(error))),
                }
            });
        })
    };
    // Not a duplicate, ignore: the pair leaves at once.
    let decide = {
        let (state, notice, busy, list) =
            (state.clone(), notice.clone(), busy.clone(), list.clone());
        Callback::from(move |ignore: bool| {
            let Some(pair) = state.focused() else {
                return;
            };
            let (id, dispatch) = (pair.id, state.dispatcher());
            let (notice, busy, list) = (notice.clone(), busy.clone(), list.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let key = id.to_string();
                let answer = if ignore {
                    api::hygiene::ignore(&key).await
                } else {
                    api::hygiene::not_duplicate(&key).await
                };
                busy.set(false);
                match answer {
                    Ok(written) => {
                        dispatch.dispatch(ReviewAction::Decided(id));
                        let what = if ignore {
                            "Ignored the pair."
                        } else {
                            "Marked not a duplicate; it will not be proposed again unless one of the records changes."
                        };
                        notice.set(Some(Notice::Done(what.into(), None)));
                        if let Some(token) = written.consistency {
                            list.read_after(token);
                        }
                    }
                    Err(error) => notice.set(Some(Notice::Failed(error))),
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
                    notice.set(Some(Notice::Done("Merged.".into(), primary)));
                    if let Some(token) = merged.consistency {
                        list.read_after(token);
                    }
                },
            );
        })
    };

    // Keyboard: j/k, 1/2, p, m, n, i.
    {
        let (state, dialog, preview, decide) = (
            state.clone(),
            dialog.clone(),
            preview.clone(),
            decide.clone(),
        );
        let open = dialog.shown().is_some();
        let (loaded, working) = (ready.is_some(), *busy);
        use_effect_with((state.clone(), open, loaded, working), move |_| {
            let listener = on_shortcut(move |shortcut| {
                if open {
                    return false;
                }
                let pair = state.focused().map(|p| p.id);
                let ready = loaded && !working && pair.is_some();
                match shortcut {
                    Shortcut::Next => state.dispatch(ReviewAction::Next),
                    Shortcut::Previous => state.dispatch(ReviewAction::Previous),
                    Shortcut::First => state.dispatch(ReviewAction::PrimaryNumber(1)),
                    Shortcut::Second => state.dispatch(ReviewAction::PrimaryNumber(2)),
                    Shortcut::Preview if ready => preview.emit(()),
                    Shortcut::Merge if ready => dialog.show(pair.unwrap_or_default()),
                    Shortcut::NotDuplicate if ready => decide.emit(false),
                    Shortcut::Ignore if ready => decide.emit(true),
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
                    let reasons: Vec<&str> = pair.reasons.iter().map(|r| r.detail.as_str()).collect();
                    html! {
                        <li key={pair.id.to_string()} class={classes!("card", current.then_some("focused"))}>
                            <button type="button" class="pair-hit" aria-current={current.then_some("true")} onclick={focus}>
                                <strong>{ format!("{} and {}", pair.a.label(), pair.b.label()) }</strong>
                                <span class="muted">{ format!(" · {} match: {}", percent(pair.score), reasons.join("; ")) }</span>
                            </button>
                        </li>
                    }
                }) }
            </ol>
        }
    };

    let pane = match (state.focused(), &*detail) {
        (None, _) => html! {},
        (Some(_), Load::Failed(error)) => error_view(error, Some(&detail.reload)),
        (Some(_), _) => match &ready {
            None => skeleton(6),
            Some(found) => comparison(
                &state,
                found,
                *busy,
                &preview,
                &decide,
                &dialog.opener(found.pair.id),
            ),
        },
    };

    let confirm = match (dialog.shown(), &ready) {
        (Some(_), Some(found)) => {
            let crm = [&found.a, &found.b]
                .iter()
                .any(|c| c.as_ref().is_some_and(|c| c.fields.crm_id.is_some()));
            let message = format!(
                "The other record is merged into the primary with the values chosen; it stays in CaseyOS, marked merged, and the merge can be undone from its page. {}",
                if crm { "These records have CRM ids: the merge is pushed to HubSpot, where merges are permanent (HubSpot cannot undo them)." } else { found.crm_note.as_str() }
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
        Load::Ready(total) => format!("{total} open pairs."),
        _ => String::new(),
    };
    html! {
        <section class="page wide" aria-labelledby="dupes-title">
            <header class="page-header">
                <h1 id="dupes-title">{ "Duplicates" }</h1>
                <p class="muted">{ total }{ " " }<Link<Route> to={Route::Hygiene}>{ "Data hygiene" }</Link<Route>></p>
                { keys_hint() }
            </header>
            { match &*notice {
                None => html! {},
                Some(Notice::Done(text, primary)) => html! {
                    <p class="notice" role="status">{ text.clone() }
                        if let Some(primary) = primary {
                            { " " }<Link<Route> to={Route::Contact { id: primary.to_string() }}>{ "Open the merged contact" }</Link<Route>>
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
        </section>
    }
}

/// The focused pair side by side: the primary's radios, each field with both values (the
/// differing ones marked; a click takes a value), the merged preview, and the actions.
fn comparison(
    state: &UseReducerHandle<ReviewState>,
    found: &PairDetail,
    busy: bool,
    preview: &Callback<()>,
    decide: &Callback<bool>,
    merge: &Callback<MouseEvent>,
) -> Html {
    let (Some(a), Some(b)) = (&found.a, &found.b) else {
        return html! { <p>{ "One of the two records no longer exists; the next DuplicateWatcher run closes this pair." }</p> };
    };
    let primary = state.primary_id().unwrap_or(a.id);
    let (p, o) = if primary == b.id { (b, a) } else { (a, b) };
    let merged = state.current_preview();
    let pick = |contact: Uuid| {
        let s = state.dispatcher();
        Callback::from(move |_: Event| s.dispatch(ReviewAction::Primary(contact)))
    };
    let radio = |n: usize, contact: &ContactView| {
        html! {
            <label class="radio">
                <input type="radio" name="primary" checked={primary == contact.id} onchange={pick(contact.id)} />
                { format!("{n}: {}", name(&contact.fields)) }
            </label>
        }
    };
    let cell = |field: &ContactField, contact: &ContactView| {
        let kept = winner(
            field,
            state.choice(&field.to_string()),
            (p.id, &p.fields),
            (o.id, &o.fields),
        ) == contact.id;
        let take = {
            let (s, field, id) = (state.dispatcher(), field.to_string(), contact.id);
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
                    { value(field, &contact.fields) }
                </button>
            </td>
        }
    };
    html! {
        <div class="comparison">
            <p>
                <strong>{ percent(found.pair.finding.score) }</strong>{ " match" }
                if !found.crm_note.is_empty() { <span class="muted">{ format!(" · {}", found.crm_note) }</span> }
            </p>
            <ul class="reasons">
                { for found.pair.finding.reasons.iter().map(|r| html! { <li><code>{ &r.code }</code>{ " " }{ &r.detail }</li> }) }
            </ul>
            <fieldset class="primary-pick">
                <legend>{ "Primary record (keys 1 and 2)" }</legend>
                { radio(1, a) }{ radio(2, b) }
            </fieldset>
            <div class="table-wrap" tabindex="0" role="region" aria-label="The two records side by side">
                <table class="data compare">
                    <thead>
                        <tr>
                            <th scope="col">{ "Field" }</th>
                            <th scope="col">{ record_head(1, a) }</th>
                            <th scope="col">{ record_head(2, b) }</th>
                            <th scope="col">{ "Merged (preview)" }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for compared(&a.fields, &b.fields).into_iter().map(|(field, differs)| html! {
                            <tr class={classes!(differs.then_some("differs"))}>
                                <th scope="row">
                                    { label(&field) }
                                    if differs { <span class="chip">{ "differs" }</span> }
                                </th>
                                { cell(&field, a) }
                                { cell(&field, b) }
                                <td>{ merged.map(|m| value(&field, m)).unwrap_or_default() }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            <p class="muted">{ "Highlighted values are kept: the primary's, unless empty or you click the other. Emails and phones of both are kept, the chosen side's first." }</p>
            <div class="actions">
                <button type="button" class="button" disabled={busy} onclick={preview.reform(|_| ())}>{ "Preview (p)" }</button>
                <button type="button" class="button primary" disabled={busy} onclick={merge.clone()}>{ "Merge… (m)" }</button>
                <button type="button" class="button" disabled={busy} onclick={decide.reform(|_| false)}>{ "Not a duplicate (n)" }</button>
                <button type="button" class="button" disabled={busy} onclick={decide.reform(|_| true)}>{ "Ignore (i)" }</button>
            </div>
        </div>
    }
}
