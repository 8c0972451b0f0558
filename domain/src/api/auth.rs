//! Roles, signing in and the browser session.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::kernel::unit_enum::read_unit_enum;
use crate::kernel::{Actor, ActorKind};

/// What a signed-in user may do, in increasing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, decides nothing.
    Viewer,
    /// Proposes and decides their own moves.
    Operator,
    /// Everything, for every owner.
    Admin,
}

read_unit_enum!(Role {
    Viewer = "viewer",
    Operator = "operator",
    Admin = "admin",
});

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

    /// May `user`, signed in with this role, read what belongs to `owner` (a move's owner,
    /// a run's requester)? Operators read their own; viewers and admins read everyone's.
    pub fn may_read(self, user: &str, owner: &Actor) -> bool {
        self != Role::Operator || is_user(owner, user)
    }

    /// May `user`, signed in with this role, act on what belongs to `owner` (decide a move;
    /// retry, cancel or dismiss a run)? Admins act on everything, operators on their own,
    /// viewers on nothing.
    pub fn may_act(self, user: &str, owner: &Actor) -> bool {
        match self {
            Role::Admin => true,
            Role::Operator => is_user(owner, user),
            Role::Viewer => false,
        }
    }
}

fn is_user(actor: &Actor, user: &str) -> bool {
    actor.kind == ActorKind::User && actor.id == user
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sign in for a browser session: with the one-time link `caseyos serve` prints (or
/// `caseyos signin-link` creates), or with an API token. Exactly one of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The signed-in session. The session itself is an HttpOnly cookie; state-changing requests
/// made with it must send `csrf_token` in the `X-CSRF-Token` header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct SessionResponse {
    pub user: String,
    pub role: Role,
    pub csrf_token: String,
    #[cfg_attr(
        target_arch = "wasm32",
        serde(deserialize_with = "crate::kernel::instant::de")
    )]
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_may_read_and_act_on_what_whose() {
        let casey = Actor::user("casey");
        let alex = Actor::user("alex");
        // Something an agent or CaseyOS asked for belongs to no user.
        let agent = Actor::agent("casey");
        // (role, owner, may read, may act) for user casey
        let table = [
            (Role::Viewer, &casey, true, false),
            (Role::Viewer, &alex, true, false),
            (Role::Operator, &casey, true, true),
            (Role::Operator, &alex, false, false),
            (Role::Operator, &agent, false, false),
            (Role::Admin, &alex, true, true),
            (Role::Admin, &agent, true, true),
        ];
        for (role, owner, read, act) in table {
            assert_eq!(role.may_read("casey", owner), read, "{role} reads {owner}");
            assert_eq!(role.may_act("casey", owner), act, "{role} acts on {owner}");
        }
    }
}
