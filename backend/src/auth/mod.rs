//! Who is calling, and what they may do: principals and roles, API tokens (stored as
//! SHA-256 hashes) and browser sessions with their one-time sign-in links. Storage and
//! crypto only — the HTTP side (extractors, cookies, CSRF) is `http::auth`.

pub mod sessions;
pub mod token_cache;
pub mod tokens;

use caseyos_domain::kernel::Actor;
use rand::RngCore;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row};

/// What a caller may do: one definition, shared with the SPA.
pub use caseyos_domain::api::Role;

/// A caller was refused for who they are (their role, or whose the thing is).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Forbidden(pub String);

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
    pub fn require(&self, role: Role) -> Result<(), Forbidden> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Forbidden(format!(
                "this needs the {role} role; you are signed in as {}",
                self.role
            )))
        }
    }

    /// May this caller read moves owned by `owner`? Operators see their own; viewers and
    /// admins see everyone's.
    pub fn may_read_owner(&self, owner: &str) -> bool {
        self.may_read(&Actor::user(owner))
    }

    /// May this caller decide or change moves owned by `owner`?
    pub fn may_act_for(&self, owner: &str) -> bool {
        self.may_act(&Actor::user(owner))
    }

    /// May this caller read what belongs to `owner` (a run's requester)? The rule is the
    /// domain's, shared with the SPA: [`Role::may_read`].
    pub fn may_read(&self, owner: &Actor) -> bool {
        self.role.may_read(&self.user, owner)
    }

    /// May this caller act on what belongs to `owner`? [`Role::may_act`].
    pub fn may_act(&self, owner: &Actor) -> bool {
        self.role.may_act(&self.user, owner)
    }

    /// Whose things this caller's lists are limited to: operators see their own; viewers
    /// and admins everyone's (`None`).
    pub fn read_scope(&self) -> Option<Actor> {
        (self.role == Role::Operator).then(|| self.actor())
    }
}

/// 256 random bits as 43 characters of base64url: session ids, CSRF and sign-in link tokens.
pub fn random_secret() -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `role` column of a row, or `None` for a role this version does not know.
fn role_of(row: &PgRow) -> sqlx::Result<Option<Role>> {
    Ok(Role::parse(&row.try_get::<String, _>("role")?))
}

/// Records a last-use time off the request path (at most once a minute, as the callers'
/// `stale` checks decide): `sql` updates the row whose key is `$1`. A failure is logged
/// within the caller's span (the request's, with its request id); the time is recorded on
/// a later use.
fn touch_later<K>(pool: &PgPool, sql: &'static str, key: K)
where
    K: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send + 'static,
{
    let pool = pool.clone();
    let work = async move {
        if let Err(error) = sqlx::query(sql).bind(key).execute(&pool).await {
            tracing::warn!(
                error = %error,
                "could not record a last use; a later use records it"
            );
        }
    };
    tokio::spawn(tracing::Instrument::instrument(
        work,
        tracing::Span::current(),
    ));
}

#[cfg(test)]
mod tests {
    use super::tokens::{generate_token, hash_token};
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
        assert_eq!(
            refused.0,
            "this needs the operator role; you are signed in as viewer"
        );
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
        // Lists hold what one may read: an operator's own, everyone's for the others.
        assert_eq!(
            principal(Role::Operator).read_scope(),
            Some(Actor::user("casey"))
        );
        assert_eq!(principal(Role::Viewer).read_scope(), None);
        assert_eq!(principal(Role::Admin).read_scope(), None);
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

    #[test]
    fn roles_are_stored_by_the_names_the_database_accepts() {
        // The `role` columns check for exactly these names.
        for (role, name) in [
            (Role::Viewer, "viewer"),
            (Role::Operator, "operator"),
            (Role::Admin, "admin"),
        ] {
            assert_eq!(role.as_str(), name);
            assert_eq!(Role::parse(name), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), name);
        }
        assert_eq!(Role::parse("root"), None);
    }
}
