//! Each agent's input schema says exactly what its checks accept, so a client (or a fuzzer)
//! that follows the schema is never refused and one that breaks it is never let through.
//!
//! utoipa derives the shape of an input (fields, types, which are required); an agent's
//! `schema()` then adds its rules with [`InputSchema`], naming the same constants its
//! `check` uses. Patterns are written in the subset every JSON Schema engine reads alike
//! (explicit classes and `\uXXXX` escapes; no `\s`, `\d`, `\w`, look-around or flags), and
//! whitespace means exactly what Rust's `str::trim` removes ([`WHITESPACE`]).

use serde_json::{json, Map, Value};

#[cfg(test)]
mod agreement;

/// The characters `char::is_whitespace` accepts (Unicode `White_Space`), which `str::trim`
/// removes, as the body of a regex character class. `\s` is not used because engines
/// disagree on it (ECMAScript counts U+FEFF and not U+0085; Python counts U+001C–U+001F).
pub const WHITESPACE: &str =
    r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

/// Any text without U+0000, which PostgreSQL cannot store and the API refuses.
pub fn no_nul() -> String {
    r"^[^\u0000]*$".to_string()
}

/// Text with at least one character that is not whitespace, and no U+0000.
pub fn not_blank() -> String {
    format!(r"^[{WHITESPACE}]*[^\u0000{WHITESPACE}][^\u0000]*$")
}

/// Any text up to `max` characters (no U+0000).
pub fn text(max: usize) -> Value {
    json!({"type": "string", "maxLength": max, "pattern": no_nul()})
}

/// Text of `min..=max` characters that is not blank (no U+0000).
pub fn non_blank_text(min: usize, max: usize) -> Value {
    json!({"type": "string", "minLength": min.max(1), "maxLength": max, "pattern": not_blank()})
}

/// An integer in `min..=max`.
pub fn integer(min: i64, max: i64) -> Value {
    json!({"type": "integer", "minimum": min, "maximum": max})
}

/// The schema utoipa derives for an input, refined field by field.
pub struct InputSchema(Value);

impl InputSchema {
    pub fn of<T: utoipa::PartialSchema>() -> Self {
        InputSchema(serde_json::to_value(T::schema()).unwrap_or(Value::Null))
    }

    /// The schema of the field `name`.
    ///
    /// # Panics
    /// When the input has no such field: a mistake in the agent's `schema()`, which the
    /// registry's tests catch.
    fn field(&mut self, name: &str) -> &mut Map<String, Value> {
        self.0["properties"][name]
            .as_object_mut()
            .unwrap_or_else(|| panic!("the input has no field {name}"))
    }

    /// Merges `rules` into the field's schema (dropping utoipa's `format`, e.g. `int32` for
    /// a `u32`); a field that may be `null` stays nullable (`type` and `enum` are the only
    /// keywords used here that do not ignore `null`).
    pub fn field_rules(mut self, name: &str, rules: Value) -> Self {
        let field = self.field(name);
        let nullable = field["type"]
            .as_array()
            .is_some_and(|types| types.contains(&json!("null")));
        field.remove("format");
        if let Value::Object(rules) = rules {
            for (key, value) in rules {
                field.insert(key, value);
            }
        }
        if nullable {
            if let Some(kind) = field.get("type").and_then(Value::as_str) {
                let kind = kind.to_string();
                field.insert("type".into(), json!([kind, "null"]));
            }
            if let Some(values) = field.get_mut("enum").and_then(Value::as_array_mut) {
                if !values.contains(&Value::Null) {
                    values.push(Value::Null);
                }
            }
        }
        self
    }

    /// Any text up to `max` characters.
    pub fn text(self, name: &str, max: usize) -> Self {
        self.field_rules(name, text(max))
    }

    /// Text that is not blank, at most `max` characters.
    pub fn non_blank_text(self, name: &str, max: usize) -> Self {
        self.field_rules(name, non_blank_text(1, max))
    }

