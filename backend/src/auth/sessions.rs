//! Browser sessions and their one-time sign-in links. A session id is 256 random bits,
//! stored only as its SHA-256, with a CSRF token; sessions end 7 days after sign-in (or at
//! sign-out, or when the API token they were started with is revoked or expires); links
//! work once, within 24 hours.

use caseyos_domain::api::SessionResponse;
use caseyos_domain::kernel::UserName;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};
use tracing::Instrument;
use uuid::Uuid;

use super::tokens::hash_token;
use super::{random_secret, role_of, touch_later, Principal, Role};

/// Days a session lasts from sign-in.
pub const SESSION_DAYS: i32 = 7;
/// The cookie's `Max-Age`: the same 7 days, in seconds.
pub const SESSION_MAX_AGE_SECS: i64 = SESSION_DAYS as i64 * 24 * 60 * 60;
/// Hours a sign-in link stays usable.
pub const LINK_HOURS: i32 = 24;
/// Expired sessions and links are kept this long (for the record), then deleted.
const KEEP_EXPIRED_DAYS: i32 = 30;

/// A live browser session.
#[derive(Clone, Debug)]
pub struct ActiveSession {
    pub id_hash: Vec<u8>,
    pub csrf_token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// Stores a one-time sign-in link for `user` and returns its token (only its hash is kept).
pub async fn create_sign_in_link(pool: &PgPool, user: &str, role: Role) -> anyhow::Result<String> {
    let user = UserName::parse(user).map_err(|message| anyhow::anyhow!("user name {message}"))?;
    let token = random_secret();
    sqlx::query(
        "insert into sign_in_links (token_hash, user_name, role, expires_at) \
         values ($1, $2, $3, now() + make_interval(hours => $4))",
    )
    .bind(hash_token(&token))
    .bind(user.as_str())
    .bind(role.as_str())
    .bind(LINK_HOURS)
    .execute(pool)
    .await?;
    Ok(token)
}

/// The address a person opens to sign in with a link: the SPA's sign-in page.
pub fn sign_in_url(public_url: &str, token: &str) -> String {
    format!("{}/sign-in?link={token}", public_url.trim_end_matches('/'))
}

/// Uses a link up, if it is known, unused and unexpired: who it signs in, as what.
pub async fn use_link(conn: &mut PgConnection, link: &str) -> sqlx::Result<Option<SignIn>> {
    let row = sqlx::query(
        "update sign_in_links set used_at = now() \
         where token_hash = $1 and used_at is null and expires_at > now() \
         returning user_name, role",
    )
    .bind(hash_token(link))
    .fetch_optional(&mut *conn)
    .await?;
    sign_in_of(row, false)
}

/// Who signs in, as what, and with which API token (if one).
pub struct SignIn {
    pub user: String,
    pub role: Role,
    api_token_id: Option<Uuid>,
    /// When that token expires: the session ends then at the latest.
    token_expires_at: Option<DateTime<Utc>>,
}

/// A valid (unrevoked, unexpired) API token's user, role and id; signing in with it counts
/// as using it.
pub async fn use_token(conn: &mut PgConnection, token: &str) -> sqlx::Result<Option<SignIn>> {
    let row = sqlx::query(
        "update api_tokens set last_used_at = now() \
         where token_hash = $1 and revoked_at is null \
           and (expires_at is null or expires_at > now()) \
         returning id, user_name, role, expires_at",
    )
    .bind(hash_token(token))
    .fetch_optional(&mut *conn)
    .await?;
    sign_in_of(row, true)
}

/// Who a returned `user_name, role` row signs in (with the API token's `id` when
/// `with_token`); `None` for no row or a role this version does not know.
fn sign_in_of(row: Option<PgRow>, with_token: bool) -> sqlx::Result<Option<SignIn>> {
    let Some(row) = row else { return Ok(None) };
    let Some(role) = role_of(&row)? else {
        return Ok(None);
    };
    let (api_token_id, token_expires_at) = if with_token {
        (Some(row.try_get("id")?), row.try_get("expires_at")?)
    } else {
        (None, None)
    };
    Ok(Some(SignIn {
        user: row.try_get("user_name")?,
        role,
        api_token_id,
        token_expires_at,
    }))
}

/// Starts a session, which lasts [`SESSION_DAYS`] or until the API token it was signed in
/// with expires, whichever is sooner; returns the cookie value and what the SPA is told.
pub async fn start_session(
    conn: &mut PgConnection,
    sign_in: SignIn,
) -> sqlx::Result<(String, SessionResponse)> {
    let id = random_secret();
    let csrf_token = random_secret();
    let expires_at: DateTime<Utc> = sqlx::query_scalar(
        "insert into sessions \
           (id_hash, user_name, role, csrf_token, expires_at, last_seen_at, api_token_id) \
         values ($1, $2, $3, $4, \
           least(now() + make_interval(days => $5), $7), now(), $6) \
         returning expires_at",
    )
    .bind(hash_token(&id))
    .bind(&sign_in.user)
    .bind(sign_in.role.as_str())
    .bind(&csrf_token)
    .bind(SESSION_DAYS)
    .bind(sign_in.api_token_id)
    .bind(sign_in.token_expires_at)
    .fetch_one(&mut *conn)
    .await?;
    Ok((
        id,
        SessionResponse {
            user: sign_in.user,
            role: sign_in.role,
            csrf_token,
            expires_at,
        },
    ))
}

/// The live session a cookie names, if any (unknown, expired and revoked ones are not, nor
/// ones started with an API token revoked or expired since). Records `last_seen_at` at most once a
/// minute, off the request path.
pub async fn resolve(pool: &PgPool, id: &str) -> sqlx::Result<Option<(Principal, ActiveSession)>> {
    let id_hash = hash_token(id);
    let row = sqlx::query(
        "select s.user_name, s.role, s.csrf_token, s.expires_at, \
           (s.last_seen_at is null or s.last_seen_at < now() - interval '1 minute') as stale \
         from sessions s left join api_tokens t on t.id = s.api_token_id \
         where s.id_hash = $1 and s.revoked_at is null and s.expires_at > now() \
           and t.revoked_at is null and (t.expires_at is null or t.expires_at > now())",
    )
    .bind(&id_hash)
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let Some(role) = role_of(&row)? else {
        return Ok(None);
    };
    if row.try_get::<bool, _>("stale")? {
        touch_later(
            pool,
            "update sessions set last_seen_at = now() where id_hash = $1",
            id_hash.clone(),
        );
    }
    Ok(Some((
        Principal {
            user: row.try_get("user_name")?,
            role,
            credential: "session".into(),
        },
        ActiveSession {
            id_hash,
            csrf_token: row.try_get("csrf_token")?,
            expires_at: row.try_get("expires_at")?,
        },
    )))
}

/// Ends a session (sign-out).
pub async fn revoke(pool: &PgPool, id_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query("update sessions set revoked_at = now() where id_hash = $1 and revoked_at is null")
        .bind(id_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes sessions and links long expired, off the request path. A failure is logged
/// (within the request's span, so with its request id); the next sign-in tries again.
pub fn forget_expired(pool: PgPool) {
    let work = async move {
        for table in ["sessions", "sign_in_links"] {
            let deleted = sqlx::query(&format!(
                "delete from {table} where expires_at < now() - make_interval(days => $1)"
            ))
            .bind(KEEP_EXPIRED_DAYS)
            .execute(&pool)
            .await;
            if let Err(error) = deleted {
                tracing::warn!(
                    auth.table = table,
                    error = %error,
                    "could not delete long-expired rows; the next sign-in tries again"
                );
            }
        }
    };
    tokio::spawn(work.instrument(tracing::Span::current()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_urls_point_at_the_spa_sign_in_page() {
        assert_eq!(
            sign_in_url("http://127.0.0.1:8080/", "abc_-1"),
            "http://127.0.0.1:8080/sign-in?link=abc_-1"
        );
        assert_eq!(
            sign_in_url("https://caseyos.example", "t"),
            "https://caseyos.example/sign-in?link=t"
        );
    }
}
