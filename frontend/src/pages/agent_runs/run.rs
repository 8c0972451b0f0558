//! One agent run: who asked and when, its input, output and text, its error with Retry and
//! Dismiss (or Cancel while it runs), its attempts, language-model usage, the moves it
//! proposed, and its history. A run in progress is read again until it ends.

use crate::components::agent_runs::cancel_dialog::CancelRunProps;
use caseyos_domain::agent_run::RunStatus;
use caseyos_domain::api::RunActions;
use caseyos_domain::kernel::{instant, Actor, ActorKind};
use serde_json::Value;
use yew::prelude::*;

use crate::api::agent_runs::RunState;
use crate::api::audit::Aggregate;
use crate::api::{self, ApiError};
use crate::components::agent_runs::run_actions::{run_action_buttons, RunActionButtonsProps};
use crate::components::agent_runs::run_status::run_status_badge;
use crate::components::agent_runs::POLL_MS;
use crate::components::audit_events::{event_list, NewerEventsProps};
use crate::components::contacts::{at, items, str_at};
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

fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

fn run_link(id: &Value) -> Html {
    let id = id.as_str().unwrap_or_default();
    link(
        Route::Run { id: id.to_string() },
        html! { { format!("run {}", short(id)) } },
    )
}

/// An instant (RFC 3339 text) as "3 minutes ago", the date and time in its title; "—" for
/// none.
fn when(value: &Value) -> Html {
    match value.as_str().and_then(instant::parse) {
        Some(at) => html! {
            <time datetime={at.to_rfc3339()} title={absolute(at)}>{ relative(now(), at) }</time>
        },
        None => html! { "—" },
    }
}

/// Who did something (an actor as JSON), for people.
fn who(value: &Value) -> Option<String> {
    let kind = ActorKind::named(str_at(value, "kind")?)?;
    let id = str_at(value, "id")?.to_string();
    Some(actor(&Actor { kind, id }))
}

