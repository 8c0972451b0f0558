//! The list pages' filters, sort and page, kept in the URL so views can be shared.

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' | b'*' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&value[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `key=value&…` of the fields that have a value.
fn query_of(fields: &[(&str, &Option<String>)]) -> String {
    fields
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", encode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The decoded `(key, value)` pairs of a query string, empty values as `None`.
fn pairs(query: &str) -> impl Iterator<Item = (&str, Option<String>)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key, Some(decode(value)).filter(|v| !v.is_empty()))
        })
}

/// One value of a query string, decoded.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    pairs(query).find(|(k, _)| *k == key).and_then(|(_, v)| v)
}

/// `?after=<checkpoint>`: a page opened right after a write reads at least that far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct After {
    pub after: String,
}

impl QueueFilters {
    fn fields(&self) -> [(&'static str, &Option<String>); 6] {
        [
            ("status", &self.status),
            ("action_type", &self.action_type),
            ("domain", &self.domain),
            ("owner", &self.owner),
            ("sort", &self.sort),
            ("cursor", &self.cursor),
        ]
    }

    /// `status=pending&sort=-aps` (empty values left out), for the URL and the API alike.
    pub fn to_query(&self) -> String {
        query_of(&self.fields())
    }

    /// Reads a query string (with or without the leading `?`); unknown keys are ignored.
    pub fn from_query(query: &str) -> Self {
        let mut filters = QueueFilters::default();
        for (key, value) in pairs(query) {
            match key {
                "status" => filters.status = value,
                "action_type" => filters.action_type = value,
                "domain" => filters.domain = value,
                "owner" => filters.owner = value,
                "sort" => filters.sort = value,
                "cursor" => filters.cursor = value,
                _ => {}
            }
        }
        filters
    }

    /// The same filters on their first page (any change of filter starts over).
    pub fn first_page(&self) -> Self {
        QueueFilters {
            cursor: None,
            ..self.clone()
        }
    }
}

/// The Runs page's filters and page. `from` and `to` are days (`2026-11-21`, as a date input
/// gives them) or instants (RFC 3339); the API gets instants.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// `true` or `false`; any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dismissed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// A `from`/`to` value as an instant: a day starts at midnight in `tz`; `end` moves a day to
/// the next midnight so the day itself is included. Unreadable values give `None`.
pub fn instant_of<Tz: TimeZone>(value: &str, end: bool, tz: &Tz) -> Option<String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Some(
            at.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        );
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    let day = if end { day.succ_opt()? } else { day };
    let midnight = tz
        .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .earliest()?;
    Some(
        midnight
            .with_timezone(&Utc)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

impl RunFilters {
    fn fields(&self) -> [(&'static str, &Option<String>); 7] {
        [
            ("agent", &self.agent),
            ("status", &self.status),
            ("trigger", &self.trigger),
            ("from", &self.from),
            ("to", &self.to),
            ("dismissed", &self.dismissed),
            ("cursor", &self.cursor),
        ]
    }

    /// The URL's query: `agent=DraftWriter&status=failed&from=2026-11-21`.
    pub fn to_query(&self) -> String {
        query_of(&self.fields())
    }

    /// The API's query: the same, with `from` and `to` as instants (days read in `tz`).
    pub fn api_query<Tz: TimeZone>(&self, tz: &Tz) -> String {
        RunFilters {
            from: self.from.as_deref().and_then(|v| instant_of(v, false, tz)),
            to: self.to.as_deref().and_then(|v| instant_of(v, true, tz)),
            ..self.clone()
        }
        .to_query()
    }

    /// Reads a query string (with or without the leading `?`); unknown keys are ignored.
    pub fn from_query(query: &str) -> Self {
        let mut filters = RunFilters::default();
        for (key, value) in pairs(query) {
            match key {
                "agent" => filters.agent = value,
                "status" => filters.status = value,
                "trigger" => filters.trigger = value,
                "from" => filters.from = value,
                "to" => filters.to = value,
                "dismissed" => filters.dismissed = value,
                "cursor" => filters.cursor = value,
                _ => {}
            }
        }
        filters
    }

    /// The same filters on their first page (any change of filter starts over).
    pub fn first_page(&self) -> Self {
        RunFilters {
            cursor: None,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn filters_round_trip_through_the_url() {
        let filters = QueueFilters {
            status: Some("pending,snoozed".into()),
            owner: Some("*".into()),
            sort: Some("-due_by".into()),
            cursor: Some("eyJrZXkiOiJhcHMifQ".into()),
            ..QueueFilters::default()
        };
        let query = filters.to_query();
        assert_eq!(
            query,
            "status=pending,snoozed&owner=*&sort=-due_by&cursor=eyJrZXkiOiJhcHMifQ"
        );
        assert_eq!(QueueFilters::from_query(&format!("?{query}")), filters);
    }

    #[wasm_bindgen_test]
    fn odd_characters_are_escaped_and_unknown_keys_ignored() {
        let filters = QueueFilters {
            owner: Some("dana lee&co".into()),
            ..QueueFilters::default()
        };
        assert_eq!(filters.to_query(), "owner=dana%20lee%26co");
        assert_eq!(
            QueueFilters::from_query("owner=dana%20lee%26co&utm=x"),
            filters
        );
        assert_eq!(QueueFilters::from_query(""), QueueFilters::default());
        assert_eq!(filters.first_page().cursor, None);
    }

    #[wasm_bindgen_test]
    fn run_filters_round_trip_through_the_url() {
        let filters = RunFilters {
            agent: Some("DraftWriter".into()),
            status: Some("failed".into()),
            trigger: Some("schedule".into()),
            from: Some("2026-11-20".into()),
            to: Some("2026-11-21".into()),
            dismissed: Some("false".into()),
            cursor: Some("eyJrIjoxfQ".into()),
        };
        let query = filters.to_query();
        assert_eq!(
            query,
            "agent=DraftWriter&status=failed&trigger=schedule&from=2026-11-20&to=2026-11-21\
             &dismissed=false&cursor=eyJrIjoxfQ"
        );
        assert_eq!(RunFilters::from_query(&format!("?{query}")), filters);
        assert_eq!(RunFilters::from_query("status=&x=1"), RunFilters::default());
        assert_eq!(filters.first_page().cursor, None);
        // What yew-router writes (serde_urlencoded) reads back the same.
        let by_router = "agent=Draft+Writer&from=2026-11-20T09%3A00%3A00%2B01%3A00";
        let read = RunFilters::from_query(by_router);
        assert_eq!(read.agent.as_deref(), Some("Draft Writer"));
        assert_eq!(read.from.as_deref(), Some("2026-11-20T09:00:00+01:00"));
        assert_eq!(
            query_value("?after=12.3&x=1", "after").as_deref(),
            Some("12.3")
        );
        assert_eq!(query_value("after=", "after"), None);
    }

    #[wasm_bindgen_test]
    fn days_become_instants_for_the_api() {
        let filters = RunFilters {
            status: Some("failed".into()),
            from: Some("2026-11-20".into()),
            to: Some("2026-11-21".into()),
            ..RunFilters::default()
        };
        assert_eq!(
            filters.api_query(&Utc),
            "status=failed&from=2026-11-20T00%3A00%3A00Z&to=2026-11-22T00%3A00%3A00Z"
        );
        let paris = chrono::FixedOffset::east_opt(3_600).unwrap();
        assert_eq!(
            instant_of("2026-11-20", false, &paris).as_deref(),
            Some("2026-11-19T23:00:00Z")
        );
        assert_eq!(
            instant_of("2026-11-20T09:00:00+01:00", true, &paris).as_deref(),
            Some("2026-11-20T08:00:00Z")
        );
        assert_eq!(instant_of("yesterday", false, &Utc), None);
        let junk = RunFilters {
            to: Some("soon".into()),
            ..RunFilters::default()
        };
        assert_eq!(junk.api_query(&Utc), "");
    }
}
