//! Resolving bearer tokens through the instance's recent checks
//! ([`crate::infra::token_checks`]): a check less than a second old is relied on; otherwise
//! the database is asked ([`caller_for_token`], which also records the token's use at most
//! once a minute).

use sqlx::PgPool;

use super::tokens::{caller_for_token, hash_token, TokenCaller};
use super::Principal;
use crate::infra::token_checks::{CheckedToken, TokenChecks};

pub use crate::infra::token_checks::RECHECK;

/// The caller of a valid bearer token: not revoked, not expired.
pub async fn caller(
    checks: &TokenChecks,
    pool: &PgPool,
    token: &str,
) -> sqlx::Result<Option<TokenCaller>> {
    let hash = hash_token(token);
    if let Some(checked) = checks.fresh(&hash) {
        return Ok(Some(TokenCaller {
            principal: Principal {
                user: checked.user,
                role: checked.role,
                credential: checked.credential,
            },
            expires_at: checked.expires_at,
        }));
    }
    let found = caller_for_token(pool, token).await?;
    checks.record(
        hash,
        found.as_ref().map(|caller| CheckedToken {
            user: caller.principal.user.clone(),
            role: caller.principal.role,
            credential: caller.principal.credential.clone(),
            expires_at: caller.expires_at,
        }),
    );
    Ok(found)
}
