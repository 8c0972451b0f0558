//! A dialog that traps focus, closes on Escape, and gives focus back when it closes.

use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent};
use yew::prelude::*;

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

#[component]
pub fn Modal(props: &ModalProps) -> Html {
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
