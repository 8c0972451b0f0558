//! What a projector is: a named fold of events into tables it alone writes.

use async_trait::async_trait;
use caseyos_domain::aggregate::Aggregate;
use caseyos_store::StoredEvent;
use serde::de::DeserializeOwned;
use sqlx::types::Json;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

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

/// The batch's events of aggregate type `A`, decoded, with their aggregate ids.
pub fn decode_batch<A: Aggregate>(events: &[StoredEvent]) -> anyhow::Result<Vec<(Uuid, A::Event)>> {
    events
        .iter()
        .filter_map(|event| Some((event, event.decode::<A>()?)))
        .map(|(event, decoded)| Ok((event.aggregate_id.parse()?, decoded?)))
        .collect()
}

/// The JSON documents (`doc` column) of the rows with these ids in `table`.
pub async fn load_docs<T: DeserializeOwned>(
    conn: &mut PgConnection,
    table: &str,
    ids: &[Uuid],
) -> anyhow::Result<Vec<T>> {
    sqlx::query(&format!("select doc from {table} where id = any($1)"))
        .bind(ids)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| Ok(row.try_get::<Json<T>, _>("doc")?.0))
        .collect()
}
