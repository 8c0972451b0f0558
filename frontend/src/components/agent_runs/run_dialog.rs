//! The dialog that runs an agent: a form generated from its input schema, an example to
//! start from, and each field's problem next to it (the browser's and the server's). Other
//! forms made from a schema use it too (an auto-approval rule), with their own title, button
//! and starting values.

pub use crate::components::modal::RunDialogProps;
use chrono::Local;
use serde_json::Value;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::fields::button;

use super::agent_input::{field_of, fields, to_input, values_of, FieldKind, InputField};
use crate::components::modal::{form_actions, modal, Submit};
use crate::components::status::error_view;
use crate::infra::dom::{on_submit, value_of};
use crate::infra::format::humanize;

/// Letters and digits only, for element ids.
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Whether an example has anything in it.
fn has_example(example: &Value) -> bool {
    match example {
        Value::Null => false,
        Value::Object(map) => !map.is_empty(),
        _ => true,
    }
}

#[hook]
pub fn use_run_dialog(props: &RunDialogProps) -> Html {
    let form = use_memo(props.agent.input_schema.clone(), fields);
    let values = {
        let (form, start) = (form.clone(), props.start.clone());
        use_state(move || values_of(&form, &start, &Local))
    };
    let problems = use_state(Vec::<(String, String)>::new);
    let agent = &props.agent;

    let set = |name: &str| {
        let (values, name) = (values.clone(), name.to_string());
        Callback::from(move |value: String| {
            let mut next = (*values).clone();
            next.insert(name.clone(), value);
            values.set(next);
        })
    };
    let use_example = {
        let (values, problems, form) = (values.clone(), problems.clone(), form.clone());
        let example = agent.example_input.clone();
        Callback::from(move |_| {
            values.set(values_of(&form, &example, &Local));
            problems.set(vec![]);
        })
    };
    let onsubmit = {
        let (values, problems, form) = (values.clone(), problems.clone(), form.clone());
        on_submit(&props.on_submit, move || {
            match to_input(&form, &values, &Local) {
                Ok(input) => {
                    problems.set(vec![]);
                    Some(input)
                }
                Err(found) => {
                    problems.set(found);
                    None
                }
            }
        })
    };

    // Each field's problem: what the form found, else what the server said.
    let server_fields: Vec<(Option<&str>, &str)> = props
        .error
        .iter()
        .flat_map(|e| e.fields.iter())
        .map(|(f, m)| (field_of(f), m.as_str()))
        .collect();
    let problem_of = |field: &InputField| -> Option<String> {
        problems
            .iter()
            .find(|(name, _)| *name == field.name)
            .map(|(_, m)| m.clone())
            .or_else(|| {
                server_fields
                    .iter()
                    .find(|(name, _)| match name {
                        Some(name) => *name == field.name,
                        None => field.name.is_empty(),
                    })
                    .map(|(_, m)| m.to_string())
            })
    };
    // Server errors no field shows go in the error box.
    let unplaced = props.error.as_ref().filter(|e| {
        e.fields.is_empty()
            || e.fields.iter().any(|(f, _)| {
                !form.iter().any(|field| match field_of(f) {
                    Some(name) => name == field.name,
                    None => field.name.is_empty(),
                })
            })
    });

    let base = format!("run-{}", slug(&agent.name));
    let control = |field: &InputField| -> Html {
        let id = format!(
            "{base}-{}",
            slug(if field.name.is_empty() {
                "input"
            } else {
                &field.name
            })
        );
        let value = values.get(&field.name).cloned().unwrap_or_default();
        let problem = problem_of(field);
        let note = match field.kind {
            FieldKind::Lines => Some("One per line."),
            FieldKind::Json => Some("JSON."),
            _ => None,
        };
        let hint_id = (field.description.is_some() || note.is_some()).then(|| format!("{id}-hint"));
        let error_id = problem.as_ref().map(|_| format!("{id}-error"));
        let described: Option<String> = match (&hint_id, &error_id) {
            (None, None) => None,
            (a, b) => Some(
                [a.clone(), b.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        };
        let invalid = problem.as_ref().map(|_| "true");
        let set = set(&field.name);
        let on_text = {
            let set = set.clone();
            Callback::from(move |e: InputEvent| set.emit(value_of(&e)))
        };
        let label = html! {
            <>
                { &field.label }
                if field.required { <span class="required" aria-hidden="true">{ " *" }</span> }
            </>
        };
        let input = |kind: &'static str, step: Option<&'static str>| {
            html! {
                <input id={id.clone()} type={kind} step={step} value={value.clone()} oninput={on_text.clone()}
                       required={field.required} aria-invalid={invalid} aria-describedby={described.clone()} />
            }
        };
        let area = |rows: &'static str, class: Option<&'static str>| {
            html! {
                <textarea id={id.clone()} rows={rows} class={class} value={value.clone()} oninput={on_text.clone()}
                          required={field.required} aria-invalid={invalid} aria-describedby={described.clone()} />
            }
        };
        let editor = match &field.kind {
            FieldKind::Boolean => {
                let onchange = {
                    let set = set.clone();
                    Callback::from(move |e: Event| {
                        let checked = e.target_unchecked_into::<HtmlInputElement>().checked();
                        set.emit(if checked {
                            "true".into()
                        } else {
                            String::new()
                        })
                    })
                };
                return html! {
                    <div class="form-field">
                        <label class="checkbox" for={id.clone()}>
                            <input id={id.clone()} type="checkbox" checked={value == "true"} {onchange}
                                   aria-invalid={invalid} aria-describedby={described.clone()} />
                            { label }
                        </label>
                        { for field.description.as_ref().map(|d| html! { <p class="hint" id={hint_id.clone()}>{ d }</p> }) }
                        { for problem.map(|m| html! { <p class="field-error" id={error_id.clone()}>{ m }</p> }) }
                    </div>
                };
            }
            FieldKind::Text => input("text", None),
            FieldKind::Integer => input("number", Some("1")),
            FieldKind::Number => input("number", Some("any")),
            FieldKind::Date => input("date", None),
            FieldKind::DateTime => input("datetime-local", None),
            FieldKind::LongText => area("5", None),
            FieldKind::Lines => area("4", None),
            FieldKind::Json => area("6", Some("code")),
            FieldKind::Choice(options) => {
                let onchange = {
                    let set = set.clone();
                    Callback::from(move |e: Event| set.emit(value_of(&e)))
                };
                html! {
                    <select id={id.clone()} {onchange} required={field.required}
                            aria-invalid={invalid} aria-describedby={described.clone()}>
                        <option value="" selected={value.is_empty()}>{ if field.required { "Choose…" } else { "—" } }</option>
                        { for options.iter().map(|o| html! {
                            <option value={o.clone()} selected={*o == value}>{ humanize(o) }</option>
                        }) }
                    </select>
                }
            }
        };
        html! {
            <div class="form-field">
                <label for={id.clone()}>{ label }</label>
                { editor }
                if hint_id.is_some() {
                    <p class="hint" id={hint_id.clone()}>
                        { field.description.clone().unwrap_or_default() }
                        { for note.map(|n| html! { <>{ if field.description.is_some() { " " } else { "" } }{ n }</> }) }
                    </p>
                }
                { for problem.map(|m| html! { <p class="field-error" id={error_id.clone()}>{ m }</p> }) }
            </div>
        }
    };

    let example = html! {
        if has_example(&agent.example_input) {
            { button("button", "Use example", props.busy, use_example) }
        }
    };
    html! {
        { modal(props.title.clone().unwrap_or_else(|| format!("Run {}", agent.name).into()), &props.on_close, "dialog", html! { <>
            <form class="run-form" {onsubmit} novalidate=true>
                <p class="muted">{ &agent.description }</p>
                if form.is_empty() {
                    <p>{ "This agent takes no input." }</p>
                } else if form.iter().any(|f| f.required) {
                    <p class="hint">{ "Fields marked * are required." }</p>
                }
                { for form.iter().map(control) }
                if !problems.is_empty() {
                    <p class="field-error" role="alert">{ "Some fields need attention." }</p>
                }
                if let Some(error) = unplaced {
                    { error_view(error, None) }
                } else if props.error.is_some() {
                    <p class="field-error" role="alert">{ "The server found problems in some fields." }</p>
                }
                { form_actions(example, "Cancel", &props.on_close, Submit {
                    label: props.submit.unwrap_or("Run"),
                    busy_label: if props.submit.is_some() { "Saving…" } else { "Starting…" },
                    tone: "primary",
                    busy: props.busy,
                    blocked: false,
                }) }
            </form>
        </> }) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;
    use crate::test_support::mount;
    use caseyos_domain::agent_run::AgentDomain;
    use caseyos_domain::api::AgentInfo;
    use serde_json::json;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn agent() -> AgentInfo {
        AgentInfo {
            name: "DraftWriter".into(),
            domain: AgentDomain::Sales,
            description: "Drafts a follow-up email.".into(),
            input_schema: json!({"type": "object", "required": ["subject", "tone"], "properties": {
                "subject": {"type": "string", "description": "The email's subject"},
                "tone": {"type": "string", "enum": ["warm", "formal"]},
                "context": {"type": ["string", "null"]},
                "dry_run": {"type": "boolean"},
                "cc": {"type": "array", "items": {"type": "string"}},
            }}),
            uses_llm: true,
            llm_configured: false,
            proposes_moves: true,
            timeout_secs: 60,
            example_input: json!({"subject": "Hello", "tone": "warm", "cc": ["a@x.com"]}),
            recent_runs: vec![],
        }
    }

    #[derive(Properties, PartialEq)]
    struct HostProps {
        error: Option<ApiError>,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        html! {
            <crate::components::modal::HookedView view={crate::components::modal::Hooked::Run(Box::new(RunDialogProps {
                agent: agent(), busy: false, error: props.error.clone(), on_submit: Callback::noop(),
                on_close: Callback::noop(), title: None, submit: None, start: Value::Null }))} />
        }
    }

    async fn render(error: Option<ApiError>) -> web_sys::Element {
        mount::<Host>(HostProps { error }).await
    }

    fn one(root: &web_sys::Element, selector: &str) -> web_sys::Element {
        root.query_selector(selector)
            .unwrap()
            .unwrap_or_else(|| panic!("no {selector}"))
    }

    #[wasm_bindgen_test]
    async fn the_form_follows_the_schema_and_the_example_fills_it() {
        let root = render(None).await;
        let subject = one(&root, "#run-draftwriter-subject");
        assert_eq!(subject.tag_name(), "INPUT");
        assert!(subject.has_attribute("required"));
        assert_eq!(
            subject.get_attribute("aria-describedby").as_deref(),
            Some("run-draftwriter-subject-hint")
        );
        assert_eq!(one(&root, "#run-draftwriter-tone").tag_name(), "SELECT");
        assert_eq!(
            one(&root, "#run-draftwriter-context").tag_name(),
            "TEXTAREA"
        );
        assert_eq!(one(&root, "#run-draftwriter-cc").tag_name(), "TEXTAREA");
        assert_eq!(
            one(&root, "#run-draftwriter-dry-run")
                .get_attribute("type")
                .as_deref(),
            Some("checkbox")
        );
        let label = one(&root, "label[for=run-draftwriter-subject]");
        assert_eq!(label.text_content().unwrap(), "Subject *");

        let example = root
            .query_selector_all(".dialog-actions button")
            .unwrap()
            .get(0)
            .unwrap()
            .unchecked_into::<web_sys::HtmlElement>();
        assert_eq!(example.text_content().unwrap(), "Use example");
        example.click();
        let subject =
            one(&root, "#run-draftwriter-subject").unchecked_into::<web_sys::HtmlInputElement>();
        crate::test_support::until("the example filled the form", || subject.value() == "Hello")
            .await;
        assert_eq!(subject.value(), "Hello");
        let cc = one(&root, "#run-draftwriter-cc").unchecked_into::<web_sys::HtmlTextAreaElement>();
        assert_eq!(cc.value(), "a@x.com");
    }

    #[wasm_bindgen_test]
    async fn server_field_errors_show_next_to_their_fields() {
        let error = ApiError {
            status: 422,
            code: "request.validation".into(),
            message: "the input does not match the schema".into(),
            request_id: Some("r-9".into()),
            fields: vec![("input.subject".into(), "must not be empty".into())],
        };
        let root = render(Some(error)).await;
        let message = one(&root, "#run-draftwriter-subject-error");
        assert_eq!(message.text_content().unwrap(), "must not be empty");
        let subject = one(&root, "#run-draftwriter-subject");
        assert_eq!(
            subject.get_attribute("aria-invalid").as_deref(),
            Some("true")
        );
        assert_eq!(
            subject.get_attribute("aria-describedby").as_deref(),
            Some("run-draftwriter-subject-hint run-draftwriter-subject-error")
        );
        // Placed on its field, it needs no error box.
        assert!(root.query_selector(".error").unwrap().is_none());
    }
}
