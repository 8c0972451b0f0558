//! One agent: what it does, whether it writes with a language model, a Run button with its
//! generated form, the run it started (followed until it ends), and its last runs.

pub use crate::components::modal::AgentCardProps;
use serde_json::Value;
use yew::prelude::*;

use super::run_dialog::RunDialogProps;
use super::run_status::{progress, run_status_badge, run_strip};
use super::POLL_MS;
use crate::api;
use crate::api::agent_runs::RunState;
use crate::components::modal::{Hooked, HookedView};
use crate::hooks::{poll, use_dialog};
use crate::infra::app_state::use_app;
use crate::routes::agent_runs::RunFilters;
use crate::routes::{app_link, link, Route};

/// The run this card started.
type Started = RunState;

#[hook]
pub fn use_agent_card(props: &AgentCardProps) -> Html {
    let app = use_app();
    let dialog = use_dialog::<()>();
    let started = use_state(|| None::<Started>);
    let agent = &props.agent;

    // Follow the started run until it ends.
    {
        let started = started.clone();
        let on_finished = props.on_finished.clone();
        let following = started
            .as_ref()
            .filter(|s| !s.status.is_finished())
            .map(|s| (s.id, s.consistency.clone()));
        use_effect_with(following, move |following| {
            let polling = following.clone().map(|(id, consistency)| {
                poll(POLL_MS, move || {
                    let (started, app, on_finished, consistency) = (
                        started.clone(),
                        app.clone(),
                        on_finished.clone(),
                        consistency.clone(),
                    );
                    Box::pin(async move {
                        let read = api::agent_runs::run(&id.to_string(), Some(&consistency)).await;
                        Box::new(move || match read {
                            Ok(found) => {
                                let Some(state) = RunState::of(&found) else {
                                    return;
                                };
                                let finished = state.status.is_finished();
                                let consistency = state.consistency.clone();
                                started.set(Some(state));
                                if finished {
                                    on_finished.emit(consistency);
                                }
                            }
                            Err(error) => app.check(&error),
                        }) as Box<dyn FnOnce()>
                    })
                })
            });
            move || drop(polling)
        });
    }

    let on_submit = {
        let (dialog, started, name) = (dialog.clone(), started.clone(), agent.name.clone());
        Callback::from(move |input: Value| {
            let (started, name) = (started.clone(), name.clone());
            dialog.run(
                async move { api::agent_runs::run_agent(&name, input).await },
                move |response| started.set(RunState::of(&response)),
            );
        })
    };

    let heading_id = format!("agent-{}", agent.name);
    let all_runs = RunFilters {
        agent: Some(agent.name.clone()),
        ..RunFilters::default()
    };
    html! {
        <article class="agent-card" aria-labelledby={heading_id.clone()}>
            <header class="agent-head">
                <h3 id={heading_id}>{ &agent.name }</h3>
                <div class="meta">
                    if agent.uses_llm {
                        if agent.llm_configured {
                            <span class="chip llm" title="Writes with a language model">{ "LLM" }</span>
                        } else {
                            <span class="chip offline" title="No language model is configured: an offline writer stands in">
                                { "offline writer" }
                            </span>
                        }
                    }
                    if agent.proposes_moves {
                        <span class="chip proposes" title="Its results may propose moves for Today's Moves">{ "proposes moves" }</span>
                    }
                    <span class="muted">{ format!("time limit {} s", agent.timeout_secs) }</span>
                </div>
            </header>
            <p class="agent-description">{ &agent.description }</p>
            <div class="agent-actions">
                if props.can_run {
                    <button type="button" class="button primary" onclick={dialog.opener(())}
                            aria-label={format!("Run {}", agent.name)}>{ "Run" }</button>
                }
                <div class="agent-status" aria-live="polite">
                    { match &*started {
                        None => html! {},
                        Some(run) if !run.status.is_finished() => html! {
                            <span class="run-progress">
                                <span class="spinner" aria-hidden="true"></span>
                                { progress(run.status) }
                            </span>
                        },
                        Some(run) => html! {
                            <span class="run-result">
                                { run_status_badge(run.status) }
                                { link(Route::Run { id: run.id.to_string() }, html! { "View run" }) }
                            </span>
                        },
                    } }
                </div>
            </div>
            <div class="agent-history">
                { run_strip(&agent.recent_runs, &agent.name) }
                { app_link(&Route::Runs, Some(&all_runs), "all-runs".into(), html! {
                    <>{ "All runs" }<span class="visually-hidden">{ format!(" of {}", agent.name) }</span></>
                }) }
            </div>
            if dialog.shown().is_some() {
                <HookedView key="run" view={Hooked::Run(Box::new(RunDialogProps { agent: agent.clone(), busy: dialog.busy(), error: dialog.error(),
                    on_submit, on_close: dialog.close(), title: None, submit: None, start: Value::Null }))} />
            }
        </article>
    }
}
