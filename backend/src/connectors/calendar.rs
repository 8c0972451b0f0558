//! The Google Calendar client: insert an event with attendees and our execution id as a
//! private extended property, find an event by that property (a retried booking reconciles
//! before inserting again), cancel an event, and free/busy; plus [`first_free_slot`], the
//! pure slot finder (working hours on weekdays in a time zone). The account's OAuth access
//! token is passed in by the caller.
//!
//! **Shapes** (Calendar API v3 reference, developers.google.com/workspace/calendar/api/v3/reference):
//! - `events.insert`: `POST /calendars/{calendarId}/events?sendUpdates=all|externalOnly|none`
//!   with an `Event` `{id?, summary, description, start: {dateTime, timeZone}, end: {…},
//!   attendees: [{email}], extendedProperties: {private: {key: value}}}`, answering the
//!   event `{id, htmlLink, status, …}`. A client-chosen `id` (base32hex: `0-9a-v`, 5–1024
//!   characters) makes a second insert of the same event answer `409 duplicate`
//!   ("Create events" guide), `google_calendar.conflict` here.
//! - `events.list`: `GET /calendars/{calendarId}/events?privateExtendedProperty=key%3Dvalue
//!   &showDeleted=false` ("propertyName=value", repeatable), answering `{items: [Event]}`.
//! - `events.get`: `GET /calendars/{calendarId}/events/{eventId}`, answering the `Event`
//!   with `attendees: [{email, displayName?, responseStatus, self?, organizer?}]`
//!   (`responseStatus`: `needsAction`, `declined`, `tentative`, `accepted`) and `updated`
//!   (RFC 3339); an event deleted for good answers `404` or `410`: `google_calendar.gone`.
//! - `events.delete`: `DELETE /calendars/{calendarId}/events/{eventId}?sendUpdates=…`
//!   (empty answer); an event already deleted answers `410 deleted` (or `404`):
//!   `google_calendar.gone`.
//! - `freebusy.query`: `POST /freeBusy` `{timeMin, timeMax, items: [{id}]}` (RFC 3339),
//!   answering `{calendars: {id: {busy: [{start, end}], errors: [{domain, reason}]}}}`.
//!
//! **Retries.** Reads, free/busy and cancellations repeat on 429, 5xx, timeouts and refused
//! connections; an insert only when Google cannot have acted on it (429 / `403
//! rateLimitExceeded`, a refused connection).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveTime, SecondsFormat, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::call::{url, Answer, CallStats, Caller, Replay, Request};
use super::google::{self, GoogleHooks};
use super::{ConnectorError, Provider};
use crate::config::GoogleConfig;

const PROVIDER: Provider = Provider::GoogleCalendar;

/// The private extended property holding the execution that made an event.
pub const EXECUTION_ID_PROPERTY: &str = "caseyos_execution_id";
/// How far ahead [`first_free_slot`] looks.
pub const SLOT_SEARCH_DAYS: i64 = 28;
/// Slots start on a multiple of this many minutes (every time zone's offset is one).
pub const SLOT_STEP_MINUTES: i64 = 15;

/// Whom Google tells about an insert or a cancellation (`sendUpdates`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendUpdates {
    All,
    ExternalOnly,
    None,
}

impl SendUpdates {
    pub fn as_str(self) -> &'static str {
        match self {
            SendUpdates::All => "all",
            SendUpdates::ExternalOnly => "externalOnly",
            SendUpdates::None => "none",
        }
    }
}

/// An event to insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// Our id for it (base32hex, e.g. a UUID's 32 hex digits): a second insert answers
    /// `google_calendar.conflict` instead of booking twice. `None` lets Google choose.
    pub id: Option<String>,
    pub summary: String,
    pub description: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// An IANA zone (`America/New_York`) the event is shown in.
    pub time_zone: String,
    /// Attendees' addresses.
    pub attendees: Vec<String>,
    /// Written to the private extended property [`EXECUTION_ID_PROPERTY`].
    pub execution_id: String,
}

/// The body `events.insert` sends for `event` (also what a dry run shows).
pub fn event_body(event: &NewEvent) -> Value {
    let time = |at: &DateTime<Utc>| {
        json!({
            "dateTime": at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "timeZone": event.time_zone,
        })
    };
    let mut body = json!({
        "summary": event.summary,
        "start": time(&event.start),
        "end": time(&event.end),
        "attendees": event.attendees.iter().map(|email| json!({"email": email})).collect::<Vec<_>>(),
        "extendedProperties": {"private": {EXECUTION_ID_PROPERTY: event.execution_id}},
    });
    if let Some(description) = &event.description {
        body["description"] = Value::String(description.clone());
    }
    if let Some(id) = &event.id {
        body["id"] = Value::String(id.clone());
    }
    body
}

