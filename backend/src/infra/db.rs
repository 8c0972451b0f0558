//! The database: an external server from `DATABASE_URL`, or the embedded default; the
//! connection pool; migrations.

use std::time::Duration;

use anyhow::Context;
use caseyos_embedded_pg::EmbeddedPostgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool};

use crate::config::Config;

/// Every schema change, applied at start-up and by `caseyos migrate`.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// A pool whose sessions cannot stall the projection horizon for long: an idle open
/// transaction is ended after 30 s.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("set idle_in_transaction_session_timeout = '30s'")
                    .await?;
                Ok(())
            })
        })
        .connect(url)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))
}

/// A URL without its password, for messages.
pub use crate::config::redact_database_url as redact;

/// The database CaseyOS runs on, and the embedded server when it started one.
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<EmbeddedPostgres>,
    pub description: String,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts the embedded server; then migrates.
    pub async fn open(config: &Config) -> anyhow::Result<Database> {
        let (url, embedded, description) = match &config.database_url {
            Some(url) => (url.clone(), None, redact(url)),
            None => {
                let pg = EmbeddedPostgres::start(&config.data_dir).await.with_context(|| {
                    format!(
                        "no DATABASE_URL is set, and the embedded PostgreSQL in {} could not start; \
                         install PostgreSQL (`apt-get install -y postgresql`) or set DATABASE_URL",
                        config.data_dir.display()
                    )
                })?;
                let description = format!("embedded PostgreSQL in {}", config.data_dir.display());
                (pg.database_url(), Some(pg), description)
            }
        };
        let pool = connect(&url, config.database_max_connections).await?;
        MIGRATOR.run(&pool).await.context("applying migrations")?;
        Ok(Database {
            pool,
            embedded,
            description,
        })
    }

    /// Closes the pool and stops the embedded server if this process started it.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(pg) = self.embedded {
            if let Err(error) = pg.stop().await {
                tracing::warn!(error = %error, "stopping the embedded PostgreSQL failed");
            }
        }
    }
}
