//! Contacts and hygiene answers shown generically from their JSON: a value as text, a
//! record's fields as a table, a list as a table, a contact's name and chips.

use serde_json::Value;
use yew::prelude::*;

use super::table::column;

/// A contact's named fields, in display order: (label, key in `fields`).
pub const FIELDS: &[(&str, &str)] = &[
    ("First name", "first_name"),
    ("Last name", "last_name"),
    ("Emails", "emails"),
    ("Phones", "phones"),
    ("Job title", "job_title"),
    ("Company", "company_name"),
    ("Company domain", "company_domain"),
    ("Lifecycle stage", "lifecycle_stage"),
    ("Owner", "owner"),
    ("CRM id", "crm_id"),
    ("Last contacted", "last_contacted_at"),
];

/// The value at `path` (`a.b.c`) in `value`, `null` when missing.
pub fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .try_fold(value, |v, key| v.get(key))
        .unwrap_or(&Value::Null)
}

/// The text at `path`, if it is text.
pub fn str_at<'a>(value: &'a Value, path: &str) -> Option<&'a str> {
    at(value, path).as_str()
}

/// Whether a value is empty: `null`, `""`, `[]` or `{}`.
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// A value as text: "—" when empty, an instant (RFC 3339 date and time) as the local date
/// and time, lists one item after another, a phone as E.164 with the text as written when it
/// differs.
pub fn text(value: &Value) -> String {
    match value {
        _ if is_empty(value) => "—".to_string(),
        Value::String(s) => match caseyos_domain::kernel::instant::parse(s) {
            Some(at) => crate::infra::format::absolute(at),
            None => s.clone(),
        },
        Value::Bool(b) => (if *b { "yes" } else { "no" }).to_string(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        Value::Object(o) if o.contains_key("raw") => {
            let raw = text(at(value, "raw"));
            match str_at(value, "e164") {
                Some(e164) if e164 == raw => raw,
                Some(e164) => format!("{e164} ({raw})"),
                None => format!("{raw} (not a valid number)"),
            }
        }
        other => crate::infra::format::json(other),
    }
}

/// The fields `rows` (label, path) of `record` as a two-column table.
pub fn fields_table(record: &Value, rows: &[(&str, &str)]) -> Html {
    html! {
        <table class="data fields-table">
            <tbody>
                { for rows.iter().map(|(label, key)| html! {
                    <tr><th scope="row">{ *label }</th><td>{ text(at(record, key)) }</td></tr>
                }) }
            </tbody>
        </table>
    }
}

/// A column of a [`list_table`] that is no value: its heading and its view of a row.
pub type Lead<'a> = (&'a str, &'a dyn Fn(&Value) -> Html);

/// `items` as a table of `columns` (heading, path), after a first column `lead` (heading,
/// view: a link, a button) when given.
pub fn list_table(
    label: &str,
    items: &[Value],
    columns: &[(&str, &str)],
    lead: Option<Lead>,
) -> Html {
    html! {
        <div class="table-wrap" tabindex="0" role="region" aria-label={label.to_string()}>
            <table class="data">
                <thead><tr>
                    if let Some((heading, _)) = lead { { column(heading) } }
                    { for columns.iter().map(|(heading, _)| column(heading)) }
                </tr></thead>
                <tbody>
                    { for items.iter().map(|item| html! {
                        <tr>
                            if let Some((_, view)) = lead { <td>{ view(item) }</td> }
                            { for columns.iter().map(|(_, key)| html! { <td>{ text(at(item, key)) }</td> }) }
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

/// The list in an answer: its `items`, or the answer itself when it is a list.
pub fn items(value: &Value) -> &[Value] {
    value
        .get("items")
        .unwrap_or(value)
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// A contact's name from its `fields`: first and last name, else the first email, else
/// "(no name)".
pub fn name(fields: &Value) -> String {
    let parts: Vec<&str> = ["first_name", "last_name"]
        .iter()
        .filter_map(|k| str_at(fields, k))
        .filter(|s| !s.is_empty())
        .collect();
    if !parts.is_empty() {
        return parts.join(" ");
    }
    at(fields, "emails")
        .get(0)
        .and_then(Value::as_str)
        .unwrap_or("(no name)")
        .to_string()
}

/// The chips after a contact's name: its status when not active, and "demo" for demo data.
pub fn chips(contact: &Value) -> Html {
    let status = str_at(contact, "status").unwrap_or("active");
    html! {
        <>
            if status != "active" {
                { " " }<span class="chip">{ status.to_string() }</span>
            }
            if at(contact, "demo").as_bool() == Some(true) {
                { " " }<span class="chip demo" title="Demo data from caseyos demo seed">{ "demo" }</span>
            }
        </>
    }
}

/// A score from 0 to 1 as a whole percentage: "87%".
pub fn percent(score: f64) -> String {
    let whole = (score.clamp(0.0, 1.0) * 100.0 + 0.5) as u32;
    format!("{whole}%")
}

/// A page's shell: its title, a line of links or words under it, and its parts.
pub fn page(id: &str, title: &str, sub: Html, body: Html) -> Html {
    html! {
        <section class="page wide" aria-labelledby={id.to_string()}>
            <header class="page-header">
                <h1 id={id.to_string()}>{ title.to_string() }</h1>
                <p class="muted">{ sub }</p>
            </header>
            { body }
        </section>
    }
}

/// A part of a page: a section titled `title`.
pub fn part(title: &str, body: Html) -> Html {
    html! {
        <section>
            <h2>{ title.to_string() }</h2>
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn values_read_as_people_write_them() {
        let fields = json!({
            "first_name": "Dana", "last_name": null, "job_title": "",
            "emails": ["dana@acme.io", "d@lee.me"],
            "phones": [
                {"raw": "(415) 555-0100", "e164": "+14155550100"},
                {"raw": "+442071838750", "e164": "+442071838750"},
                {"raw": "12", "e164": null}
            ],
            "custom": {"plan": "pro"}, "n": 3, "ok": true
        });
        // (path, text)
        let table = [
            ("first_name", "Dana"),
            ("last_name", "—"),
            ("job_title", "—"),
            ("owner", "—"),
            ("emails", "dana@acme.io, d@lee.me"),
            (
                "phones",
                "+14155550100 ((415) 555-0100), +442071838750, 12 (not a valid number)",
            ),
            ("custom.plan", "pro"),
            ("n", "3"),
            ("ok", "yes"),
        ];
        for (path, expected) in table {
            assert_eq!(text(at(&fields, path)), expected, "{path}");
        }
        // An instant reads as the local date and time; a date stays as it is.
        let at = "2026-12-01T09:00:04.512678Z";
        let local = crate::infra::format::absolute(at.parse().unwrap());
        assert_eq!(text(&json!(at)), local);
        assert!(!local.contains('T'), "{local}");
        assert_eq!(text(&json!("2027-03-31")), "2027-03-31");
        assert_eq!(name(&fields), "Dana");
        assert_eq!(name(&json!({"emails": ["d@lee.me"]})), "d@lee.me");
        assert_eq!(name(&json!({})), "(no name)");
        assert_eq!(percent(0.874), "87%");
        assert_eq!(percent(0.875), "88%");
        assert_eq!(percent(1.2), "100%");
        assert_eq!(items(&json!({"items": [1]})).len(), 1);
        assert!(items(&json!({})).is_empty());
    }
}
