//! A person's preferences for the assistant's answers (aggregate `chat_preferences`, one per
//! user): stated in a chat ("I prefer bullet points", "always CET") and found there by
//! [`extract`], or set by hand; shown, editable, and given to the model with every question.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, Ownership, RejectionKind};
use crate::kernel::Actor;

pub const PREFERENCES_EVENT_VERSION: &str = "1";
/// The longest preference value, in characters.
pub const MAX_VALUE_CHARS: usize = 200;
/// The most preferences one person keeps.
pub const MAX_PREFERENCES: usize = 50;

const PREFERENCES_NAMESPACE: Uuid = Uuid::from_u128(0x2b8e_6c41_93d7_4f0a_b5e2_1d6c_7a94_e083);

/// The id of `user`'s preferences.
pub fn preferences_id(user: &str) -> Uuid {
    Uuid::new_v5(&PREFERENCES_NAMESPACE, user.as_bytes())
}

/// A preference's name: lower-case letters, digits and `_`, 1–40 characters (`format`,
/// `timezone`, `tone`, `language`, `length`).
pub fn valid_key(key: &str) -> bool {
    (1..=40).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// One preference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Preference {
    pub key: String,
    pub value: String,
    /// The chat message it was stated in; none when set by hand.
    pub stated_in: Option<Uuid>,
    pub set_at: DateTime<Utc>,
}

/// A person's preferences.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PreferencesView {
    pub user: String,
    /// By key.
    pub items: Vec<Preference>,
    pub version: u64,
}

