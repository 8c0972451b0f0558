//! Value types of contacts: sources, lifecycle stages, phones, company domains, statuses.

use serde::{Deserialize, Serialize};

/// Where a contact came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContactSource {
    Manual,
    Import,
    Hubspot,
}

impl ContactSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            ContactSource::Manual => "manual",
            ContactSource::Import => "import",
            ContactSource::Hubspot => "hubspot",
        }
    }
}

/// What changed a contact's fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeSource {
    Manual,
    Import,
    Hubspot,
    /// A merge that absorbed another contact.
    Merge,
    /// An unmerge that undid one.
    Unmerge,
    /// A hygiene agent applying a correction.
    Hygiene,
}

/// HubSpot's lifecycle stages, by their internal values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LifecycleStage {
    Subscriber,
    Lead,
    #[serde(rename = "marketingqualifiedlead")]
    MarketingQualifiedLead,
    #[serde(rename = "salesqualifiedlead")]
    SalesQualifiedLead,
    Opportunity,
    Customer,
    Evangelist,
    Other,
}

impl LifecycleStage {
    pub const ALL: &'static [LifecycleStage] = &[
        LifecycleStage::Subscriber,
        LifecycleStage::Lead,
        LifecycleStage::MarketingQualifiedLead,
        LifecycleStage::SalesQualifiedLead,
        LifecycleStage::Opportunity,
        LifecycleStage::Customer,
        LifecycleStage::Evangelist,
        LifecycleStage::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            LifecycleStage::Subscriber => "subscriber",
            LifecycleStage::Lead => "lead",
            LifecycleStage::MarketingQualifiedLead => "marketingqualifiedlead",
            LifecycleStage::SalesQualifiedLead => "salesqualifiedlead",
            LifecycleStage::Opportunity => "opportunity",
            LifecycleStage::Customer => "customer",
            LifecycleStage::Evangelist => "evangelist",
            LifecycleStage::Other => "other",
        }
    }

    /// The stage named `raw` (its value, ignoring case, spaces, dashes and underscores, or
    /// the short names `mql` and `sql`).
    pub fn parse(raw: &str) -> Option<LifecycleStage> {
        let key: String = raw
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match key.as_str() {
            "mql" => Some(LifecycleStage::MarketingQualifiedLead),
            "sql" => Some(LifecycleStage::SalesQualifiedLead),
            _ => LifecycleStage::ALL
                .iter()
                .copied()
                .find(|stage| stage.as_str() == key),
        }
    }
}

/// A phone number as it was written, and its E.164 form when it parses.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Phone {
    /// The text as entered or imported.
    pub raw: String,
    /// `+14155550100`; `null` when the text is not a phone number we can read.
    pub e164: Option<String>,
}

impl Phone {
    /// A phone as written, with its E.164 form when it reads as a number (North American
    /// numbers without a country code are taken as `+1`); one that does not read is kept
    /// with `e164: None`, for validation to report.
    pub fn read(raw: &str) -> Phone {
        let raw = raw.trim();
        Phone {
            raw: raw.to_string(),
            e164: crate::hygiene::normalise_phone(
                raw,
                crate::hygiene::phone::DEFAULT_COUNTRY_CALLING_CODE,
            )
            .ok(),
        }
    }
}

/// A company's web domain, normalised: lower case, no scheme, `www.`, port or path
/// (`https://www.Acme.com/about` is `acme.com`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CompanyDomain(String);

impl CompanyDomain {
    /// What [`CompanyDomain::parse`] accepts after normalising, as a regular expression.
    pub const PATTERN: &'static str = r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$";

