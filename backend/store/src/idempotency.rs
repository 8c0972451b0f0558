//! `Idempotency-Key`: events carry the request's key and a hash of the request, so a
//! retried request is answered from the events it already produced — also after a crash
//! between commit and response — and a key reused for a different request is refused. A
//! per-key advisory lock serialises concurrent duplicates.

use caseyos_domain::kernel::Actor;
use sha2::{Digest, Sha256};
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

use crate::advisory::advisory_key;
use crate::bus::CommandMeta;
use crate::event::{self, StoredEvent};
use crate::StoreError;

/// Why a keyed request cannot go ahead.
#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("Idempotency-Key must be 1–255 visible ASCII characters")]
    InvalidKey,
    #[error("a request with this Idempotency-Key is still being processed; retry")]
    InProgress,
    #[error("this Idempotency-Key was already used for a different request")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IdempotencyError {
    /// The stable machine code clients match on.
    pub const fn code(&self) -> &'static str {
        match self {
            IdempotencyError::InvalidKey => "idempotency.invalid_key",
            IdempotencyError::InProgress => "idempotency.in_progress",
            IdempotencyError::KeyReused => "idempotency.key_reused",
            IdempotencyError::Store(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for IdempotencyError {
    fn from(error: sqlx::Error) -> Self {
        IdempotencyError::Store(error.into())
    }
}

/// A validated `Idempotency-Key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, IdempotencyError> {
        let key = raw.trim();
        if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(IdempotencyError::InvalidKey);
        }
        Ok(IdempotencyKey(key.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A hash of what a request asks for: method, path and the body's canonical JSON.
pub fn request_hash(method: &str, path: &str, body: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    // serde_json's maps are ordered by key, so this is canonical.
    hasher.update(serde_json::to_vec(body).unwrap_or_default());
    hex::encode(hasher.finalize())
}

/// Holds the per-key advisory lock while a keyed request runs; released on drop of the
/// connection at the latest (a crashed process releases it with its connection).
struct KeyLock {
    conn: Option<PoolConnection<Postgres>>,
    key: i64,
}

impl KeyLock {
    async fn acquire(pool: &PgPool, actor: &Actor, key: &str) -> Result<KeyLock, IdempotencyError> {
        let lock_key = advisory_key(&format!("idem:{actor}:{key}"));
        let mut conn = pool.acquire().await?;
        sqlx::query("set lock_timeout = '10s'")
            .execute(&mut *conn)
            .await?;
        let locked = sqlx::query("select pg_advisory_lock($1)")
            .bind(lock_key)
            .execute(&mut *conn)
            .await;
        sqlx::query("reset lock_timeout")
            .execute(&mut *conn)
            .await?;
        match locked {
            Ok(_) => Ok(KeyLock {
                conn: Some(conn),
                key: lock_key,
            }),
            Err(_) => Err(IdempotencyError::InProgress),
        }
    }

    async fn release(mut self) {
        if let Some(mut conn) = self.conn.take() {
            if sqlx::query("select pg_advisory_unlock($1)")
                .bind(self.key)
                .execute(&mut *conn)
                .await
                .is_err()
            {
                // Never return a connection that may still hold the lock to the pool.
                let _ = conn.detach();
            }
        }
    }
}

impl Drop for KeyLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Dropped without release (a panic or cancelled request): close the connection
            // so the session lock goes with it.
            drop(conn.detach());
        }
    }
}

/// Runs `body` at most once at a time per key: without a key (`meta.idempotency_key`) it
/// runs with no prior events; with one it takes the key's lock, reads the events already
/// written under the key by this actor, refuses them if they answered a different request
/// (`meta.request_hash`), and hands them to `body`, which answers from them or goes on.
pub async fn keyed<T, E>(
    pool: &PgPool,
    meta: &CommandMeta,
    body: impl AsyncFnOnce(Vec<StoredEvent>) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<IdempotencyError>,
{
    let Some(key) = meta.idempotency_key.as_deref() else {
        return body(Vec::new()).await;
    };
    let lock = KeyLock::acquire(pool, &meta.actor, key).await?;
    let result = async {
        let prior = prior_events(pool, &meta.actor, key).await?;
        if prior
            .iter()
            .any(|e| e.meta("request_hash") != meta.request_hash.as_deref())
        {
            return Err(IdempotencyError::KeyReused.into());
        }
        body(prior).await
    }
    .await;
    lock.release().await;
    result
}

/// Runs a command request at most once per key: a repeat is answered by `replay` from the
/// last event the first request wrote. The flag says whether the answer is a replay.
pub async fn idempotent<T, E>(
    pool: &PgPool,
    meta: &CommandMeta,
    execute: impl AsyncFnOnce(&CommandMeta) -> Result<T, E>,
    replay: impl AsyncFnOnce(&StoredEvent) -> Result<T, E>,
) -> Result<(bool, T), E>
where
    E: From<IdempotencyError>,
{
    keyed(pool, meta, async |prior: Vec<StoredEvent>| {
        match prior.last() {
            Some(last) => Ok((true, replay(last).await?)),
            None => Ok((false, execute(meta).await?)),
        }
    })
    .await
}

/// Events already written under this key by this actor.
async fn prior_events(
    pool: &PgPool,
    actor: &Actor,
    key: &str,
) -> Result<Vec<StoredEvent>, IdempotencyError> {
    let actor = actor.to_string();
    Ok(event::read_by_idempotency_key(pool, key)
        .await?
        .into_iter()
        .filter(|e| e.meta("actor") == Some(actor.as_str()))
        .collect())
}
