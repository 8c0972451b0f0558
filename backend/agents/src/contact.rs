//! The contact an agent writes to: checking and reading its address and CRM id, and
//! linking the proposed move to it.

use caseyos_domain::api::FieldError;
use caseyos_domain::kernel::{CrmId, EmailAddress};
use caseyos_domain::queue::{ContactRef, Target};

use serde_json::{json, Value};

use crate::field_error;
use crate::schema::WHITESPACE;

/// The longest address accepted, in characters as given (RFC 5321's limit on a path). It
/// also keeps the domain within [`EmailAddress::parse`]'s 253, so [`email_pattern`] need not
/// say that.
pub(crate) const MAX_EMAIL_CHARS: usize = 254;

/// What [`EmailAddress::parse`] accepts, as a regex ([`EmailAddress::PATTERN`]); the local
/// part's 64 characters are [`local_length_pattern`]'s.
pub(crate) fn email_pattern() -> String {
    EmailAddress::PATTERN.to_string()
}

/// At most 64 characters before the `@` (after leading whitespace).
pub(crate) fn local_length_pattern() -> String {
    format!(r"^[{WHITESPACE}]*[^@]{{1,64}}@")
}

/// The schema of an address field.
pub(crate) fn email_schema() -> Value {
    json!({
        "type": "string",
        "maxLength": MAX_EMAIL_CHARS,
        "allOf": [{"pattern": email_pattern()}, {"pattern": local_length_pattern()}],
    })
}

/// The schema of a CRM id field, as [`CrmId::parse`] reads it.
pub(crate) fn crm_id_schema() -> Value {
    json!({"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"})
}

/// Names a bad address at `input.<email_field>` and a bad CRM id at `input.contact_id`.
pub(crate) fn check(
    errors: &mut Vec<FieldError>,
    email_field: &str,
    email: &str,
    contact_id: Option<&str>,
) {
    if email.chars().count() > MAX_EMAIL_CHARS {
        errors.push(field_error(
            email_field,
            format!("must be at most {MAX_EMAIL_CHARS} characters"),
        ));
    } else if let Err(message) = EmailAddress::parse(email) {
        errors.push(field_error(email_field, message));
    }
    if let Some(id) = contact_id {
        if let Err(message) = CrmId::parse(id) {
            errors.push(field_error("contact_id", message));
        }
    }
}

/// A contact's address and, when known, CRM id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Contact {
    pub email: EmailAddress,
    pub id: Option<CrmId>,
}

impl Contact {
    /// Reads the address (from the field `email_field`) and the CRM id; the first bad one
    /// is returned as its field name (`contact_id` for the id) and why.
    pub(crate) fn parse<'f>(
        email_field: &'f str,
        email: &str,
        contact_id: Option<&str>,
    ) -> Result<Contact, (&'f str, &'static str)> {
        let email = EmailAddress::parse(email).map_err(|m| (email_field, m))?;
        let id = contact_id
            .map(CrmId::parse)
            .transpose()
            .map_err(|m| ("contact_id", m))?;
        Ok(Contact { email, id })
    }

    /// The move's target: the contact, by `name`, when its CRM id is known; none otherwise.
    pub(crate) fn target(&self, name: &str) -> Target {
        Target {
            contact: self.id.clone().map(|id| ContactRef {
                id,
                name: Some(name.to_string()),
                email: Some(self.email.clone()),
            }),
            ..Target::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_a_bad_address_and_a_bad_crm_id() {
        let table: [(&str, Option<&str>, &[&str]); 4] = [
            ("dana@northwind.example", Some("51234"), &[]),
            ("dana@northwind.example", None, &[]),
            ("dana@", None, &["input.from_email"]),
            (
                "dana@",
                Some("has spaces"),
                &["input.from_email", "input.contact_id"],
            ),
        ];
        for (email, id, expected) in table {
            let mut errors = Vec::new();
            check(&mut errors, "from_email", email, id);
            let fields: Vec<String> = errors.into_iter().map(|e| e.field).collect();
            assert_eq!(fields, expected, "{email:?} {id:?}");
        }
    }

    #[test]
    fn parse_names_the_first_bad_field() {
        let table = [
            ("dana@", Some("has spaces"), "from_email"),
            ("dana@northwind.example", Some("has spaces"), "contact_id"),
        ];
        for (email, id, field) in table {
            let got = Contact::parse("from_email", email, id).map_err(|(f, _)| f);
            assert_eq!(got, Err(field), "{email:?} {id:?}");
        }
    }

    #[test]
    fn the_target_is_the_contact_only_when_its_crm_id_is_known() {
        let known = Contact::parse("contact_email", "dana@northwind.example", Some("51234"))
            .expect("valid");
        let target = known.target("Dana Whitfield");
        let contact = target.contact.expect("a contact target");
        assert_eq!(contact.id.as_str(), "51234");
        assert_eq!(contact.name.as_deref(), Some("Dana Whitfield"));
        assert_eq!(
            contact.email.as_ref().map(EmailAddress::as_str),
            Some("dana@northwind.example")
        );

        let unknown =
            Contact::parse("contact_email", "dana@northwind.example", None).expect("valid");
        assert_eq!(unknown.target("Dana Whitfield"), Target::default());
    }
}
