//! The database: an external server from `DATABASE_URL`, or the embedded default; the
//! connection pool; migrations.

use std::time::Duration;

use anyhow::Context;
use caseyos_embedded_pg::EmbeddedPostgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{Executor, PgPool};

use crate::config::Config;

/// Every schema change, applied at start-up and by `caseyos migrate`.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// A pool whose sessions cannot stall the projection horizon for long: an idle open
/// transaction is ended after 30 s. See [`connect_options`] for TLS.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options =
        connect_options(url).with_context(|| format!("invalid DATABASE_URL {}", redact(url)))?;
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
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to PostgreSQL at {}", redact(url)))
}

/// The URL's connection options. A URL that names no `sslmode` gets sqlx's `prefer`, which
/// negotiates TLS whenever the server offers it — on a loopback address or a Unix socket
/// that only costs CPU (about 8% of a command's in profiles) and protects nothing, so
/// there it is `disable`. Any `sslmode` the URL states is kept as stated.
pub fn connect_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    let states_mode = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair.starts_with("sslmode=")));
    let local = options.get_socket().is_some() || is_loopback(options.get_host());
    Ok(if local && !states_mode {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    })
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.starts_with('/')
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> String {
        format!(
            "{:?}",
            connect_options(url).expect("a valid URL").get_ssl_mode()
        )
    }

    #[test]
    fn local_connections_skip_tls_unless_the_url_asks_for_it() {
        assert_eq!(mode("postgres://u@127.0.0.1:5432/db"), "Disable");
        assert_eq!(mode("postgres://u@localhost/db"), "Disable");
        assert_eq!(mode("postgres://u@[::1]:5432/db"), "Disable");
        assert_eq!(
            mode("postgres://u@localhost/db?host=/var/run/postgresql"),
            "Disable"
        );
        assert_eq!(mode("postgres://u@127.0.0.1/db?sslmode=require"), "Require");
        assert_eq!(mode("postgres://u@127.0.0.1/db?sslmode=prefer"), "Prefer");
        assert_eq!(mode("postgres://u@db.example.com/db"), "Prefer");
        assert_eq!(mode("postgres://u@10.0.0.5/db"), "Prefer");
    }
}
