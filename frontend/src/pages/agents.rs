//! Agents: every agent by domain, each with a Run button, the run it started, and its last
//! runs. Runs that end anywhere refresh the page.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::AgentsResponse;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app_state::use_app;
use crate::components::agent_card::AgentCard;
use crate::components::status::{Empty, ErrorView, Load, Skeleton};
use crate::filters::RunFilters;
use crate::routes::Route;
use crate::timeline::token_order;

/// The later of two checkpoints.
pub fn latest(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if token_order(&a) >= token_order(&b) {
            a
        } else {
            b
        }),
        (a, b) => a.or(b),
    }
}

#[component]
pub fn AgentsPage() -> Html {
    let app = use_app();
    let page = use_state(|| Load::<AgentsResponse>::Loading);
    let reload = use_state(|| 0u32);
    // The checkpoint of a run that ended here: read at least that far.
    let after = use_state(|| None::<String>);
    let can_run = app.session().is_some_and(|s| s.can_decide());

    {
        let (page, app) = (page.clone(), app.clone());
        let consistency = latest(app.live.runs_consistency.clone(), (*after).clone());
        use_effect_with(
            (app.live.runs_tick, *reload, consistency),
            move |(_, _, consistency)| {
                let consistency = consistency.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    match api::agents(consistency.as_deref()).await {
                        Ok(agents) => page.set(Load::Ready(agents)),
                        Err(error) => {
                            app.check(&error);
                            page.set(Load::Failed(error));
                        }
                    }
                });
            },
        );
    }

    let on_finished = {
        let after = after.clone();
        Callback::from(move |consistency: String| after.set(Some(consistency)))
    };
    let body = match &*page {
        Load::Loading => html! { <Skeleton rows={4} /> },
        Load::Failed(error) => {
            let reload = reload.clone();
            html! { <ErrorView error={error.clone()} on_retry={Callback::from(move |_| reload.set(*reload + 1))} /> }
        }
        Load::Ready(list) if list.agents.is_empty() => html! {
            <Empty title="No agents are registered." />
        },
        Load::Ready(list) => html! {
            <>
                { for AgentDomain::ALL.iter().filter_map(|domain| {
                    let agents: Vec<_> = list.agents.iter().filter(|a| a.domain == *domain).collect();
                    (!agents.is_empty()).then_some((domain, agents))
                }).map(|(domain, agents)| {
                    let id = format!("domain-{}", domain.as_str());
                    html! {
                        <section class="agent-domain" aria-labelledby={id.clone()} key={domain.as_str()}>
                            <h2 id={id}>{ domain.label() }</h2>
                            <div class="agent-grid">
                                { for agents.into_iter().map(|agent| html! {
                                    <AgentCard key={agent.name.clone()} agent={agent.clone()} {can_run}
                                        on_finished={on_finished.clone()} />
                                }) }
                            </div>
                        </section>
                    }
                }) }
            </>
        },
    };

    let failed = RunFilters {
        status: Some("failed".into()),
        ..RunFilters::default()
    };
    html! {
        <section class="page wide" aria-labelledby="agents-title">
            <header class="page-header">
                <h1 id="agents-title">{ "Agents" }</h1>
                <p class="muted">
                    { "Run an agent by hand and follow it to the end. Each card shows its last runs, older to newer; " }
                    <Link<Route> to={Route::Runs}>{ "all runs" }</Link<Route>>{ " and " }
                    <Link<Route, RunFilters> to={Route::Runs} query={Some(failed)}>{ "failed runs" }</Link<Route, RunFilters>>
                    { " have their own page." }
                </p>
            </header>
            { body }
        </section>
    }
}
