//! `/settings/auto-approval`: the rules in the order they run — what each checks, its confidence,
//! priority, the move types it may approve, on or off — and for admins adding or changing a
//! rule (a form made from the rule's schema, the same dialog as an agent's input), turning
//! one on or off, and deleting one (asked first). Each move's decision shows on the move's
//! history (its approval by a rule names the rule). The emergency stop is in the header, with
//! the kill switch.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::{AgentInfo, Role};
use serde_json::Value;
use yew::prelude::*;

use crate::components::fields::button;

use crate::api;
use crate::components::agent_runs::run_dialog::RunDialogProps;
use crate::components::contacts::{at, items, list_table, page, str_at, text};
use crate::components::modal::{Hooked, HookedView};
use crate::components::status::{self, error_view};
use crate::hooks::{confirm, use_action, use_dialog, use_query, Refresh};
use crate::infra::app_state::use_app;
use crate::infra::live::Feed;

/// A rule as one flat form (the API nests the kind's threshold in `condition`).
const RULE_FORM: &str = r#"{"type": "object", "required": ["name", "kind", "threshold"], "properties": {
  "name": {"type": "string", "maxLength": 200},
  "kind": {"title": "Checks", "type": "string", "enum": ["replied_before", "known_good_recipient", "high_icp_score"]},
  "threshold": {"type": "integer", "description": "Replied before: within this many days (1 to 3650). Known good recipient: at least this many emails sent, none bounced (1 to 1000). High ICP score: at least this score (0 to 100)."},
  "require_domain_match": {"title": "High ICP score: every recipient at the contact's company", "type": "boolean"},
  "confidence": {"title": "Confidence (%)", "type": ["integer", "null"], "description": "0 to 100; 90 when empty."},
  "priority": {"type": ["integer", "null"], "description": "Lower runs first; 100 when empty."},
  "enabled": {"title": "On", "type": "boolean"}
}}"#;

/// Each kind: its name, its threshold's name in the API, and the words around the threshold.
const KINDS: [(&str, &str, &str, &str); 3] = [
    (
        "replied_before",
        "days_lookback",
        "Replied before: every recipient replied within ",
        " days",
    ),
    (
        "known_good_recipient",
        "min_sends",
        "Known good recipient: every recipient was sent at least ",
        " emails, none bounced",
    ),
    (
        "high_icp_score",
        "min_score",
        "High ICP score: the contact's ICP score is at least ",
        "",
    ),
];

fn kind_of(kind: &str) -> (&'static str, &'static str, &'static str, &'static str) {
    *KINDS.iter().find(|k| k.0 == kind).unwrap_or(&KINDS[0])
}

fn threshold_of(kind: &str) -> &'static str {
    kind_of(kind).1
}

/// The form's values of a listed rule (to change it).
pub fn form_of(rule: &Value) -> Value {
    let kind = str_at(rule, "condition.kind").unwrap_or_default();
    let condition = at(rule, "condition");
    let mut form = rule.clone();
    if let Some(fields) = form.as_object_mut() {
        fields.insert("kind".into(), Value::String(kind.into()));
        fields.insert(
            "threshold".into(),
            at(condition, threshold_of(kind)).clone(),
        );
        let domain = at(condition, "require_domain_match").clone();
        fields.insert("require_domain_match".into(), domain);
    }
    form
}

/// The `RuleRequest` the form's input makes; `action_types` are the rule's own (kept as
/// they are; `null`: every type executed as an email).
pub fn rule_body(input: &Value, action_types: &Value) -> Value {
    let kind = str_at(input, "kind").unwrap_or_default();
    let mut condition = vec![
        ("kind", Value::String(kind.into())),
        (threshold_of(kind), at(input, "threshold").clone()),
    ];
    if kind == "high_icp_score" {
        condition.push((
            "require_domain_match",
            at(input, "require_domain_match").clone(),
        ));
    }
    let mut body = vec![
        ("name", at(input, "name").clone()),
        ("condition", api::object(condition)),
        (
            "enabled",
            Value::Bool(at(input, "enabled").as_bool() == Some(true)),
        ),
        ("action_types", action_types.clone()),
    ];
    for key in ["confidence", "priority"] {
        if !at(input, key).is_null() {
            body.push((key, at(input, key).clone()));
        }
    }
    api::object(body)
}

/// What a rule checks, in words.
pub fn condition(rule: &Value) -> String {
    let (_, threshold, before, after) = kind_of(str_at(rule, "condition.kind").unwrap_or_default());
    let value = text(at(rule, &format!("condition.{threshold}")));
    let mut words = format!("{before}{value}{after}");
    if at(rule, "condition.require_domain_match").as_bool() == Some(true) {
        words.push_str(", recipients at the contact's company");
    }
    words
}

/// The dialog's rule: none for a new one, else the rule as listed.
type Editing = Option<Value>;

