//! The voice samples' read model — `voice_samples` (one row per sample: who added it,
//! whether it is listed, when it was added, the sample as `doc`) — and the queries that
//! read it: the list, one sample, the top-rated examples DraftWriter follows.

use caseyos_domain::voice::{VoiceSample, VoiceSampleView, TOP_RATING};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::docs::{DocFold, DocRow, DocState};
use crate::projector::{RowProjector, Window};

const TABLE: &str = "voice_samples";

/// Writes `voice_samples`.
pub struct VoiceSamplesProjector;

impl RowProjector for VoiceSamplesProjector {
    const NAME: &'static str = "voice_samples";
    const TABLES: &'static [&'static str] = &[TABLE];
    type Held = VoiceSample;
    type Fold = DocFold<VoiceSample>;

    fn fold_over(window: Window<VoiceSample>) -> DocFold<VoiceSample> {
        DocFold::new(window, TABLE)
    }
}

impl DocRow for VoiceSampleView {
    fn id(&self) -> Uuid {
        self.id
    }

    fn owner(&self) -> &str {
        &self.added_by
    }

    fn listed(&self) -> bool {
        !self.removed
    }

    fn at(&self) -> DateTime<Utc> {
        self.added_at
    }

    fn version(&self) -> u64 {
        self.version
    }
}

impl DocState for VoiceSample {
    fn of_view(view: VoiceSampleView) -> Self {
        VoiceSample { sample: Some(view) }
    }
}

fn docs(rows: Vec<sqlx::postgres::PgRow>) -> anyhow::Result<Vec<VoiceSampleView>> {
    rows.iter()
        .map(|row| Ok(row.try_get::<Json<VoiceSampleView>, _>("doc")?.0))
        .collect()
}

/// The samples (not removed), newest first.
pub async fn list(pool: &PgPool, limit: i64) -> anyhow::Result<Vec<VoiceSampleView>> {
    docs(
        sqlx::query(
            "select doc from voice_samples where listed order by at desc, id desc limit $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?,
    )
}

/// The samples rated 4 or 5, best first, then newest.
pub async fn top_rated(pool: &PgPool, limit: i64) -> anyhow::Result<Vec<VoiceSampleView>> {
    docs(
        sqlx::query(
            "select doc from voice_samples where listed and (doc->>'rating')::int >= $1 \
             order by (doc->>'rating')::int desc, at desc, id desc limit $2",
        )
        .bind(i32::from(TOP_RATING))
        .bind(limit)
        .fetch_all(pool)
        .await?,
    )
}

/// One sample, removed or not.
pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<VoiceSampleView>> {
    Ok(sqlx::query("select doc from voice_samples where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(|row| row.try_get::<Json<VoiceSampleView>, _>("doc"))
        .transpose()?
        .map(|doc| doc.0))
}
