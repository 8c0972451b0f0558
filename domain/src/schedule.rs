//! When a stored schedule is due: its cadence (daily at a wall-clock time in a time zone,
//! hourly at a minute, or every N seconds), the slots it names, the first slot after an
//! instant, and the slots a downtime missed. Pure; the scheduler worker stores the next
//! slot and fires it (server-side only: daily cadences need the time-zone database).
//!
//! Slots are instants every instance computes alike, so a slot names one run across all
//! instances:
//! - `daily` at `HH:MM` in a time zone: that wall-clock time each local day. On a
//!   daylight-saving gap (the time does not exist that day) the slot moves forward by the
//!   gap (02:30 becomes 03:30); on an overlap (the time happens twice) it is the first.
//! - `hourly` at minute `M`: `HH:MM` UTC every hour.
//! - `every` N seconds: the instants that are whole multiples of N seconds since the Unix
//!   epoch (so `every 300` is :00, :05, :10, … of every hour).

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

/// Slots counted when a downtime missed many (beyond it the count says "at least").
pub const MAX_COUNTED_SLOTS: u64 = 100_000;

/// How often a schedule fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cadence {
    /// Every local day at `at` (minutes precision) in `tz`.
    Daily { at: NaiveTime, tz: Tz },
    /// Every week on `weekday` at `at` (local time in `tz`).
    Weekly {
        weekday: Weekday,
        at: NaiveTime,
        tz: Tz,
    },
    /// Every hour at `minute` past (UTC).
    Hourly { minute: u32 },
    /// Every `secs` seconds, anchored at the Unix epoch.
    Every { secs: u32 },
}

/// Why a cadence cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CadenceError {
    #[error("`{0}` is not a time of day as HH:MM")]
    Time(String),
    #[error("`{0}` is not an IANA time zone (e.g. Europe/Berlin)")]
    TimeZone(String),
    #[error("minute {0} is not 0–59")]
    Minute(i64),
    #[error("every {0} seconds: must be 1 to 604800 (a week)")]
    Every(i64),
    #[error("`{0}` is not a kind of schedule (daily, weekly, hourly, every)")]
    Kind(String),
    #[error("weekday {0} is not 1 (Monday) to 7 (Sunday)")]
    Weekday(i64),
}

/// When a schedule is looked at `now` and was due at `due`: the slot to fire (the latest
/// that has come — one run even when a downtime missed several), how many slots have come
/// since `due` (1 when none was missed), and the next slot after `now`. `None` when `due`
/// has not come yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Firing {
    pub slot: DateTime<Utc>,
    pub slots_due: u64,
    pub next_due: DateTime<Utc>,
}

impl Cadence {
    /// A daily cadence from `HH:MM` and an IANA zone name.
    pub fn daily(at: &str, tz: &str) -> Result<Cadence, CadenceError> {
        let time = NaiveTime::parse_from_str(at, "%H:%M")
            .map_err(|_| CadenceError::Time(at.to_string()))?;
        let tz = tz
            .parse::<Tz>()
            .map_err(|_| CadenceError::TimeZone(tz.to_string()))?;
        Ok(Cadence::Daily { at: time, tz })
    }

    /// A weekly cadence: the ISO weekday (1 Monday … 7 Sunday), `HH:MM` and an IANA zone.
    pub fn weekly(weekday: i64, at: &str, tz: &str) -> Result<Cadence, CadenceError> {
        let Cadence::Daily { at, tz } = Cadence::daily(at, tz)? else {
            unreachable!("daily builds a daily cadence")
        };
        let weekday = match weekday {
            1..=7 => Weekday::try_from((weekday - 1) as u8)
                .map_err(|_| CadenceError::Weekday(weekday))?,
            _ => return Err(CadenceError::Weekday(weekday)),
        };
        Ok(Cadence::Weekly { weekday, at, tz })
    }

    pub fn hourly(minute: i64) -> Result<Cadence, CadenceError> {
        match u32::try_from(minute) {
            Ok(minute) if minute < 60 => Ok(Cadence::Hourly { minute }),
            _ => Err(CadenceError::Minute(minute)),
        }
    }

    pub fn every(secs: i64) -> Result<Cadence, CadenceError> {
        match u32::try_from(secs) {
            Ok(secs) if (1..=604_800).contains(&secs) => Ok(Cadence::Every { secs }),
            _ => Err(CadenceError::Every(secs)),
        }
    }

