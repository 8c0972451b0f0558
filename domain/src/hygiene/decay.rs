//! Data decay: how long since anyone touched a contact (seed-system §2.9 "Data decay").
//!
//! Only instants are compared (`DateTime<Utc>`): a time stamp written with `Z` or an offset
//! is parsed into one before it gets here, so the seed's crash (a naive "now" minus an aware
//! time) cannot happen.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A contact untouched this many days is stale.
pub const STALE_AFTER_DAYS: i64 = 90;
/// … decayed.
pub const DECAYED_AFTER_DAYS: i64 = 180;
/// … a zombie.
pub const ZOMBIE_AFTER_DAYS: i64 = 365;

/// How fresh a contact's data is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DecayLevel {
    /// Touched within [`STALE_AFTER_DAYS`].
    Fresh,
    /// [`STALE_AFTER_DAYS`] up to [`DECAYED_AFTER_DAYS`].
    Stale,
    /// [`DECAYED_AFTER_DAYS`] up to [`ZOMBIE_AFTER_DAYS`].
    Decayed,
    /// [`ZOMBIE_AFTER_DAYS`] or more.
    Zombie,
}

impl DecayLevel {
    /// The level of a contact untouched for `days` whole days.
    pub fn for_days(days: i64) -> DecayLevel {
        if days >= ZOMBIE_AFTER_DAYS {
            DecayLevel::Zombie
        } else if days >= DECAYED_AFTER_DAYS {
            DecayLevel::Decayed
        } else if days >= STALE_AFTER_DAYS {
            DecayLevel::Stale
        } else {
            DecayLevel::Fresh
        }
    }

    /// As serialized: `fresh`, `stale`, `decayed`, `zombie`.
    pub fn as_str(self) -> &'static str {
        match self {
            DecayLevel::Fresh => "fresh",
            DecayLevel::Stale => "stale",
            DecayLevel::Decayed => "decayed",
            DecayLevel::Zombie => "zombie",
        }
    }
}

/// A contact's decay at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Decay {
    pub level: DecayLevel,
    /// Whole days from `since` to now (0 when `since` is in the future).
    pub days_since: i64,
    /// The instant counted from: the last activity, or the creation when there was none.
    pub since: DateTime<Utc>,
}

/// The decay at `now` of a contact last active at `last_activity` (none yet: counted from
/// `created_at`).
pub fn decay(
    last_activity: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Decay {
    let since = last_activity.unwrap_or(created_at);
    let days_since = (now - since).num_days().max(0);
    Decay {
        level: DecayLevel::for_days(days_since),
        days_since,
        since,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, FixedOffset, TimeZone};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .with_timezone(&Utc)
    }

    #[test]
    fn each_threshold_starts_its_level_to_the_second() {
        let now = at("2026-05-09T12:00:00Z");
        let day = Duration::days(1);
        let second = Duration::seconds(1);
        // (label, time since the last activity, level, whole days)
        let table = [
            ("just now", Duration::zero(), DecayLevel::Fresh, 0),
            (
                "one second short of a day",
                day - second,
                DecayLevel::Fresh,
                0,
            ),
            ("89 days", day * 89, DecayLevel::Fresh, 89),
            (
                "a second short of 90 days",
                day * 90 - second,
                DecayLevel::Fresh,
                89,
            ),
            ("90 days", day * 90, DecayLevel::Stale, 90),
            ("179 days", day * 179, DecayLevel::Stale, 179),
            ("180 days", day * 180, DecayLevel::Decayed, 180),
            ("364 days", day * 364, DecayLevel::Decayed, 364),
            (
                "a second short of 365 days",
                day * 365 - second,
                DecayLevel::Decayed,
                364,
            ),
            ("365 days", day * 365, DecayLevel::Zombie, 365),
            ("ten years", day * 3650, DecayLevel::Zombie, 3650),
            ("in the future (clock skew)", -day, DecayLevel::Fresh, 0),
        ];
        let created = now - day * 5000;
        for (label, ago, level, days) in table {
            let since = now - ago;
            let got = decay(Some(since), created, now);
            assert_eq!(
                got,
                Decay {
                    level,
                    days_since: days,
                    since
                },
                "{label}"
            );
        }
    }

    #[test]
    fn without_activity_the_creation_counts() {
        let now = at("2026-05-09T12:00:00Z");
        // (label, last activity, created, level, the instant used)
        let table = [
            (
                "never active, created 100 days ago",
                None,
                now - Duration::days(100),
                DecayLevel::Stale,
                now - Duration::days(100),
            ),
            (
                "never active, created today",
                None,
                now,
                DecayLevel::Fresh,
                now,
            ),
            (
                "active 10 days ago, created 400 days ago",
                Some(now - Duration::days(10)),
                now - Duration::days(400),
                DecayLevel::Fresh,
                now - Duration::days(10),
            ),
        ];
        for (label, last, created, level, since) in table {
            let got = decay(last, created, now);
            assert_eq!((got.level, got.since), (level, since), "{label}");
        }
    }

    #[test]
    fn hubspot_time_stamps_with_z_and_offsets_give_the_right_level() {
        // The seed crashed on these (a naive "now" minus an aware time).
        let now = at("2026-04-02T03:04:05Z");
        // (time stamp as a CRM sends it, level at `now`, whole days)
        let table = [
            ("2026-01-02T03:04:05Z", DecayLevel::Stale, 90),
            ("2026-01-02T03:04:05.123Z", DecayLevel::Fresh, 89),
            // 05:04:05 at +02:00 is 03:04:05 UTC: the same instant as the first row.
            ("2026-01-02T05:04:05+02:00", DecayLevel::Stale, 90),
            // 06:04:05 at +02:00 is 04:04:05 UTC: an hour later, so not yet 90 days.
            ("2026-01-02T06:04:05+02:00", DecayLevel::Fresh, 89),
            ("2025-04-02T03:04:05-05:00", DecayLevel::Decayed, 364),
            ("2025-04-01T22:04:05-05:00", DecayLevel::Zombie, 365),
        ];
        for (text, level, days) in table {
            let got = decay(Some(at(text)), at("2020-01-01T00:00:00Z"), now);
            assert_eq!((got.level, got.days_since), (level, days), "{text}");
        }
        // The same instant however it is written.
        let offset = FixedOffset::east_opt(2 * 3600).expect("an offset");
        assert_eq!(
            at("2026-01-02T05:04:05+02:00"),
            offset
                .with_ymd_and_hms(2026, 1, 2, 5, 4, 5)
                .single()
                .expect("a time")
                .with_timezone(&Utc)
        );
    }

    #[test]
    fn levels_serialize_in_snake_case() {
        for (level, text) in [
            (DecayLevel::Fresh, "\"fresh\""),
            (DecayLevel::Stale, "\"stale\""),
            (DecayLevel::Decayed, "\"decayed\""),
            (DecayLevel::Zombie, "\"zombie\""),
        ] {
            assert_eq!(serde_json::to_string(&level).unwrap(), text, "{level:?}");
            assert_eq!(format!("\"{}\"", level.as_str()), text, "{level:?}");
        }
    }
}
