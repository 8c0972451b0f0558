//! The shared kernel: value types every bounded context speaks — who acted, user names,
//! email addresses, CRM ids, money and consistency tokens. Each is parsed at the edge into
//! a type that cannot be invalid, and everything here builds for WebAssembly so the SPA
//! uses the same types.

mod actor;
mod consistency;
mod crm_id;
mod email;
mod money;
mod names;

pub use actor::{Actor, ActorKind};
pub use consistency::{Checkpoint, ConsistencyToken, InvalidToken};
pub use crm_id::CrmId;
pub use email::EmailAddress;
pub use money::{Currency, Money};
pub use names::UserName;

/// Deserializes a field that is present (possibly `null`) as `Some(..)`, so `None` means
/// "absent, leave alone" and `Some(None)` means "clear it". Use with `#[serde(default)]`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}
