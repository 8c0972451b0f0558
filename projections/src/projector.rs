//! What a projector is: a named fold of events into tables it alone writes.

use async_trait::async_trait;
use sqlx::PgConnection;

use crate::event::StoredEvent;

/// Physical names of a projector's tables: the live ones, or a rebuild's shadow copies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    suffix: &'static str,
}

impl Tables {
    /// The live tables queries read.
    pub const LIVE: Tables = Tables { suffix: "" };
    /// The shadow tables a rebuild fills beside the live ones.
    pub const REBUILD: Tables = Tables {
        suffix: "__rebuild",
    };
    /// Where live tables go for the moment of a switch-over.
    pub const RETIRED: Tables = Tables {
        suffix: "__retired",
    };

    /// The physical name of one of the projector's tables.
    pub fn name(&self, base: &str) -> String {
        format!("{base}{}", self.suffix)
    }
}

/// A read model's writer. `apply` receives events in global order, inside the transaction
/// that also advances the projector's checkpoint.
#[async_trait]
pub trait Projector: Send + Sync + 'static {
    /// Stable name, used for the checkpoint and on the CLI.
    fn name(&self) -> &'static str;

    /// The live tables this projector owns (created by migrations).
    fn tables(&self) -> &'static [&'static str];

    /// Folds a batch of events (any aggregate types; ignore the foreign ones).
    async fn apply(
        &self,
        conn: &mut PgConnection,
        tables: &Tables,
        events: &[StoredEvent],
    ) -> anyhow::Result<()>;
}
