//! For every agent, inputs generated from its schema at the edges of each rule are accepted
//! by `validate` exactly when the schema accepts them.
//!
//! The schema side is judged by [`Judge`], a small JSON Schema validator for the keywords
//! the input schemas use (it refuses to judge a schema with any other keyword, so a new
//! rule cannot go unchecked). Its patterns run on the `regex` crate, whose syntax and
//! meaning the patterns share with the fancy-regex engine of jsonschema-rs (the validator
//! schemathesis uses); `format: date-time` is RFC 3339 as [`rfc3339`] reads it, which agrees
//! with the verdicts recorded from jsonschema-rs in [`crate::instants`].

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::instants::tests::FORMAT_VERDICTS;
use crate::{AgentSpec, REGISTRY};

/// Keywords that only annotate.
const ANNOTATIONS: &[&str] = &["description", "default", "example", "examples", "title"];

/// A JSON Schema validator for the keywords the input schemas use.
#[derive(Default)]
struct Judge {
    patterns: RefCell<HashMap<String, regex::Regex>>,
}

impl Judge {
    fn matches(&self, pattern: &str, text: &str) -> bool {
        let mut patterns = self.patterns.borrow_mut();
        let compiled = patterns.entry(pattern.to_string()).or_insert_with(|| {
            regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"))
        });
        compiled.is_match(text)
    }

    fn valid(&self, schema: &Value, value: &Value) -> bool {
        let Some(schema) = schema.as_object() else {
            panic!("a schema is an object: {schema}");
        };
        schema
            .iter()
            .all(|(keyword, rule)| self.keyword(schema, keyword, rule, value))
    }

    fn keyword(
        &self,
        schema: &Map<String, Value>,
        keyword: &str,
        rule: &Value,
        value: &Value,
    ) -> bool {
        let number = |v: &Value| v.as_f64().expect("a number");
        match keyword {
            k if ANNOTATIONS.contains(&k) => true,
            "type" => match rule {
                Value::String(kind) => has_type(kind, value),
                Value::Array(kinds) => kinds
                    .iter()
                    .any(|kind| has_type(kind.as_str().expect("a type name"), value)),
                _ => panic!("type {rule}"),
            },
            "enum" => rule
                .as_array()
                .expect("enum lists values")
                .iter()
                .any(|allowed| same(allowed, value)),
            "minimum" => value.as_f64().is_none_or(|v| v >= number(rule)),
            "maximum" => value.as_f64().is_none_or(|v| v <= number(rule)),
            "minLength" => value
                .as_str()
                .is_none_or(|s| s.chars().count() as f64 >= number(rule)),
            "maxLength" => value
                .as_str()
                .is_none_or(|s| s.chars().count() as f64 <= number(rule)),
            "pattern" => value
                .as_str()
                .is_none_or(|s| self.matches(rule.as_str().expect("a pattern"), s)),
            "format" => value.as_str().is_none_or(|s| {
                assert_eq!(rule, "date-time", "only date-time formats are judged");
                rfc3339(s)
            }),
            "minItems" => value
                .as_array()
                .is_none_or(|a| a.len() as f64 >= number(rule)),
            "maxItems" => value
                .as_array()
                .is_none_or(|a| a.len() as f64 <= number(rule)),
            "uniqueItems" => value.as_array().is_none_or(|a| {
                rule != &json!(true)
                    || a.iter()
                        .enumerate()
                        .all(|(i, x)| a[..i].iter().all(|y| !same(x, y)))
            }),
            "items" => value
                .as_array()
                .is_none_or(|a| a.iter().all(|item| self.valid(rule, item))),
            "required" => value.as_object().is_none_or(|o| {
                rule.as_array()
                    .expect("required lists names")
                    .iter()
                    .all(|name| o.contains_key(name.as_str().expect("a name")))
            }),
            "properties" => value.as_object().is_none_or(|o| {
                rule.as_object()
                    .expect("properties")
                    .iter()
                    .all(|(name, field)| o.get(name).is_none_or(|v| self.valid(field, v)))
            }),
            "additionalProperties" => value.as_object().is_none_or(|o| {
                assert_eq!(rule, &json!(false), "only closed objects are judged");
                let known = schema.get("properties").and_then(Value::as_object);
                o.keys().all(|k| known.is_some_and(|p| p.contains_key(k)))
            }),
            "anyOf" => rule
                .as_array()
                .expect("branches")
                .iter()
                .any(|b| self.valid(b, value)),
            "allOf" => rule
                .as_array()
                .expect("branches")
                .iter()
                .all(|b| self.valid(b, value)),
            "oneOf" => {
                rule.as_array()
                    .expect("branches")
                    .iter()
                    .filter(|b| self.valid(b, value))
                    .count()
                    == 1
            }
            other => panic!("the judge does not know the keyword {other}"),
        }
    }
}