/// A count or duration as a whole number (0 for none).
fn whole(value: &Value) -> u64 {
    value.as_u64().unwrap_or_default()
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

fn pretty(value: &Value) -> Html {
    html! {
        <pre class="json" tabindex="0">{ serde_json::to_string_pretty(value).unwrap_or_default() }</pre>
    }
}

/// An attempt's outcome for people ("timed out"; "abandoned": its worker was lost, as its
/// error says).
fn outcome(outcome: Option<&str>) -> String {
    outcome.map_or_else(|| "—".into(), |o| o.replace('_', " "))
}

/// A duration in milliseconds, "—" for none.
fn took(ms: &Value) -> String {
    ms.as_u64().map(duration).unwrap_or_else(|| "—".into())
}

fn facts(run: &Value) -> Html {
    let agent = str_at(run, "agent").unwrap_or_default().to_string();
    let agent_runs = RunFilters {
        agent: Some(agent.clone()),
        ..RunFilters::default()
    };
    let by = |key: &str| {
        who(at(run, key))
            .map(|a| format!(" by {a}"))
            .unwrap_or_default()
    };
    let retried_by = items(at(run, "retried_by"));
    let cancel_reason = str_at(run, "cancel_reason");
    html! {
        <dl class="fields">
            { field("Agent", html! {
                { app_link(&Route::Runs, Some(&agent_runs), Classes::new(), html! {
                    <>{ agent }<span class="visually-hidden">{ ": all its runs" }</span></>
                }) }
            }) }
            { field("Requested", html! { <>{ when(at(run, "requested_at")) }{ by("requested_by") }</> }) }
            if !at(run, "started_at").is_null() { { field("Started", when(at(run, "started_at"))) } }
            if !at(run, "finished_at").is_null() { { field("Finished", when(at(run, "finished_at"))) } }
            { field("Duration", html! { { took(at(run, "duration_ms")) } }) }
            { field("Attempts", html! { { format!("{} of at most {}", items(at(run, "attempts")).len(), whole(at(run, "max_attempts"))) } }) }
            { field("Time limit", html! { { format!("{} per attempt", took(at(run, "timeout_ms"))) } }) }
            if !at(run, "retry_of").is_null() { { field("Retries", run_link(at(run, "retry_of"))) } }
            if !retried_by.is_empty() {
                { field("Retried by", html! { <>{ for retried_by.iter().map(|id| html! { <>{ run_link(id) }{ " " }</> }) }</> }) }
            }
            if cancel_reason.is_some() || !at(run, "cancelled_by").is_null() {
                { field("Cancelled", html! { {
                    format!("{}{}", by("cancelled_by").trim_start(),
                        cancel_reason.map(|r| format!(": {r}")).unwrap_or_default())
                } }) }
            }
            if !at(run, "dismissed_at").is_null() {
                { field("Dismissed", html! { <>{ when(at(run, "dismissed_at")) }{ by("dismissed_by") }</> }) }
            }
            { field("Run id", html! { <code>{ str_at(run, "id").unwrap_or_default() }</code> }) }
        </dl>
    }
}

fn attempts(run: &Value) -> Html {
    let attempts = items(at(run, "attempts"));
    if attempts.is_empty() {
        return html! { <p class="muted">{ "No worker has started it yet." }</p> };
    }
    html! {
        <div class="table-wrap" tabindex="0" role="region" aria-label="Attempts table">
            <table class="data">
                { table::head(&["Attempt", "Worker", "Started", "Duration", "Outcome", "Error"]) }
                <tbody>
                    { for attempts.iter().map(|a| html! {
                        <tr>
                            <td class="number">{ whole(at(a, "attempt")) }</td>
                            <td><code>{ str_at(a, "worker").unwrap_or_default() }</code></td>
                            <td>{ when(at(a, "started_at")) }</td>
                            <td>{ took(at(a, "duration_ms")) }</td>
                            <td>{ outcome(str_at(a, "outcome")) }</td>
                            <td>{ match str_at(a, "error.code") {
                                Some(code) => html! { <><code>{ code }</code>{ " " }{ str_at(a, "error.message").unwrap_or_default() }</> },
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
            .while_ready(|found: &Value| {
                RunState::of(found).is_none_or(|run| !run.status.is_finished())
            }),
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
        let version = whole(at(found, "version"));
        let covered = matches!(&*holds.borrow(),
            Some((id, sequence)) if *id == props.id && *sequence >= version as i64);
        if str_at(found, "id") == Some(&*props.id) && !covered {
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
        move |response: Value| {
            if let Some(token) = str_at(&response, "consistency") {
                run.read_after(token.to_string());
            }
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
                        if let Some(new_run) = RunState::of(&new_run) {
                            let id = new_run.id.to_string();
                            push(&Route::Run { id }, &after(&new_run.consistency));
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

    // What the run wrote, parsed once for as long as it stays the same.
    let written = use_memo(
        match &*run {
            Load::Ready(found) => str_at(found, "text").map(str::to_string),
            _ => None,
        },
        |text| text.as_deref().map(parse),
    );

    let details = status::view(&*run, 3, &run.reload, |view| {
        let status = str_at(view, "status")
            .and_then(RunStatus::named)
            .unwrap_or(RunStatus::Queued);
        // The buttons follow the server's rule for this user and this run.
        let actions = match (
            app.session(),
            str_at(view, "requested_by.kind").and_then(ActorKind::named),
        ) {
            (Some(s), Some(kind)) => {
                let owner = Actor {
                    kind,
                    id: str_at(view, "requested_by.id")
                        .unwrap_or_default()
                        .to_string(),
                };
                RunActions::of_parts(
                    status,
                    &owner,
                    !at(view, "dismissed_at").is_null(),
                    s.role,
                    &s.user,
                )
            }
            _ => RunActions::default(),
        };
        let usage = at(view, "usage");
        let proposed = items(at(view, "proposed_items"));
        html! {
            <>
                <article class="detail" aria-labelledby="run-title">
                    <header class="detail-header">
                        <div>
                            <h1 id="run-title">{ format!("{} run", str_at(view, "agent").unwrap_or_default()) }</h1>
                            <p class="meta" aria-live="polite">
                                { run_status_badge(status) }
                                <span>{ format!("{} trigger", humanize(str_at(view, "trigger").unwrap_or("unknown"))) }</span>
                                <span>{ humanize(str_at(view, "domain").unwrap_or_default()) }</span>
                                if !at(view, "dismissed_at").is_null() { <span class="chip">{ "dismissed" }</span> }
                            </p>
                        </div>
                    </header>
                    { facts(view) }
                    { run_action_buttons(&yew::props!(RunActionButtonsProps { status, actions, retrying: *retrying, on_cancel: dialog.opener(Dialog::Cancel), on_retry, on_dismiss: dialog.opener(Dialog::Dismiss) })) }
                    if let Some(error) = &*notice {
                        { error_view(error, None) }
                    }
                </article>
                if let Some(code) = str_at(view, "error.code") {
                    <section class="run-error error" aria-labelledby="run-error-title">
                        <h2 id="run-error-title">{ "Error" }</h2>
                        <p><strong>{ str_at(view, "error.message").unwrap_or_default() }</strong></p>
                        <p class="muted">{ "Code " }<code>{ code }</code>
                            { match at(view, "retryable").as_bool() {
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
                if !at(view, "output").is_null() {
                    { part("output", "Output", pretty(at(view, "output"))) }
                }
                if !proposed.is_empty() {
                    { part("moves", "Moves it proposed", html! {
                        <ul class="link-list">
                            { for proposed.iter().filter_map(Value::as_str).map(|id| html! {
                                <li>{ link(Route::Item { id: id.to_string() }, html! { { format!("Move {}", short(id)) } }) }</li>
                            }) }
                        </ul>
                    }) }
                }
                { part("input", "Input", pretty(at(view, "input"))) }
                { part("attempts", "Attempts", attempts(view)) }
                if whole(at(usage, "calls")) > 0 {
                    { part("usage", "Language model", html! {
                        <dl class="fields">
                            { field("Calls", html! { { whole(at(usage, "calls")) } }) }
                            { field("Tokens", html! { { format!("{} ({} prompt, {} completion)",
                                whole(at(usage, "total_tokens")), whole(at(usage, "prompt_tokens")), whole(at(usage, "completion_tokens"))) } }) }
                            if let Some(m) = str_at(usage, "model") { { field("Model", html! { <code>{ m }</code> }) } }
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