#[hook]
pub fn use_auto_approval_page() -> Html {
    let app = use_app();
    let admin = app.session().is_some_and(|s| s.role == Role::Admin);
    let rules = use_query(Refresh::on(Feed::Any), (), |_, consistency| async move {
        api::auto_approval::rules(consistency.as_deref()).await
    });
    let action = use_action();
    let dialog = use_dialog::<Editing>();
    let busy = *action.busy;

    // A rule's buttons: change, on or off, delete.
    let send = |id: String, command: &'static str| {
        let (action, rules) = (action.clone(), rules.clone());
        Callback::from(move |_: MouseEvent| {
            if command.is_empty()
                && !confirm("Delete this rule? Its past decisions keep their reasons.")
            {
                return;
            }
            let (id, rules) = (id.clone(), rules.clone());
            action.run(
                async move { api::auto_approval::command(&id, command).await },
                move |_| rules.reload.emit(()),
            );
        })
    };
    let lead = |rule: &Value| {
        let id = text(at(rule, "id"));
        let on = at(rule, "enabled").as_bool() == Some(true);
        html! {
            <>
                <strong>{ text(at(rule, "name")) }</strong>{ if on { " (on)" } else { " (off)" } }
                <div class="muted">{ condition(rule) }</div>
                if admin {
                    <div class="actions">
                        { button("button", "Change", busy, dialog.opener(Some(rule.clone()))) }
                        <button class="button" disabled={busy} onclick={send(id.clone(), if on { "disable" } else { "enable" })}>
                            { if on { "Turn off" } else { "Turn on" } }
                        </button>
                        { button("button danger", "Delete", busy, send(id, "")) }
                    </div>
                }
            </>
        }
    };
    let table = status::view(&*rules, 3, &rules.reload, |found| {
        if items(found).is_empty() {
            return html! { <p class="muted">{ "No rules: every proposed move waits for a person." }</p> };
        }
        list_table(
            "Rules",
            items(found),
            &[
                ("Confidence %", "confidence"),
                ("Priority", "priority"),
                ("Move types", "action_types"),
            ],
            Some(("Rule (in the order they run)", &lead)),
        )
    });

    let editor = dialog.shown().map(|editing| {
        let agent = AgentInfo {
            name: "rule".into(),
            domain: AgentDomain::Ops,
            description: "Approves a proposed move when its check holds for it.".into(),
            input_schema: api::json::from_str(RULE_FORM).unwrap_or_default(),
            uses_llm: false,
            llm_configured: false,
            proposes_moves: false,
            timeout_secs: 0,
            example_input: Value::Null,
            recent_runs: vec![],
        };
        let (start, id, kept) = match editing {
            Some(rule) => (form_of(rule), str_at(rule, "id").map(str::to_string), at(rule, "action_types").clone()),
            None => (Value::Null, None, Value::Null),
        };
        let on_submit = {
            let (dialog, rules) = (dialog.clone(), rules.clone());
            Callback::from(move |input: Value| {
                let rules = rules.clone();
                let body = rule_body(&input, &kept);
                dialog.run(api::auto_approval::save(id.clone(), body), move |_| {
                    rules.reload.emit(())
                });
            })
        };
        html! {
            <HookedView key="rule" view={Hooked::Run(Box::new(RunDialogProps { agent, start, busy: dialog.busy(), error: dialog.error(), on_submit, on_close: dialog.close(),
                title: Some(if editing.is_some() { "Change the rule" } else { "Add a rule" }.into()), submit: Some("Save the rule") }))} />
        }
    });

    page(
        "auto-approval-title",
        "Auto-approval",
        html! { { "Rules that approve proposed moves without a person; each decision is kept with its reasons." } },
        html! {
            <>
                if let Some(error) = &*action.error {
                    { error_view(error, None) }
                }
                { table }
                if admin {
                    { button("button primary", "Add a rule", false, dialog.opener(None)) }
                }
                { for editor }
            </>
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_rule_goes_to_the_form_and_back_as_the_same_request() {
        let rule = json!({"id": "r-1", "name": "Big fish", "confidence": 80, "priority": 5,
            "enabled": true, "action_types": ["send_email"],
            "condition": {"kind": "high_icp_score", "min_score": 75, "require_domain_match": false}});
        let form = form_of(&rule);
        assert_eq!(form["kind"], "high_icp_score");
        assert_eq!(form["threshold"], 75);
        assert_eq!(
            rule_body(&form, &rule["action_types"]),
            json!({"name": "Big fish", "confidence": 80, "priority": 5, "enabled": true,
                "action_types": ["send_email"],
                "condition": {"kind": "high_icp_score", "min_score": 75, "require_domain_match": false}})
        );
        assert_eq!(
            condition(&rule),
            "High ICP score: the contact's ICP score is at least 75"
        );
    }

    #[wasm_bindgen_test]
    fn a_new_rule_leaves_out_what_the_form_left_empty() {
        let input = json!({"name": "Replied", "kind": "replied_before", "threshold": 30});
        assert_eq!(
            rule_body(&input, &Value::Null),
            json!({"name": "Replied", "enabled": false, "action_types": null,
                "condition": {"kind": "replied_before", "days_lookback": 30}})
        );
    }

    #[wasm_bindgen_test]
    fn the_rule_form_is_read_from_its_schema() {
        let schema: Value = api::json::from_str(RULE_FORM).unwrap();
        let names: Vec<String> = crate::components::agent_runs::agent_input::fields(&schema)
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names.len(), 7, "{names:?}");
    }
}
