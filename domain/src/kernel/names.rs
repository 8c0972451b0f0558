//! User names: the owner of a move, the requester of a run, the subject of a token.

use serde::Serialize;

/// A user name: 1–128 printable characters, trimmed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct UserName(String);

impl UserName {
    pub const MAX_CHARS: usize = 128;

    /// What [`UserName::parse`] accepts, as the OpenAPI document's regular expression (with
    /// `maxLength` 128): no control characters, at least one that is not whitespace.
    pub const PATTERN: &'static str = r"^[^\x00-\x1F\x7F-\x9F]*[^\t\n\u000b\u000c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";

    /// At most 128 characters as sent, none of them a control character, not blank; kept
    /// trimmed.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = raw.trim();
        if name.is_empty()
            || raw.chars().count() > Self::MAX_CHARS
            || raw.chars().any(char::is_control)
        {
            Err("must be 1–128 printable characters")
        } else {
            Ok(UserName(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

super::parsed::deserialize_by_parse!(UserName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_trimmed_printable_and_bounded() {
        assert_eq!(UserName::parse("  casey ").unwrap().as_str(), "casey");
        assert!(UserName::parse(&"a".repeat(128)).is_ok());
        for bad in ["", "   ", "a\u{7}b", &"a".repeat(129)] {
            assert!(UserName::parse(bad).is_err(), "{bad:?}");
        }
    }
}
