//! The Runs route's query (filters and page) and the Run route's `?after=`.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

use super::query::UrlQuery;
use crate::infra::format::read_day;

/// The Runs page's filters and page. `from` and `to` are days (`2026-11-21`, as a date input
/// gives them) or instants (RFC 3339); the API gets instants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunFilters {
    pub agent: Option<String>,
    pub status: Option<String>,
    pub trigger: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// `true` or `false`; any when absent.
    pub dismissed: Option<String>,
    pub cursor: Option<String>,
}

/// The URL's query: `agent=DraftWriter&status=failed&from=2026-11-21`.
impl UrlQuery for RunFilters {
    fn fields(&mut self) -> Vec<(&'static str, &mut Option<String>)> {
        vec![
            ("agent", &mut self.agent),
            ("status", &mut self.status),
            ("trigger", &mut self.trigger),
            ("from", &mut self.from),
            ("to", &mut self.to),
            ("dismissed", &mut self.dismissed),
            ("cursor", &mut self.cursor),
        ]
    }
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
    let day = read_day(value)?;
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
    /// The API's query: the URL's, with `from` and `to` as instants (days read in `tz`).
    pub fn api_query<Tz: TimeZone>(&self, tz: &Tz) -> String {
        RunFilters {
            from: self.from.as_deref().and_then(|v| instant_of(v, false, tz)),
            to: self.to.as_deref().and_then(|v| instant_of(v, true, tz)),
            ..self.clone()
        }
        .to_query()
    }
}

/// `after=<checkpoint>`: a page opened right after a write reads at least that far.
pub fn after(checkpoint: &str) -> String {
    super::query::pair("after", checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

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
        assert_eq!(filters.at_page(None).cursor, None);
        // What forms and serde_urlencoded write reads back the same.
        let by_router = "agent=Draft+Writer&from=2026-11-20T09%3A00%3A00%2B01%3A00";
        let read = RunFilters::from_query(by_router);
        assert_eq!(read.agent.as_deref(), Some("Draft Writer"));
        assert_eq!(read.from.as_deref(), Some("2026-11-20T09:00:00+01:00"));
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