    /// An integer in `min..=max`.
    pub fn integer(self, name: &str, min: i64, max: i64) -> Self {
        self.field_rules(name, integer(min, max))
    }

    /// Sets a keyword at the input's top level (`anyOf`, …).
    pub fn keyword(mut self, key: &str, value: Value) -> Self {
        self.0[key] = value;
        self
    }

    /// The schema; any string field left without rules gets [`no_nul`].
    pub fn build(mut self) -> Value {
        if let Some(fields) = self.0["properties"].as_object_mut() {
            for field in fields.values_mut() {
                let is_text = match &field["type"] {
                    Value::String(kind) => kind == "string",
                    Value::Array(kinds) => kinds.contains(&json!("string")),
                    _ => false,
                };
                if is_text && field.get("pattern").is_none() && field.get("enum").is_none() {
                    field["pattern"] = json!(no_nul());
                }
            }
        }
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The class body as a set of code points, read independently of any regex engine.
    fn whitespace_class() -> Vec<char> {
        let mut chars = Vec::new();
        let mut rest = WHITESPACE;
        let mut previous: Option<char> = None;
        while !rest.is_empty() {
            let (c, tail) = if let Some(hex) = rest.strip_prefix(r"\u") {
                let code = u32::from_str_radix(&hex[..4], 16).expect("hex");
                (char::from_u32(code).expect("a char"), &hex[4..])
            } else if let Some(tail) = rest.strip_prefix(r"\t") {
                ('\t', tail)
            } else if let Some(tail) = rest.strip_prefix(r"\n") {
                ('\n', tail)
            } else if let Some(tail) = rest.strip_prefix(r"\r") {
                ('\r', tail)
            } else if let Some(tail) = rest.strip_prefix('-') {
                // A range: from the previous character to the next one.
                let (end, tail) = if let Some(hex) = tail.strip_prefix(r"\u") {
                    let code = u32::from_str_radix(&hex[..4], 16).expect("hex");
                    (char::from_u32(code).expect("a char"), &hex[4..])
                } else {
                    panic!("ranges end in \\u escapes")
                };
                let start = previous.expect("a range has a start");
                chars.extend((start as u32 + 1..=end as u32).filter_map(char::from_u32));
                previous = Some(end);
                rest = tail;
                continue;
            } else {
                let c = rest.chars().next().expect("not empty");
                (c, &rest[c.len_utf8()..])
            };
            chars.push(c);
            previous = Some(c);
            rest = tail;
        }
        chars
    }

    #[test]
    fn the_whitespace_class_is_exactly_what_str_trim_removes() {
        let class = whitespace_class();
        for code in 0..=0x10FFFF_u32 {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            assert_eq!(
                class.contains(&c),
                c.is_whitespace(),
                "U+{code:04X} in the class vs char::is_whitespace"
            );
            // `trim` removes exactly `is_whitespace` characters.
            assert_eq!(c.to_string().trim().is_empty(), c.is_whitespace());
        }
    }

    #[test]
    fn the_patterns_agree_with_is_blank_and_refuse_nul() {
        let blank = regex::Regex::new(&not_blank()).expect("compiles");
        let no_nul = regex::Regex::new(&no_nul()).expect("compiles");
        // Each text, and whether it matches `not_blank` (neither matches with U+0000).
        let table = [
            ("", false),
            (" ", false),
            ("\u{3000}\u{85}\t\n", false),
            ("\u{FEFF}", true),
            ("\u{1C}", true),
            ("\u{200B}", true),
            ("a", true),
            (" a\n", true),
            ("a\u{0}", false),
            ("\u{0}", false),
            (" \u{0} ", false),
        ];
        for (text, matches_not_blank) in table {
            assert_eq!(blank.is_match(text), matches_not_blank, "{text:?}");
            assert_eq!(
                no_nul.is_match(text),
                !text.contains('\0'),
                "{text:?} no_nul"
            );
            if !text.contains('\0') {
                assert_eq!(
                    !crate::text_fields::is_blank(text),
                    matches_not_blank,
                    "{text:?} is_blank"
                );
            }
        }
    }
}
