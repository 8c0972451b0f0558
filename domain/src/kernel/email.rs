//! Email addresses.

use serde::Serialize;

/// An email address, lower-cased, of a plausible shape (`local@domain.tld`, the local part a
/// dot-atom of at most 64 characters).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(value_type = String, format = "email"))]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// What [`EmailAddress::parse`] accepts, as the OpenAPI document's regular expression
    /// (beside `format: email`, which also limits the local part to 64 characters):
    /// surrounding whitespace (trimmed), a dot-atom of `A–Z a–z 0–9 _ % + - '`, `@`, two or
    /// more dot-separated labels of letters, digits and inner hyphens, the last of two or
    /// more letters.
    pub const PATTERN: &'static str = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[A-Za-z0-9_%+'-]+(\.[A-Za-z0-9_%+'-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$";

    /// [`EmailAddress::PATTERN`] without the surrounding whitespace: what requests to the
    /// API may send (the document's pattern, beside `format: email`, which also limits the
    /// local part to 64 characters), read by [`EmailAddress::parse_exact`].
    pub const EXACT_PATTERN: &'static str = r"^[A-Za-z0-9_%+'-]+(\.[A-Za-z0-9_%+'-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$";

    /// An address as a request to the API sends it: [`EmailAddress::parse`] without the
    /// trimming (text from files and CRMs is trimmed; a request's field is taken as sent).
    pub fn parse_exact(raw: &str) -> Result<Self, &'static str> {
        if raw.trim() != raw {
            return Err("must not begin or end with spaces");
        }
        EmailAddress::parse(raw)
    }

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let candidate = raw.trim().to_ascii_lowercase();
        let Some((local, domain)) = candidate.split_once('@') else {
            return Err("is not an email address");
        };
        // A dot-atom (RFC 5322): runs of these characters joined by single dots, no dot at
        // either end — what the OpenAPI document's `format: email` also requires.
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local.split('.').all(|atom| {
                !atom.is_empty()
                    && atom
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_%+-'".contains(c))
            });
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && domain.len() <= 253
            && labels.iter().all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if local_ok && domain_ok {
            Ok(EmailAddress(candidate))
        } else {
            Err("is not an email address")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Requests (and stored events, written normalised) are read exactly.
super::parsed::deserialize_by_parse!(EmailAddress, parse_exact);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_validated() {
        assert_eq!(
            EmailAddress::parse(" Dana@Acme.IO ").unwrap().as_str(),
            "dana@acme.io"
        );
        for bad in [
            "dana",
            "dana@",
            "@acme.io",
            "dana@acme",
            "dana@acme.c0m",
            "da na@acme.io",
            "dana.@acme.io",
            ".dana@acme.io",
            "da..na@acme.io",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_pattern_agrees_with_the_parser() {
        let pattern = regex::Regex::new(EmailAddress::PATTERN).unwrap();
        let exact = regex::Regex::new(EmailAddress::EXACT_PATTERN).unwrap();
        for text in [
            "dana@acme.io",
            " Dana.Lee@Acme.IO\u{3000}",
            "\u{85}o'brien+x%y_z-w@sub.acme-co.io",
            "dana.@acme.io",
            ".dana@acme.io",
            "da..na@acme.io",
            "da*na@acme.io",
            "\"da na\"@acme.io",
            "dana@acme",
            "dana@acme.c0m",
            "dana@-acme.io",
            "dana@acme-.io",
            "dana@[10.0.0.1]",
            "dana@acme..io",
            "da na@acme.io",
            "dana@acme.io\u{0}",
            "dana@acme.io ",
            "\u{1680}dana@acme.io\u{200a}",
            "Dana@Acme.IO",
            "",
        ] {
            assert_eq!(
                pattern.is_match(text),
                EmailAddress::parse(text).is_ok(),
                "{text:?}"
            );
            assert_eq!(
                exact.is_match(text),
                EmailAddress::parse_exact(text).is_ok(),
                "exact: {text:?}"
            );
        }
    }
}
