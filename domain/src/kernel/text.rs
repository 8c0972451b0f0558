//! Text a person wrote: a title, a reason, a note.

use serde::Serialize;

/// Trimmed, not empty, and at most the limit its field sets, in characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text(String);

/// The control characters text may hold: tab, line feed, carriage return.
fn allowed_control(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r')
}

/// What [`Text::parse`] accepts, as the OpenAPI document's regular expression (with
/// `maxLength` = the field's limit): no control character but tab, line feed and carriage
/// return, and at least one character that is not whitespace (`char::is_whitespace`, spelled
/// out: engines disagree on `\s`).
pub const TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\t\n\u000b\u000c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

/// What [`Text::parse_optional`] accepts: the same characters, possibly all blank.
pub const OPTIONAL_TEXT_PATTERN: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

impl Text {
    /// Text for a required field: at most `max_chars` characters as sent, no control
    /// characters but tab and line breaks, not blank; kept trimmed.
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, String> {
        Text::check(raw, max_chars)?;
        let text = raw.trim();
        if text.is_empty() {
            return Err("must not be empty".into());
        }
        Ok(Text(text.to_string()))
    }

    /// Text for an optional field: absent or blank is `None`.
    pub fn parse_optional(raw: Option<&str>, max_chars: usize) -> Result<Option<Self>, String> {
        match raw {
            None => Ok(None),
            Some(raw) => {
                Text::check(raw, max_chars)?;
                match raw.trim() {
                    "" => Ok(None),
                    text => Ok(Some(Text(text.to_string()))),
                }
            }
        }
    }

    fn check(raw: &str, max_chars: usize) -> Result<(), String> {
        if raw.chars().count() > max_chars {
            return Err(format!("must be at most {max_chars} characters"));
        }
        if raw.chars().any(|c| c.is_control() && !allowed_control(c)) {
            return Err(
                "must not contain control characters other than tab and line breaks".into(),
            );
        }
        Ok(())
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
        let table: [(&str, usize, Result<&str, &str>); 8] = [
            ("  Not now ", 10, Ok("Not now")),
            ("", 10, Err("must not be empty")),
            ("   ", 10, Err("must not be empty")),
            ("ünïcödé", 7, Ok("ünïcödé")),
            ("eight ch", 7, Err("must be at most 7 characters")),
            ("a\tb\nc", 7, Ok("a\tb\nc")),
            (
                "a\u{1}b",
                7,
                Err("must not contain control characters other than tab and line breaks"),
            ),
            ("  eight ", 7, Err("must be at most 7 characters")),
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
            Text::parse_optional(Some(" note "), 6)
                .unwrap()
                .unwrap()
                .as_str(),
            "note"
        );
        assert!(Text::parse_optional(Some("too long"), 5).is_err());
    }

    /// Strings at every edge of the rules: blank in each kind of whitespace, control
    /// characters, the separators Python counts as whitespace, NUL, non-ASCII.
    pub(crate) fn edge_strings() -> Vec<String> {
        let mut all: Vec<String> = [
            "", " ", "a", " a ", "\t", "\n", "\r\n", "a\tb", "\u{0}", "a\u{0}", "\u{1c}",
            "a\u{1f}", "\u{7f}", "\u{85}", "a\u{9f}", "\u{a0}", "\u{a0}x", "\u{2003}", "\u{2028}",
            "\u{3000}", "\u{feff}", "\u{200b}", "é", "日本", "🙂", "\u{b}", "\u{c}", "x\u{c}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        all.push("x".repeat(10));
        all.push(format!(" {}", "x".repeat(9)));
        all.push("x".repeat(11));
        all
    }

    #[test]
    fn the_documented_patterns_accept_exactly_what_the_parsers_accept() {
        let required = regex::Regex::new(TEXT_PATTERN).unwrap();
        let optional = regex::Regex::new(OPTIONAL_TEXT_PATTERN).unwrap();
        let name = regex::Regex::new(crate::kernel::UserName::PATTERN).unwrap();
        let fits = |s: &str, max: usize| s.chars().count() <= max;
        for s in edge_strings() {
            assert_eq!(
                required.is_match(&s) && fits(&s, 10),
                Text::parse(&s, 10).is_ok(),
                "required {s:?}"
            );
            assert_eq!(
                optional.is_match(&s) && fits(&s, 10),
                Text::parse_optional(Some(&s), 10).is_ok(),
                "optional {s:?}"
            );
            assert_eq!(
                name.is_match(&s) && fits(&s, 128),
                crate::kernel::UserName::parse(&s).is_ok(),
                "name {s:?}"
            );
        }
    }
}
