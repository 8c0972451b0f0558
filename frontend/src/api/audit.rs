//! The history of one aggregate, event by event and a page at a time, for the timelines.

use caseyos_domain::api::AuditResponse;

use super::{get, ApiError};

/// The aggregates that have a history to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    QueueItem,
    AgentRun,
    Contact,
}

impl Aggregate {
    fn as_str(self) -> &'static str {
        match self {
            Aggregate::QueueItem => "queue_item",
            Aggregate::AgentRun => "agent_run",
            Aggregate::Contact => "contact",
        }
    }
}

/// A page of the history: the first (`cursor` none), or the one after a page's
/// `next_cursor`.
pub async fn history(
    aggregate: Aggregate,
    id: &str,
    cursor: Option<&str>,
) -> Result<AuditResponse, ApiError> {
    let query = cursor
        .map(|c| format!("cursor={}", js_sys::encode_uri_component(c)))
        .unwrap_or_default();
    get(
        &format!("/api/audit/{}/{id}", aggregate.as_str()),
        &query,
        None,
    )
    .await
}
