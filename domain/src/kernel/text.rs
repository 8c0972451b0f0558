//! Text a person wrote: a title, a reason, a note.

use serde::Serialize;

/// Trimmed, not empty, and at most the limit its field sets, in characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    /// Text for a required field.
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("must not be empty".into());
        }
        if text.chars().count() > max_chars {
            return Err(format!("must be at most {max_chars} characters"));
        }
        Ok(Text(text.to_string()))
    }

    /// Text for an optional field: absent or blank is `None`.
    pub fn parse_optional(raw: Option<&str>, max_chars: usize) -> Result<Option<Self>, String> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => Text::parse(text, max_chars).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_required_and_bounded() {
        // (raw, limit, outcome)
        let table: [(&str, usize, Result<&str, &str>); 5] = [
            ("  Not now ", 10, Ok("Not now")),
            ("", 10, Err("must not be empty")),
            ("   ", 10, Err("must not be empty")),
            ("ünïcödé", 7, Ok("ünïcödé")),
            ("eight ch", 7, Err("must be at most 7 characters")),
        ];
        for (raw, max, expected) in table {
            let parsed = Text::parse(raw, max);
            assert_eq!(
                parsed.as_ref().map(Text::as_str).map_err(String::as_str),
                expected,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn optional_text_treats_blank_as_absent() {
        assert_eq!(Text::parse_optional(None, 5), Ok(None));
        assert_eq!(Text::parse_optional(Some("  "), 5), Ok(None));
        assert_eq!(
            Text::parse_optional(Some(" note "), 5)
                .unwrap()
                .unwrap()
                .as_str(),
            "note"
        );
        assert!(Text::parse_optional(Some("too long"), 5).is_err());
    }
}
