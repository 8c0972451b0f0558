//! The research sessions' read model — `research_sessions` (one row per research: its
//! requester, whether it is listed, when it began, the whole session as `doc`) — and the
//! queries that read it.

use caseyos_domain::research::{ResearchSession, ResearchSessionView};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::docs::{DocFold, DocRow, DocState};
use crate::projector::{RowProjector, Window};

const TABLE: &str = "research_sessions";

/// Writes `research_sessions`.
pub struct ResearchSessionsProjector;

impl RowProjector for ResearchSessionsProjector {
    const NAME: &'static str = "research_sessions";
    const TABLES: &'static [&'static str] = &[TABLE];
    type Held = ResearchSession;
    type Fold = DocFold<ResearchSession>;

    fn fold_over(window: Window<ResearchSession>) -> DocFold<ResearchSession> {
        DocFold::new(window, TABLE)
    }
}

impl DocRow for ResearchSessionView {
    fn id(&self) -> Uuid {
        self.id
    }

    fn owner(&self) -> &str {
        &self.requested_by
    }

    fn listed(&self) -> bool {
        !self.deleted
    }

    fn at(&self) -> DateTime<Utc> {
        self.started_at
    }

    fn version(&self) -> u64 {
        self.version
    }
}

impl DocState for ResearchSession {
    fn of_view(view: ResearchSessionView) -> Self {
        ResearchSession {
            session: Some(view),
        }
    }
}

/// `owner`'s researches (not deleted; everyone's for `None`), newest first.
pub async fn list(
    pool: &PgPool,
    owner: Option<&str>,
    limit: i64,
) -> anyhow::Result<Vec<ResearchSessionView>> {
    sqlx::query(
        "select doc from research_sessions where listed and ($1::text is null or owner = $1) \
         order by at desc, id desc limit $2",
    )
    .bind(owner)
    .bind(limit)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| Ok(row.try_get::<Json<ResearchSessionView>, _>("doc")?.0))
    .collect()
}

/// One research, deleted or not.
pub async fn get(pool: &PgPool, id: Uuid) -> anyhow::Result<Option<ResearchSessionView>> {
    Ok(
        sqlx::query("select doc from research_sessions where id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
            .map(|row| row.try_get::<Json<ResearchSessionView>, _>("doc"))
            .transpose()?
            .map(|doc| doc.0),
    )
}
