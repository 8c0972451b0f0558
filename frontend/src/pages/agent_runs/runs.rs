//! Runs: every agent run, newest first, filtered by agent, status, trigger and day — all of
//! it in the URL — and paged.

use caseyos_domain::agent_run::{RunStatus, RunTrigger};
use chrono::Local;
use yew::prelude::*;

use crate::api;
use crate::components::agent_runs::run_status::{label, run_status_badge};
use crate::components::filter_select::{day_filter, filter_select, with_any, SelectProps};
use crate::components::pager::pager;
use crate::components::status::{self, empty, Load};
use crate::components::table;
use crate::hooks::{use_filters, use_query, Refresh};
use crate::infra::format::{absolute, actor, duration, humanize, now, relative};
use crate::infra::live::Feed;
use crate::routes::agent_runs::RunFilters;
use crate::routes::query::UrlQuery;
use crate::routes::{link, Route};

#[hook]
pub fn use_runs_page() -> Html {
    let filters = use_filters::<RunFilters>(Route::Runs);
    // The agent filter offers every agent there is.
    let agents = use_query(Refresh::never(), (), |_, _| api::agent_runs::agents(None));
    let page = use_query(
        Refresh::on(Feed::AgentRuns),
        filters.current.to_query(),
        |query, consistency| {
            let filters = RunFilters::from_query(query);
            async move {
                let consistency = consistency.as_deref();
                match &filters.agent {
                    Some(agent) => {
                        let rest = RunFilters {
                            agent: None,
                            ..filters.clone()
                        };
                        api::agent_runs::runs_of_agent(agent, &rest.api_query(&Local), consistency)
                            .await
                    }
                    None => api::agent_runs::runs(&filters.api_query(&Local), consistency).await,
                }
            }
        },
    );

    let mut agent_names: Vec<String> = match &*agents {
        Load::Ready(list) => list.agents.iter().map(|a| a.name.clone()).collect(),
        _ => vec![],
    };
    if let Some(current) = filters
        .current
        .agent
        .clone()
        .filter(|a| !agent_names.contains(a))
    {
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

    let body = status::view(&*page, 6, &page.reload, |list| {
        if list.runs.is_empty() {
            return empty(
                "No runs match these filters.",
                html! {
                    <p class="muted">{ "Start one from " }{ link(Route::Agents, html! { "Agents" }) }{ "." }</p>
                },
            );
        }
        let now = now();
        html! {
            <>
                <div class="table-wrap" tabindex="0" role="region" aria-label="Runs, newest first">
                    <table class="data runs">
                        { table::head(&["Agent", "Status", "Trigger", "Requested by", "Requested", "Duration", "Attempts", "Error"]) }
                        <tbody>
                            { for list.runs.iter().map(|run| {
                                let when = relative(now, run.requested_at);
                                html! {
                                    <tr key={run.id.to_string()}>
                                        <td>
                                            { link(Route::Run { id: run.id.to_string() }, html! { <>{ &run.agent }<span class="visually-hidden">{ format!(" run, requested {when}") }</span></> }) }
                                            if run.retry_of.is_some() { { " " }<span class="chip">{ "retry" }</span> }
                                            if run.dismissed { { " " }<span class="chip">{ "dismissed" }</span> }
                                        </td>
                                        <td>{ run_status_badge(run.status) }</td>
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
                { pager(&filters, list.next_cursor.clone()) }
            </>
        }
    });

    html! {
        <section class="page wide" aria-labelledby="runs-title">
            <header class="page-header">
                <h1 id="runs-title">{ "Runs" }</h1>
                <p class="muted">{ "Every agent run, newest first. Filters live in the address, so a view can be shared." }</p>
            </header>
            <form class="filters" role="search" aria-label="Filter runs" onsubmit={|e: SubmitEvent| e.prevent_default()}>
                { filter_select(&yew::props!(SelectProps { id: "r-agent", label: "Agent", value: filters.current.agent.clone(), options: agent_options, on_change: filters.set(|f, v| f.agent = v) })) }
                { filter_select(&yew::props!(SelectProps { id: "r-status", label: "Status", value: filters.current.status.clone(), options: statuses, on_change: filters.set(|f, v| f.status = v) })) }
                { filter_select(&yew::props!(SelectProps { id: "r-trigger", label: "Trigger", value: filters.current.trigger.clone(), options: triggers, on_change: filters.set(|f, v| f.trigger = v) })) }
                { day_filter("r-from", "From (day)", filters.current.from.as_deref(), filters.set(|f, v| f.from = v)) }
                { day_filter("r-to", "To (day, included)", filters.current.to.as_deref(), filters.set(|f, v| f.to = v)) }
                { filter_select(&yew::props!(SelectProps { id: "r-dismissed", label: "Dismissed", value: filters.current.dismissed.clone(), options: dismissed, on_change: filters.set(|f, v| f.dismissed = v) })) }
            </form>
            { body }
        </section>
    }
}
