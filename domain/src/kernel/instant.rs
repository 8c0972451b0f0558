//! RFC 3339 instants read by a small strict reader: `YYYY-MM-DDTHH:MM:SS`, an optional
//! fraction of a second (up to nanoseconds), then `Z` or `±HH:MM` (`T` and `Z` in either
//! case; a space for `T`, as RFC 3339 allows). The server writes every instant this way
//! (chrono's serializer). The SPA reads instants through [`parse`], and on wasm32 the
//! domain's answer types read theirs through [`de`] and [`de_opt`], so chrono's general
//! date parser (about 15 KB of the wasm) is not in the SPA.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer};

/// `text` as an instant, if it is an RFC 3339 date and time.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<u32> {
        let part = b.get(from..from + len)?;
        part.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(at(4, b'-') && at(7, b'-') && matches!(b.get(10), Some(b'T' | b't' | b' '))) {
        return None;
    }
    if !(at(13, b':') && at(16, b':')) {
        return None;
    }
    let year = i32::try_from(digits(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, digits(5, 2)?, digits(8, 2)?)?;
    let (hour, minute, second) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    let mut i = 19;
    let mut nanos = 0u32;
    if at(i, b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        let read = i - start;
        if read == 0 {
            return None;
        }
        nanos *= 10u32.pow(9u32.saturating_sub(read as u32));
    }
    let offset = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && at(i + 3, b':') => {
            let seconds = i32::try_from(digits(i + 1, 2)? * 3600 + digits(i + 4, 2)? * 60).ok()?;
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    // A leap second (:60) is chrono's second 59 with a nanosecond count past one second.
    let (second, nanos) = match second {
        60 => (59, nanos + 1_000_000_000),
        s => (s, nanos),
    };
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    let local = date.and_time(time);
    FixedOffset::east_opt(offset)?
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Reads an instant with [`parse`] (`#[serde(deserialize_with = "…")]`).
pub fn de<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 date and time"))
}

/// Reads an instant or `null` with [`parse`]; goes with `#[serde(default)]`.
pub fn de_opt<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        Some(text) => parse(&text)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom("not an RFC 3339 date and time")),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_chrono_reads_of_rfc_3339_and_refuses_the_rest() {
        let good = [
            "2026-12-01T03:21:17Z",
            "2026-12-01T03:21:17.123456789Z",
            "2026-12-01T03:21:17.1Z",
            "2026-12-01T03:21:17.1234567891Z",
            "2026-12-01t03:21:17z",
            "2026-12-01 03:21:17Z",
            "2026-12-01T03:21:17+01:00",
            "2026-12-01T03:21:17.5-05:30",
            "2024-02-29T00:00:00Z",
            "2016-12-31T23:59:60Z",
            "0001-01-01T00:00:00Z",
        ];
        for text in good {
            let chrono: DateTime<Utc> = DateTime::parse_from_rfc3339(text)
                .unwrap_or_else(|e| panic!("{text}: {e}"))
                .with_timezone(&Utc);
            assert_eq!(parse(text), Some(chrono), "{text}");
        }
        let bad = [
            "",
            "2026-12-01",
            "2026-12-01T03:21:17",
            "2026-12-01T03:21Z",
            "2026-13-01T03:21:17Z",
            "2025-02-29T00:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T03:21:17.Z",
            "2026-12-01T03:21:17+0100",
            "2026-12-01T03:21:17Z ",
            "2026-12-01X03:21:17Z",
            "+2026-12-01T03:21:17Z",
            "2026-1a-01T03:21:17Z",
        ];
        for text in bad {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn serde_reads_an_instant_or_null() {
        #[derive(Deserialize)]
        struct Row {
            #[serde(deserialize_with = "de")]
            at: DateTime<Utc>,
            #[serde(default, deserialize_with = "de_opt")]
            until: Option<DateTime<Utc>>,
        }
        let row: Row = serde_json::from_str(r#"{"at": "2026-12-01T03:21:17Z"}"#).unwrap();
        assert_eq!(row.at, parse("2026-12-01T03:21:17Z").unwrap());
        assert_eq!(row.until, None);
        let row: Row =
            serde_json::from_str(r#"{"at": "2026-12-01T03:21:17Z", "until": null}"#).unwrap();
        assert_eq!(row.until, None);
        let row: Row = serde_json::from_str(
            r#"{"at": "2026-12-01T03:21:17Z", "until": "2026-12-02T00:00:00+01:00"}"#,
        )
        .unwrap();
        assert_eq!(row.until, parse("2026-12-01T23:00:00Z"));
        assert!(serde_json::from_str::<Row>(r#"{"at": "yesterday"}"#).is_err());
    }
}
