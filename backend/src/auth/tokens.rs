//! API tokens: `cos_` and 256 random bits, stored only as their SHA-256. A token may
//! expire; it can be revoked, which also ends the browser sessions signed in with it.

use caseyos_domain::api::{ApiTokenView, MAX_TOKEN_DAYS};
use caseyos_domain::kernel::UserName;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgRow;
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
    #[error("user {0}")]
    InvalidUser(&'static str),
    #[error("expiry {0}")]
    InvalidExpiry(String),
    #[error("no token is named or numbered `{0}` (caseyos token list shows them)")]
    NotFound(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// How long a token lasts, in whole minutes: at least one, at most [`MAX_TOKEN_DAYS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime {
    minutes: i32,
}

impl Lifetime {
    const MAX_MINUTES: i64 = MAX_TOKEN_DAYS as i64 * 24 * 60;

    fn of_minutes(minutes: i64) -> Result<Lifetime, TokenError> {
        if (1..=Self::MAX_MINUTES).contains(&minutes) {
            Ok(Lifetime {
                minutes: minutes as i32,
            })
        } else {
            Err(TokenError::InvalidExpiry(format!(
                "must be between 1 minute and {MAX_TOKEN_DAYS} days"
            )))
        }
    }

    pub fn days(days: u32) -> Result<Lifetime, TokenError> {
        Lifetime::of_minutes(i64::from(days) * 24 * 60)
    }

    /// `90d`, `12h` or `30m`: a whole number of days, hours or minutes.
    pub fn parse(raw: &str) -> Result<Lifetime, TokenError> {
        let raw = raw.trim();
        let invalid = || {
            TokenError::InvalidExpiry(format!(
                "`{raw}` is not a duration; write a number and d, h or m (90d, 12h, 30m)"
            ))
        };
        let unit = raw.chars().last().ok_or_else(invalid)?;
        let digits = &raw[..raw.len() - unit.len_utf8()];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let n: i64 = digits.parse().unwrap_or(i64::MAX);
        let per_unit = match unit {
            'd' | 'D' => 24 * 60,
            'h' | 'H' => 60,
            'm' | 'M' => 1,
            _ => return Err(invalid()),
        };
        Lifetime::of_minutes(n.saturating_mul(per_unit))
    }
}

/// A token to create.
#[derive(Clone, Debug)]
pub struct NewToken<'a> {
    pub name: &'a str,
    /// The user it acts as.
    pub user: &'a str,
    pub role: Role,
    /// Absent: it works until revoked.
    pub lifetime: Option<Lifetime>,
}

/// A created token and its secret, which is never stored and never shown again.
#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub token: ApiTokenView,
    pub secret: String,
}

/// The token name rule: 1–64 letters, digits and `._:@+-` (as
/// the `name` pattern of `CreateApiTokenRequest` says).
fn parse_name(name: &str) -> Result<&str, TokenError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._:@+-".contains(c);
    if name.is_empty() || name.len() > 64 || !name.chars().all(allowed) {
        return Err(TokenError::InvalidName(
            "must be 1–64 letters, digits and . _ : @ + -",
        ));
    }
    Ok(name)
}

/// The user a token acts as: a user name exactly as given (no surrounding blanks to trim).
fn parse_user(user: &str) -> Result<UserName, TokenError> {
    let name = UserName::parse(user).map_err(TokenError::InvalidUser)?;
    if name.as_str() != user {
        return Err(TokenError::InvalidUser(
            "must not start or end with a space",
        ));
    }
    Ok(name)
}

/// The columns of [`ApiTokenView`], as [`view_of`] reads them.
const VIEW_COLUMNS: &str =
    "id, name, user_name, role, token_prefix, created_at, expires_at, last_used_at, revoked_at";

