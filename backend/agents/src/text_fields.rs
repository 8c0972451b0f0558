//! The length and blankness rules for an input's text fields, so every agent names a bad
//! field with the same words.

use caseyos_domain::api::FieldError;

use crate::field_error;

/// Whether a text is blank: `str::trim` leaves nothing (what the schemas' `not_blank`
/// pattern spells, see [`crate::schema::WHITESPACE`]).
pub(crate) fn is_blank(text: &str) -> bool {
    text.trim().is_empty()
}

/// A required text field: not blank, at most `max` characters (counted as given, padding
/// included, as a schema's `maxLength` counts).
pub(crate) fn required_text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) {
    if is_blank(value) {
        errors.push(field_error(field, "must not be empty"));
    } else {
        optional_text(errors, field, Some(value), max);
    }
}

/// An optional text field: at most `max` characters when present.
pub(crate) fn optional_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    max: usize,
) {
    if value.is_some_and(|v| v.chars().count() > max) {
        errors.push(field_error(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

/// An optional text field that, when present, is not blank (it is left out instead) and at
/// most `max` characters.
pub(crate) fn optional_text_not_blank(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    max: usize,
) {
    match value {
        Some(v) if is_blank(v) => {
            errors.push(field_error(
                field,
                "must not be blank; leave it out instead",
            ));
        }
        _ => optional_text(errors, field, value, max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(check: impl Fn(&mut Vec<FieldError>)) -> Vec<String> {
        let mut errors = Vec::new();
        check(&mut errors);
        errors
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect()
    }

    #[test]
    fn required_text_must_not_be_blank_and_counts_the_text_as_given() {
        let table: [(&str, &[&str]); 4] = [
            ("Dana", &[]),
            ("   ", &["input.name: must not be empty"]),
            (
                "Dana Whitfield",
                &["input.name: must be at most 5 characters"],
            ),
            // Padding counts, as a schema's `maxLength` counts it.
            (" Dana ", &["input.name: must be at most 5 characters"]),
        ];
        for (value, expected) in table {
            let got = messages(|errors| required_text(errors, "name", value, 5));
            assert_eq!(got, expected, "{value:?}");
        }
    }

    #[test]
    fn optional_text_limits_what_is_there_and_the_not_blank_rule_refuses_blanks() {
        let too_long = "must be at most 5 characters";
        let blank = "must not be blank; leave it out instead";
        // The value, then what `optional_text` and `optional_text_not_blank` say.
        let table: [(Option<&str>, Option<&str>, Option<&str>); 5] = [
            (None, None, None),
            (Some(""), None, Some(blank)),
            (Some("  "), None, Some(blank)),
            (Some("Acme"), None, None),
            (Some("Acme Ltd"), Some(too_long), Some(too_long)),
        ];
        for (value, optional, not_blank) in table {
            let expected = |m: Option<&str>| {
                m.map(|m| format!("input.f: {m}"))
                    .into_iter()
                    .collect::<Vec<_>>()
            };
            let got = messages(|errors| optional_text(errors, "f", value, 5));
            assert_eq!(got, expected(optional), "optional {value:?}");
            let got = messages(|errors| optional_text_not_blank(errors, "f", value, 5));
            assert_eq!(got, expected(not_blank), "not blank {value:?}");
        }
    }
}
