//! Snooze presets, resolved to an instant in the owner's time zone.

use serde::{Deserialize, Serialize};

/// The hour of day "tomorrow" and "next Monday" resolve to, in the owner's time zone.
pub const SNOOZE_MORNING_HOUR: u32 = 9;

/// A named snooze.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum SnoozePreset {
    /// One hour from now.
    #[serde(rename = "1h")]
    OneHour,
    /// Four hours from now.
    #[serde(rename = "4h")]
    FourHours,
    /// Tomorrow at 09:00 in the owner's time zone.
    #[serde(rename = "tomorrow")]
    Tomorrow,
    /// Next Monday at 09:00 in the owner's time zone (a week ahead when today is Monday).
    #[serde(rename = "next_monday", alias = "next_week")]
    NextMonday,
}

impl SnoozePreset {
    pub const fn as_str(self) -> &'static str {
        match self {
            SnoozePreset::OneHour => "1h",
            SnoozePreset::FourHours => "4h",
            SnoozePreset::Tomorrow => "tomorrow",
            SnoozePreset::NextMonday => "next_monday",
        }
    }
}

/// Resolving presets needs the time-zone database: server-side only, so the SPA stays small.
#[cfg(feature = "server")]
mod resolve {
    use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
    use chrono_tz::Tz;

    use super::{SnoozePreset, SNOOZE_MORNING_HOUR};

    impl SnoozePreset {
        /// The instant this preset means at `now` for an owner in `tz`.
        pub fn resolve(self, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
            match self {
                SnoozePreset::OneHour => now + Duration::hours(1),
                SnoozePreset::FourHours => now + Duration::hours(4),
                SnoozePreset::Tomorrow => {
                    let today = now.with_timezone(&tz).date_naive();
                    morning_of(today + Duration::days(1), tz)
                }
                SnoozePreset::NextMonday => {
                    let today = now.with_timezone(&tz).date_naive();
                    let days_ahead = match today.weekday() {
                        Weekday::Mon => 7,
                        other => 7 - i64::from(other.num_days_from_monday()),
                    };
                    morning_of(today + Duration::days(days_ahead), tz)
                }
            }
        }
    }

    /// 09:00 on `date` in `tz`. On a daylight-saving gap the first valid instant after it.
    fn morning_of(date: chrono::NaiveDate, tz: Tz) -> DateTime<Utc> {
        let mut local = date.and_time(
            NaiveTime::from_hms_opt(SNOOZE_MORNING_HOUR, 0, 0).expect("09:00 is a valid time"),
        );
        // A gap lasts at most a few hours; step forward until the wall time exists.
        for _ in 0..4 {
            if let Some(instant) = tz.from_local_datetime(&local).earliest() {
                return instant.with_timezone(&Utc);
            }
            local += Duration::hours(1);
        }
        Utc.from_utc_datetime(&local)
    }
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use chrono_tz::Tz;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn presets_resolve_in_the_owners_time_zone() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Wednesday 2026-11-18 22:30 UTC is 17:30 in New York, 23:30 in Berlin.
        let now = utc("2026-11-18T22:30:00Z");
        let table = [
            (SnoozePreset::OneHour, Tz::UTC, "2026-11-18T23:30:00Z"),
            (SnoozePreset::FourHours, Tz::UTC, "2026-11-19T02:30:00Z"),
            (SnoozePreset::Tomorrow, Tz::UTC, "2026-11-19T09:00:00Z"),
            (SnoozePreset::Tomorrow, ny, "2026-11-19T14:00:00Z"),
            (SnoozePreset::Tomorrow, berlin, "2026-11-19T08:00:00Z"),
            (SnoozePreset::NextMonday, Tz::UTC, "2026-11-23T09:00:00Z"),
            (SnoozePreset::NextMonday, ny, "2026-11-23T14:00:00Z"),
        ];
        for (preset, tz, expected) in table {
            assert_eq!(preset.resolve(now, tz), utc(expected), "{preset:?} in {tz}");
        }
    }

    #[test]
    fn next_monday_on_a_monday_is_a_week_ahead() {
        let monday = utc("2026-11-23T08:00:00Z");
        assert_eq!(
            SnoozePreset::NextMonday.resolve(monday, Tz::UTC),
            utc("2026-11-30T09:00:00Z")
        );
    }

    #[test]
    fn tomorrow_across_a_daylight_saving_change_is_still_nine_local() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // 2026-11-01 is the US fall-back day; 09:00 EST is 14:00 UTC.
        let now = utc("2026-10-31T20:00:00Z");
        assert_eq!(
            SnoozePreset::Tomorrow.resolve(now, ny),
            utc("2026-11-01T14:00:00Z")
        );
    }

    #[test]
    fn presets_parse_from_their_api_names() {
        for (raw, preset) in [
            ("\"1h\"", SnoozePreset::OneHour),
            ("\"4h\"", SnoozePreset::FourHours),
            ("\"tomorrow\"", SnoozePreset::Tomorrow),
            ("\"next_monday\"", SnoozePreset::NextMonday),
            ("\"next_week\"", SnoozePreset::NextMonday),
        ] {
            assert_eq!(serde_json::from_str::<SnoozePreset>(raw).unwrap(), preset);
        }
    }
}
