//! Runs: every agent run, newest first, filtered by agent, status, trigger and day — all of
//! it in the URL — and paged.

use caseyos_domain::agent_run::{RunStatus, RunTrigger};
use caseyos_domain::api::AgentRunListResponse;
use chrono::Local;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app_state::use_app;
use crate::components::filter_select::{with_any, FilterSelect};
use crate::components::run_status::{label, RunStatusBadge};
use crate::components::status::{Empty, ErrorView, Load, Skeleton};
use crate::filters::RunFilters;
use crate::format::{absolute, actor, duration, humanize, now, relative};
use crate::routes::Route;

/// The day a `from`/`to` value shows in a date input (instants show their date).
fn day_of(value: &Option<String>) -> String {
    value
        .as_deref()
        .map(|v| v.get(..10).unwrap_or(v).to_string())
        .unwrap_or_default()
}

#[derive(Properties, PartialEq)]
struct DayProps {
    id: AttrValue,
    label: AttrValue,
    value: Option<String>,
    on_change: Callback<Option<String>>,
}

#[component]
fn DayFilter(props: &DayProps) -> Html {
    let onchange = {
        let on_change = props.on_change.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlInputElement>().value();
            on_change.emit(Some(value).filter(|v| !v.is_empty()));
        })
    };
    html! {
        <div class="field">
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <input id={props.id.clone()} type="date" value={day_of(&props.value)} {onchange} />
        </div>
    }
}

