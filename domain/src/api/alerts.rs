//! Alerts: the list and a dismissal's answer.

use serde::{Deserialize, Serialize};

use crate::alerts::AlertView;

/// A page of alerts, most severe first, then newest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AlertListResponse {
    pub items: Vec<AlertView>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Alerts matching the filters, over all pages.
    pub total: i64,
}

/// An alert after a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct AlertResponse {
    #[serde(flatten)]
    pub alert: AlertView,
    /// Pass as `?after=` to a query to wait until read models include this write.
    pub consistency: String,
}
