//! A dialog that traps focus, closes on Escape, and gives focus back when it closes; and the
//! confirmation that irreversible actions ask for.

use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent};
use yew::functional::{Hook, HookContext};
use yew::prelude::*;

use super::fields::button;

use super::status::error_view;
use crate::api::audit::Aggregate;
use crate::api::ApiError;
use caseyos_domain::api::{AgentInfo, AuditResponse, EditQueueItemRequest, SnoozeQueueItemRequest};
use caseyos_domain::queue::QueueItemView;
use serde_json::Value;

#[derive(Properties, PartialEq)]
pub struct ModalProps {
    pub title: AttrValue,
    pub on_close: Callback<()>,
    #[prop_or_default]
    pub children: Html,
    /// `dialog` for forms; `alertdialog` for confirmations.
    #[prop_or(AttrValue::from("dialog"))]
    pub role: AttrValue,
}

const FOCUSABLE: &str =
    "a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

fn focusables(root: &web_sys::Element) -> Vec<HtmlElement> {
    let Ok(nodes) = root.query_selector_all(FOCUSABLE) else {
        return vec![];
    };
    (0..nodes.length())
        .filter_map(|i| nodes.get(i))
        .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
        .collect()
}

#[hook]
pub fn use_modal(props: &ModalProps) -> Html {
    let panel = use_node_ref();
    let title_id = use_memo((), |_| {
        format!("dialog-{}", js_sys::Math::random().to_bits())
    });

    // Focus the first control on open; give focus back to what had it on close.
    {
        let panel = panel.clone();
        use_effect_with((), move |_| {
            let previous = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .and_then(|e| e.dyn_into::<HtmlElement>().ok());
            if let Some(root) = panel.cast::<web_sys::Element>() {
                if let Some(first) = focusables(&root).first() {
                    let _ = first.focus();
                }
            }
            move || {
                if let Some(previous) = previous {
                    let _ = previous.focus();
                }
            }
        });
    }

    let onkeydown = {
        let panel = panel.clone();
        let on_close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                e.stop_propagation();
                on_close.emit(());
                return;
            }
            if e.key() != "Tab" {
                return;
            }
            let Some(root) = panel.cast::<web_sys::Element>() else {
                return;
            };
            let items = focusables(&root);
            let (Some(first), Some(last)) = (items.first(), items.last()) else {
                return;
            };
            let active = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element());
            let at = |el: &HtmlElement| {
                active
                    .as_ref()
                    .is_some_and(|a| a == el.unchecked_ref::<web_sys::Element>())
            };
            if e.shift_key() && at(first) {
                e.prevent_default();
                let _ = last.focus();
            } else if !e.shift_key() && at(last) {
                e.prevent_default();
                let _ = first.focus();
            }
        })
    };
    let on_backdrop = {
        let on_close = props.on_close.clone();
        Callback::from(move |_| on_close.emit(()))
    };
    let stop = Callback::from(|e: MouseEvent| e.stop_propagation());

    html! {
        <div class="backdrop" onclick={on_backdrop}>
            <div class="modal" role={props.role.clone()} aria-modal="true"
                 aria-labelledby={(*title_id).clone()} ref={panel} {onkeydown} onclick={stop}>
                <h2 id={(*title_id).clone()}>{ props.title.clone() }</h2>
                { props.children.clone() }
            </div>
        </div>
    }
}

/// A dialog titled `title` showing `children` (`role`: `dialog` for forms, `alertdialog` for
/// confirmations), as a view of [`HookedView`].
pub fn modal(
    title: AttrValue,
    on_close: &Callback<()>,
    role: &'static str,
    children: Html,
) -> Html {
    let props = ModalProps {
        title,
        on_close: on_close.clone(),
        children,
        role: role.into(),
    };
    html! { <HookedView key="modal" view={Hooked::Modal(props)} /> }
}

/// A dialog form's submit button: its words, and its words while its request runs.
pub struct Submit {
    pub label: &'static str,
    pub busy_label: &'static str,
    /// `primary` or `danger`.
    pub tone: &'static str,
    pub busy: bool,
    /// Disabled besides while busy (e.g. until the form reads well).
    pub blocked: bool,
}