    /// The cadence stored as `kind` with its fields (`at` + `time_zone` for `daily`, and
    /// `weekday` for `weekly`, `minute` for `hourly`, `every_secs` for `every`).
    pub fn from_parts(
        kind: &str,
        at: Option<&str>,
        time_zone: Option<&str>,
        weekday: Option<i64>,
        minute: Option<i64>,
        every_secs: Option<i64>,
    ) -> Result<Cadence, CadenceError> {
        match kind {
            "daily" => Cadence::daily(at.unwrap_or_default(), time_zone.unwrap_or("UTC")),
            "weekly" => Cadence::weekly(
                weekday.unwrap_or(0),
                at.unwrap_or_default(),
                time_zone.unwrap_or("UTC"),
            ),
            "hourly" => Cadence::hourly(minute.unwrap_or(0)),
            "every" => Cadence::every(every_secs.unwrap_or(0)),
            other => Err(CadenceError::Kind(other.to_string())),
        }
    }

    /// `daily`, `hourly` or `every`.
    pub const fn kind(&self) -> &'static str {
        match self {
            Cadence::Daily { .. } => "daily",
            Cadence::Weekly { .. } => "weekly",
            Cadence::Hourly { .. } => "hourly",
            Cadence::Every { .. } => "every",
        }
    }

    /// In words: `daily at 06:00 (Europe/Berlin)`, `hourly at :05 (UTC)`, `every 5 minutes`.
    pub fn describe(&self) -> String {
        match self {
            Cadence::Daily { at, tz } => format!("daily at {} ({tz})", at.format("%H:%M")),
            Cadence::Weekly { weekday, at, tz } => format!(
                "weekly on {} at {} ({tz})",
                weekday_name(*weekday),
                at.format("%H:%M")
            ),
            Cadence::Hourly { minute } => format!("hourly at :{minute:02} (UTC)"),
            Cadence::Every { secs } => {
                let (n, unit) = if secs % 3600 == 0 {
                    (secs / 3600, "hour")
                } else if secs % 60 == 0 {
                    (secs / 60, "minute")
                } else {
                    (*secs, "second")
                };
                if n == 1 {
                    format!("every {unit}")
                } else {
                    format!("every {n} {unit}s")
                }
            }
        }
    }

    /// The latest slot at or before `t`.
    pub fn slot_at_or_before(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        match *self {
            Cadence::Daily { at, tz } => {
                let today = t.with_timezone(&tz).date_naive();
                // Today's slot, else yesterday's (two more days back cover any shift).
                (0..4)
                    .map(|back| {
                        daily_slot(today - Duration::days(back) + Duration::days(1), at, tz)
                    })
                    .find(|slot| *slot <= t)
                    .unwrap_or_else(|| daily_slot(today - Duration::days(3), at, tz))
            }
            Cadence::Weekly { weekday, at, tz } => {
                let today = t.with_timezone(&tz).date_naive();
                // The latest of the last two weeks' slots that has come.
                (-1..16)
                    .map(|back| today - Duration::days(back))
                    .filter(|date| date.weekday() == weekday)
                    .map(|date| daily_slot(date, at, tz))
                    .find(|slot| *slot <= t)
                    .unwrap_or_else(|| daily_slot(today - Duration::days(21), at, tz))
            }
            Cadence::Hourly { minute } => {
                let hour = truncate_to_hour(t);
                let slot = hour + Duration::minutes(i64::from(minute));
                if slot <= t {
                    slot
                } else {
                    slot - Duration::hours(1)
                }
            }
            Cadence::Every { secs } => {
                let secs = i64::from(secs);
                let floor = t.timestamp().div_euclid(secs) * secs;
                DateTime::from_timestamp(floor, 0).unwrap_or(t)
            }
        }
    }

    /// The first slot strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        match *self {
            Cadence::Daily { at, tz } => {
                let today = t.with_timezone(&tz).date_naive();
                (-1..3)
                    .map(|ahead| daily_slot(today + Duration::days(ahead), at, tz))
                    .find(|slot| *slot > t)
                    .unwrap_or_else(|| daily_slot(today + Duration::days(3), at, tz))
            }
            Cadence::Weekly { weekday, at, tz } => {
                let today = t.with_timezone(&tz).date_naive();
                (-1..16)
                    .map(|ahead| today + Duration::days(ahead))
                    .filter(|date| date.weekday() == weekday)
                    .map(|date| daily_slot(date, at, tz))
                    .find(|slot| *slot > t)
                    .unwrap_or_else(|| daily_slot(today + Duration::days(21), at, tz))
            }
            Cadence::Hourly { .. } => self.slot_at_or_before(t) + Duration::hours(1),
            Cadence::Every { secs } => {
                self.slot_at_or_before(t) + Duration::seconds(i64::from(secs))
            }
        }
    }

    /// The firing of a schedule due at `due` and looked at `now` (see [`Firing`]).
    pub fn firing(&self, due: DateTime<Utc>, now: DateTime<Utc>) -> Option<Firing> {
        if due > now {
            return None;
        }
        // `due` is a slot unless the cadence changed since it was stored; then `due` itself
        // is the slot to fire when no slot of the new cadence has come since.
        let slot = self.slot_at_or_before(now).max(due);
        Some(Firing {
            slot,
            slots_due: self.slots_between(due, now).max(1),
            next_due: self.next_after(now),
        })
    }

    /// How many slots lie in `[from, to]` (at most [`MAX_COUNTED_SLOTS`]): the slots a
    /// schedule due at `from` and looked at `to` has come to.
    pub fn slots_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
        if from > to {
            return 0;
        }
        if let Cadence::Every { secs } = *self {
            let first = if self.slot_at_or_before(from) == from {
                from
            } else {
                self.next_after(from)
            };
            if first > to {
                return 0;
            }
            let n = (to - first).num_seconds() / i64::from(secs) + 1;
            return u64::try_from(n).unwrap_or(0).min(MAX_COUNTED_SLOTS);
        }
        let mut slot = if self.slot_at_or_before(from) == from {
            from
        } else {
            self.next_after(from)
        };
        let mut count = 0;
        while slot <= to && count < MAX_COUNTED_SLOTS {
            count += 1;
            slot = self.next_after(slot);
        }
        count
    }
}

