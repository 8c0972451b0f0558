//! The form an agent's input schema asks for: which fields, of which kind, and how what
//! people type becomes the run's JSON input (and an example input becomes text again).
//!
//! Schemas come from utoipa: `{"type":"object","properties":{…},"required":[…]}`, optional
//! fields as `"type": ["string","null"]` or `oneOf` with `{"type":"null"}`.

use caseyos_domain::kernel::instant::parse as parse_instant;
use chrono::{TimeZone, Utc};
use serde_json::{Map, Value};

use crate::infra::format::{humanize, json, local_minutes, read_local_datetime, read_number};

/// How a field is edited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// Text long enough for a text area (bodies, notes, context).
    LongText,
    Integer,
    Number,
    Boolean,
    /// One of these strings.
    Choice(Vec<String>),
    /// An instant, edited in the browser's time (`datetime-local`).
    DateTime,
    Date,
    /// A list of strings, one per line.
    Lines,
    /// Anything else (objects, lists of objects), as JSON text.
    Json,
}

/// One field of the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputField {
    /// The property name; empty for a form that is the whole input as JSON.
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub description: Option<String>,
}

/// What the form holds: each field's text (`"true"` for a ticked box), by field name. A
/// short sorted list: a form has a handful of fields, and a `BTreeMap` of strings would be
/// one more copy of the B-tree's code in the wasm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Values(Vec<(String, String)>);

impl Values {
    pub fn new() -> Values {
        Values::default()
    }

    pub fn get(&self, name: &str) -> Option<&String> {
        let at = self
            .0
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()?;
        Some(&self.0[at].1)
    }

    /// Sets `name`'s text, replacing what it held.
    pub fn insert(&mut self, name: String, text: String) {
        match self.0.binary_search_by(|(n, _)| n.as_str().cmp(&name)) {
            Ok(at) => self.0[at].1 = text,
            Err(at) => self.0.insert(at, (name, text)),
        }
    }
}

impl FromIterator<(String, String)> for Values {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        let mut values = Values::new();
        for (name, text) in pairs {
            values.insert(name, text);
        }
        values
    }
}

/// Names that call for a text area.
const LONG_TEXT: &[&str] = &[
    "body",
    "content",
    "text",
    "context",
    "notes",
    "description",
    "prompt",
    "instructions",
    "brief",
    "summary",
    "transcript",
    "message",
];

/// Strings longer than this get a text area whatever their name.
const LONG_TEXT_CHARS: u64 = 200;

/// A property's schema without its "or null": the schema that remains and whether null
/// was allowed.
fn without_null(schema: &Value) -> (Value, bool) {
    let Some(map) = schema.as_object() else {
        return (schema.clone(), false);
    };
    for key in ["oneOf", "anyOf"] {
        if let Some(branches) = map.get(key).and_then(Value::as_array) {
            let is_null = |b: &Value| b.get("type").and_then(Value::as_str) == Some("null");
            let rest: Vec<&Value> = branches.iter().filter(|b| !is_null(b)).collect();
            let nullable = rest.len() < branches.len();
            if let [only] = rest.as_slice() {
                // The branch, with the outer title and description when it has none.
                let mut merged = map.clone();
                merged.remove(key);
                if let Some(inner) = only.as_object() {
                    merged.extend(inner.clone());
                }
                let (schema, inner_nullable) = without_null(&Value::Object(merged));
                return (schema, nullable || inner_nullable);
            }
            let mut rest_schema = map.clone();
            rest_schema.insert(
                key.into(),
                Value::Array(rest.into_iter().cloned().collect()),
            );
            return (Value::Object(rest_schema), nullable);
        }
    }
    if let Some([only]) = map
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    {
        let mut merged = map.clone();
        merged.remove("allOf");
        if let Some(inner) = only.as_object() {
            merged.extend(inner.clone());
        }
        return without_null(&Value::Object(merged));
    }
    let mut map = map.clone();
    let mut nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
    if let Some(types) = map.get("type").and_then(Value::as_array).cloned() {
        let rest: Vec<Value> = types
            .iter()
            .filter(|t| t.as_str() != Some("null"))
            .cloned()
            .collect();
        nullable |= rest.len() < types.len();
        match rest.as_slice() {
            [only] => map.insert("type".into(), only.clone()),
            _ => map.remove("type"),
        };
    }
    if let Some(values) = map.get("enum").and_then(Value::as_array).cloned() {
        nullable |= values.iter().any(Value::is_null);
        map.insert(
            "enum".into(),
            Value::Array(values.into_iter().filter(|v| !v.is_null()).collect()),
        );
    }
    (Value::Object(map), nullable)
}

