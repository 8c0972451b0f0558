//! One agent run: who asked and when, its input, output and text, its error with Retry and
//! Dismiss (or Cancel while it runs), its attempts, language-model usage, the moves it
//! proposed, and its history. A run in progress is read again until it ends.

use crate::components::agent_runs::cancel_dialog::CancelRunProps;
use caseyos_domain::agent_run::{AgentRunView, AttemptOutcome};
use caseyos_domain::api::{AgentRunResponse, RunActions};
use uuid::Uuid;
use yew::prelude::*;

use crate::api::audit::Aggregate;
use crate::api::{self, ApiError};
use crate::components::agent_runs::run_actions::{run_action_buttons, RunActionButtonsProps};
use crate::components::agent_runs::run_status::run_status_badge;
use crate::components::agent_runs::POLL_MS;
use crate::components::audit_events::{event_list, NewerEventsProps};
use crate::components::fields::field;
use crate::components::markdown::{markdown, parse};
use crate::components::modal::{confirm_dialog, ConfirmProps, Hooked, HookedView};
use crate::components::status::{self, error_view, Load};
use crate::components::table;
use crate::hooks::{reload_all, use_dialog, use_query, Refresh};
use crate::infra::app_state::use_app;
use crate::infra::format::{absolute, actor, duration, humanize, now, relative};
use crate::infra::live::Feed;
use crate::routes::agent_runs::{after, RunFilters};
use crate::routes::query::query_value;
use crate::routes::{app_link, link, push, use_location, Route};

