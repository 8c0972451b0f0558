//! Agents: every agent by domain, each with a Run button, the run it started, and its last
//! runs. Runs that end anywhere refresh the page.

use crate::components::agent_runs::agent_card::AgentCardProps;
use crate::components::modal::{Hooked, HookedView};
use caseyos_domain::agent_run::AgentDomain;
use yew::prelude::*;

use crate::api;
use crate::components::status::{self, empty};
use crate::hooks::{use_query, Refresh};
use crate::infra::app_state::use_app;
use crate::infra::live::Feed;
use crate::routes::agent_runs::RunFilters;
use crate::routes::{app_link, link, Route};

#[hook]
pub fn use_agents_page() -> Html {
    let app = use_app();
    let can_run = app.session().is_some_and(|s| s.can_decide());
    let page = use_query(
        Refresh::on(Feed::AgentRuns),
        (),
        |_, consistency| async move { api::agent_runs::agents(consistency.as_deref()).await },
    );

    // A run started here ended: read at least as far as its checkpoint.
    let on_finished = {
        let page = page.clone();
        Callback::from(move |consistency: String| page.read_after(consistency))
    };
    let body = status::view(&*page, 4, &page.reload, |list| {
        if list.agents.is_empty() {
            return empty("No agents are registered.", html! {});
        }
        html! {
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
                                    <HookedView key={agent.name.clone()} view={Hooked::AgentCard(AgentCardProps { agent: agent.clone(), can_run,
                                        on_finished: on_finished.clone() })} />
                                }) }
                            </div>
                        </section>
                    }
                }) }
            </>
        }
    });

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
                    { link(Route::Runs, html! { "all runs" }) }{ " and " }
                    { app_link(&Route::Runs, Some(&failed), Classes::new(), html! { "failed runs" }) }
                    { " have their own page." }
                </p>
            </header>
            { body }
        </section>
    }
}