/// The strings of a string enum, also when written as `oneOf` of `const`s.
fn choices(schema: &Value) -> Option<Vec<String>> {
    let strings = |values: &[Value]| -> Option<Vec<String>> {
        values
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .filter(|v| !v.is_empty())
    };
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return strings(values);
    }
    let branches = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)?;
    let consts: Option<Vec<Value>> = branches
        .iter()
        .map(|b| {
            b.get("const").cloned().or_else(|| {
                match b.get("enum").and_then(Value::as_array).map(Vec::as_slice) {
                    Some([one]) => Some(one.clone()),
                    _ => None,
                }
            })
        })
        .collect();
    strings(&consts?)
}

fn kind_of(name: &str, schema: &Value) -> FieldKind {
    if let Some(options) = choices(schema) {
        return FieldKind::Choice(options);
    }
    let ty = schema.get("type").and_then(Value::as_str);
    let format = schema.get("format").and_then(Value::as_str);
    match ty {
        Some("string") => match format {
            Some("date-time") => FieldKind::DateTime,
            Some("date") => FieldKind::Date,
            _ => {
                let lower = name.to_ascii_lowercase();
                let long_name = LONG_TEXT.iter().any(|word| lower.contains(word));
                let long_max = schema
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .is_some_and(|max| max > LONG_TEXT_CHARS);
                if long_name || long_max {
                    FieldKind::LongText
                } else {
                    FieldKind::Text
                }
            }
        },
        Some("integer") => FieldKind::Integer,
        Some("number") => FieldKind::Number,
        Some("boolean") => FieldKind::Boolean,
        Some("array") => {
            let items = schema
                .get("items")
                .map(|i| without_null(i).0)
                .unwrap_or(Value::Null);
            let string_items = items.get("type").and_then(Value::as_str) == Some("string")
                || choices(&items).is_some();
            if string_items {
                FieldKind::Lines
            } else {
                FieldKind::Json
            }
        }
        _ => FieldKind::Json,
    }
}

/// The fields an input schema asks for: required ones first (in the schema's order), then
/// the others by name. A schema without `properties` gives one JSON field for the whole
/// input.
pub fn fields(schema: &Value) -> Vec<InputField> {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return vec![InputField {
            name: String::new(),
            label: "Input (JSON)".into(),
            kind: FieldKind::Json,
            required: true,
            description: schema
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_string),
        }];
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let field = |name: &str, property: &Value| {
        let (schema, nullable) = without_null(property);
        let text = |key: &str| schema.get(key).and_then(Value::as_str).map(str::to_string);
        InputField {
            name: name.to_string(),
            label: text("title").unwrap_or_else(|| humanize(name)),
            kind: kind_of(name, &schema),
            required: required.contains(&name) && !nullable,
            description: text("description"),
        }
    };
    let first = required
        .iter()
        .filter_map(|name| properties.get(*name).map(|p| field(name, p)));
    let rest = properties
        .iter()
        .filter(|(name, _)| !required.contains(&name.as_str()))
        .map(|(name, p)| field(name, p));
    first.chain(rest).collect()
}

/// A `datetime-local` value (read in `tz`) as an RFC 3339 instant.
fn instant<Tz: TimeZone>(value: &str, tz: &Tz) -> Option<String> {
    let naive = read_local_datetime(value)?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc).to_rfc3339())
}

