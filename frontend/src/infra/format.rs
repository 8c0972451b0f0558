//! How times and numbers read in the UI, and the few date and time fields the UI reads.
//!
//! Written by hand rather than with chrono's `format`/`parse_from_str` or float formatting:
//! those bring chrono's whole strftime engine and the float printing tables into the wasm
//! (see README, "The web app": the size budget).

use caseyos_domain::kernel::{Actor, ActorKind};
use caseyos_domain::queue::aps::ApsScore;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};

/// A JSON value as compact JSON text, the same as its `to_string()`, through serde_json's
/// writer to a `String` (which requests use too) rather than a second one to a formatter.
pub fn json(value: &serde_json::Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// "in 2 h", "3 d ago", "now": the distance from `now`, rounded to its largest unit.
pub fn relative(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    let (future, s) = (seconds >= 0, seconds.unsigned_abs());
    if s < 45 {
        return "now".to_string();
    }
    // Each unit rounds to the nearest whole; a value that rounds up to the next unit moves
    // to it ("1 h", not "60 min").
    let (minutes, hours, days) = ((s + 30) / 60, (s + 1_800) / 3_600, (s + 43_200) / 86_400);
    let amount = if minutes < 60 {
        format!("{minutes} min")
    } else if hours < 24 {
        format!("{hours} h")
    } else if days < 30 {
        format!("{days} d")
    } else {
        format!("{} mo", (s + 1_296_000) / 2_592_000)
    };
    if future {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// Overdue means due in the past.
pub fn is_overdue(now: DateTime<Utc>, due: Option<DateTime<Utc>>) -> bool {
    due.is_some_and(|d| d < now)
}

/// An instant in the browser's time zone, to the second: "2026-11-21 13:05:09".
pub fn absolute(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&chrono::Local).naive_local();
    format!("{} {}", day(local.date()), clock(local, true))
}

/// A local date and time as a `datetime-local` input holds it: "2026-11-21T13:05".
pub fn local_minutes(at: NaiveDateTime) -> String {
    format!("{}T{}", day(at.date()), clock(at, false))
}

/// "2026-11-21".
fn day(date: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// "13:05:09", or "13:05" without seconds.
fn clock(at: NaiveDateTime, seconds: bool) -> String {
    if seconds {
        format!("{:02}:{:02}:{:02}", at.hour(), at.minute(), at.second())
    } else {
        format!("{:02}:{:02}", at.hour(), at.minute())
    }
}

/// A day as people and date inputs write it, `YYYY-MM-DD` (month and day may have one
/// digit). Anything else, or a day that does not exist, is `None`.
pub fn read_day(value: &str) -> Option<NaiveDate> {
    let mut parts = value.split('-');
    let year = number(parts.next()?, 4)?;
    let month = number(parts.next()?, 2)?;
    let date = number(parts.next()?, 2)?;
    if parts.next().is_some() {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, date)
}

/// A `datetime-local` value, `YYYY-MM-DDTHH:MM` with optional `:SS`, as a local date and
/// time (no time zone). Anything else, or a time that does not exist, is `None`.
pub fn read_local_datetime(value: &str) -> Option<NaiveDateTime> {
    let (date, time) = value.split_once('T')?;
    let mut parts = time.split(':');
    let hour = number(parts.next()?, 2)?;
    let minute = number(parts.next()?, 2)?;
    let second = parts.next().map_or(Some(0), |s| number(s, 2))?;
    if parts.next().is_some() {
        return None;
    }
    read_day(date)?.and_hms_opt(hour, minute, second)
}

/// A decimal number as `f64::from_str` reads it (`12`, `-1.5`, `.5`, `+2e3`), read by the
/// browser's `Number()` (whose grammar for these characters is the same, and whose rounding
/// is as exact), so that the wasm carries no float parser of its own. `inf`, `NaN`, hex and
/// anything else is `None`.
pub fn read_number(text: &str) -> Option<f64> {
    let decimal = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    // Unary `+` on a string is the same conversion as `Number(text)`.
    let value = decimal.then(|| wasm_bindgen::JsValue::from_str(text).unchecked_into_f64())?;
    (!value.is_nan()).then_some(value)
}

/// One to `max` ASCII digits.
fn number(text: &str, max: usize) -> Option<u32> {
    let digits = (1..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| text.parse().ok()).flatten()
}

/// The browser's current time.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Text in lower case by the browser's rules (`String.prototype.toLowerCase`, the same
/// Unicode mapping as `str::to_lowercase`, without its tables in the wasm).
pub fn lowercase(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

/// `send_email` → "Send email" for display.
pub fn humanize(snake: &str) -> String {
    let mut words = snake.replace('_', " ");
    if let Some(first) = words.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    words
}

/// An APS score as shown on its badge: whole points unless it has a fraction, else one
/// decimal (halves of a tenth round up): "63", "66.5", "66.3" for 66.25.
pub fn score(score: ApsScore) -> String {
    let centi = u32::from(score.centi());
    if centi % 100 == 0 {
        (centi / 100).to_string()
    } else {
        tenths(u64::from((centi + 5) / 10))
    }
}

/// A count of tenths as a decimal with one digit after the point: 12 → "1.2".
fn tenths(tenths: u64) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// A duration in milliseconds as people read it: "850 ms", "1.2 s", "2 min 5 s", "1 h 3 min"
/// (seconds under ten to a tenth, halves rounding up).
pub fn duration(ms: u64) -> String {
    let s = ms / 1_000;
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 10_000 {
        format!("{} s", tenths((ms + 50) / 100))
    } else if s < 60 {
        format!("{s} s")
    } else if s < 3_600 {
        match s % 60 {
            0 => format!("{} min", s / 60),
            rest => format!("{} min {rest} s", s / 60),
        }
    } else {
        match (s % 3_600) / 60 {
            0 => format!("{} h", s / 3_600),
            rest => format!("{} h {rest} min", s / 3_600),
        }
    }
}

/// Who did something, for people: a user by name, an agent or CaseyOS part by kind and name.
pub fn actor(actor: &Actor) -> String {
    match actor.kind {
        ActorKind::User => actor.id.clone(),
        ActorKind::Agent => format!("agent {}", actor.id),
        ActorKind::System => format!("system ({})", actor.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[wasm_bindgen_test]
    fn relative_times_read_naturally_both_ways() {
        let now = at("2026-11-21T12:00:00Z");
        let table = [
            ("2026-11-21T12:00:10Z", "now"),
            ("2026-11-21T12:05:00Z", "in 5 min"),
            ("2026-11-21T12:59:50Z", "in 1 h"),
            ("2026-11-22T11:50:00Z", "in 1 d"),
            ("2026-11-21T11:30:00Z", "30 min ago"),
            ("2026-11-21T14:00:00Z", "in 2 h"),
            ("2026-11-20T12:00:00Z", "1 d ago"),
            ("2026-11-24T12:00:00Z", "in 3 d"),
            ("2027-02-21T12:00:00Z", "in 3 mo"),
        ];
        for (t, expected) in table {
            assert_eq!(relative(now, at(t)), expected, "{t}");
        }
    }

    #[wasm_bindgen_test]
    fn labels_and_scores_format_for_people() {
        assert_eq!(humanize("send_email"), "Send email");
        assert_eq!(lowercase("Ärger im Büro ΣΑΣ"), "ärger im büro σας");
        assert_eq!(humanize("cs_health_check"), "Cs health check");
        for (centi, shown) in [
            (6300, "63"),
            (6650, "66.5"),
            (6625, "66.3"),
            (6624, "66.2"),
            (6397, "64.0"),
            (5, "0.1"),
            (10_000, "100"),
        ] {
            assert_eq!(score(ApsScore::from_centi(centi)), shown, "{centi}");
        }
        let now = at("2026-11-21T12:00:00Z");
        assert!(is_overdue(now, Some(at("2026-11-21T11:00:00Z"))));
        assert!(!is_overdue(now, None));
    }

    #[wasm_bindgen_test]
    fn days_and_local_times_read_and_write_like_the_inputs_that_hold_them() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(read_day("2026-11-21"), Some(day(2026, 11, 21)));
        assert_eq!(read_day("2026-1-5"), Some(day(2026, 1, 5)));
        for bad in [
            "",
            "2026-11",
            "2026-11-21-1",
            "2026-13-01",
            "2026-02-30",
            "20261-01-01",
            "2026-x1-01",
            "2026-11-21T00:00",
            "+2026-11-21",
        ] {
            assert_eq!(read_day(bad), None, "{bad}");
        }
        let at = |h, mi, s| day(2026, 11, 21).and_hms_opt(h, mi, s).unwrap();
        assert_eq!(read_local_datetime("2026-11-21T13:05"), Some(at(13, 5, 0)));
        assert_eq!(
            read_local_datetime("2026-11-21T13:05:09"),
            Some(at(13, 5, 9))
        );
        for bad in [
            "2026-11-21",
            "2026-11-21T13",
            "2026-11-21T24:00",
            "2026-11-21T13:05:09:01",
            "2026-11-21 13:05",
            "2026-11-21T13:5x",
        ] {
            assert_eq!(read_local_datetime(bad), None, "{bad}");
        }
        assert_eq!(local_minutes(at(9, 5, 59)), "2026-11-21T09:05");
        for text in [
            "12", "-1.5", ".5", "5.", "+2e3", "1E-2", "0.1", "007", "1e400",
        ] {
            assert_eq!(read_number(text), text.parse::<f64>().ok(), "{text}");
        }
        for bad in [
            "", "-", ".", "1e", "1.2.3", "+-1", "1e5e", "0x10", "inf", "NaN", "1 000", "1_000",
        ] {
            assert_eq!(read_number(bad), None, "{bad}");
        }
        let shown = absolute(at(13, 5, 9).and_utc());
        assert_eq!(shown.len(), "2026-11-21 13:05:09".len(), "{shown}");
        assert!(
            shown.ends_with(":09") && shown.as_bytes()[10] == b' ',
            "{shown}"
        );
    }

    #[wasm_bindgen_test]
    fn durations_and_actors_read_naturally() {
        let table = [
            (0, "0 ms"),
            (850, "850 ms"),
            (1_240, "1.2 s"),
            (1_250, "1.3 s"),
            (9_949, "9.9 s"),
            (9_950, "10.0 s"),
            (42_000, "42 s"),
            (120_000, "2 min"),
            (125_400, "2 min 5 s"),
            (3_600_000, "1 h"),
            (3_780_000, "1 h 3 min"),
        ];
        for (ms, expected) in table {
            assert_eq!(duration(ms), expected, "{ms}");
        }
        assert_eq!(actor(&Actor::user("casey")), "casey");
        assert_eq!(actor(&Actor::system("scheduler")), "system (scheduler)");
    }
}
