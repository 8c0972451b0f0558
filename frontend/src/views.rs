//! The hooks of every view of [`Hooked`], run from this one
//! function (one copy of their code, as one component shows them all). The app registers it
//! at start (`components::modal::set_views`), and so do the component tests that mount a
//! view, so that `components::modal` names none of the views' modules.

use yew::functional::{Hook, HookContext};
use yew::prelude::*;

use crate::components::agent_runs::agent_card::use_agent_card;
use crate::components::agent_runs::cancel_dialog::use_cancel_run_dialog;
use crate::components::agent_runs::run_dialog::use_run_dialog;
use crate::components::audit_events::use_newer_events;
use crate::components::layout::{use_guard, use_layout};
use crate::components::modal::{use_modal, Hooked};
use crate::components::palette::use_palette;
use crate::components::queue::dialogs::{use_edit_dialog, use_reject_dialog, use_snooze_dialog};

/// Runs `view`'s hooks.
pub fn run(view: &Hooked, ctx: &mut HookContext) -> Html {
    match view {
        Hooked::Reject(props) => use_reject_dialog(props).run(ctx),
        Hooked::Snooze(props) => use_snooze_dialog(props).run(ctx),
        Hooked::Edit(props) => use_edit_dialog(props).run(ctx),
        Hooked::CancelRun(props) => use_cancel_run_dialog(props).run(ctx),
        Hooked::Palette(props) => use_palette(props).run(ctx),
        Hooked::Guard(props) => use_guard(props).run(ctx),
        Hooked::Layout(props) => use_layout(props).run(ctx),
        Hooked::Run(props) => use_run_dialog(props).run(ctx),
        Hooked::AgentCard(props) => use_agent_card(props).run(ctx),
        Hooked::NewerEvents(props) => use_newer_events(props).run(ctx),
        Hooked::Modal(props) => use_modal(props).run(ctx),
        Hooked::Page(route, view) => (view.0)(route, ctx),
    }
}