/// RFC 3339's `date-time` (section 5.6, with 5.7's calendar rules), read without chrono:
/// `T` and `Z` in either case, a leap second only where the UTC time is 23:59.
fn rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let number = |from: usize, to: usize| -> Option<u32> {
        let digits = b.get(from..to)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let at = |i: usize, set: &[u8]| b.get(i).is_some_and(|c| set.contains(c));
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        number(0, 4),
        number(5, 7),
        number(8, 10),
        number(11, 13),
        number(14, 16),
        number(17, 19),
    ) else {
        return false;
    };
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt") && at(13, b":") && at(16, b":")) {
        return false;
    }
    let leap_year = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap_year => 29,
        2 => 28,
        _ => return false,
    };
    if !(1..=days).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut i = 19;
    if at(i, b".") {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        i += 1 + digits;
    }
    let offset_minutes: i64 = if at(i, b"Zz") && b.len() == i + 1 {
        0
    } else if at(i, b"+-") && b.len() == i + 6 && at(i + 3, b":") {
        let (Some(h), Some(m)) = (number(i + 1, i + 3), number(i + 4, i + 6)) else {
            return false;
        };
        if h > 23 || m > 59 {
            return false;
        }
        let sign = if b[i] == b'-' { -1 } else { 1 };
        sign * i64::from(h * 60 + m)
    } else {
        return false;
    };
    let utc_minute_of_day = (i64::from(hour * 60 + minute) - offset_minutes).rem_euclid(24 * 60);
    second < 60 || utc_minute_of_day == 23 * 60 + 59
}

#[test]
fn the_judges_date_time_agrees_with_jsonschema_rs() {
    for (text, valid) in FORMAT_VERDICTS {
        assert_eq!(rfc3339(text), *valid, "{text:?}");
    }
}

fn has_type(kind: &str, value: &Value) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        // JSON Schema: any number without a fraction.
        "integer" => value.as_f64().is_some_and(|f| f.fract() == 0.0),
        other => panic!("type {other}"),
    }
}

/// JSON equality, numbers by value (`2` and `2.0` are the same).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn branches(schema: &Value) -> Vec<&Value> {
    match schema.get("oneOf").or_else(|| schema.get("anyOf")) {
        Some(Value::Array(branches)) => branches.iter().collect(),
        _ => vec![schema],
    }
}

