//! Keyboard shortcuts: which key does what, independent of the DOM so it can be tested.

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
    Help,
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
        "?" => Some(Shortcut::Help),
        _ => None,
    }
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