#[component]
pub fn RunsPage() -> Html {
    let app = use_app();
    let location = use_location();
    let navigator = use_navigator();
    let filters = RunFilters::from_query(
        &location
            .as_ref()
            .map(|l| l.query_str().to_string())
            .unwrap_or_default(),
    );
    let page = use_state(|| Load::<AgentRunListResponse>::Loading);
    let agents = use_state(Vec::<String>::new);
    let reload = use_state(|| 0u32);

    // The agent filter offers every agent there is.
    {
        let (agents, app) = (agents.clone(), app.clone());
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::agents(None).await {
                    Ok(list) => agents.set(list.agents.into_iter().map(|a| a.name).collect()),
                    Err(error) => app.check(&error),
                }
            });
        });
    }

    {
        let (page, app) = (page.clone(), app.clone());
        let consistency = app.live.runs_consistency.clone();
        use_effect_with(
            (filters.to_query(), app.live.runs_tick, *reload),
            move |(query, _, _)| {
                let filters = RunFilters::from_query(query);
                wasm_bindgen_futures::spawn_local(async move {
                    let consistency = consistency.as_deref();
                    let answer = match &filters.agent {
                        Some(agent) => {
                            let rest = RunFilters {
                                agent: None,
                                ..filters.clone()
                            };
                            api::runs_of_agent(agent, &rest.api_query(&Local), consistency).await
                        }
                        None => api::agent_runs(&filters.api_query(&Local), consistency).await,
                    };
                    match answer {
                        Ok(list) => page.set(Load::Ready(list)),
                        Err(error) => {
                            app.check(&error);
                            page.set(Load::Failed(error));
                        }
                    }
                });
            },
        );
    }

    let go = {
        let navigator = navigator.clone();
        Callback::from(move |next: RunFilters| {
            if let Some(nav) = &navigator {
                let _ = nav.push_with_query(&Route::Runs, &next);
            }
        })
    };
    let set = |apply: fn(&mut RunFilters, Option<String>)| {
        let go = go.clone();
        let filters = filters.clone();
        Callback::from(move |value: Option<String>| {
            let mut next = filters.first_page();
            apply(&mut next, value);
            go.emit(next);
        })
    };

    let mut agent_names = (*agents).clone();
    if let Some(current) = filters.agent.clone().filter(|a| !agent_names.contains(a)) {
        agent_names.push(current);
    }
    let agent_options = with_any("Any agent", agent_names.into_iter().map(|a| (a.clone(), a)));
    let statuses = with_any(
        "Any status",
        RunStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), humanize(label(*s)))),
    );
    let triggers = with_any(
        "Any trigger",
        RunTrigger::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), humanize(t.as_str()))),
    );
    let dismissed = vec![
        (String::new(), "Shown or dismissed".to_string()),
        ("false".to_string(), "Not dismissed".to_string()),
        ("true".to_string(), "Dismissed".to_string()),
    ];

    let body = match &*page {
        Load::Loading => html! { <Skeleton rows={6} /> },
        Load::Failed(error) => {
            let reload = reload.clone();
            html! { <ErrorView error={error.clone()} on_retry={Callback::from(move |_| reload.set(*reload + 1))} /> }
        }
        Load::Ready(list) if list.runs.is_empty() => html! {
            <Empty title="No runs match these filters.">
                <p class="muted">{ "Start one from " }<Link<Route> to={Route::Agents}>{ "Agents" }</Link<Route>>{ "." }</p>
            </Empty>
        },
        Load::Ready(list) => {
            let now = now();
            html! {
                <>
                    <div class="table-wrap" tabindex="0" role="region" aria-label="Runs, newest first">
                        <table class="data runs">
                            <thead>
                                <tr>
                                    <th scope="col">{ "Agent" }</th>
                                    <th scope="col">{ "Status" }</th>
                                    <th scope="col">{ "Trigger" }</th>
                                    <th scope="col">{ "Requested by" }</th>
                                    <th scope="col">{ "Requested" }</th>
                                    <th scope="col">{ "Duration" }</th>
                                    <th scope="col">{ "Attempts" }</th>
                                    <th scope="col">{ "Error" }</th>
                                </tr>
                            </thead>
                            <tbody>
                                { for list.runs.iter().map(|run| {
                                    let when = relative(now, run.requested_at);
                                    html! {
                                        <tr key={run.id.to_string()}>
                                            <td>
                                                <Link<Route> to={Route::Run { id: run.id.to_string() }}>
                                                    { &run.agent }<span class="visually-hidden">{ format!(" run, requested {when}") }</span>
                                                </Link<Route>>
                                                if run.retry_of.is_some() { { " " }<span class="chip">{ "retry" }</span> }
                                                if run.dismissed { { " " }<span class="chip">{ "dismissed" }</span> }
                                            </td>
                                            <td><RunStatusBadge status={run.status} /></td>
                                            <td>{ run.trigger.as_str() }</td>
                                            <td>{ actor(&run.requested_by) }</td>
                                            <td><time datetime={run.requested_at.to_rfc3339()} title={absolute(run.requested_at)}>{ when }</time></td>
                                            <td>{ run.duration_ms.map(duration).unwrap_or_else(|| "—".into()) }</td>
                                            <td class="number">{ run.attempts }</td>
                                            <td>
                                                { match &run.error {
                                                    Some(e) => html! { <code title={e.message.clone()}>{ &e.code }</code> },
                                                    None => html! { "—" },
                                                } }
                                            </td>
                                        </tr>
                                    }
                                }) }
                            </tbody>
                        </table>
                    </div>
                    <nav class="pager" aria-label="Pages">
                        if filters.cursor.is_some() {
                            <button class="button" onclick={let go = go.clone(); let f = filters.first_page(); move |_| go.emit(f.clone())}>{ "First page" }</button>
                        }
                        if let Some(cursor) = list.next_cursor.clone() {
                            <button class="button" onclick={let go = go.clone(); let f = filters.clone(); move |_| go.emit(RunFilters { cursor: Some(cursor.clone()), ..f.clone() })}>{ "Next page" }</button>
                        }
                    </nav>
                </>
            }
        }
    };

    html! {
        <section class="page wide" aria-labelledby="runs-title">
            <header class="page-header">
                <h1 id="runs-title">{ "Runs" }</h1>
                <p class="muted">{ "Every agent run, newest first. Filters live in the address, so a view can be shared." }</p>
            </header>
            <form class="filters" role="search" aria-label="Filter runs" onsubmit={|e: SubmitEvent| e.prevent_default()}>
                <FilterSelect id="r-agent" label="Agent" value={filters.agent.clone()} options={agent_options}
                    on_change={set(|f, v| f.agent = v)} />
                <FilterSelect id="r-status" label="Status" value={filters.status.clone()} options={statuses}
                    on_change={set(|f, v| f.status = v)} />
                <FilterSelect id="r-trigger" label="Trigger" value={filters.trigger.clone()} options={triggers}
                    on_change={set(|f, v| f.trigger = v)} />
                <DayFilter id="r-from" label="From (day)" value={filters.from.clone()} on_change={set(|f, v| f.from = v)} />
                <DayFilter id="r-to" label="To (day, included)" value={filters.to.clone()} on_change={set(|f, v| f.to = v)} />
                <FilterSelect id="r-dismissed" label="Dismissed" value={filters.dismissed.clone()} options={dismissed}
                    on_change={set(|f, v| f.dismissed = v)} />
            </form>
            { body }
        </section>
    }
}
