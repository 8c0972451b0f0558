//! Live updates over server-sent events.

use serde::{Deserialize, Serialize};

/// A server-sent event telling open pages that a read model moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct LiveEvent {
    /// The read model that changed, e.g. `queue`.
    pub projection: String,
    /// Its new checkpoint: pass as `?after=` to read at least this state.
    pub consistency: String,
}