    /// What [`CompanyDomain::parse`] accepts from a request, as the OpenAPI document's
    /// regular expression (with `maxLength` 253): blank (no domain), or a domain in any case,
    /// optionally as a URL with `http://` or `https://`, a trailing dot, a port and a path,
    /// with whitespace around it; never NUL, which the API's body reader refuses anywhere.
    pub const INPUT_PATTERN: &'static str = concat!(
        r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
        r"(([Hh][Tt][Tt][Pp][Ss]?://)?",
        r"([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\.?",
        r"(:[^/?#\u0000]*)?([/?#][^\u0000]*)?)?",
        r"[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
    );
    /// The longest text [`CompanyDomain::INPUT_PATTERN`] is documented with.
    pub const MAX_INPUT_CHARS: usize = 253;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let mut text = raw.trim().to_ascii_lowercase();
        for scheme in ["https://", "http://"] {
            if let Some(rest) = text.strip_prefix(scheme) {
                text = rest.to_string();
            }
        }
        let host = text
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default()
            .split(':')
            .next()
            .unwrap_or_default();
        let host = host.strip_suffix('.').unwrap_or(host);
        // `www.acme.com` is `acme.com`, but `www.com` is a domain of its own.
        let host = match host.strip_prefix("www.") {
            Some(rest) if rest.contains('.') => rest,
            _ => host,
        };
        let labels: Vec<&str> = host.split('.').collect();
        let label_ok = |label: &&str| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        let tld_ok = labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if labels.len() < 2 || host.len() > 253 || !labels.iter().all(label_ok) || !tld_ok {
            return Err("is not a web domain (like acme.com)");
        }
        Ok(CompanyDomain(host.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a contact stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContactStatus {
    Active,
    Archived,
    /// Absorbed by another contact; read-only until unmerged.
    Merged,
}

impl ContactStatus {
    pub const ALL: &'static [ContactStatus] = &[
        ContactStatus::Active,
        ContactStatus::Archived,
        ContactStatus::Merged,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ContactStatus::Active => "active",
            ContactStatus::Archived => "archived",
            ContactStatus::Merged => "merged",
        }
    }

    pub fn parse(raw: &str) -> Option<ContactStatus> {
        ContactStatus::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_domains_are_normalised_or_refused() {
        let table = [
            ("acme.com", Ok("acme.com")),
            ("https://www.Acme.com/about?x=1", Ok("acme.com")),
            ("http://shop.acme.co.uk:8080", Ok("shop.acme.co.uk")),
            ("ACME.IO.", Ok("acme.io")),
            ("www.com", Ok("www.com")),
            ("https://www.com/x", Ok("www.com")),
            ("acme", Err(())),
            ("acme..com", Err(())),
            ("-acme.com", Err(())),
            ("acme.c0m", Err(())),
            ("", Err(())),
            ("acme .com", Err(())),
        ];
        for (raw, expected) in table {
            let got = CompanyDomain::parse(raw);
            match expected {
                Ok(domain) => assert_eq!(got.as_ref().map(|d| d.as_str()), Ok(domain), "{raw:?}"),
                Err(()) => assert!(got.is_err(), "{raw:?} should be refused, got {got:?}"),
            }
        }
    }

    #[test]
    fn the_documented_input_pattern_accepts_what_the_parser_accepts() {
        let pattern = regex::Regex::new(CompanyDomain::INPUT_PATTERN).unwrap();
        let long_label = format!("{}.com", "a".repeat(64));
        let longest_label = format!("{}.com", "a".repeat(63));
        // (text, accepted); blank is accepted as "no domain" by the request's parser.
        let table = [
            ("acme.com", true),
            ("  HTTPS://www.Acme.com:8080/about?x=1#top ", true),
            ("http://acme.io.", true),
            ("www.com", true),
            ("www.acme", true),
            ("sub-1.acme.co.uk/", true),
            ("", true),
            (" \u{3000}", true),
            (longest_label.as_str(), true),
            (long_label.as_str(), false),
            ("acme", false),
            ("acme..com", false),
            ("-acme.com", false),
            ("acme-.com", false),
            ("acme.c0m", false),
            ("acme .com", false),
            ("ftp://acme.com", false),
            ("´", false),
        ];
        for (raw, accepted) in table {
            let parsed = raw.trim().is_empty() || CompanyDomain::parse(raw).is_ok();
            assert_eq!(parsed, accepted, "parser on {raw:?}");
            assert_eq!(pattern.is_match(raw), accepted, "pattern on {raw:?}");
        }
    }

    #[test]
    fn lifecycle_stages_read_values_labels_and_short_names() {
        let table = [
            ("lead", Some(LifecycleStage::Lead)),
            (
                "Sales Qualified Lead",
                Some(LifecycleStage::SalesQualifiedLead),
            ),
            (
                "marketing-qualified-lead",
                Some(LifecycleStage::MarketingQualifiedLead),
            ),
            ("MQL", Some(LifecycleStage::MarketingQualifiedLead)),
            ("customer", Some(LifecycleStage::Customer)),
            ("prospect", None),
        ];
        for (raw, expected) in table {
            assert_eq!(LifecycleStage::parse(raw), expected, "{raw:?}");
        }
    }
}