/// An event as Google answers it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarEvent {
    pub id: String,
    #[serde(default)]
    pub html_link: Option<String>,
    /// `confirmed`, `tentative` or `cancelled`.
    #[serde(default)]
    pub status: Option<String>,
    /// Who is invited and how each answered (read by [`CalendarClient::get_event`]).
    #[serde(default)]
    pub attendees: Vec<Attendee>,
    /// When the event (an answer included) last changed.
    #[serde(default)]
    pub updated: Option<DateTime<Utc>>,
}

/// An invited person and their answer.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub display_name: Option<String>,
    /// `needsAction`, `declined`, `tentative` or `accepted`.
    #[serde(default)]
    pub response_status: String,
    /// The calendar's own account (we, the organizer, are one).
    #[serde(default, rename = "self")]
    pub is_self: bool,
    #[serde(default)]
    pub organizer: bool,
}

/// A busy (or free) time, `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One calendar's free/busy answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CalendarBusy {
    pub busy: Vec<Interval>,
    /// Google's reasons it could not answer for this calendar (`notFound`,
    /// `groupTooBig`, …): its `busy` is then not to be trusted.
    pub errors: Vec<String>,
}

#[derive(Deserialize)]
struct EventList {
    #[serde(default)]
    items: Vec<CalendarEvent>,
}

#[derive(Deserialize)]
struct FreeBusyAnswer {
    #[serde(default)]
    calendars: BTreeMap<String, RawCalendarBusy>,
}

#[derive(Deserialize)]
struct RawCalendarBusy {
    #[serde(default)]
    busy: Vec<Interval>,
    #[serde(default)]
    errors: Vec<RawBusyError>,
}

#[derive(Deserialize)]
struct RawBusyError {
    #[serde(default)]
    reason: String,
}

/// The Google Calendar client of one account.
#[derive(Debug)]
pub struct CalendarClient {
    caller: Caller,
    base: reqwest::Url,
}

impl CalendarClient {
    /// A client at `config.calendar_base_url` sending `Authorization: Bearer
    /// <access_token>`; `connector.not_connected` for a blank token.
    pub fn new(
        config: &GoogleConfig,
        access_token: impl Into<String>,
    ) -> Result<Self, ConnectorError> {
        let (caller, base) = google::caller(
            PROVIDER,
            config,
            &config.calendar_base_url,
            &access_token.into(),
        )?;
        Ok(CalendarClient { caller, base })
    }

    pub fn stats(&self) -> CallStats {
        self.caller.stats()
    }

    /// Inserts `event` into `calendar_id` (`primary` or an address). Not repeated after a
    /// timeout or a 5xx: look for it with
    /// [`find_event_by_private_property`](Self::find_event_by_private_property) first.
    pub async fn insert_event(
        &self,
        calendar_id: &str,
        event: &NewEvent,
        send_updates: SendUpdates,
    ) -> Result<CalendarEvent, ConnectorError> {
        let body = event_body(event);
        self.call(
            "events.insert",
            Method::POST,
            &["calendars", calendar_id, "events"],
            &[("sendUpdates", send_updates.as_str())],
            Some(&body),
            Replay::OnlyIfUnsent,
        )
        .await?
        .json(PROVIDER)
    }

    /// The first event of `calendar_id` (not deleted) whose private extended property `key`
    /// is `value`.
    pub async fn find_event_by_private_property(
        &self,
        calendar_id: &str,
        key: &str,
        value: &str,
    ) -> Result<Option<CalendarEvent>, ConnectorError> {
        let filter = format!("{key}={value}");
        let list: EventList = self
            .call(
                "events.find",
                Method::GET,
                &["calendars", calendar_id, "events"],
                &[
                    ("privateExtendedProperty", filter.as_str()),
                    ("showDeleted", "false"),
                ],
                None,
                Replay::Safe,
            )
            .await?
            .json(PROVIDER)?;
        Ok(list.items.into_iter().next())
    }

