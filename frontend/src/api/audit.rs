//! The history of one aggregate, event by event, for the timelines.

use caseyos_domain::api::AuditResponse;

use super::{get, ApiError};

/// The aggregates that have a history to show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    QueueItem,
    AgentRun,
}

impl Aggregate {
    fn as_str(self) -> &'static str {
        match self {
            Aggregate::QueueItem => "queue_item",
            Aggregate::AgentRun => "agent_run",
        }
    }
}

pub async fn history(aggregate: Aggregate, id: &str) -> Result<AuditResponse, ApiError> {
    get(&format!("/api/audit/{}/{id}", aggregate.as_str()), "", None).await
}
