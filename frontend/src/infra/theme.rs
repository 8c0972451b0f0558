//! Light, dark (the system's preference by default) and high contrast, remembered in the
//! browser.

use web_sys::window;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(raw: &str) -> Theme {
        match raw {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::System,
        }
    }

    /// The next one in the toggle's cycle.
    pub fn next(self) -> Theme {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appearance {
    pub theme: Theme,
    pub high_contrast: bool,
}

const THEME_KEY: &str = "caseyos.theme";
const CONTRAST_KEY: &str = "caseyos.high_contrast";

fn storage() -> Option<web_sys::Storage> {
    window()?.local_storage().ok()?
}

impl Appearance {
    pub fn load() -> Appearance {
        let storage = storage();
        let get = |key| {
            storage
                .as_ref()
                .and_then(|s| s.get_item(key).ok().flatten())
        };
        Appearance {
            theme: Theme::parse(&get(THEME_KEY).unwrap_or_default()),
            high_contrast: get(CONTRAST_KEY).as_deref() == Some("true"),
        }
    }

    /// Stores the choice and applies it to the document (`data-theme`, `data-contrast`).
    pub fn apply(self) {
        if let Some(storage) = storage() {
            let _ = storage.set_item(THEME_KEY, self.theme.as_str());
            let _ = storage.set_item(
                CONTRAST_KEY,
                if self.high_contrast { "true" } else { "false" },
            );
        }
        let Some(root) = window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        else {
            return;
        };
        match self.theme {
            Theme::System => {
                let _ = root.remove_attribute("data-theme");
            }
            theme => {
                let _ = root.set_attribute("data-theme", theme.as_str());
            }
        }
        if self.high_contrast {
            let _ = root.set_attribute("data-contrast", "high");
        } else {
            let _ = root.remove_attribute("data-contrast");
        }
    }
}
