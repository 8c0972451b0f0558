//! The shared kernel: value types every bounded context speaks — who acted, user names,
//! email addresses, CRM ids, money, text people write and consistency tokens. Each is parsed at the edge into
//! a type that cannot be invalid, and everything here builds for WebAssembly so the SPA
//! uses the same types.

mod actor;
mod consistency;
mod crm_id;
mod email;
mod money;
mod names;
mod object;
mod parsed;
mod text;
pub(crate) mod unit_enum;

pub use actor::{Actor, ActorKind};
pub use consistency::{Checkpoint, ConsistencyToken, InvalidToken};
pub use crm_id::CrmId;
pub use email::EmailAddress;
pub use money::{Currency, Money};
pub use names::UserName;
pub use object::object;
pub use text::{Text, OPTIONAL_TEXT_PATTERN, TEXT_PATTERN};

/// Deserializes a field that is present (possibly `null`) as `Some(..)`, so `None` means
/// "absent, leave alone" and `Some(None)` means "clear it". Use with `#[serde(default)]`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// Deserializes a whole number written as an integer (`367`) or as a number with no
/// fraction (`367.0`, which JSON Schema also calls an integer), refusing fractions and
/// values out of `T`'s range. Use with `#[serde(deserialize_with = "whole")]`.
pub fn whole<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    struct Whole<T>(std::marker::PhantomData<T>);
    impl<T: TryFrom<i64>> serde::de::Visitor<'_> for Whole<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number in range")
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
            T::try_from(v).map_err(|_| E::custom("out of range"))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
            i64::try_from(v)
                .map_err(|_| E::custom("out of range"))
                .and_then(|v| self.visit_i64(v))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<T, E> {
            // i64::MIN is exactly representable; i64::MAX + 1 is the first f64 beyond.
            const LIMIT: f64 = 9_223_372_036_854_775_808.0;
            if v.fract() != 0.0 || !(-LIMIT..LIMIT).contains(&v) {
                return Err(E::custom("must be a whole number in range"));
            }
            self.visit_i64(v as i64)
        }
    }
    deserializer.deserialize_any(Whole(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_read_as_integers_or_numbers_without_a_fraction() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct N {
            #[serde(deserialize_with = "whole")]
            n: u8,
        }
        let read = |raw: &str| serde_json::from_str::<N>(raw).map(|n| n.n).ok();
        assert_eq!(read(r#"{"n": 94}"#), Some(94));
        assert_eq!(read(r#"{"n": 94.0}"#), Some(94));
        assert_eq!(read(r#"{"n": 94.5}"#), None);
        assert_eq!(read(r#"{"n": 256}"#), None);
        assert_eq!(read(r#"{"n": -1.0}"#), None);
        assert_eq!(read(r#"{"n": "94"}"#), None);
        assert_eq!(read(r#"{"n": 1e300}"#), None);
    }

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
