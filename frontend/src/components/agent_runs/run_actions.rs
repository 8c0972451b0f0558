//! A run's Cancel, Retry and Dismiss buttons: only those the server would accept from the
//! signed-in user ([`RunActions`], the server's own rule: viewers none, operators on their
//! own runs, admins on all).

use caseyos_domain::agent_run::RunStatus;
use caseyos_domain::api::RunActions;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct RunActionButtonsProps {
    pub status: RunStatus,
    /// What the user may do with the run now.
    pub actions: RunActions,
    /// A retry is in flight.
    pub retrying: bool,
    pub on_cancel: Callback<MouseEvent>,
    pub on_retry: Callback<MouseEvent>,
    pub on_dismiss: Callback<MouseEvent>,
}

/// Cancel while the run has not finished; Retry and Dismiss once it failed, timed out or
/// was cancelled (a run that succeeded needs neither). Nothing when none applies.
pub fn run_action_buttons(props: &RunActionButtonsProps) -> Html {
    let actions = props.actions;
    let ended_badly = props.status.may_retry();
    let retry = actions.retry;
    let dismiss = actions.dismiss && ended_badly;
    if !(actions.cancel || retry || dismiss) {
        return html! {};
    }
    let cancelling = props.status == RunStatus::Cancelling;
    html! {
        <div class="actions" role="group" aria-label="Run actions">
            if actions.cancel {
                <button type="button" class="button danger" disabled={cancelling}
                        onclick={props.on_cancel.clone()}>
                    { if cancelling { "Cancelling…" } else { "Cancel…" } }
                </button>
            }
            if retry {
                <button type="button" class="button primary" disabled={props.retrying}
                        onclick={props.on_retry.clone()}>
                    { if props.retrying { "Retrying…" } else { "Retry" } }
                </button>
            }
            if dismiss {
                <button type="button" class="button" onclick={props.on_dismiss.clone()}>
                    { "Dismiss…" }
                </button>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{agent_run, mount};
    use caseyos_domain::api::Role;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// The view as a component, to mount it.
    #[component]
    fn Host(props: &RunActionButtonsProps) -> Html {
        run_action_buttons(props)
    }

    /// The buttons shown to `user` (signed in as `role`) for casey's run in `status`.
    async fn buttons(status: RunStatus, role: Role, user: &str) -> Vec<String> {
        let run = agent_run(status, "casey");
        let root = mount::<Host>(RunActionButtonsProps {
            status,
            actions: RunActions::of(&run, role, user),
            retrying: false,
            on_cancel: Callback::noop(),
            on_retry: Callback::noop(),
            on_dismiss: Callback::noop(),
        })
        .await;
        let found = root.query_selector_all("button").unwrap();
        (0..found.length())
            .filter_map(|i| found.get(i)?.text_content())
            .collect()
    }

    #[wasm_bindgen_test]
    async fn only_the_buttons_the_server_accepts_from_this_user_show() {
        // (status of casey's run, role, user, buttons)
        let table: [(RunStatus, Role, &str, &[&str]); 9] = [
            (RunStatus::Failed, Role::Viewer, "casey", &[]),
            (
                RunStatus::Failed,
                Role::Operator,
                "casey",
                &["Retry", "Dismiss…"],
            ),
            (RunStatus::Failed, Role::Operator, "alex", &[]),
            (
                RunStatus::Failed,
                Role::Admin,
                "alex",
                &["Retry", "Dismiss…"],
            ),
            (RunStatus::Running, Role::Operator, "casey", &["Cancel…"]),
            (RunStatus::Running, Role::Operator, "alex", &[]),
            (RunStatus::Queued, Role::Admin, "alex", &["Cancel…"]),
            (
                RunStatus::Cancelling,
                Role::Operator,
                "casey",
                &["Cancelling…"],
            ),
            (RunStatus::Succeeded, Role::Admin, "alex", &[]),
        ];
        for (status, role, user, expected) in table {
            assert_eq!(
                buttons(status, role, user).await,
                expected,
                "{status:?} run of casey, seen by {user} ({role})"
            );
        }
    }
}