fn view_of(row: &PgRow) -> sqlx::Result<ApiTokenView> {
    let role = role_of(row)?.ok_or_else(|| sqlx::Error::ColumnDecode {
        index: "role".into(),
        source: "a role this version does not know".into(),
    })?;
    Ok(ApiTokenView {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        user: row.try_get("user_name")?,
        role,
        prefix: row.try_get("token_prefix")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Stores a new token; only its hash is kept.
pub async fn issue_token(pool: &PgPool, new: NewToken<'_>) -> Result<IssuedToken, TokenError> {
    let name = parse_name(new.name)?;
    let user = parse_user(new.user)?;
    let secret = generate_token();
    let result = sqlx::query(&format!(
        "insert into api_tokens \
           (id, name, user_name, role, token_hash, token_prefix, expires_at) \
         values ($1, $2, $3, $4, $5, $6, now() + make_interval(mins => $7)) \
         returning {VIEW_COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(name)
    .bind(user.as_str())
    .bind(new.role.as_str())
    .bind(hash_token(&secret))
    .bind(&secret[..8])
    .bind(new.lifetime.map(|l| l.minutes))
    .fetch_one(pool)
    .await;
    match result {
        Ok(row) => Ok(IssuedToken {
            token: view_of(&row)?,
            secret,
        }),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(TokenError::NameTaken(name.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Stores a new token that works until revoked and returns its secret.
pub async fn create_token(
    pool: &PgPool,
    name: &str,
    user: &str,
    role: Role,
) -> Result<String, TokenError> {
    let new = NewToken {
        name,
        user,
        role,
        lifetime: None,
    };
    Ok(issue_token(pool, new).await?.secret)
}

/// A page of tokens in the order they were made (ids are time-ordered UUIDs), after the
/// token `after`, and how many there are in all.
pub async fn list_tokens(
    pool: &PgPool,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<(Vec<ApiTokenView>, i64)> {
    let rows = sqlx::query(&format!(
        "select {VIEW_COLUMNS} from api_tokens \
         where $1::uuid is null or id > $1 order by id limit $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar("select count(*) from api_tokens")
        .fetch_one(pool)
        .await?;
    let items = rows.iter().map(view_of).collect::<sqlx::Result<_>>()?;
    Ok((items, total))
}

/// What revoking a token did.
#[derive(Clone, Debug)]
pub struct Revocation {
    pub token: ApiTokenView,
    /// It had been revoked before; nothing changed.
    pub already: bool,
    /// Browser sessions signed in with it that ended now.
    pub sessions_ended: u64,
}

/// Revokes the token with the id `name_or_id`, or else the one of that name.
pub async fn revoke_token(pool: &PgPool, name_or_id: &str) -> Result<Revocation, TokenError> {
    let key = name_or_id.trim();
    if let Ok(id) = Uuid::parse_str(key) {
        if let Some(revoked) = revoke_token_by_id(pool, id).await? {
            return Ok(revoked);
        }
    }
    let id: Option<Uuid> = sqlx::query_scalar("select id from api_tokens where name = $1")
        .bind(key)
        .fetch_optional(pool)
        .await?;
    match id {
        Some(id) => revoke_token_by_id(pool, id).await?,
        None => None,
    }
    .ok_or_else(|| TokenError::NotFound(key.to_string()))
}

/// Revokes a token and ends the sessions signed in with it, in one transaction; revoking
/// a revoked token changes nothing. `None` when no token has that id.
pub async fn revoke_token_by_id(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Revocation>> {
    let mut tx = pool.begin().await?;
    let already: Option<bool> = sqlx::query_scalar(
        "select revoked_at is not null from api_tokens where id = $1 for update",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(already) = already else {
        return Ok(None);
    };
    let row = sqlx::query(&format!(
        "update api_tokens set revoked_at = coalesce(revoked_at, now()) where id = $1 \
         returning {VIEW_COLUMNS}"
    ))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let sessions_ended = sqlx::query(
        "update sessions set revoked_at = now() where api_token_id = $1 and revoked_at is null",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(Some(Revocation {
        token: view_of(&row)?,
        already,
        sessions_ended,
    }))
}

/// A valid bearer token's caller, and when the token stops working (if it does).
#[derive(Clone, Debug)]
pub struct TokenCaller {
    pub principal: Principal,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Resolves a bearer token to its caller, if it is known, not revoked and not expired.
/// Records its use at most once a minute, off the request path.
pub async fn caller_for_token(pool: &PgPool, token: &str) -> sqlx::Result<Option<TokenCaller>> {
    let row = sqlx::query(
        "select id, name, user_name, role, expires_at, \
           (last_used_at is null or last_used_at < now() - interval '1 minute') as stale \
         from api_tokens \
         where token_hash = $1 and revoked_at is null \
           and (expires_at is null or expires_at > now())",
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
    Ok(Some(TokenCaller {
        principal: Principal {
            user: row.try_get("user_name")?,
            role,
            credential: format!("token:{}", row.try_get::<String, _>("name")?),
        },
        expires_at: row.try_get("expires_at")?,
    }))
}

/// Resolves a bearer token to its principal, if it is valid: not revoked, not expired.
pub async fn principal_for_token(pool: &PgPool, token: &str) -> sqlx::Result<Option<Principal>> {
    Ok(caller_for_token(pool, token).await?.map(|c| c.principal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_whole_days_hours_or_minutes_within_ten_years() {
        // (input, minutes or None when refused)
        let table = [
            ("90d", Some(90 * 24 * 60)),
            ("12h", Some(12 * 60)),
            ("30m", Some(30)),
            (" 1D ", Some(24 * 60)),
            ("1m", Some(1)),
            ("3650d", Some(3650 * 24 * 60)),
            ("3651d", None),
            ("87601h", None),
            ("0d", None),
            ("0m", None),
            ("d", None),
            ("", None),
            ("90", None),
            ("90s", None),
            ("90w", None),
            ("-5d", None),
            ("+5d", None),
            ("1.5d", None),
            ("9999999999999999999999d", None),
            ("5 d", None),
            ("5dd", None),
            ("٣d", None),
        ];
        for (input, minutes) in table {
            let parsed = Lifetime::parse(input).ok().map(|l| l.minutes);
            assert_eq!(parsed, minutes, "{input:?}");
        }
        assert_eq!(Lifetime::days(90).unwrap().minutes, 90 * 24 * 60);
        assert!(Lifetime::days(0).is_err());
        assert!(Lifetime::days(MAX_TOKEN_DAYS + 1).is_err());
        let refused = Lifetime::parse("5w").unwrap_err().to_string();
        assert!(refused.contains("90d, 12h, 30m"), "{refused}");
    }

    #[test]
    fn token_names_are_short_identifiers_and_users_come_untrimmed() {
        for good in [
            "ci-deploy",
            "casey@laptop",
            "a",
            "v1.2_x:y+z",
            "0190a5e2-7c7e-7f3a-8b1e-2a3b4c5d6e7f",
        ] {
            assert_eq!(parse_name(good).unwrap(), good);
        }
        assert!(parse_name(&"x".repeat(64)).is_ok());
        for bad in [
            "",
            " ci",
            "ci ",
            "two words",
            "tab\there",
            "é",
            "a/b",
            &"x".repeat(65),
        ] {
            assert!(parse_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(parse_user("Casey Jones").unwrap().as_str(), "Casey Jones");
        for bad in [
            "",
            " casey",
            "casey\u{3000}",
            "ca\u{7}sey",
            &"x".repeat(129),
        ] {
            assert!(parse_user(bad).is_err(), "{bad:?}");
        }
    }
}
