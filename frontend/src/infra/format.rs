//! How times and numbers read in the UI.

use caseyos_domain::kernel::{Actor, ActorKind};
use chrono::{DateTime, Utc};

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
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The browser's current time.
pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// `send_email` → "Send email" for display.
pub fn humanize(snake: &str) -> String {
    let mut words = snake.replace('_', " ");
    if let Some(first) = words.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    words
}

/// An APS score as shown on its badge: whole points unless it has a fraction.
pub fn score(value: f64) -> String {
    if (value - value.round()).abs() < 0.005 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// A duration in milliseconds as people read it: "850 ms", "1.2 s", "2 min 5 s", "1 h 3 min".
pub fn duration(ms: u64) -> String {
    let s = ms / 1_000;
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 10_000 {
        format!("{:.1} s", ms as f64 / 1_000.0)
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
        assert_eq!(humanize("cs_health_check"), "Cs health check");
        assert_eq!(score(63.0), "63");
        assert_eq!(score(66.5), "66.5");
        let now = at("2026-11-21T12:00:00Z");
        assert!(is_overdue(now, Some(at("2026-11-21T11:00:00Z"))));
        assert!(!is_overdue(now, None));
    }

    #[wasm_bindgen_test]
    fn durations_and_actors_read_naturally() {
        let table = [
            (0, "0 ms"),
            (850, "850 ms"),
            (1_240, "1.2 s"),
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