/// `at` on local `date` in `tz`: on a gap, stepped forward an hour at a time until the wall
/// time exists; on an overlap, the first.
fn daily_slot(date: NaiveDate, at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let mut local = date.and_time(at);
    for _ in 0..4 {
        if let Some(instant) = tz.from_local_datetime(&local).earliest() {
            return instant.with_timezone(&Utc);
        }
        local += Duration::hours(1);
    }
    Utc.from_utc_datetime(&local)
}

/// The weekday's English name: `Sunday`.
fn weekday_name(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

fn truncate_to_hour(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_minute(0))
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_weekly_cadence_fires_on_its_local_weekday_and_catches_up_once() {
        // Sunday 20:00 in New York: 01:00 UTC on Monday in winter.
        let sunday = Cadence::weekly(7, "20:00", "America/New_York").unwrap();
        assert_eq!(sunday.kind(), "weekly");
        assert_eq!(
            sunday.describe(),
            "weekly on Sunday at 20:00 (America/New_York)"
        );
        let table = [
            (
                "2026-11-30T00:59:59Z",
                "2026-11-30T01:00:00Z",
                "2026-11-23T01:00:00Z",
            ),
            (
                "2026-11-30T01:00:00Z",
                "2026-12-07T01:00:00Z",
                "2026-11-30T01:00:00Z",
            ),
            (
                "2026-12-02T12:00:00Z",
                "2026-12-07T01:00:00Z",
                "2026-11-30T01:00:00Z",
            ),
            // Summer time: 00:00 UTC.
            (
                "2026-07-01T00:00:00Z",
                "2026-07-06T00:00:00Z",
                "2026-06-29T00:00:00Z",
            ),
        ];
        for (at, next, latest) in table {
            assert_eq!(sunday.next_after(utc(at)), utc(next), "after {at}");
            assert_eq!(
                sunday.slot_at_or_before(utc(at)),
                utc(latest),
                "at or before {at}"
            );
        }
        // Down for three weeks: one firing, the latest slot, three slots counted.
        let firing = sunday
            .firing(utc("2026-11-09T01:00:00Z"), utc("2026-11-30T02:00:00Z"))
            .unwrap();
        assert_eq!(firing.slot, utc("2026-11-30T01:00:00Z"));
        assert_eq!(firing.slots_due, 4);
        assert_eq!(firing.next_due, utc("2026-12-07T01:00:00Z"));
        assert_eq!(
            Cadence::weekly(8, "20:00", "UTC"),
            Err(CadenceError::Weekday(8))
        );
        assert_eq!(
            Cadence::from_parts("weekly", Some("20:00"), Some("UTC"), Some(7), None, None),
            Cadence::weekly(7, "20:00", "UTC")
        );
    }

    #[test]
    fn the_next_slot_is_the_first_strictly_after_the_instant() {
        let berlin = Cadence::daily("06:00", "Europe/Berlin").unwrap();
        let ny_0230 = Cadence::daily("02:30", "America/New_York").unwrap();
        let ny_0130 = Cadence::daily("01:30", "America/New_York").unwrap();
        let utc_0630 = Cadence::daily("06:30", "UTC").unwrap();
        let hourly = Cadence::hourly(0).unwrap();
        let hourly_15 = Cadence::hourly(15).unwrap();
        let five_minutes = Cadence::every(300).unwrap();
        let seven_secs = Cadence::every(7).unwrap();
        // (cadence, after, next slot, why)
        let table = [
            (
                utc_0630,
                "2026-12-01T06:00:00Z",
                "2026-12-01T06:30:00Z",
                "later today",
            ),
            (
                utc_0630,
                "2026-12-01T06:30:00Z",
                "2026-12-02T06:30:00Z",
                "strictly after: tomorrow",
            ),
            (
                utc_0630,
                "2026-12-31T23:59:59Z",
                "2027-01-01T06:30:00Z",
                "across a year",
            ),
            (
                berlin,
                "2026-12-01T04:59:00Z",
                "2026-12-01T05:00:00Z",
                "06:00 CET is 05:00 UTC",
            ),
            (
                berlin,
                "2026-07-01T04:00:00Z",
                "2026-07-02T04:00:00Z",
                "06:00 CEST is 04:00 UTC",
            ),
            (
                berlin,
                "2027-03-27T05:00:00Z",
                "2027-03-28T04:00:00Z",
                "spring forward: a 23-hour day",
            ),
            (
                berlin,
                "2026-10-24T04:00:00Z",
                "2026-10-25T05:00:00Z",
                "fall back: a 25-hour day",
            ),
            (
                ny_0230,
                "2027-03-13T08:00:00Z",
                "2027-03-14T07:30:00Z",
                "02:30 does not exist: 03:30 EDT",
            ),
            (
                ny_0230,
                "2027-03-14T07:30:00Z",
                "2027-03-15T06:30:00Z",
                "and 02:30 EDT the day after",
            ),
            (
                ny_0130,
                "2026-11-01T04:00:00Z",
                "2026-11-01T05:30:00Z",
                "01:30 happens twice: the first (EDT)",
            ),
            (
                ny_0130,
                "2026-11-01T05:30:00Z",
                "2026-11-02T06:30:00Z",
                "never the second",
            ),
            (
                hourly,
                "2026-12-01T10:00:00Z",
                "2026-12-01T11:00:00Z",
                "on the hour: the next",
            ),
            (
                hourly,
                "2026-12-01T10:59:59Z",
                "2026-12-01T11:00:00Z",
                "just before",
            ),
            (
                hourly_15,
                "2026-12-01T10:14:00Z",
                "2026-12-01T10:15:00Z",
                "this hour",
            ),
            (
                hourly_15,
                "2026-12-01T10:15:00Z",
                "2026-12-01T11:15:00Z",
                "next hour",
            ),
            (
                hourly_15,
                "2026-12-31T23:20:00Z",
                "2027-01-01T00:15:00Z",
                "across a year",
            ),
            (
                five_minutes,
                "2026-12-01T10:00:00Z",
                "2026-12-01T10:05:00Z",
                "on a slot: the next",
            ),
            (
                five_minutes,
                "2026-12-01T10:04:59.900Z",
                "2026-12-01T10:05:00Z",
                "fractions",
            ),
            (
                seven_secs,
                "1970-01-01T00:00:13Z",
                "1970-01-01T00:00:14Z",
                "anchored at the epoch",
            ),
        ];
        for (cadence, after, next, why) in table {
            assert_eq!(
                cadence.next_after(utc(after)),
                utc(next),
                "{} after {after}: {why}",
                cadence.describe()
            );
        }
    }

    #[test]
    fn the_slot_at_or_before_an_instant_is_the_latest_that_has_come() {
        let berlin = Cadence::daily("06:00", "Europe/Berlin").unwrap();
        let hourly_30 = Cadence::hourly(30).unwrap();
        let five_minutes = Cadence::every(300).unwrap();
        // (cadence, at, slot)
        let table = [
            (berlin, "2026-12-01T05:00:00Z", "2026-12-01T05:00:00Z"),
            (berlin, "2026-12-01T04:59:59Z", "2026-11-30T05:00:00Z"),
            (berlin, "2027-03-28T03:59:00Z", "2027-03-27T05:00:00Z"),
            (hourly_30, "2026-12-01T10:29:00Z", "2026-12-01T09:30:00Z"),
            (hourly_30, "2026-12-01T10:30:00Z", "2026-12-01T10:30:00Z"),
            (five_minutes, "2026-12-01T10:04:59Z", "2026-12-01T10:00:00Z"),
        ];
        for (cadence, at, slot) in table {
            assert_eq!(
                cadence.slot_at_or_before(utc(at)),
                utc(slot),
                "{} at {at}",
                cadence.describe()
            );
        }
    }

    #[test]
    fn after_a_downtime_one_firing_takes_the_latest_slot_and_counts_the_missed_ones() {
        let five_minutes = Cadence::every(300).unwrap();
        let daily = Cadence::daily("06:00", "UTC").unwrap();
        // (cadence, due, now, fired slot, slots come, next due)
        let table = [
            (
                five_minutes,
                "2026-12-01T10:00:00Z",
                "2026-12-01T10:00:01Z",
                "2026-12-01T10:00:00Z",
                1,
                "2026-12-01T10:05:00Z",
            ),
            (
                five_minutes,
                "2026-12-01T10:00:00Z",
                "2026-12-01T10:12:00Z",
                "2026-12-01T10:10:00Z",
                3,
                "2026-12-01T10:15:00Z",
            ),
            (
                daily,
                "2026-12-01T06:00:00Z",
                "2026-12-04T07:00:00Z",
                "2026-12-04T06:00:00Z",
                4,
                "2026-12-05T06:00:00Z",
            ),
            (
                daily,
                "2026-12-01T06:00:00Z",
                "2026-12-01T06:00:00Z",
                "2026-12-01T06:00:00Z",
                1,
                "2026-12-02T06:00:00Z",
            ),
        ];
        for (cadence, due, now, slot, come, next) in table {
            let firing = cadence.firing(utc(due), utc(now)).expect("due");
            let expected = Firing {
                slot: utc(slot),
                slots_due: come,
                next_due: utc(next),
            };
            assert_eq!(
                firing,
                expected,
                "{} due {due}, at {now}",
                cadence.describe()
            );
        }
        assert_eq!(
            five_minutes.firing(utc("2026-12-01T10:05:00Z"), utc("2026-12-01T10:04:59Z")),
            None,
            "not yet due"
        );
    }

    #[test]
    fn cadences_read_in_words_and_refuse_bad_parts() {
        // (cadence, words)
        let table = [
            (Cadence::daily("06:00", "UTC"), "daily at 06:00 (UTC)"),
            (
                Cadence::daily("06:30", "Europe/Berlin"),
                "daily at 06:30 (Europe/Berlin)",
            ),
            (Cadence::hourly(0), "hourly at :00 (UTC)"),
            (Cadence::every(300), "every 5 minutes"),
            (Cadence::every(3600), "every hour"),
            (Cadence::every(90), "every 90 seconds"),
        ];
        for (cadence, words) in table {
            assert_eq!(cadence.unwrap().describe(), words, "{words}");
        }
        assert!(Cadence::daily("6am", "UTC").is_err());
        assert!(Cadence::daily("06:00", "Mars/Olympus").is_err());
        assert!(Cadence::hourly(60).is_err());
        assert!(Cadence::every(0).is_err());
        assert!(Cadence::from_parts("weekly", None, None, None, None, None).is_err());
        assert!(Cadence::from_parts("monthly", None, None, None, None, None).is_err());
        assert_eq!(
            Cadence::from_parts("every", None, None, None, None, Some(300)),
            Cadence::every(300)
        );
    }
}