/// A dialog form's buttons: `extra` ones first, then the one that closes the dialog (saying
/// `dismiss`) and the submit button, disabled while its request runs.
pub fn form_actions(
    extra: Html,
    dismiss: &'static str,
    on_close: &Callback<()>,
    submit: Submit,
) -> Html {
    html! {
        <div class="dialog-actions">
            { extra }
            <button type="button" class="button" onclick={on_close.reform(|_| ())}>{ dismiss }</button>
            <button type="submit" class={classes!("button", submit.tone)} disabled={submit.busy || submit.blocked}>
                { if submit.busy { submit.busy_label } else { submit.label } }
            </button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ConfirmProps {
    pub title: AttrValue,
    pub message: AttrValue,
    pub confirm: AttrValue,
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<ApiError>,
    /// What the dialog shows under the message (a checkbox), if anything.
    #[prop_or_default]
    pub extra: Html,
    pub on_confirm: Callback<()>,
    pub on_close: Callback<()>,
}

pub fn confirm_dialog(props: &ConfirmProps) -> Html {
    html! {
        { modal(props.title.clone(), &props.on_close, "alertdialog", html! { <>
            <p>{ props.message.clone() }</p>
            { props.extra.clone() }
            if let Some(error) = &props.error {
                { error_view(error, None) }
            }
            <div class="dialog-actions">
                { button("button", "Cancel", false, props.on_close.reform(|_| ())) }
                <button type="button" class="button primary" disabled={props.busy}
                        onclick={props.on_confirm.reform(|_| ())}>{ props.confirm.clone() }</button>
            </div>
        </> }) }
    }
}

/// A view with hooks of its own (the frame and its guard, a page, a dialog, a card of a list,
/// "Show newer events"), with its props. Their hooks are run by the function the app registers
/// at start ([`set_views`]: `crate::views::run`), so that this module names no view's module
/// (no module uses one that uses it back) and every view's hooks still run from one place.
#[derive(PartialEq)]
pub enum Hooked {
    Modal(ModalProps),
    /// A page: its route, and how its hooks run (the app's `PageOf`).
    Page(crate::routes::Route, PageView),
    Reject(RejectProps),
    Snooze(SnoozeProps),
    Edit(Box<EditProps>),
    CancelRun(CancelRunProps),
    Palette(PaletteProps),
    Guard(LayoutProps),
    Layout(LayoutProps),
    Run(Box<RunDialogProps>),
    AgentCard(AgentCardProps),
    NewerEvents(NewerEventsProps),
}

/// How a page's hooks run, given its route. The app has one: any two are equal.
pub struct PageView(pub fn(&crate::routes::Route, &mut HookContext) -> Html);

impl PartialEq for PageView {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Runs the hooks of any view but a dialog's frame and a page.
pub type Views = fn(&Hooked, &mut HookContext) -> Html;

thread_local! {
    static VIEWS: std::cell::Cell<Views> = const { std::cell::Cell::new(no_views) };
}

/// Before [`set_views`]: nothing.
fn no_views(_: &Hooked, _: &mut HookContext) -> Html {
    Html::default()
}

/// Registers what runs the views' hooks (the app, before it renders; component tests, before
/// they mount).
pub fn set_views(views: Views) {
    VIEWS.with(|v| v.set(views));
}

#[derive(Properties, PartialEq)]
pub struct HookedProps {
    pub view: Hooked,
}

/// The hooks of the view shown, as a hook of [`HookedView`]'s.
struct HookedOf<'a>(&'a Hooked);

impl Hook for HookedOf<'_> {
    type Output = Html;

    fn run(self, ctx: &mut HookContext) -> Html {
        VIEWS.with(std::cell::Cell::get)(self.0, ctx)
    }
}

fn use_hooked_of(view: &Hooked) -> HookedOf<'_> {
    HookedOf(view)
}

/// Every view with hooks of its own but a page or the frame is this one component (one copy
/// of yew's component lifecycle for all, as pages share `Page`: ARCHITECTURE.md, "The SPA" →
/// Size). Key it by the view's kind (and which one, in a list), so that another starts afresh.
#[component]
pub fn HookedView(props: &HookedProps) -> Html {
    use_hooked_of(&props.view)
}

#[derive(Properties, PartialEq)]
pub struct RejectProps {
    /// How many moves the reason applies to.
    #[prop_or(1)]
    pub count: usize,
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<ApiError>,
    pub on_submit: Callback<String>,
    pub on_close: Callback<()>,
}

#[derive(Properties, PartialEq)]
pub struct SnoozeProps {
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<ApiError>,
    pub on_submit: Callback<SnoozeQueueItemRequest>,
    pub on_close: Callback<()>,
}

#[derive(Properties, PartialEq)]
pub struct EditProps {
    pub item: QueueItemView,
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<ApiError>,
    pub on_submit: Callback<EditQueueItemRequest>,
    pub on_close: Callback<()>,
}

#[derive(Properties, PartialEq)]
pub struct CancelRunProps {
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<ApiError>,
    /// The reason, if one was given.
    pub on_submit: Callback<Option<String>>,
    pub on_close: Callback<()>,
}

#[derive(Properties, PartialEq)]
pub struct PaletteProps {
    pub on_close: Callback<()>,
}

#[derive(Properties, PartialEq)]
pub struct LayoutProps {
    pub children: Html,
}

#[derive(Properties, PartialEq)]
pub struct RunDialogProps {
    pub agent: AgentInfo,
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<ApiError>,
    /// The input, once the form reads well.
    pub on_submit: Callback<Value>,
    pub on_close: Callback<()>,
    /// The dialog's title and its button (default "Run {agent}" and "Run").
    #[prop_or_default]
    pub title: Option<AttrValue>,
    #[prop_or_default]
    pub submit: Option<&'static str>,
    /// What the form starts with (default: nothing).
    #[prop_or_default]
    pub start: Value,
}

#[derive(Properties, PartialEq)]
pub struct AgentCardProps {
    pub agent: AgentInfo,
    /// Viewers see no Run button.
    pub can_run: bool,
    /// A run started here ended: the page reads the agents again at this checkpoint.
    pub on_finished: Callback<String>,
}

#[derive(Properties, PartialEq)]
pub struct NewerEventsProps {
    pub aggregate: Aggregate,
    pub id: AttrValue,
    /// The pages read so far, joined.
    pub history: AuditResponse,
    /// The history with the next page joined on.
    pub on_loaded: Callback<AuditResponse>,
}