fn value_of<Tz: TimeZone>(kind: &FieldKind, text: &str, tz: &Tz) -> Result<Value, String> {
    let trimmed = text.trim();
    match kind {
        FieldKind::Text | FieldKind::LongText | FieldKind::Date | FieldKind::Choice(_) => {
            Ok(Value::String(text.to_string()))
        }
        FieldKind::Integer => trimmed
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| "must be a whole number".to_string()),
        FieldKind::Number => read_number(trimmed)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| "must be a number".to_string()),
        FieldKind::Boolean => Ok(Value::Bool(trimmed == "true")),
        FieldKind::DateTime => instant(trimmed, tz)
            .or_else(|| parse_instant(trimmed).map(|t| t.to_rfc3339()))
            .map(Value::String)
            .ok_or_else(|| "must be a date and time".to_string()),
        FieldKind::Lines => Ok(Value::Array(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| Value::String(l.to_string()))
                .collect(),
        )),
        FieldKind::Json => {
            crate::api::json::from_str(trimmed).map_err(|e| format!("is not valid JSON: {e}"))
        }
    }
}

/// The run input the form describes, or each field's problem (`(name, message)`). Empty
/// optional fields are left out; boxes are always sent.
pub fn to_input<Tz: TimeZone>(
    fields: &[InputField],
    values: &Values,
    tz: &Tz,
) -> Result<Value, Vec<(String, String)>> {
    let mut input = Map::new();
    let mut problems = Vec::new();
    for field in fields {
        let text = values.get(&field.name).map(String::as_str).unwrap_or("");
        if field.kind != FieldKind::Boolean && text.trim().is_empty() {
            if field.required {
                problems.push((field.name.clone(), "is required".to_string()));
            }
            continue;
        }
        match value_of(&field.kind, text, tz) {
            Ok(value) if field.name.is_empty() => match value {
                Value::Object(map) => input = map,
                _ => problems.push((String::new(), "must be a JSON object".into())),
            },
            Ok(value) => {
                input.insert(field.name.clone(), value);
            }
            Err(message) => problems.push((field.name.clone(), message)),
        }
    }
    if problems.is_empty() {
        Ok(Value::Object(input))
    } else {
        Err(problems)
    }
}

fn text_of<Tz: TimeZone>(kind: &FieldKind, value: &Value, tz: &Tz) -> String {
    match (kind, value) {
        (_, Value::Null) => String::new(),
        (FieldKind::DateTime, Value::String(s)) => parse_instant(s)
            .map(|t| local_minutes(t.with_timezone(tz).naive_local()))
            .unwrap_or_else(|| s.clone()),
        (FieldKind::Boolean, Value::Bool(b)) => if *b { "true" } else { "" }.to_string(),
        (FieldKind::Lines, Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string).unwrap_or_else(|| json(i)))
            .collect::<Vec<_>>()
            .join("\n"),
        (FieldKind::Json, other) => serde_json::to_string_pretty(other).unwrap_or_default(),
        (_, Value::String(s)) => s.clone(),
        (_, other) => json(other),
    }
}

/// The form's text for an input (to start from an agent's example).
pub fn values_of<Tz: TimeZone>(fields: &[InputField], input: &Value, tz: &Tz) -> Values {
    fields
        .iter()
        .map(|field| {
            let value = if field.name.is_empty() {
                input.clone()
            } else {
                input.get(&field.name).cloned().unwrap_or(Value::Null)
            };
            (field.name.clone(), text_of(&field.kind, &value, tz))
        })
        .collect()
}

