//! Keyboard shortcuts: which key does what (independent of the DOM so it can be tested), and
//! the page-wide key listener that reads presses from the browser.

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;

/// What a key press asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    Next,
    Previous,
    Approve,
    Reject,
    Snooze,
    Edit,
    Open,
    ToggleSelect,
    /// Duplicate review: merge the pair, not a duplicate, ignore, preview the merge, and
    /// take the first or second record as the primary.
    Merge,
    NotDuplicate,
    Ignore,
    Preview,
    First,
    Second,
    Help,
    /// Go to Today's Moves (from any page).
    Today,
    Palette,
    Escape,
}

/// A key press as the browser reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Press {
    pub key: String,
    pub ctrl: bool,
    pub meta: bool,
    pub alt: bool,
    /// The focus is in a text field: plain letters are typing, not commands.
    pub typing: bool,
}

/// The shortcut a press means, if any.
pub fn shortcut(press: &Press) -> Option<Shortcut> {
    if (press.ctrl || press.meta) && press.key.eq_ignore_ascii_case("k") {
        return Some(Shortcut::Palette);
    }
    if press.key == "Escape" {
        return Some(Shortcut::Escape);
    }
    if press.typing || press.ctrl || press.meta || press.alt {
        return None;
    }
    match press.key.as_str() {
        "j" | "ArrowDown" => Some(Shortcut::Next),
        "k" | "ArrowUp" => Some(Shortcut::Previous),
        "a" => Some(Shortcut::Approve),
        "r" => Some(Shortcut::Reject),
        "s" => Some(Shortcut::Snooze),
        "e" => Some(Shortcut::Edit),
        "o" | "Enter" => Some(Shortcut::Open),
        "x" => Some(Shortcut::ToggleSelect),
        "m" => Some(Shortcut::Merge),
        "n" => Some(Shortcut::NotDuplicate),
        "i" => Some(Shortcut::Ignore),
        "p" => Some(Shortcut::Preview),
        "1" => Some(Shortcut::First),
        "2" => Some(Shortcut::Second),
        "?" => Some(Shortcut::Help),
        "t" => Some(Shortcut::Today),
        _ => None,
    }
}

/// Whether the keyboard focus is in a text field (letters are typing there).
fn typing_in(event: &KeyboardEvent) -> bool {
    event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || el.has_attribute("contenteditable")
        })
}

fn press_of(event: &KeyboardEvent) -> Press {
    Press {
        key: event.key(),
        ctrl: event.ctrl_key(),
        meta: event.meta_key(),
        alt: event.alt_key(),
        typing: typing_in(event),
    }
}

/// Calls `on_shortcut` for each key press on the page that means a shortcut; when it answers
/// `true` (handled), the browser's own action for the key is prevented. Listens until the
/// listener is dropped.
pub fn on_shortcut(on_shortcut: impl Fn(Shortcut) -> bool + 'static) -> Option<EventListener> {
    let document = web_sys::window()?.document()?;
    Some(EventListener::new_with_options(
        &document,
        "keydown",
        EventListenerOptions::enable_prevent_default(),
        move |event| {
            let Some(event) = event.dyn_ref::<KeyboardEvent>() else {
                return;
            };
            if shortcut(&press_of(event)).is_some_and(&on_shortcut) {
                event.prevent_default();
            }
        },
    ))
}

/// The list the help dialog shows.
pub const HELP: &[(&str, &str)] = &[
    ("j / ↓", "Next move"),
    ("k / ↑", "Previous move"),
    ("a", "Approve"),
    ("r", "Reject with a reason"),
    ("s", "Snooze"),
    ("e", "Edit the draft"),
    ("o / Enter", "Open the move and its history"),
    ("x", "Select for a bulk decision"),
    (
        "1 / 2",
        "Duplicates: the first or second record is the primary",
    ),
    ("p", "Duplicates: preview the merge"),
    ("m", "Duplicates: merge (asks first)"),
    ("n / i", "Duplicates: not a duplicate / ignore"),
    ("t", "Today's Moves, from any page"),
    (
        "[ / ]",
        "Pipeline: move the focused card one stage back / on",
    ),
    ("Ctrl/⌘ K", "Command palette"),
    ("?", "This help"),
    ("Esc", "Close a dialog"),
];

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn key(k: &str) -> Press {
        Press {
            key: k.into(),
            ..Press::default()
        }
    }

    #[wasm_bindgen_test]
    fn letters_map_to_actions_unless_typing() {
        let table = [
            ("j", Some(Shortcut::Next)),
            ("k", Some(Shortcut::Previous)),
            ("a", Some(Shortcut::Approve)),
            ("r", Some(Shortcut::Reject)),
            ("s", Some(Shortcut::Snooze)),
            ("e", Some(Shortcut::Edit)),
            ("?", Some(Shortcut::Help)),
            ("t", Some(Shortcut::Today)),
            ("m", Some(Shortcut::Merge)),
            ("n", Some(Shortcut::NotDuplicate)),
            ("i", Some(Shortcut::Ignore)),
            ("p", Some(Shortcut::Preview)),
            ("1", Some(Shortcut::First)),
            ("2", Some(Shortcut::Second)),
            ("q", None),
        ];
        for (k, expected) in table {
            assert_eq!(shortcut(&key(k)), expected, "{k}");
        }
        let typing = Press {
            typing: true,
            ..key("a")
        };
        assert_eq!(shortcut(&typing), None);
    }

    #[wasm_bindgen_test]
    fn control_k_opens_the_palette_even_while_typing() {
        for (ctrl, meta) in [(true, false), (false, true)] {
            let press = Press {
                key: "k".into(),
                ctrl,
                meta,
                typing: true,
                ..Press::default()
            };
            assert_eq!(shortcut(&press), Some(Shortcut::Palette));
        }
        assert_eq!(
            shortcut(&Press {
                ctrl: true,
                ..key("a")
            }),
            None
        );
    }
}
