//! Instants in an input: RFC 3339 date-times, read strictly.
//!
//! chrono's own `Deserialize` is lenient (a space for `T`, `UTC` for `Z`, an offset without
//! its colon, …), so an input could hold a date-time its schema's `format: date-time`
//! refuses. These fields are read with [`strict`] instead: the shape the schema's
//! [`PATTERN`] spells (upper-case `T` and `Z`, seconds `00`–`59`, an optional fraction, `Z`
//! or `±hh:mm`), then chrono's RFC 3339 parser for what a pattern cannot say (real calendar
//! days, hours below 24, offsets below 24 hours). Together that is exactly what the
//! schema's `format` and `pattern` accept.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

/// The date-times accepted, as a regex; `format: date-time` adds the calendar's rules.
pub const PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$";

const MESSAGE: &str = "must be an RFC 3339 date-time such as 2026-03-01T15:30:00Z";

/// The schema of a date-time field.
pub fn schema() -> Value {
    json!({"type": "string", "format": "date-time", "pattern": PATTERN})
}

/// Whether `text` has the shape [`PATTERN`] spells.
fn has_shape(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |from: usize, to: usize| {
        b.get(from..to)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let head = digits(0, 4)
        && at(4, b'-')
        && digits(5, 7)
        && at(7, b'-')
        && digits(8, 10)
        && at(10, b'T')
        && digits(11, 13)
        && at(13, b':')
        && digits(14, 16)
        && at(16, b':')
        && b.get(17).is_some_and(|c| (b'0'..=b'5').contains(c))
        && digits(18, 19);
    if !head {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest {
        b"Z" => true,
        [sign, h1, h2, b':', m1, m2] => {
            matches!(sign, b'+' | b'-') && [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// Reads an RFC 3339 date-time as the schema describes it.
pub fn parse(text: &str) -> Result<DateTime<Utc>, &'static str> {
    if !has_shape(text) {
        return Err(MESSAGE);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|instant| instant.with_timezone(&Utc))
        .map_err(|_| MESSAGE)
}

/// `#[serde(deserialize_with = "crate::instants::strict")]`
pub fn strict<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).map_err(serde::de::Error::custom)
}

/// `#[serde(default, deserialize_with = "crate::instants::strict_option")]`: `null` is none.
pub fn strict_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| parse(&text).map_err(serde::de::Error::custom))
        .transpose()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Each date-time, and whether jsonschema-rs (the validator schemathesis uses) finds it a
    /// valid `format: date-time` (recorded with jsonschema-rs 0.60.3).
    pub(crate) const FORMAT_VERDICTS: &[(&str, bool)] = &[
        ("2026-03-01T15:30:00Z", true),
        ("2026-03-01T15:30:00.5Z", true),
        ("2026-03-01T15:30:00.123456789123+05:30", true),
        ("2024-02-29T00:00:00Z", true),
        ("2023-02-29T00:00:00Z", false),
        ("2026-04-31T00:00:00Z", false),
        ("2026-13-01T00:00:00Z", false),
        ("2026-00-10T00:00:00Z", false),
        ("2026-01-00T00:00:00Z", false),
        ("0000-01-01T00:00:00Z", true),
        ("9999-12-31T23:59:59Z", true),
        ("2026-03-01T23:59:60Z", true),
        ("2020-12-31T22:59:60-01:00", true),
        ("2020-12-31T12:59:60Z", false),
        ("2026-03-01T15:60:00Z", false),
        ("2026-03-01T24:00:00Z", false),
        ("2026-03-01T15:30:00+23:59", true),
        ("2026-03-01T15:30:00+24:00", false),
        ("2026-03-01T15:30:00-00:60", false),
        ("2026-03-01t15:30:00z", true),
        ("2026-03-01 15:30:00Z", false),
        ("2026-03-01T15:30:00", false),
        ("2026-03-01T15:30Z", false),
        ("2026-03-01T15:30:00.Z", false),
        ("2026-03-01T15:30:00+0530", false),
        ("+2026-03-01T15:30:00Z", false),
        ("2026-3-01T15:30:00Z", false),
        (" 2026-03-01T15:30:00Z", false),
        ("2026-03-01T15:30:00Z ", false),
        ("2026-03-01T15:30:00 UTC", false),
        ("2026-03-01T15:30:00\u{2212}05:00", false),
        ("", false),
        ("x", false),
    ];

    #[test]
    fn parse_accepts_exactly_what_the_format_and_the_pattern_accept() {
        let pattern = regex::Regex::new(PATTERN).expect("compiles");
        for (text, format_ok) in FORMAT_VERDICTS {
            let schema_ok = *format_ok && pattern.is_match(text);
            assert_eq!(parse(text).is_ok(), schema_ok, "{text:?}");
            assert_eq!(has_shape(text), pattern.is_match(text), "{text:?} shape");
        }
    }

    #[test]
    fn an_offset_is_converted_to_utc() {
        let instant = parse("2026-03-01T15:30:00+05:30").expect("valid");
        assert_eq!(instant.to_rfc3339(), "2026-03-01T10:00:00+00:00");
    }
}
