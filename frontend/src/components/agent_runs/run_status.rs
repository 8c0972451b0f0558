//! How an agent run's status looks wherever it shows: a badge with its words, and the small
//! squares of an agent's recent runs. Colour is never the only signal: each has a glyph and
//! words.

use caseyos_domain::agent_run::RunStatus;
use caseyos_domain::api::AgentRunSummary;
use yew::prelude::*;

use crate::infra::format::{duration, now, relative};
use crate::routes::{app_link, Route};

/// The tone (CSS class) of a status: `waiting`, `active`, `ok`, `bad`, `late` or `off`.
pub fn tone(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Queued => "waiting",
        RunStatus::Running | RunStatus::Cancelling => "active",
        RunStatus::Succeeded => "ok",
        RunStatus::Failed => "bad",
        RunStatus::TimedOut => "late",
        RunStatus::Cancelled => "off",
    }
}

/// A status in words.
pub fn label(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Queued => "queued",
        RunStatus::Running => "running",
        RunStatus::Cancelling => "cancelling",
        RunStatus::Succeeded => "succeeded",
        RunStatus::Failed => "failed",
        RunStatus::TimedOut => "timed out",
        RunStatus::Cancelled => "cancelled",
    }
}

/// The glyph that tells statuses apart without colour.
pub fn glyph(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Queued => "○",
        RunStatus::Running | RunStatus::Cancelling => "…",
        RunStatus::Succeeded => "✓",
        RunStatus::Failed => "✕",
        RunStatus::TimedOut => "◷",
        RunStatus::Cancelled => "–",
    }
}

/// What an unfinished run is doing, in words for a progress line: a queued run is waiting,
/// not running.
pub fn progress(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Queued => "Waiting for a worker…",
        RunStatus::Running => "Running…",
        RunStatus::Cancelling => "Cancelling…",
        RunStatus::Succeeded | RunStatus::Failed | RunStatus::TimedOut | RunStatus::Cancelled => {
            label(status)
        }
    }
}

/// The status as a chip; unfinished runs spin.
pub fn run_status_badge(status: RunStatus) -> Html {
    html! {
        <span class={classes!("chip", "run-status", tone(status))}>
            if status.is_finished() {
                <span aria-hidden="true">{ glyph(status) }{ " " }</span>
            } else {
                <span class="spinner" aria-hidden="true"></span>
            }
            { label(status) }
        </span>
    }
}

/// "failed · 3 min ago · took 1.2 s": one run in words.
pub fn describe(run: &AgentRunSummary) -> String {
    let mut words = format!(
        "{} · {}",
        label(run.status),
        relative(now(), run.requested_at)
    );
    if let Some(ms) = run.duration_ms {
        words.push_str(&format!(" · took {}", duration(ms)));
    }
    words
}

