//! One agent run: who asked and when, its input, output and text, its error with Retry and
//! Dismiss (or Cancel while it runs), its attempts, language-model usage, the moves it
//! proposed, and its history. A run in progress is read again until it ends.

use std::cell::Cell;
use std::rc::Rc;

use caseyos_domain::agent_run::{AgentRunView, AttemptOutcome, RunStatus};
use caseyos_domain::api::{AgentRunResponse, AuditResponse};
use gloo_timers::callback::Interval;
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::app_state::use_app;
use crate::components::agent_card::POLL_MS;
use crate::components::audit_events::EventList;
use crate::components::dialogs::{CancelRunDialog, ConfirmDialog, DialogRunner};
use crate::components::run_status::RunStatusBadge;
use crate::components::status::{ErrorView, Load, Skeleton};
use crate::filters::{query_value, After, RunFilters};
use crate::format::{absolute, actor, duration, humanize, now, relative};
use crate::markdown::Markdown;
use crate::pages::agents::latest;
use crate::routes::Route;

#[derive(Properties, PartialEq)]
pub struct RunProps {
    pub id: AttrValue,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Dialog {
    Cancel,
    Dismiss,
}

fn field(label: &str, value: Html) -> Html {
    html! { <><dt>{ label }</dt><dd>{ value }</dd></> }
}

fn short(id: &Uuid) -> String {
    id.to_string().chars().take(8).collect()
}

fn run_link(id: &Uuid) -> Html {
    html! {
        <Link<Route> to={Route::Run { id: id.to_string() }}>{ format!("run {}", short(id)) }</Link<Route>>
    }
}

fn when(at: chrono::DateTime<chrono::Utc>) -> Html {
    html! { <time datetime={at.to_rfc3339()} title={absolute(at)}>{ relative(now(), at) }</time> }
}

fn pretty(value: &serde_json::Value) -> Html {
    html! {
        <pre class="json" tabindex="0">{ serde_json::to_string_pretty(value).unwrap_or_default() }</pre>
    }
}

fn outcome(outcome: AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::Running => "running",
        AttemptOutcome::Succeeded => "succeeded",
        AttemptOutcome::Failed => "failed",
        AttemptOutcome::TimedOut => "timed out",
        AttemptOutcome::Cancelled => "cancelled",
        AttemptOutcome::Abandoned => "abandoned (worker lost)",
    }
}

fn facts(run: &AgentRunView) -> Html {
    let agent_runs = RunFilters {
        agent: Some(run.agent.clone()),
        ..RunFilters::default()
    };
    html! {
        <dl class="fields">
            { field("Agent", html! {
                <Link<Route, RunFilters> to={Route::Runs} query={Some(agent_runs)}>
                    { &run.agent }<span class="visually-hidden">{ ": all its runs" }</span>
                </Link<Route, RunFilters>>
            }) }
            { field("Requested", html! { <>{ when(run.requested_at) }{ format!(" by {}", actor(&run.requested_by)) }</> }) }
            { for run.started_at.map(|at| field("Started", when(at))) }
            { for run.finished_at.map(|at| field("Finished", when(at))) }
            { field("Duration", html! { { run.duration_ms.map(duration).unwrap_or_else(|| "—".into()) } }) }
            { field("Attempts", html! { { format!("{} of at most {}", run.attempts.len(), run.max_attempts) } }) }
            { field("Time limit", html! { { format!("{} per attempt", duration(run.timeout_ms)) } }) }
            { for run.retry_of.map(|id| field("Retries", run_link(&id))) }
            if !run.retried_by.is_empty() {
                { field("Retried by", html! { <>{ for run.retried_by.iter().map(|id| html! { <>{ run_link(id) }{ " " }</> }) }</> }) }
            }
            if run.cancel_reason.is_some() || run.cancelled_by.is_some() {
                { field("Cancelled", html! { {
                    format!("{}{}",
                        run.cancelled_by.as_ref().map(|a| format!("by {}", actor(a))).unwrap_or_default(),
                        run.cancel_reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())
                } }) }
            }
            { for run.dismissed_at.map(|at| field("Dismissed", html! {
                <>{ when(at) }{ run.dismissed_by.as_ref().map(|a| format!(" by {}", actor(a))).unwrap_or_default() }</>
            })) }
            { field("Run id", html! { <code>{ run.id.to_string() }</code> }) }
        </dl>
    }
}