    /// One event with its attendees' answers. `google_calendar.gone` when it was deleted
    /// for good (a cancelled event is still answered, with `status: cancelled`).
    pub async fn get_event(
        &self,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<CalendarEvent, ConnectorError> {
        match self
            .call(
                "events.get",
                Method::GET,
                &["calendars", calendar_id, "events", event_id],
                &[],
                None,
                Replay::Safe,
            )
            .await
        {
            Ok(answer) => answer.json(PROVIDER),
            Err(ConnectorError::NotFound { .. }) => {
                Err(ConnectorError::Gone { provider: PROVIDER })
            }
            Err(error) => Err(error),
        }
    }

    /// Cancels (deletes) an event, telling attendees per `send_updates`.
    /// `google_calendar.gone` when it was deleted before or never existed.
    pub async fn cancel_event(
        &self,
        calendar_id: &str,
        event_id: &str,
        send_updates: SendUpdates,
    ) -> Result<(), ConnectorError> {
        let result = self
            .call(
                "events.delete",
                Method::DELETE,
                &["calendars", calendar_id, "events", event_id],
                &[("sendUpdates", send_updates.as_str())],
                None,
                Replay::Safe,
            )
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(ConnectorError::NotFound { .. }) => {
                Err(ConnectorError::Gone { provider: PROVIDER })
            }
            Err(error) => Err(error),
        }
    }

    /// The busy times of each calendar in `[time_min, time_max)`.
    pub async fn free_busy(
        &self,
        time_min: DateTime<Utc>,
        time_max: DateTime<Utc>,
        calendar_ids: &[&str],
    ) -> Result<BTreeMap<String, CalendarBusy>, ConnectorError> {
        let body = json!({
            "timeMin": time_min.to_rfc3339_opts(SecondsFormat::Secs, true),
            "timeMax": time_max.to_rfc3339_opts(SecondsFormat::Secs, true),
            "items": calendar_ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
        });
        let answer: FreeBusyAnswer = self
            .call(
                "freebusy.query",
                Method::POST,
                &["freeBusy"],
                &[],
                Some(&body),
                Replay::Safe,
            )
            .await?
            .json(PROVIDER)?;
        Ok(answer
            .calendars
            .into_iter()
            .map(|(id, raw)| {
                let busy = CalendarBusy {
                    busy: raw.busy,
                    errors: raw.errors.into_iter().map(|e| e.reason).collect(),
                };
                (id, busy)
            })
            .collect())
    }

    async fn call(
        &self,
        operation: &'static str,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
        replay: Replay,
    ) -> Result<Answer, ConnectorError> {
        self.caller
            .call(
                &GoogleHooks(PROVIDER),
                Request {
                    operation,
                    method,
                    url: url(&self.base, segments),
                    query,
                    body,
                    replay,
                    authorization: None,
                },
            )
            .await
    }
}

/// When meetings may be booked: `start` to `end` local time, Monday to Friday, in
/// `time_zone`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkingHours {
    pub time_zone: Tz,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl WorkingHours {
    /// 09:00–17:00 on weekdays.
    pub fn nine_to_five(time_zone: Tz) -> Self {
        WorkingHours {
            time_zone,
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
        }
    }
}

/// The earliest start at or after `from` (rounded up to [`SLOT_STEP_MINUTES`]) of a
/// `duration` that lies within working hours on one weekday and overlaps no busy interval;
/// `None` within [`SLOT_SEARCH_DAYS`] days or for a duration that is not positive. Busy
/// intervals may overlap and come in any order.
pub fn first_free_slot(
    busy: &[Interval],
    from: DateTime<Utc>,
    duration: chrono::Duration,
    hours: &WorkingHours,
) -> Option<DateTime<Utc>> {
    if duration <= chrono::Duration::zero() || hours.end <= hours.start {
        return None;
    }
    let tz = hours.time_zone;
    let first_day = from.with_timezone(&tz).date_naive();
    for offset in 0..=SLOT_SEARCH_DAYS {
        let day = first_day + chrono::Duration::days(offset);
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        // A local time a DST change skips has no instant: the day has no such window.
        let (Some(open), Some(close)) = (
            tz.from_local_datetime(&day.and_time(hours.start))
                .earliest(),
            tz.from_local_datetime(&day.and_time(hours.end)).latest(),
        ) else {
            continue;
        };
        let (open, close) = (open.with_timezone(&Utc), close.with_timezone(&Utc));
        let mut candidate = round_up(from.max(open));
        loop {
            if candidate + duration > close {
                break;
            }
            let conflict = busy
                .iter()
                .filter(|b| b.start < candidate + duration && b.end > candidate)
                .map(|b| b.end)
                .max();
            match conflict {
                Some(end) => candidate = round_up(end),
                None => return Some(candidate),
            }
        }
    }
    None
}