#[derive(Properties, PartialEq)]
pub struct RunProps {
    pub id: AttrValue,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Dialog {
    Cancel,
    Dismiss,
}

fn short(id: &Uuid) -> String {
    id.to_string().chars().take(8).collect()
}

fn run_link(id: &Uuid) -> Html {
    link(
        Route::Run { id: id.to_string() },
        html! { { format!("run {}", short(id)) } },
    )
}

fn when(at: chrono::DateTime<chrono::Utc>) -> Html {
    html! { <time datetime={at.to_rfc3339()} title={absolute(at)}>{ relative(now(), at) }</time> }
}

/// A part of the run's page: a section titled `title` (its id from `name`).
fn part(name: &str, title: &str, body: Html) -> Html {
    let id = format!("run-{name}-title");
    html! {
        <section aria-labelledby={id.clone()}>
            <h2 {id}>{ title }</h2>
            { body }
        </section>
    }
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
                { app_link(&Route::Runs, Some(&agent_runs), Classes::new(), html! {
                    <>{ &run.agent }<span class="visually-hidden">{ ": all its runs" }</span></>
                }) }
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
                { table::head(&["Attempt", "Worker", "Started", "Duration", "Outcome", "Error"]) }
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

#[hook]
pub fn use_run_page(props: &RunProps) -> Html {
    let app = use_app();
    let location = use_location();
    let dialog = use_dialog::<Dialog>();
    let retrying = use_state(bool::default);
    let notice = use_state(Option::<ApiError>::default);

    // The run, read again whenever runs move and, until it ends, every moment; at least as
    // far as the retry that opened this page (`?after=`) and any write made here.
    let opened_after = query_value(location.query_str(), "after");
    let run = use_query(
        Refresh::on(Feed::AgentRuns)
            .after(opened_after)
            .every(POLL_MS)
            .while_ready(|found: &AgentRunResponse| !found.run.status.is_finished()),
        props.id.clone(),
        |id, consistency| {
            let id = id.clone();
            async move { api::agent_runs::run(&id, consistency.as_deref()).await }
        },
    );
    // Its history, read with the run and again whenever the run has moved past what the
    // history last read holds (the run's read model may lag the history, which is then
    // already there). `wanted`: this run's version the history is read for.
    let holds = use_mut_ref(|| None::<(AttrValue, i64)>);
    let wanted = use_mut_ref(|| None::<(AttrValue, u64)>);
    if let Load::Ready(found) = &*run {
        let version = found.run.version;
        let covered = matches!(&*holds.borrow(),
            Some((id, sequence)) if *id == props.id && *sequence >= version as i64);
        if found.run.id.to_string() == *props.id && !covered {
            *wanted.borrow_mut() = Some((props.id.clone(), version));
        }
    }
    let version = wanted
        .borrow()
        .as_ref()
        .filter(|(id, _)| *id == props.id)
        .map(|(_, version)| *version);
    let audit = use_query(Refresh::never(), (props.id.clone(), version), {
        let holds = holds.clone();
        move |(id, version), _| {
            let (id, read, holds) = (id.clone(), version.is_some(), holds.clone());
            async move {
                if !read {
                    return Ok(None);
                }
                let history = api::audit::history(Aggregate::AgentRun, &id, None).await?;
                *holds.borrow_mut() = Some((id, history.sequence));
                Ok(Some(history))
            }
        }
    });

    // A command's answer is the run as it is now.
    let done = {
        let run = run.clone();
        move |response: AgentRunResponse| {
            run.read_after(response.consistency.clone());
            run.set(response);
        }
    };
    let on_cancel = {
        let (dialog, done, id) = (dialog.clone(), done.clone(), props.id.clone());
        Callback::from(move |reason: Option<String>| {
            let id = id.clone();
            dialog.run(
                async move { api::agent_runs::cancel(&id, reason).await },
                done.clone(),
            );
        })
    };
    let on_dismiss = {
        let (dialog, done, id) = (dialog.clone(), done.clone(), props.id.clone());
        Callback::from(move |_| {
            let id = id.clone();
            dialog.run(
                async move { api::agent_runs::dismiss(&id).await },
                done.clone(),
            );
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
            let (retrying, notice, app, id) =
                (retrying.clone(), notice.clone(), app.clone(), id.clone());
            retrying.set(true);
            notice.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match api::agent_runs::retry(&id).await {
                    Ok(new_run) => {
                        retrying.set(false);
                        push(
                            &Route::Run {
                                id: new_run.run.id.to_string(),
                            },
                            &after(&new_run.consistency),
                        );
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

    // What the run wrote, parsed once for as long as it stays the same.
    let written = use_memo(
        match &*run {
            Load::Ready(found) => found.run.text.clone(),
            _ => None,
        },
        |text| text.as_deref().map(parse),
    );

    let details = status::view(&*run, 3, &run.reload, |found| {
        let view = &found.run;
        let status = view.status;
        // The buttons follow the server's rule for this user and this run.
        let actions = app
            .session()
            .map(|s| RunActions::of(view, s.role, &s.user))
            .unwrap_or_default();
        html! {
            <>
                <article class="detail" aria-labelledby="run-title">
                    <header class="detail-header">
                        <div>
                            <h1 id="run-title">{ format!("{} run", view.agent) }</h1>
                            <p class="meta" aria-live="polite">
                                { run_status_badge(status) }
                                <span>{ format!("{} trigger", humanize(view.trigger.as_str())) }</span>
                                <span>{ view.domain.label() }</span>
                                if view.dismissed_at.is_some() { <span class="chip">{ "dismissed" }</span> }
                            </p>
                        </div>
                    </header>
                    { facts(view) }
                    { run_action_buttons(&yew::props!(RunActionButtonsProps { status, actions, retrying: *retrying, on_cancel: dialog.opener(Dialog::Cancel), on_retry, on_dismiss: dialog.opener(Dialog::Dismiss) })) }
                    if let Some(error) = &*notice {
                        { error_view(error, None) }
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
                if let Some(blocks) = &*written {
                    { part("text", "What it wrote", markdown(blocks)) }
                }
                if let Some(output) = &view.output {
                    { part("output", "Output", pretty(output)) }
                }
                if !view.proposed_items.is_empty() {
                    { part("moves", "Moves it proposed", html! {
                        <ul class="link-list">
                            { for view.proposed_items.iter().map(|id| html! {
                                <li>{ link(Route::Item { id: id.to_string() }, html! { { format!("Move {}", short(id)) } }) }</li>
                            }) }
                        </ul>
                    }) }
                }
                { part("input", "Input", pretty(&view.input)) }
                { part("attempts", "Attempts", attempts(view)) }
                if !view.usage.is_empty() {
                    { part("usage", "Language model", html! {
                        <dl class="fields">
                            { field("Calls", html! { { view.usage.calls } }) }
                            { field("Tokens", html! { { format!("{} ({} prompt, {} completion)",
                                view.usage.total_tokens, view.usage.prompt_tokens, view.usage.completion_tokens) } }) }
                            { for view.usage.model.as_ref().map(|m| field("Model", html! { <code>{ m }</code> })) }
                        </dl>
                    }) }
                }
            </>
        }
    });

    let history = match &*audit {
        Load::Loading | Load::Ready(None) => html! {},
        Load::Failed(error) => error_view(
            error,
            Some(&reload_all([run.reload.clone(), audit.reload.clone()])),
        ),
        Load::Ready(Some(history)) if history.events.is_empty() => html! {},
        Load::Ready(Some(history)) => html! {
            <section class="timeline" aria-labelledby="run-history-title">
                <h2 id="run-history-title">{ "History" }</h2>
                { event_list(&history.events, None, None) }
                <HookedView key="newer" view={Hooked::NewerEvents(NewerEventsProps { aggregate: Aggregate::AgentRun, id: props.id.clone(),
                    history: history.clone(),
                    on_loaded: { let audit = audit.clone(); Callback::from(move |h| audit.set(Some(h))) } })} />
            </section>
        },
    };

    html! {
        <section class="page">
            <p>{ link(Route::Runs, html! { "← Runs" }) }</p>
            { details }
            { history }
            { match dialog.shown() {
                None => html! {},
                Some(Dialog::Cancel) => html! {
                    <HookedView key="cancel" view={Hooked::CancelRun(CancelRunProps { busy: dialog.busy(), error: dialog.error(),
                        on_submit: on_cancel, on_close: dialog.close() })} />
                },
                Some(Dialog::Dismiss) => html! {
                    { confirm_dialog(&yew::props!(ConfirmProps { title: "Dismiss this run?", message: "It stops counting as a failure that needs attention. Dismissing cannot be undone.", confirm: "Dismiss", busy: dialog.busy(), error: dialog.error(), on_confirm: on_dismiss, on_close: dialog.close() })) }
                },
            } }
        </section>
    }
}