impl PreferencesView {
    /// For the model: `format: bullet points; timezone: CET`.
    pub fn as_prompt(&self) -> Option<String> {
        (!self.items.is_empty()).then(|| {
            self.items
                .iter()
                .map(|p| format!("{}: {}", p.key, p.value))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum PreferencesCommand {
    Set {
        user: String,
        key: String,
        value: String,
        stated_in: Option<Uuid>,
        by: Actor,
        at: DateTime<Utc>,
    },
    Remove {
        user: String,
        key: String,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PreferencesEvent {
    PreferenceSet {
        user: String,
        key: String,
        value: String,
        stated_in: Option<Uuid>,
        by: Actor,
        at: DateTime<Utc>,
    },
    PreferenceRemoved {
        user: String,
        key: String,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PreferencesError {
    #[error("a preference's name is 1–40 lower-case letters, digits or `_`")]
    BadKey,
    #[error("a preference needs a value of 1 to {MAX_VALUE_CHARS} characters, without control characters other than tab and line breaks")]
    BadValue,
    #[error("at most {MAX_PREFERENCES} preferences")]
    TooMany,
    #[error("no preference {0}")]
    NotFound(String),
}

impl DomainError for PreferencesError {
    fn code(&self) -> &'static str {
        match self {
            PreferencesError::NotFound(_) => "chat.no_such_preference",
            PreferencesError::TooMany => "chat.too_many_preferences",
            _ => "request.validation",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            PreferencesError::BadKey => RejectionKind::Invalid {
                field: "key",
                message: self.to_string(),
            },
            PreferencesError::BadValue => RejectionKind::Invalid {
                field: "value",
                message: self.to_string(),
            },
            PreferencesError::TooMany => RejectionKind::Conflict,
            PreferencesError::NotFound(_) => RejectionKind::NotFound,
        }
    }
}

/// The preferences aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatPreferences {
    pub preferences: Option<PreferencesView>,
}

impl Aggregate for ChatPreferences {
    const TYPE: &'static str = "chat_preferences";
    const EVENT_VERSION: &'static str = PREFERENCES_EVENT_VERSION;
    type Command = PreferencesCommand;
    type Event = PreferencesEvent;
    type Error = PreferencesError;
    type View = PreferencesView;

    fn command_name(command: &PreferencesCommand) -> &'static str {
        match command {
            PreferencesCommand::Set { .. } => "set",
            PreferencesCommand::Remove { .. } => "remove",
        }
    }

    fn event_name(event: &PreferencesEvent) -> &'static str {
        match event {
            PreferencesEvent::PreferenceSet { .. } => "PreferenceSet",
            PreferencesEvent::PreferenceRemoved { .. } => "PreferenceRemoved",
        }
    }

    fn view(&self) -> Option<&PreferencesView> {
        self.preferences.as_ref()
    }

    fn into_view(self) -> Option<PreferencesView> {
        self.preferences
    }

    fn ownership(&self) -> Option<Ownership> {
        self.preferences.as_ref().map(|p| Ownership {
            owner: Actor::user(p.user.clone()),
            disclosed: false,
        })
    }

    fn decide(
        &self,
        command: PreferencesCommand,
    ) -> Result<Vec<PreferencesEvent>, PreferencesError> {
        let current = |key: &str| {
            self.preferences
                .as_ref()
                .and_then(|p| p.items.iter().find(|i| i.key == key))
        };
        match command {
            PreferencesCommand::Set {
                user,
                key,
                value,
                stated_in,
                by,
                at,
            } => {
                if !valid_key(&key) {
                    return Err(PreferencesError::BadKey);
                }
                let value = value.trim().to_string();
                if value.is_empty()
                    || value.chars().count() > MAX_VALUE_CHARS
                    || value
                        .chars()
                        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                {
                    return Err(PreferencesError::BadValue);
                }
                match current(&key) {
                    Some(p) if p.value == value => return Ok(Vec::new()),
                    None if self
                        .preferences
                        .as_ref()
                        .is_some_and(|p| p.items.len() >= MAX_PREFERENCES) =>
                    {
                        return Err(PreferencesError::TooMany)
                    }
                    _ => {}
                }
                Ok(vec![PreferencesEvent::PreferenceSet {
                    user,
                    key,
                    value,
                    stated_in,
                    by,
                    at,
                }])
            }
            PreferencesCommand::Remove { user, key, by, at } => {
                if current(&key).is_none() {
                    return Err(PreferencesError::NotFound(key));
                }
                Ok(vec![PreferencesEvent::PreferenceRemoved {
                    user,
                    key,
                    by,
                    at,
                }])
            }
        }
    }

    fn apply(&mut self, event: PreferencesEvent) {
        let user = match &event {
            PreferencesEvent::PreferenceSet { user, .. }
            | PreferencesEvent::PreferenceRemoved { user, .. } => user.clone(),
        };
        let view = self.preferences.get_or_insert_with(|| PreferencesView {
            user,
            items: Vec::new(),
            version: 0,
        });
        view.version += 1;
        match event {
            PreferencesEvent::PreferenceSet {
                key,
                value,
                stated_in,
                at,
                ..
            } => {
                view.items.retain(|p| p.key != key);
                view.items.push(Preference {
                    key,
                    value,
                    stated_in,
                    set_at: at,
                });
                view.items.sort_by(|a, b| a.key.cmp(&b.key));
            }
            PreferencesEvent::PreferenceRemoved { key, .. } => {
                view.items.retain(|p| p.key != key);
            }
        }
    }
}

/// Time zones people name, and what they are.
const ZONES: &[(&str, &str)] = &[
    ("cet", "CET"),
    ("cest", "CET"),
    ("utc", "UTC"),
    ("gmt", "UTC"),
    ("est", "America/New_York"),
    ("edt", "America/New_York"),
    ("eastern time", "America/New_York"),
    ("cst", "America/Chicago"),
    ("pst", "America/Los_Angeles"),
    ("pdt", "America/Los_Angeles"),
    ("pacific time", "America/Los_Angeles"),
    ("bst", "Europe/London"),
    ("ist", "Asia/Kolkata"),
];

/// The preferences a message states, by rules (no model): a time zone named after
/// "always", "in" or "use" (`always CET`, `times in PST`), a format (`I prefer bullet
/// points`, `tables please`), a length (`keep it short`, `be brief`, `more detail`), a
/// language (`answer in Portuguese`), and anything else after "I prefer" as `style`.
pub fn extract(message: &str) -> Vec<(String, String)> {
    let text = message.to_lowercase();
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric() && c != '/' && c != '_')
        .filter(|w| !w.is_empty())
        .collect();
    let mut found = Vec::new();
    let stated = [
        "always",
        "prefer",
        "please",
        "use ",
        "from now on",
        "times in",
        "time zone",
        "timezone",
    ]
    .iter()
    .any(|cue| text.contains(cue));
    if stated {
        for (name, zone) in ZONES {
            let named = if name.contains(' ') {
                text.contains(name)
            } else {
                words.contains(name)
            };
            if named {
                found.push(("timezone".to_string(), zone.to_string()));
                break;
            }
        }
        if let Some(zone) = words
            .iter()
            .find(|w| w.contains('/') && w.split('/').all(|p| !p.is_empty()))
        {
            if found.is_empty() {
                let zone: String = zone
                    .split('/')
                    .map(|part| {
                        let mut c = part.chars();
                        c.next()
                            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                            .unwrap_or_default()
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                found.push(("timezone".to_string(), zone));
            }
        }
    }
    for (cue, format) in [
        ("bullet point", "bullet points"),
        ("bullets", "bullet points"),
        ("table", "tables"),
        ("numbered list", "numbered lists"),
        ("plain prose", "prose"),
    ] {
        if stated && text.contains(cue) {
            found.push(("format".to_string(), format.to_string()));
            break;
        }
    }
    for (cue, length) in [
        ("keep it short", "short"),
        ("be brief", "short"),
        ("shorter answers", "short"),
        ("more detail", "detailed"),
        ("longer answers", "detailed"),
    ] {
        if text.contains(cue) {
            found.push(("length".to_string(), length.to_string()));
            break;
        }
    }
    for (i, w) in words.iter().enumerate() {
        if (*w == "answer" || *w == "reply" || *w == "write") && words.get(i + 1) == Some(&"in") {
            if let Some(language) = words.get(i + 2) {
                let known = [
                    "english",
                    "portuguese",
                    "spanish",
                    "french",
                    "german",
                    "italian",
                    "dutch",
                ];
                if known.contains(language) {
                    let mut c = language.chars();
                    let name = c
                        .next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default();
                    found.push(("language".to_string(), name));
                }
            }
        }
    }
    if found.is_empty() {
        if let Some(rest) = text.split("i prefer ").nth(1) {
            let style: String = rest
                .trim()
                .trim_end_matches(['.', '!'])
                .chars()
                .take(MAX_VALUE_CHARS)
                .collect();
            if !style.is_empty() {
                found.push(("style".to_string(), style));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    fn set(key: &str, value: &str) -> PreferencesCommand {
        PreferencesCommand::Set {
            user: "casey".into(),
            key: key.into(),
            value: value.into(),
            stated_in: None,
            by: Actor::user("casey"),
            at: t0(),
        }
    }

    fn pairs(found: &[(&str, &str)]) -> Vec<(String, String)> {
        found
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn stated_preferences_are_found_by_rules() {
        assert_eq!(
            extract("I prefer bullet points"),
            pairs(&[("format", "bullet points")])
        );
        assert_eq!(extract("always CET please"), pairs(&[("timezone", "CET")]));
        assert_eq!(
            extract("From now on use Europe/Lisbon times, in a table"),
            pairs(&[("timezone", "Europe/Lisbon"), ("format", "tables")])
        );
        assert_eq!(extract("Keep it short."), pairs(&[("length", "short")]));
        assert_eq!(
            extract("answer in Portuguese"),
            pairs(&[("language", "Portuguese")])
        );
        assert_eq!(
            extract("I prefer a friendly tone."),
            pairs(&[("style", "a friendly tone")])
        );
        // Questions state nothing.
        assert!(extract("What's Acme's revenue in 2025?").is_empty());
        assert!(extract("Is the EST deal at risk?").is_empty());
        assert!(extract("And their employee count?").is_empty());
    }

    #[test]
    fn a_preference_is_set_once_changed_and_removed() {
        let mut prefs = ChatPreferences::default();
        for e in prefs.decide(set("format", "bullet points")).unwrap() {
            prefs.apply(e);
        }
        assert!(prefs
            .decide(set("format", " bullet points "))
            .unwrap()
            .is_empty());
        for e in prefs.decide(set("timezone", "CET")).unwrap() {
            prefs.apply(e);
        }
        let view = prefs.preferences.clone().unwrap();
        assert_eq!(
            view.as_prompt().unwrap(),
            "format: bullet points; timezone: CET"
        );
        assert_eq!(
            prefs.decide(set("Bad Key", "x")),
            Err(PreferencesError::BadKey)
        );
        assert_eq!(
            prefs.decide(set("tone", " ")),
            Err(PreferencesError::BadValue)
        );
        let remove = |key: &str| PreferencesCommand::Remove {
            user: "casey".into(),
            key: key.into(),
            by: Actor::user("casey"),
            at: t0(),
        };
        for e in prefs.decide(remove("format")).unwrap() {
            prefs.apply(e);
        }
        assert_eq!(
            prefs.preferences.as_ref().unwrap().as_prompt().unwrap(),
            "timezone: CET"
        );
        assert_eq!(
            prefs.decide(remove("format")),
            Err(PreferencesError::NotFound("format".into()))
        );
        assert_eq!(preferences_id("casey"), preferences_id("casey"));
        assert_ne!(preferences_id("casey"), preferences_id("alex"));
    }
}
