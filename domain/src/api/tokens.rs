//! API tokens, for admins: list them (never their secrets), create one (its secret is
//! shown once), revoke one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::auth::Role;

/// Longest lifetime a token may be given, in days (ten years).
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// An API token as admins see it: who it acts as and when it was used, never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApiTokenView {
    pub id: Uuid,
    /// Unique; `caseyos token revoke NAME` takes it.
    pub name: String,
    /// The user the token acts as (the actor on its events).
    pub user: String,
    pub role: Role,
    /// The secret's first 8 characters (`cos_` and 4 more), to tell tokens apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    /// When it stops working; absent: never (until revoked).
    pub expires_at: Option<DateTime<Utc>>,
    /// The last request made with it (recorded at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiTokenView {
    /// Whether the token authenticates at `now`: not revoked, not expired.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// Every API token, oldest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApiTokenListResponse {
    pub items: Vec<ApiTokenView>,
    /// Pass as `?cursor=` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Tokens over all pages (revoked and expired ones included).
    pub total: i64,
}

/// Create an API token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiTokenRequest {
    /// Unique; 1–64 letters, digits and `._:@+-`.
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = r"^[A-Za-z0-9._:@+-]{1,64}$",
            example = "ci-deploy"
        )
    )]
    pub name: String,
    /// The user the token acts as: 1–128 characters, no control characters, and neither
    /// starting nor ending with whitespace. (The pattern spells out C0, C1 and Unicode's
    /// White_Space, so every regular-expression engine reads it alike.)
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = r"^[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]([^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?$",
            example = "casey"
        )
    )]
    pub user: String,
    pub role: Role,
    /// Days until the token stops working, 1–3650; absent: it works until revoked.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::kernel::whole_opt"
    )]
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 3650, example = 90))]
    pub expires_in_days: Option<u32>,
}

/// A new token. `secret` is the bearer token itself: it is shown only in this answer
/// (only its SHA-256 is stored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreatedApiTokenResponse {
    pub token: ApiTokenView,
    #[cfg_attr(feature = "server", schema(example = "cos_…"))]
    pub secret: String,
}
