//! The Queue route's query: its filters, sort and page.

use super::query::UrlQuery;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueFilters {
    pub status: Option<String>,
    pub action_type: Option<String>,
    pub domain: Option<String>,
    pub owner: Option<String>,
    pub sort: Option<String>,
    pub cursor: Option<String>,
}

/// For the URL and the API alike.
impl UrlQuery for QueueFilters {
    fn fields(&mut self) -> Vec<(&'static str, &mut Option<String>)> {
        vec![
            ("status", &mut self.status),
            ("action_type", &mut self.action_type),
            ("domain", &mut self.domain),
            ("owner", &mut self.owner),
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
        assert!(filters.is_paged());
        assert!(!filters.at_page(None).is_paged());
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
        assert_eq!(filters.at_page(None).cursor, None);
        assert_eq!(
            filters.at_page(Some("c2".into())).to_query(),
            "owner=dana%20lee%26co&cursor=c2"
        );
    }
}