/// The form field a server validation error names: `input.attendees[0].email` →
/// `attendees`; errors about the input as a whole belong to no field (`None`).
pub fn field_of(server_field: &str) -> Option<&str> {
    let rest = server_field
        .strip_prefix("input.")
        .or_else(|| server_field.strip_prefix("input/"))?;
    rest.split(['.', '[', '/'])
        .next()
        .filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Each field's name, kind and whether it is required.
    type Kinds = Vec<(String, FieldKind, bool)>;

    fn kinds(schema: Value) -> Kinds {
        fields(&schema)
            .into_iter()
            .map(|f| (f.name, f.kind, f.required))
            .collect()
    }

    fn k(name: &str, kind: FieldKind, required: bool) -> (String, FieldKind, bool) {
        (name.to_string(), kind, required)
    }

    #[wasm_bindgen_test]
    fn schemas_become_fields_of_the_right_kind() {
        let table: Vec<(Value, Kinds)> = vec![
            (
                json!({"type": "object", "required": ["subject", "contact_id"], "properties": {
                    "body": {"type": "string"},
                    "contact_id": {"type": "string"},
                    "subject": {"type": "string"},
                    "tone": {"type": "string", "enum": ["warm", "formal"]},
                    "max_words": {"type": "integer", "format": "int32", "minimum": 0},
                    "temperature": {"type": "number"},
                    "dry_run": {"type": "boolean"},
                }}),
                vec![
                    k("subject", FieldKind::Text, true),
                    k("contact_id", FieldKind::Text, true),
                    k("body", FieldKind::LongText, false),
                    k("dry_run", FieldKind::Boolean, false),
                    k("max_words", FieldKind::Integer, false),
                    k("temperature", FieldKind::Number, false),
                    k(
                        "tone",
                        FieldKind::Choice(vec!["warm".into(), "formal".into()]),
                        false,
                    ),
                ],
            ),
            (
                // Optional fields as utoipa writes them: a type list, or oneOf with null.
                json!({"type": "object", "required": ["deal_id", "due"], "properties": {
                    "deal_id": {"type": ["string", "null"]},
                    "due": {"type": "string", "format": "date-time"},
                    "since": {"type": ["string", "null"], "format": "date"},
                    "stage": {"oneOf": [{"type": "null"}, {"type": "string", "enum": ["open", "won"]}]},
                    "owner": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Owner"}]},
                    "limit": {"type": ["integer", "null"], "minimum": 1},
                    "mode": {"type": "string", "enum": ["fast", "deep", null]},
                }}),
                vec![
                    k("deal_id", FieldKind::Text, false),
                    k("due", FieldKind::DateTime, true),
                    k("limit", FieldKind::Integer, false),
                    k(
                        "mode",
                        FieldKind::Choice(vec!["fast".into(), "deep".into()]),
                        false,
                    ),
                    k("owner", FieldKind::Json, false),
                    k("since", FieldKind::Date, false),
                    k(
                        "stage",
                        FieldKind::Choice(vec!["open".into(), "won".into()]),
                        false,
                    ),
                ],
            ),
            (
                json!({"type": "object", "properties": {
                    "emails": {"type": "array", "items": {"type": "string", "format": "email"}},
                    "attendees": {"type": "array", "items": {"type": "object", "properties": {"email": {"type": "string"}}}},
                    "filters": {"type": "object", "additionalProperties": true},
                    "channels": {"type": ["array", "null"], "items": {"type": "string", "enum": ["email", "sms"]}},
                    "context": {"type": "string"},
                    "headline": {"type": "string", "maxLength": 2000},
                    "anything": {},
                }}),
                vec![
                    k("anything", FieldKind::Json, false),
                    k("attendees", FieldKind::Json, false),
                    k("channels", FieldKind::Lines, false),
                    k("context", FieldKind::LongText, false),
                    k("emails", FieldKind::Lines, false),
                    k("filters", FieldKind::Json, false),
                    k("headline", FieldKind::LongText, false),
                ],
            ),
            (json!({"type": "object", "properties": {}}), vec![]),
            (
                json!({"description": "free-form"}),
                vec![k("", FieldKind::Json, true)],
            ),
        ];
        for (schema, expected) in table {
            assert_eq!(kinds(schema.clone()), expected, "{schema}");
        }
        let titled = fields(&json!({"type": "object", "properties": {
            "company_domain": {"type": "string", "description": "e.g. acme.com"},
            "x": {"type": "string", "title": "The X"},
        }}));
        assert_eq!(titled[0].label, "Company domain");
        assert_eq!(titled[0].description.as_deref(), Some("e.g. acme.com"));
        assert_eq!(titled[1].label, "The X");
    }

    fn form() -> Vec<InputField> {
        fields(
            &json!({"type": "object", "required": ["subject"], "properties": {
                "subject": {"type": "string"},
                "body": {"type": ["string", "null"]},
                "max_words": {"type": "integer"},
                "temperature": {"type": "number"},
                "dry_run": {"type": "boolean"},
                "send_at": {"type": "string", "format": "date-time"},
                "emails": {"type": "array", "items": {"type": "string"}},
                "meta": {"type": "object"},
            }}),
        )
    }

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[wasm_bindgen_test]
    fn form_values_hold_one_text_per_field_whatever_the_order() {
        let mut set = values(&[("b", "1"), ("a", "2"), ("b", "3")]);
        assert_eq!(set, values(&[("a", "2"), ("b", "3")]));
        set.insert("a".into(), "4".into());
        assert_eq!(set.get("a").map(String::as_str), Some("4"));
        assert_eq!(set.get("c"), None);
    }

    #[wasm_bindgen_test]
    fn what_people_type_becomes_the_input() {
        let typed = values(&[
            ("subject", "Hello"),
            ("body", ""),
            ("max_words", " 120 "),
            ("temperature", "0.5"),
            ("dry_run", "true"),
            ("send_at", "2026-11-21T09:30"),
            ("emails", "a@x.com\n\n b@x.com \n"),
            ("meta", r#"{"k": [1]}"#),
        ]);
        let input = to_input(&form(), &typed, &Utc).unwrap();
        assert_eq!(
            input,
            json!({
                "subject": "Hello",
                "max_words": 120,
                "temperature": 0.5,
                "dry_run": true,
                "send_at": "2026-11-21T09:30:00+00:00",
                "emails": ["a@x.com", "b@x.com"],
                "meta": {"k": [1]},
            })
        );
        let bad = values(&[("max_words", "1.5"), ("meta", "{nope"), ("send_at", "soon")]);
        let problems = to_input(&form(), &bad, &Utc).unwrap_err();
        let named: Vec<&str> = problems.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(named, vec!["subject", "max_words", "meta", "send_at"]);
        assert_eq!(problems[0].1, "is required");
        assert_eq!(
            to_input(&form(), &values(&[("subject", "x")]), &Utc).unwrap(),
            json!({"subject": "x", "dry_run": false})
        );
    }

    #[wasm_bindgen_test]
    fn examples_fill_the_form_and_read_back_the_same() {
        let example = json!({
            "subject": "Hi",
            "max_words": 80,
            "dry_run": true,
            "send_at": "2026-11-21T09:30:00+00:00",
            "emails": ["a@x.com", "b@x.com"],
            "meta": {"k": 1},
        });
        let paris = chrono::FixedOffset::east_opt(3_600).unwrap();
        let filled = values_of(&form(), &example, &paris);
        assert_eq!(filled.get("send_at").unwrap(), "2026-11-21T10:30");
        assert_eq!(filled.get("emails").unwrap(), "a@x.com\nb@x.com");
        assert_eq!(filled.get("body").unwrap(), "");
        assert_eq!(filled.get("meta").unwrap(), "{\n  \"k\": 1\n}");
        let back = to_input(&form(), &filled, &paris).unwrap();
        assert_eq!(back["send_at"], "2026-11-21T09:30:00+00:00");
        assert_eq!(back["emails"], example["emails"]);
        assert_eq!(back["max_words"], 80);
        let whole = fields(&json!({}));
        assert_eq!(
            to_input(&whole, &values_of(&whole, &example, &Utc), &Utc).unwrap(),
            example
        );
    }

    #[wasm_bindgen_test]
    fn server_field_errors_point_at_form_fields() {
        assert_eq!(field_of("input.subject"), Some("subject"));
        assert_eq!(field_of("input.attendees[0].email"), Some("attendees"));
        assert_eq!(field_of("input/subject"), Some("subject"));
        assert_eq!(field_of("input"), None);
        assert_eq!(field_of("reason"), None);
    }
}