fn attempts(run: &AgentRunView) -> Html {
    if run.attempts.is_empty() {
        return html! { <p class="muted">{ "No worker has started it yet." }</p> };
    }
    html! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="Attempts table">
            <table class="data">
                <thead>
                    <tr>
                        <th scope="col">{ "Attempt" }</th>
                        <th scope="col">{ "Worker" }</th>
                        <th scope="col">{ "Started" }</th>
                        <th scope="col">{ "Duration" }</th>
                        <th scope="col">{ "Outcome" }</th>
                        <th scope="col">{ "Error" }</th>
                    </tr>
                </thead>
                <tbody>
                    { for run.attempts.iter().map(|a| html! {
                        <tr key={a.attempt}>
                            <td class="number">{ a.attempt }</td>
                            <td><code>{ &a.worker }</code></td>
                            <td>{ when(a.started_at) }</td>
                            <td>{ a.duration_ms.map(duration).unwrap_or_else(|| "—".into()) }</td>
                            <td>{ outcome(a.outcome) }</td>
                            <td>{ match &a.error {
                                Some(e) => html! { <><code>{ &e.code }</code>{ " " }{ &e.message }</> },
                                None => html! { "—" },
                            } }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

#[component]
pub fn RunPage(props: &RunProps) -> Html {
    let app = use_app();
    let navigator = use_navigator();
    let location = use_location();
    let run = use_state(|| Load::<AgentRunResponse>::Loading);
    let audit = use_state(|| Load::<AuditResponse>::Loading);
    let reload = use_state(|| 0u32);
    // The checkpoint of a write made here (or of the retry that opened this page).
    let after = use_state(|| {
        location
            .as_ref()
            .and_then(|l| query_value(l.query_str(), "after"))
    });
    let dialog = use_state(|| None::<Dialog>);
    let dialog_busy = use_state(|| false);
    let dialog_error = use_state(|| None::<ApiError>);
    let retrying = use_state(|| false);
    let notice = use_state(|| None::<ApiError>);
    let can_act = app.session().is_some_and(|s| s.can_decide());
    let consistency = latest(app.live.runs_consistency.clone(), (*after).clone());

    // The run, then its history whenever the run has moved on since the history was read.
    let fetch = {
        let (run, audit, app) = (run.clone(), audit.clone(), app.clone());
        move |id: String, consistency: Option<String>| {
            let (run, audit, app) = (run.clone(), audit.clone(), app.clone());
            async move {
                let found = match api::agent_run(&id, consistency.as_deref()).await {
                    Ok(found) => found,
                    Err(error) => {
                        app.check(&error);
                        run.set(Load::Failed(error));
                        return;
                    }
                };
                let version = found.run.version as i64;
                run.set(Load::Ready(found));
                if matches!(&*audit, Load::Ready(h) if h.sequence >= version) {
                    return;
                }
                match api::audit("agent_run", &id).await {
                    Ok(history) => audit.set(Load::Ready(history)),
                    Err(error) => {
                        app.check(&error);
                        audit.set(Load::Failed(error));
                    }
                }
            }
        }
    };

    {
        let fetch = fetch.clone();
        use_effect_with(
            (
                props.id.clone(),
                app.live.runs_tick,
                *reload,
                consistency.clone(),
            ),
            move |(id, _, _, consistency)| {
                wasm_bindgen_futures::spawn_local(fetch(id.to_string(), consistency.clone()));
            },
        );
    }

    // Read it again until it ends.
    {
        let following = match &*run {
            Load::Ready(found) if !found.run.status.is_finished() => {
                Some((props.id.clone(), found.consistency.clone()))
            }
            _ => None,
        };
        use_effect_with(following, move |following| {
            let alive = Rc::new(Cell::new(true));
            let poll = following.clone().map(|(id, consistency)| {
                let (alive, in_flight) = (alive.clone(), Rc::new(Cell::new(false)));
                Interval::new(POLL_MS, move || {
                    if in_flight.replace(true) || !alive.get() {
                        return;
                    }
                    let request = fetch(id.to_string(), Some(consistency.clone()));
                    let (alive, in_flight) = (alive.clone(), in_flight.clone());
                    wasm_bindgen_futures::spawn_local(async move {
                        if alive.get() {
                            request.await;
                        }
                        in_flight.set(false);
                    });
                })
            });
            move || {
                alive.set(false);
                drop(poll);
            }
        });
    }

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
    // A command's answer is the run as it is now.
    let done = {
        let (run, after) = (run.clone(), after.clone());
        move |response: AgentRunResponse| {
            after.set(Some(response.consistency.clone()));
            run.set(Load::Ready(response));
        }
    };
    let on_cancel = {
        let (runner, done, id) = (runner.clone(), done.clone(), props.id.clone());
        Callback::from(move |reason: Option<String>| {
            let id = id.clone();
            runner.run(
                async move { api::cancel_run(&id, reason).await },
                done.clone(),
            );
        })
    };
    let on_dismiss = {
        let (runner, done, id) = (runner.clone(), done.clone(), props.id.clone());
        Callback::from(move |_| {
            let id = id.clone();
            runner.run(async move { api::dismiss_run(&id).await }, done.clone());
        })
    };
    let on_retry = {
        let (retrying, notice, app, id) = (
            retrying.clone(),
            notice.clone(),
            app.clone(),
            props.id.clone(),
        );
        Callback::from(move |_| {
            let (retrying, notice, app, navigator, id) = (
                retrying.clone(),
                notice.clone(),
                app.clone(),
                navigator.clone(),
                id.clone(),
            );
            retrying.set(true);
            notice.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match api::retry_run(&id).await {
                    Ok(new_run) => {
                        retrying.set(false);
                        if let Some(nav) = navigator {
                            let _ = nav.push_with_query(
                                &Route::Run {
                                    id: new_run.run.id.to_string(),
                                },
                                &After {
                                    after: new_run.consistency,
                                },
                            );
                        }
                    }
                    Err(error) => {
                        app.check(&error);
                        retrying.set(false);
                        notice.set(Some(error));
                    }
                }
            });
        })
    };

    let retry = {
        let reload = reload.clone();
        Callback::from(move |_| reload.set(*reload + 1))
    };
    let details = match &*run {
        Load::Loading => html! { <Skeleton rows={3} /> },
        Load::Failed(error) => {
            html! { <ErrorView error={error.clone()} on_retry={retry.clone()} /> }
        }
        Load::Ready(found) => {
            let view = &found.run;
            let status = view.status;
            let ended_badly = matches!(
                status,
                RunStatus::Failed | RunStatus::TimedOut | RunStatus::Cancelled
            );
            html! {
                <>
                    <article class="detail" aria-labelledby="run-title">
                        <header class="detail-header">
                            <div>
                                <h1 id="run-title">{ format!("{} run", view.agent) }</h1>
                                <p class="meta" aria-live="polite">
                                    <RunStatusBadge {status} />
                                    <span>{ format!("{} trigger", humanize(view.trigger.as_str())) }</span>
                                    <span>{ view.domain.label() }</span>
                                    if view.dismissed_at.is_some() { <span class="chip">{ "dismissed" }</span> }
                                </p>
                            </div>
                        </header>
                        { facts(view) }
                        if can_act {
                            <div class="actions" role="group" aria-label="Run actions">
                                if !status.is_finished() {
                                    <button type="button" class="button danger" disabled={status == RunStatus::Cancelling}
                                            onclick={let d = dialog.clone(); move |_| d.set(Some(Dialog::Cancel))}>
                                        { if status == RunStatus::Cancelling { "Cancelling…" } else { "Cancel…" } }
                                    </button>
                                }
                                if ended_badly {
                                    <button type="button" class="button primary" disabled={*retrying} onclick={on_retry}>
                                        { if *retrying { "Retrying…" } else { "Retry" } }
                                    </button>
                                    if view.dismissed_at.is_none() {
                                        <button type="button" class="button" onclick={let d = dialog.clone(); move |_| d.set(Some(Dialog::Dismiss))}>
                                            { "Dismiss…" }
                                        </button>
                                    }
                                }
                            </div>
                        }
                        if let Some(error) = &*notice {
                            <ErrorView error={error.clone()} />
                        }
                    </article>
                    if let Some(error) = &view.error {
                        <section class="run-error error" aria-labelledby="run-error-title">
                            <h2 id="run-error-title">{ "Error" }</h2>
                            <p><strong>{ &error.message }</strong></p>
                            <p class="muted">{ "Code " }<code>{ &error.code }</code>
                                { match view.retryable {
                                    Some(true) => " · running it again may succeed",
                                    Some(false) => " · running it again is unlikely to help",
                                    None => "",
                                } }
                            </p>
                        </section>
                    }
                    if let Some(text) = &view.text {
                        <section aria-labelledby="run-text-title">
                            <h2 id="run-text-title">{ "What it wrote" }</h2>
                            <Markdown text={text.clone()} />
                        </section>
                    }
                    if let Some(output) = &view.output {
                        <section aria-labelledby="run-output-title">
                            <h2 id="run-output-title">{ "Output" }</h2>
                            { pretty(output) }
                        </section>
                    }
                    if !view.proposed_items.is_empty() {
                        <section aria-labelledby="run-moves-title">
                            <h2 id="run-moves-title">{ "Moves it proposed" }</h2>
                            <ul class="link-list">
                                { for view.proposed_items.iter().map(|id| html! {
                                    <li><Link<Route> to={Route::Item { id: id.to_string() }}>{ format!("Move {}", short(id)) }</Link<Route>></li>
                                }) }
                            </ul>
                        </section>
                    }
                    <section aria-labelledby="run-input-title">
                        <h2 id="run-input-title">{ "Input" }</h2>
                        { pretty(&view.input) }
                    </section>
                    <section aria-labelledby="run-attempts-title">
                        <h2 id="run-attempts-title">{ "Attempts" }</h2>
                        { attempts(view) }
                    </section>
                    if !view.usage.is_empty() {
                        <section aria-labelledby="run-usage-title">
                            <h2 id="run-usage-title">{ "Language model" }</h2>
                            <dl class="fields">
                                { field("Calls", html! { { view.usage.calls } }) }
                                { field("Tokens", html! { { format!("{} ({} prompt, {} completion)",
                                    view.usage.total_tokens, view.usage.prompt_tokens, view.usage.completion_tokens) } }) }
                                { for view.usage.model.as_ref().map(|m| field("Model", html! { <code>{ m }</code> })) }
                            </dl>
                        </section>
                    }
                </>
            }
        }
    };

    let history = match &*audit {
        Load::Loading => html! {},
        Load::Failed(error) => {
            html! { <ErrorView error={error.clone()} on_retry={retry.clone()} /> }
        }
        Load::Ready(history) if history.events.is_empty() => html! {},
        Load::Ready(history) => html! {
            <section class="timeline" aria-labelledby="run-history-title">
                <h2 id="run-history-title">{ "History" }</h2>
                <EventList events={history.events.clone()} />
            </section>
        },
    };

    html! {
        <section class="page">
            <p><Link<Route> to={Route::Runs}>{ "← Runs" }</Link<Route>></p>
            { details }
            { history }
            { match *dialog {
                None => html! {},
                Some(Dialog::Cancel) => html! {
                    <CancelRunDialog busy={*dialog_busy} error={(*dialog_error).clone()}
                        on_submit={on_cancel} on_close={close_dialog.clone()} />
                },
                Some(Dialog::Dismiss) => html! {
                    <ConfirmDialog title="Dismiss this run?"
                        message="It stops counting as a failure that needs attention. Dismissing cannot be undone."
                        confirm="Dismiss" busy={*dialog_busy} error={(*dialog_error).clone()}
                        on_confirm={on_dismiss} on_close={close_dialog.clone()} />
                },
            } }
        </section>
    }
}
