//! The Queue page's filters, sort and page, kept in the URL so views can be shared.

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
        self.fields()
            .iter()
            .filter_map(|(k, v)| {
                v.as_deref()
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", encode(v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Reads a query string (with or without the leading `?`); unknown keys are ignored.
    pub fn from_query(query: &str) -> Self {
        let mut filters = QueueFilters::default();
        for pair in query
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = Some(decode(value)).filter(|v| !v.is_empty());
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
}
