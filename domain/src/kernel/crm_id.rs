//! CRM record ids.

use serde::Serialize;

/// A CRM record id (HubSpot ids and the like): 1–64 of `A–Z a–z 0–9 _ -`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "server", schema(value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}$"))]
#[serde(transparent)]
pub struct CrmId(String);

impl CrmId {
    /// What [`CrmId::parse`] accepts, as the OpenAPI document's regular expression.
    pub const PATTERN: &'static str = "^[A-Za-z0-9_-]{1,64}$";

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if ok {
            Ok(CrmId(raw.to_string()))
        } else {
            Err("must be 1–64 characters of letters, digits, `_` or `-`")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::parsed::deserialize_by_parse!(CrmId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crm_ids_are_validated() {
        assert!(CrmId::parse("abc_123-X").is_ok());
        for bad in ["", "a b", "x/y", &"a".repeat(65)] {
            assert!(CrmId::parse(bad).is_err(), "{bad}");
        }
    }
}
