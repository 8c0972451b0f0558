//! The Contacts route's query: the search, filters, sort and page.

use serde::Serialize;

use super::query::UrlQuery;

/// The Contacts page's search, filters, sort and page, passed to the API as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ContactFilters {
    /// Searches name, email and company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// `active`, `archived` or `merged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `manual`, `import` or `hubspot`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `true`, `false` or `unknown` (never validated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid: Option<String>,
    /// The contacts one CSV import created or updated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_id: Option<String>,
    /// `name`, `-created_at`, `-updated_at`, `last_contacted_at`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// The URL's query: `q=dana&status=active&sort=name`.
impl UrlQuery for ContactFilters {
    fn fields(&mut self) -> Vec<(&'static str, &mut Option<String>)> {
        vec![
            ("q", &mut self.q),
            ("status", &mut self.status),
            ("source", &mut self.source),
            ("valid", &mut self.valid),
            ("import_id", &mut self.import_id),
            ("sort", &mut self.sort),
            ("cursor", &mut self.cursor),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn contact_filters_round_trip_through_the_url() {
        let filters = ContactFilters {
            q: Some("dana lee".into()),
            status: Some("active".into()),
            source: Some("import".into()),
            valid: Some("false".into()),
            import_id: None,
            sort: Some("-updated_at".into()),
            cursor: Some("eyJrIjoxfQ".into()),
        };
        let query = filters.to_query();
        assert_eq!(
            query,
            "q=dana%20lee&status=active&source=import&valid=false&sort=-updated_at\
             &cursor=eyJrIjoxfQ"
        );
        assert_eq!(ContactFilters::from_query(&query), filters);
        assert_eq!(filters.at_page(None).cursor, None);
    }
}
