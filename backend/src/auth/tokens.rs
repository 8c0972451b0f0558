//! API tokens: `cos_` and 256 random bits, stored only as their SHA-256.

use caseyos_domain::kernel::UserName;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::{random_secret, role_of, touch_later, Principal, Role};

/// A new bearer token: `cos_` and 43 characters of base64url randomness (256 bits).
pub fn generate_token() -> String {
    format!("cos_{}", random_secret())
}

pub fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a token named `{0}` already exists")]
    NameTaken(String),
    #[error("token name {0}")]
    InvalidName(&'static str),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Stores a new token and returns it; only its hash is kept.
pub async fn create_token(
    pool: &PgPool,
    name: &str,
    user: &str,
    role: Role,
) -> Result<String, TokenError> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 64
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(TokenError::InvalidName(
            "must be 1–64 characters without spaces",
        ));
    }
    let user = UserName::parse(user).map_err(TokenError::InvalidName)?;
    let token = generate_token();
    let result = sqlx::query(
        "insert into api_tokens (id, name, user_name, role, token_hash, token_prefix) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::now_v7())
    .bind(name)
    .bind(user.as_str())
    .bind(role.as_str())
    .bind(hash_token(&token))
    .bind(&token[..8])
    .execute(pool)
    .await;
    match result {
        Ok(_) => Ok(token),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(TokenError::NameTaken(name.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Resolves a bearer token to its principal, if it is valid and not revoked.
pub async fn principal_for_token(pool: &PgPool, token: &str) -> sqlx::Result<Option<Principal>> {
    let row = sqlx::query(
        "select id, name, user_name, role, \
           (last_used_at is null or last_used_at < now() - interval '1 minute') as stale \
         from api_tokens where token_hash = $1 and revoked_at is null",
    )
    .bind(hash_token(token))
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let Some(role) = role_of(&row)? else {
        return Ok(None);
    };
    if row.try_get::<bool, _>("stale")? {
        let id: Uuid = row.try_get("id")?;
        touch_later(
            pool,
            "update api_tokens set last_used_at = now() where id = $1",
            id,
        );
    }
    Ok(Some(Principal {
        user: row.try_get("user_name")?,
        role,
        credential: format!("token:{}", row.try_get::<String, _>("name")?),
    }))
}