fn types(schema: &Value) -> Vec<String> {
    match &schema["type"] {
        Value::String(kind) => vec![kind.clone()],
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(|k| k.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

/// An address of exactly `chars` characters (at least 70) that [`EmailAddress`] accepts.
///
/// [`EmailAddress`]: caseyos_domain::kernel::EmailAddress
fn email_of(chars: usize) -> String {
    format!("{}@{}.io", "a".repeat(64), "b".repeat(chars - 68))
}

/// Strings that probe the patterns, whatever field they are tried on.
fn probe_strings() -> Vec<String> {
    let mut strings: Vec<String> = [
        // Blank, not blank, NUL.
        "",
        " ",
        "\t\n",
        "\u{3000}",
        "\u{85}",
        "\u{a0}\u{2028}",
        "\u{FEFF}",
        "\u{1C}",
        "\u{200B}",
        "a",
        " a ",
        "a\n",
        "\na",
        "a\u{0}",
        "\u{0}",
        " \u{0} ",
        // Addresses.
        "dana@northwind.example",
        " Dana.Whitfield@Northwind-Analytics.COM\n",
        "o'brien+crm@mail.acme.io",
        "d@a.io",
        "dana@",
        "@acme.io",
        "dana@acme",
        "dana@acme.c0m",
        "dana@acme.i",
        "da na@acme.io",
        "dana@-acme.io",
        "dana@acme-.io",
        "dana@a..io",
        "dana@.acme.io",
        "dana@@acme.io",
        "dana@acme.io.",
        "dänä@acme.io",
        "dana@acmé.io",
        "dana@acme.io\u{0}",
        "dana@acme.io x",
        "dana@acme_x.io",
        "dana!@acme.io",
        // CRM ids.
        "51234",
        "abc_123-X",
        "a b",
        "x/y",
        "-",
        "_",
        // Sites and URLs.
        "acme.io",
        " acme.io ",
        "acme",
        "acme .io",
        ".",
        "https://blog.example.com/x",
        "http://a",
        "https://",
        "http://",
        "ftp://x.y",
        "https://a b",
        "HTTPS://x.y",
        " https://x.y",
        "https://x.y ",
        "https://\u{0}",
        // Contact ids (UUIDs): hyphenated, upper case, and the other forms the uuid crate
        // reads that the schema refuses.
        "0190c6b2-6c1e-7a2b-9c1d-2e3f4a5b6c7d",
        "0190C6B2-6C1E-7A2B-9C1D-2E3F4A5B6C7D",
        "0190c6b26c1e7a2b9c1d2e3f4a5b6c7d",
        "{0190c6b2-6c1e-7a2b-9c1d-2e3f4a5b6c7d}",
        "urn:uuid:0190c6b2-6c1e-7a2b-9c1d-2e3f4a5b6c7d",
        "0190c6b2-6c1e-7a2b-9c1d-2e3f4a5b6c7g",
        "0190c6b2-6c1e-7a2b-9c1d-2e3f4a5b6c7",
    ]
    .map(String::from)
    .to_vec();
    strings.extend([
        "a".repeat(64) + "@acme.io",
        "a".repeat(65) + "@acme.io",
        "dana.@acme.io".into(),
        ".dana@acme.io".into(),
        "da..na@acme.io".into(),
        "da.na@acme.io".into(),
        format!(" {}.b@acme.io", "a".repeat(62)),
        format!("{}.b@acme.io", "a".repeat(63)),
        email_of(254),
        email_of(255),
        format!(" {} ", email_of(253)),
        format!(" {}", email_of(253)),
        "a".repeat(64),
        "a".repeat(65),
    ]);
    strings.extend(FORMAT_VERDICTS.iter().map(|(text, _)| text.to_string()));
    strings
}

/// Values of every kind, for fields that expect another.
fn other_kinds() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!("1"),
        json!([]),
        json!({}),
        json!(1.5),
    ]
}

/// Numbers that probe integer rules, whatever field they are tried on.
fn probe_numbers() -> Vec<Value> {
    let mut numbers = vec![
        json!(0),
        json!(-1),
        json!(1),
        json!(2.0),
        json!(1e2),
        json!(-0.0),
        json!(0.5),
        json!(255),
        json!(256),
        json!(i64::from(i32::MAX) + 1),
        json!(i64::from(i32::MIN) - 1),
        json!(u32::MAX),
        json!(u64::from(u32::MAX) + 1),
        json!(1e19),
    ];
    numbers.extend(other_kinds());
    numbers
}

/// Values at and past the edges of `schema`'s rules, and values of other kinds.
fn candidates(schema: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for branch in branches(schema) {
        if let Some(values) = branch["enum"].as_array() {
            for value in values {
                out.push(value.clone());
                if let Some(n) = value.as_i64() {
                    out.push(json!(n + 1));
                    out.push(json!(n as f64));
                }
                if let Some(s) = value.as_str() {
                    out.push(json!(s.to_uppercase()));
                    out.push(json!(format!("{s} ")));
                }
            }
        }
        let kinds = types(branch);
        if kinds.iter().any(|k| k == "integer") {
            for key in ["minimum", "maximum"] {
                if let Some(edge) = branch[key].as_i64() {
                    out.extend([
                        json!(edge - 1),
                        json!(edge),
                        json!(edge + 1),
                        json!(edge as f64),
                    ]);
                }
            }
            out.extend(probe_numbers());
        }
        if kinds.iter().any(|k| k == "string") {
            let min = branch["minLength"].as_u64().unwrap_or(0) as usize;
            if let Some(max) = branch["maxLength"].as_u64().map(|m| m as usize) {
                for n in [min.saturating_sub(1), min, max, max + 1] {
                    out.push(json!("x".repeat(n)));
                }
                out.push(json!(" ".repeat(max)));
                out.push(json!(format!(" {}", "x".repeat(max - 1))));
                out.push(json!(format!("{} ", "x".repeat(max))));
            }
            out.extend(probe_strings().into_iter().map(Value::String));
        }
        if kinds.iter().any(|k| k == "array") {
            out.extend(array_candidates(branch));
        }
        if kinds.iter().any(|k| k == "object") || branch.get("properties").is_some() {
            out.extend(object_candidates(branch));
        }
        if kinds.iter().any(|k| k == "null") {
            out.push(Value::Null);
        }
    }
    out.extend(other_kinds());
    out
}

/// The first candidate `schema` accepts other than `null`.
fn sample(judge: &Judge, schema: &Value) -> Value {
    candidates(schema)
        .into_iter()
        .find(|c| !c.is_null() && judge.valid(schema, c))
        .unwrap_or_else(|| panic!("no valid sample for {schema}"))
}

fn array_candidates(schema: &Value) -> Vec<Value> {
    let judge = Judge::default();
    let items = schema.get("items").cloned().unwrap_or(json!({}));
    let item = sample(&judge, &items);
    let mut out = vec![json!([]), json!([item.clone(), item.clone()])];
    for key in ["minItems", "maxItems"] {
        if let Some(edge) = schema[key].as_u64() {
            for n in [edge.saturating_sub(1), edge, edge + 1] {
                out.push(Value::Array(vec![item.clone(); n as usize]));
            }
        }
    }
    // Distinct items up to the limits, where the items are an enumeration.
    let distinct: Vec<Value> = candidates(&items)
        .into_iter()
        .filter(|c| judge.valid(&items, c))
        .fold(Vec::new(), |mut seen, c| {
            if !seen.iter().any(|s| same(s, &c)) {
                seen.push(c);
            }
            seen
        });
    if distinct.len() < 10 {
        for n in 1..=distinct.len() {
            out.push(Value::Array(distinct[..n].to_vec()));
        }
    }
    // Each edge of the items, alone and after a valid one.
    for c in candidates(&items) {
        out.push(json!([c.clone()]));
        out.push(json!([item.clone(), c]));
    }
    out
}

fn object_candidates(schema: &Value) -> Vec<Value> {
    let judge = Judge::default();
    let mut seeds = Vec::new();
    let mut fields: Vec<(String, Value)> = Vec::new();
    for branch in branches(schema) {
        let Some(properties) = branch["properties"].as_object() else {
            continue;
        };
        let mut seed = Map::new();
        for name in branch["required"].as_array().into_iter().flatten() {
            let name = name.as_str().expect("a name");
            seed.insert(name.into(), sample(&judge, &properties[name]));
        }
        seeds.push(Value::Object(seed.clone()));
        for (name, field) in properties {
            if !seed.contains_key(name) && types(field) != ["null"] {
                seed.insert(name.clone(), sample(&judge, field));
            }
            fields.push((name.clone(), field.clone()));
        }
        seeds.push(Value::Object(seed));
    }
    let mut out = seeds.clone();
    for seed in &seeds {
        out.push(with(seed, "surely_not_a_field", json!(1)));
        for (name, field) in &fields {
            out.push(without(seed, name));
            for c in candidates(field) {
                out.push(with(seed, name, c));
            }
        }
    }
    out
}

fn with(object: &Value, name: &str, value: Value) -> Value {
    let mut object = object.clone();
    object[name] = value;
    object
}

fn without(object: &Value, name: &str) -> Value {
    let mut object = object.clone();
    if let Some(fields) = object.as_object_mut() {
        fields.remove(name);
    }
    object
}

/// The inputs tried for an agent: its example, and the example with each field changed to
/// each candidate for its schema, left out, or with the optional fields left out or `null`.
fn cases(spec: &AgentSpec, schema: &Value) -> Vec<Value> {
    let example = (spec.example)();
    let properties = schema["properties"].as_object().expect("properties");
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let optional: Vec<&String> = properties
        .keys()
        .filter(|name| !required.contains(&name.as_str()))
        .collect();
    let mut out = vec![
        example.clone(),
        json!({}),
        with(&example, "surely_not_a_field", json!(1)),
    ];
    for (name, field) in properties {
        out.push(without(&example, name));
        for c in candidates(field) {
            out.push(with(&example, name, c));
        }
    }
    let bare = optional
        .iter()
        .fold(example.clone(), |o, name| without(&o, name));
    out.push(bare.clone());
    out.push(
        optional
            .iter()
            .fold(example.clone(), |o, name| with(&o, name, Value::Null)),
    );
    for name in &optional {
        if let Some(value) = example.get(name.as_str()) {
            out.push(with(&bare, name, value.clone()));
            out.push(with(&bare, name, Value::Null));
        }
    }
    out
}

fn shorten(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 300 {
        format!(
            "{}… ({} chars)",
            text.chars().take(300).collect::<String>(),
            text.len()
        )
    } else {
        text
    }
}

#[test]
fn every_agent_accepts_exactly_the_inputs_its_schema_accepts() {
    let judge = Judge::default();
    let mut disagreements = Vec::new();
    for spec in REGISTRY {
        let schema = spec.input_schema();
        let (mut accepted, mut refused) = (0, 0);
        for case in cases(spec, &schema) {
            let by_schema = judge.valid(&schema, &case);
            let by_agent = spec.validate(&case);
            if by_schema != by_agent.is_ok() {
                disagreements.push(format!(
                    "{}: schema {} but validate says {:?} for {}",
                    spec.name,
                    if by_schema { "accepts" } else { "refuses" },
                    by_agent.map_err(|e| e
                        .into_iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()),
                    shorten(&case)
                ));
            }
            if by_schema {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        // An input with no fields (`{}` only) has few ways to be wrong.
        let fieldless = schema["properties"]
            .as_object()
            .is_some_and(|p| p.is_empty());
        assert!(
            accepted > 1 && (refused > 1 || (fieldless && refused == 1)),
            "{}: {accepted} accepted, {refused} refused",
            spec.name
        );
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

#[test]
fn every_example_input_is_valid_by_its_schema() {
    let judge = Judge::default();
    for spec in REGISTRY {
        assert!(
            judge.valid(&spec.input_schema(), &(spec.example)()),
            "{}",
            spec.name
        );
    }
}

#[test]
fn every_text_field_refuses_nul_and_every_integer_is_bounded() {
    fn walk(schema: &Value, at: &str, problems: &mut Vec<String>) {
        let Some(object) = schema.as_object() else {
            return;
        };
        let kinds = types(schema);
        if kinds.iter().any(|k| k == "string")
            && object.get("enum").is_none()
            && object
                .get("pattern")
                .and_then(Value::as_str)
                .is_none_or(|p| regex::Regex::new(p).expect("compiles").is_match("a\u{0}"))
        {
            problems.push(format!("{at}: a string that may hold U+0000"));
        }
        if kinds.iter().any(|k| k == "integer")
            && object.get("enum").is_none()
            && !(object.contains_key("minimum") && object.contains_key("maximum"))
        {
            problems.push(format!("{at}: an integer without minimum and maximum"));
        }
        for (key, value) in object {
            if key == "anyOf" {
                // Its branches only say which fields must be given; the fields' own schemas
                // hold their rules.
                continue;
            }
            match value {
                Value::Object(_) => walk(value, &format!("{at}.{key}"), problems),
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        walk(item, &format!("{at}.{key}[{i}]"), problems);
                    }
                }
                _ => {}
            }
        }
    }
    let mut problems = Vec::new();
    for spec in REGISTRY {
        walk(&spec.input_schema(), spec.name, &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
