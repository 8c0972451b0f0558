//! The shared kernel: value types every bounded context speaks — who acted, user names,
//! email addresses, CRM ids, money, text people write and consistency tokens. Each is parsed at the edge into
//! a type that cannot be invalid, and everything here builds for WebAssembly so the SPA
//! uses the same types.

mod actor;
mod consistency;
mod crm_id;
mod email;
pub mod instant;
mod money;
mod names;
mod object;
mod parsed;
pub mod sse;
mod text;
pub(crate) mod unit_enum;
mod whole;

pub use actor::{Actor, ActorKind};
pub use consistency::{Checkpoint, ConsistencyToken, InvalidToken};
pub use crm_id::CrmId;
pub use email::EmailAddress;
pub use money::{Currency, Money};
pub use names::UserName;
pub use object::object;
pub use text::{Text, OPTIONAL_TEXT_PATTERN, TEXT_PATTERN};
pub use whole::{whole, whole_opt};

/// Deserializes a field that is present (possibly `null`) as `Some(..)`, so `None` means
/// "absent, leave alone" and `Some(None)` means "clear it". Use with `#[serde(default)]`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_types_deserialize_through_their_parse_and_refuse_what_it_refuses() {
        // An address is read as sent: lower-cased, but never trimmed (the document's pattern).
        let email: EmailAddress = serde_json::from_str("\"Dana@Acme.IO\"").unwrap();
        assert_eq!(email.as_str(), "dana@acme.io");
        assert!(serde_json::from_str::<EmailAddress>("\" dana@acme.io \"").is_err());
        let name: UserName = serde_json::from_str("\" casey \"").unwrap();
        assert_eq!(name.as_str(), "casey");
        let id: CrmId = serde_json::from_str("\"d-7\"").unwrap();
        assert_eq!(id.as_str(), "d-7");
        let refused = [
            serde_json::from_str::<EmailAddress>("\"dana\"").map(|_| ()),
            serde_json::from_str::<UserName>("\"\"").map(|_| ()),
            serde_json::from_str::<CrmId>("\"a b\"").map(|_| ()),
        ];
        for (result, message) in refused.into_iter().zip([
            "is not an email address",
            "must be 1–128 printable characters",
            "must be 1–64 characters of letters, digits, `_` or `-`",
        ]) {
            assert_eq!(result.unwrap_err().to_string(), message);
        }
    }
}
