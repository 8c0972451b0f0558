//! A list page's filters, sort and page, read from the URL and changed by navigating (so a
//! view can be shared and reloaded).

use yew::prelude::*;

use crate::routes::query::UrlQuery;
use crate::routes::{push, use_location, Route};

/// The filters in the URL, and the way to others.
pub struct Filters<Q> {
    pub current: Q,
    go: Callback<Q>,
}

/// The filters of `route`'s page, as the URL has them.
#[hook]
pub fn use_filters<Q: UrlQuery>(route: Route) -> Filters<Q> {
    let location = use_location();
    let current = Q::from_query(location.query_str());
    let go = Callback::from(move |next: Q| push(&route, &next.to_query()));
    Filters { current, go }
}

impl<Q: UrlQuery> Filters<Q> {
    /// A filter control's change: `apply` sets the new value, on the first page.
    pub fn set(&self, apply: fn(&mut Q, Option<String>)) -> Callback<Option<String>> {
        let (go, current) = (self.go.clone(), self.current.clone());
        Callback::from(move |value| {
            let mut next = current.at_page(None);
            apply(&mut next, value);
            go.emit(next);
        })
    }

    /// Goes to page `cursor` of the same filters (`None`: the first).
    pub fn to_page<E>(&self, cursor: Option<String>) -> Callback<E> {
        let (go, next) = (self.go.clone(), self.current.at_page(cursor));
        Callback::from(move |_| go.emit(next.clone()))
    }
}