/// An agent's recent runs (`runs`, newest first as the API gives them) as squares, oldest on
/// the left, each a link to its run. `of` names the agent, for the list's accessible name.
pub fn run_strip(runs: &[AgentRunSummary], of: &str) -> Html {
    if runs.is_empty() {
        return html! { <p class="muted run-strip-empty">{ "No runs yet." }</p> };
    }
    html! {
        <div class="run-strip-wrap">
            <span class="run-strip-legend muted" aria-hidden="true">{ "older → newer" }</span>
            <ol class="run-strip" aria-label={format!("Last {} runs of {of}, oldest first", runs.len())}>
                { for runs.iter().rev().map(|run| {
                    let words = describe(run);
                    html! {
                        <li key={run.id.to_string()}>
                            { app_link(&Route::Run { id: run.id.to_string() }, None, classes!("run-square", tone(run.status)), html! {
                                <>
                                    <span class="run-square-mark" title={words.clone()} aria-hidden="true">{ glyph(run.status) }</span>
                                    <span class="visually-hidden">{ words }</span>
                                </>
                            }) }
                        </li>
                    }
                }) }
            </ol>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::mount;
    use caseyos_domain::agent_run::{AgentDomain, RunTrigger};
    use caseyos_domain::kernel::Actor;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn every_status_has_its_tone_words_and_glyph() {
        let table = [
            (RunStatus::Queued, "waiting", "queued", "○"),
            (RunStatus::Running, "active", "running", "…"),
            (RunStatus::Cancelling, "active", "cancelling", "…"),
            (RunStatus::Succeeded, "ok", "succeeded", "✓"),
            (RunStatus::Failed, "bad", "failed", "✕"),
            (RunStatus::TimedOut, "late", "timed out", "◷"),
            (RunStatus::Cancelled, "off", "cancelled", "–"),
        ];
        assert_eq!(table.len(), RunStatus::ALL.len());
        for (status, t, l, g) in table {
            assert_eq!((tone(status), label(status), glyph(status)), (t, l, g));
        }
    }

    #[wasm_bindgen_test]
    fn a_queued_run_is_waiting_not_running() {
        assert_eq!(progress(RunStatus::Queued), "Waiting for a worker…");
        assert_eq!(progress(RunStatus::Running), "Running…");
        assert_eq!(progress(RunStatus::Cancelling), "Cancelling…");
        assert_eq!(progress(RunStatus::Failed), "failed");
    }

    fn summary(n: u128, status: RunStatus) -> AgentRunSummary {
        AgentRunSummary {
            id: uuid::Uuid::from_u128(n),
            agent: "DraftWriter".into(),
            domain: AgentDomain::Sales,
            status,
            trigger: RunTrigger::Manual,
            requested_by: Actor::user("casey"),
            requested_at: now(),
            started_at: None,
            finished_at: None,
            duration_ms: status.is_finished().then_some(1_240),
            attempts: 1,
            error: None,
            retry_of: None,
            dismissed: false,
        }
    }

    #[derive(Properties, PartialEq)]
    struct HostProps {
        runs: Vec<AgentRunSummary>,
        status: RunStatus,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        html! {
            <>
                { run_status_badge(props.status) }
                { run_strip(&props.runs, "DraftWriter") }
            </>
        }
    }

    async fn render(props: HostProps) -> web_sys::Element {
        mount::<Host>(props).await
    }

    #[wasm_bindgen_test]
    async fn badges_and_squares_carry_colour_glyph_and_words() {
        let runs = vec![
            summary(3, RunStatus::Running),
            summary(2, RunStatus::Failed),
            summary(1, RunStatus::Succeeded),
        ];
        let root = render(HostProps {
            runs,
            status: RunStatus::TimedOut,
        })
        .await;
        let badge = root.query_selector(".run-status").unwrap().unwrap();
        assert_eq!(badge.class_name(), "chip run-status late");
        assert_eq!(badge.text_content().unwrap(), "◷ timed out");

        let squares = root.query_selector_all(".run-strip a").unwrap();
        assert_eq!(squares.length(), 3);
        let first: web_sys::Element = wasm_bindgen::JsCast::unchecked_into(squares.get(0).unwrap());
        let last: web_sys::Element = wasm_bindgen::JsCast::unchecked_into(squares.get(2).unwrap());
        // Oldest on the left, newest on the right.
        assert_eq!(first.class_name(), "run-square ok");
        assert_eq!(
            first.get_attribute("href").unwrap(),
            format!("/runs/{}", uuid::Uuid::from_u128(1))
        );
        assert!(first
            .text_content()
            .unwrap()
            .contains("succeeded · now · took 1.2 s"));
        assert_eq!(last.class_name(), "run-square active");
        let title = root
            .query_selector(".run-square .run-square-mark")
            .unwrap()
            .unwrap()
            .get_attribute("title")
            .unwrap();
        assert!(title.starts_with("succeeded"), "{title}");
        let list = root.query_selector(".run-strip").unwrap().unwrap();
        assert_eq!(
            list.get_attribute("aria-label").unwrap(),
            "Last 3 runs of DraftWriter, oldest first"
        );
    }
}
