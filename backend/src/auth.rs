//! Who is calling: bearer tokens for API clients (stored as SHA-256 hashes), roles, and the
//! rules of what each role may see and do. Browser sessions resolve to the same
//! [`Principal`], so handlers never care how a caller signed in.

use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use caseyos_domain::queue::Actor;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// What a caller may do, in increasing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, decides nothing.
    Viewer,
    /// Proposes and decides their own moves.
    Operator,
    /// Everything, for every owner.
    Admin,
}

impl Role {
    pub fn parse(raw: &str) -> Option<Role> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "viewer" => Some(Role::Viewer),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The user name: owner of their moves, recorded as the actor on their events.
    pub user: String,
    pub role: Role,
    /// The credential used, e.g. `token:ci-admin`.
    pub credential: String,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.clone())
    }

    /// Refuses callers below `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this needs the {role} role; you are signed in as {}",
                self.role
            )))
        }
    }

    /// May this caller read moves owned by `owner`? Operators see their own; viewers and
    /// admins see everyone's.
    pub fn may_read_owner(&self, owner: &str) -> bool {
        self.role != Role::Operator || owner == self.user
    }

    /// May this caller decide or change moves owned by `owner`?
    pub fn may_act_for(&self, owner: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Operator => owner == self.user,
            Role::Viewer => false,
        }
    }
}

/// A new bearer token: `cos_` and 43 characters of base64url randomness (256 bits).
pub fn generate_token() -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("cos_{}", URL_SAFE_NO_PAD.encode(bytes))
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
    let user = caseyos_domain::queue::parse_owner(user).map_err(TokenError::InvalidName)?;
    let token = generate_token();
    let result = sqlx::query(
        "insert into api_tokens (id, name, user_name, role, token_hash, token_prefix) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::now_v7())
    .bind(name)
    .bind(&user)
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
    let role: String = row.try_get("role")?;
    let Some(role) = Role::parse(&role) else {
        return Ok(None);
    };
    if row.try_get::<bool, _>("stale")? {
        // Recorded at most once a minute, off the request path.
        let id: Uuid = row.try_get("id")?;
        let pool = pool.clone();
        tokio::spawn(async move {
            let _ = sqlx::query("update api_tokens set last_used_at = now() where id = $1")
                .bind(id)
                .execute(&pool)
                .await;
        });
    }
    Ok(Some(Principal {
        user: row.try_get("user_name")?,
        role,
        credential: format!("token:{}", row.try_get::<String, _>("name")?),
    }))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "auth.missing_credentials",
                "sign in, or send `Authorization: Bearer <token>`",
            ));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                let (scheme, rest) = h.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "auth.invalid_credentials",
                    "the Authorization header must be `Bearer <token>`",
                )
            })?;
        let principal = principal_for_token(&state.pool, token)
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized("auth.invalid_token", "this token is unknown or revoked")
            })?;
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            user: "casey".into(),
            role,
            credential: "token:t".into(),
        }
    }

    #[test]
    fn roles_are_ordered_and_required() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        assert!(principal(Role::Admin).require(Role::Operator).is_ok());
        let refused = principal(Role::Viewer).require(Role::Operator).unwrap_err();
        assert_eq!(refused.code, "auth.forbidden");
    }

    #[test]
    fn who_may_read_and_act_for_whom() {
        // (role, owner, may read, may act)
        let table = [
            (Role::Viewer, "casey", true, false),
            (Role::Viewer, "alex", true, false),
            (Role::Operator, "casey", true, true),
            (Role::Operator, "alex", false, false),
            (Role::Admin, "alex", true, true),
        ];
        for (role, owner, read, act) in table {
            let p = principal(role);
            assert_eq!(p.may_read_owner(owner), read, "{role} reads {owner}");
            assert_eq!(p.may_act_for(owner), act, "{role} acts for {owner}");
        }
    }

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with("cos_") && a.len() == 47, "{a}");
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(hash_token(&a).len(), 32);
    }
}
