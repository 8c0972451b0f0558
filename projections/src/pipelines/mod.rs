//! The pipelines read model — `pipelines` (one row per pipeline, its `PipelineView` as
//! `doc`) — its projector and queries.

use std::collections::HashMap;

use async_trait::async_trait;
use caseyos_domain::pipelines::{PipelineDefinition, PipelineEvent, PipelineView};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::projector::{
    load_docs, Held, InFlight, RowFold, RowProjector, RowsWrite, Tables, Window, Write,
};

const PIPELINES: &str = "pipelines";

/// Writes `pipelines`.
pub struct PipelinesProjector;

impl RowProjector for PipelinesProjector {
    const NAME: &'static str = "pipelines";
    const TABLES: &'static [&'static str] = &[PIPELINES];
    type Held = PipelineDefinition;
    type Fold = PipelinesFold;

    fn fold_over(window: Window<PipelineDefinition>) -> PipelinesFold {
        PipelinesFold { window }
    }
}

/// The one fold of pipeline events into rows, live and in a rebuild.
pub struct PipelinesFold {
    window: Window<PipelineDefinition>,
}

#[async_trait]
impl RowFold for PipelinesFold {
    type Aggregate = PipelineDefinition;

    async fn fold(
        &mut self,
        conn: &mut PgConnection,
        tables: &Tables,
        decoded: Vec<(Uuid, PipelineEvent)>,
        in_flight: &mut InFlight,
    ) -> anyhow::Result<()> {
        let missing = self.window.missing(decoded.iter().map(|(id, _)| *id));
        if !missing.is_empty() {
            in_flight.settle().await?;
            for view in
                load_docs::<PipelineView>(&mut *conn, &tables.name(PIPELINES), &missing).await?
            {
                self.window.hold_stored(
                    PipelineDefinition::id_of(view.pipeline.id()),
                    PipelineDefinition {
                        pipeline: Some(view),
                    },
                );
            }
        }
        for (id, event) in decoded {
            caseyos_domain::aggregate::Aggregate::apply(self.window.state(id), event);
        }
        Ok(())
    }

    fn held(&self) -> usize {
        self.window.len()
    }

    fn take(&mut self, keep: usize, _how: Write) -> Box<dyn RowsWrite> {
        Box::new(PipelinesWrite {
            held: self.window.take(keep, |p| p.pipeline.is_some()),
        })
    }
}

/// Pipelines are few: every row is upserted, in a rebuild too.
struct PipelinesWrite {
    held: HashMap<Uuid, Held<PipelineDefinition>>,
}

#[async_trait]
impl RowsWrite for PipelinesWrite {
    async fn write(
        self: Box<Self>,
        conn: &mut PgConnection,
        tables: &Tables,
    ) -> anyhow::Result<()> {
        let table = tables.name(PIPELINES);
        for (id, Held { state, .. }) in &self.held {
            let Some(view) = &state.pipeline else {
                continue;
            };
            sqlx::query(&format!(
                "insert into {table} (id, pipeline, doc, created_at, updated_at, version) \
                 values ($1, $2, $3, $4, $5, $6) \
                 on conflict (id) do update set doc = excluded.doc, \
                   updated_at = excluded.updated_at, version = excluded.version"
            ))
            .bind(id)
            .bind(view.pipeline.id().as_str())
            .bind(Json(view))
            .bind(view.created_at)
            .bind(view.updated_at)
            .bind(view.version as i64)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

/// Every pipeline, in the order they were defined.
pub async fn all(pool: &PgPool) -> anyhow::Result<Vec<PipelineView>> {
    sqlx::query("select doc from pipelines order by created_at, pipeline")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| Ok(row.try_get::<Json<PipelineView>, _>("doc")?.0))
        .collect()
}