/// Up to the next multiple of [`SLOT_STEP_MINUTES`] (unchanged when on one).
fn round_up(at: DateTime<Utc>) -> DateTime<Utc> {
    let step = SLOT_STEP_MINUTES * 60;
    let seconds = at.timestamp();
    let exact = seconds % step == 0 && at.timestamp_subsec_nanos() == 0;
    let rounded = if exact {
        seconds
    } else {
        (seconds.div_euclid(step) + 1) * step
    };
    DateTime::from_timestamp(rounded, 0).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn busy(start: &str, end: &str) -> Interval {
        Interval {
            start: at(start),
            end: at(end),
        }
    }

    /// (busy, from, duration, hours, slot)
    type Row = (
        Vec<Interval>,
        &'static str,
        chrono::Duration,
        WorkingHours,
        Option<&'static str>,
    );

    #[test]
    fn the_first_free_slot_is_found_in_working_hours_on_weekdays() {
        let utc = WorkingHours::nine_to_five(Tz::UTC);
        let hour = chrono::Duration::hours(1);
        // 2026-12-01 is a Tuesday; 2026-12-05 a Saturday.
        // (busy, from, duration, hours, slot)
        let table: Vec<Row> = vec![
            // Free morning: opening time.
            (
                vec![],
                "2026-12-01T07:00:00Z",
                hour,
                utc,
                Some("2026-12-01T09:00:00Z"),
            ),
            // From inside hours, rounded up to a quarter.
            (
                vec![],
                "2026-12-01T10:07:00Z",
                hour,
                utc,
                Some("2026-12-01T10:15:00Z"),
            ),
            // Busy at the start: after it.
            (
                vec![busy("2026-12-01T09:00:00Z", "2026-12-01T10:30:00Z")],
                "2026-12-01T08:00:00Z",
                hour,
                utc,
                Some("2026-12-01T10:30:00Z"),
            ),
            // A gap too short, overlapping and unordered intervals.
            (
                vec![
                    busy("2026-12-01T11:00:00Z", "2026-12-01T12:00:00Z"),
                    busy("2026-12-01T09:00:00Z", "2026-12-01T10:30:00Z"),
                    busy("2026-12-01T10:00:00Z", "2026-12-01T10:45:00Z"),
                ],
                "2026-12-01T09:00:00Z",
                hour,
                utc,
                Some("2026-12-01T12:00:00Z"),
            ),
            // Too late today: tomorrow morning.
            (
                vec![],
                "2026-12-01T16:30:00Z",
                hour,
                utc,
                Some("2026-12-02T09:00:00Z"),
            ),
            // An hour ending exactly at closing fits.
            (
                vec![],
                "2026-12-01T16:00:00Z",
                hour,
                utc,
                Some("2026-12-01T16:00:00Z"),
            ),
            // Friday evening: Monday.
            (
                vec![],
                "2026-12-04T17:00:00Z",
                hour,
                utc,
                Some("2026-12-07T09:00:00Z"),
            ),
            // Saturday: Monday.
            (
                vec![],
                "2026-12-05T10:00:00Z",
                hour,
                utc,
                Some("2026-12-07T09:00:00Z"),
            ),
            // In New York (UTC-5 in December): 09:00 local is 14:00 UTC.
            (
                vec![],
                "2026-12-01T12:00:00Z",
                hour,
                WorkingHours::nine_to_five(chrono_tz::America::New_York),
                Some("2026-12-01T14:00:00Z"),
            ),
            // Longer than a working day: never.
            (
                vec![],
                "2026-12-01T07:00:00Z",
                chrono::Duration::hours(9),
                utc,
                None,
            ),
            // Not a duration.
            (
                vec![],
                "2026-12-01T07:00:00Z",
                chrono::Duration::zero(),
                utc,
                None,
            ),
        ];
        for (i, (busy, from, duration, hours, slot)) in table.into_iter().enumerate() {
            assert_eq!(
                first_free_slot(&busy, at(from), duration, &hours),
                slot.map(at),
                "row {i}: from {from}"
            );
        }
    }

    #[test]
    fn a_fully_booked_month_has_no_slot() {
        let busy = vec![busy("2026-11-01T00:00:00Z", "2027-02-01T00:00:00Z")];
        let hours = WorkingHours::nine_to_five(Tz::UTC);
        assert_eq!(
            first_free_slot(
                &busy,
                at("2026-12-01T09:00:00Z"),
                chrono::Duration::minutes(30),
                &hours
            ),
            None
        );
    }
}
