//! ContactValidation: checks contacts that were never validated, changed since their last
//! validation, or were validated under older rules — address syntax, disposable and role
//! addresses, missing fields, phones, name casing (`caseyos_domain::hygiene::validate`) —
//! and asks for each result to be recorded on the contact as an event.

use std::collections::BTreeMap;

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use caseyos_domain::hygiene::{validate, Severity, RULES_VERSION};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::hygiene::{check_scope, contact_ids, contact_ids_schema, read_all, ContactSelection};
use crate::hygiene::{Effect, MAX_LIMIT};
use crate::schema::InputSchema;
use crate::{AgentError, Ctx, Outcome};

pub const NAME: &str = "ContactValidation";
pub const DOMAIN: AgentDomain = AgentDomain::DataHygiene;
pub const DESCRIPTION: &str = "Validates contacts never validated or changed since (address syntax, disposable and role addresses, missing fields, phones, name casing) and records each result on the contact.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// Which contacts to validate; `{}` validates every contact that needs it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// At most this many contacts (by id), when given.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only these contacts (those of them that need validating).
    #[serde(default)]
    pub contact_ids: Option<Vec<String>>,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({"limit": 5000})
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .integer("limit", 1, MAX_LIMIT.into())
        .field_rules("contact_ids", contact_ids_schema())
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    check_scope(input.limit, &input.contact_ids)
}

/// How many checked contacts had an issue with this code.
#[derive(Debug, PartialEq, Serialize)]
struct IssueCount {
    code: String,
    severity: Severity,
    contacts: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    rules_version: u32,
    /// Contacts checked in this run.
    checked: usize,
    valid: usize,
    invalid: usize,
    /// Per issue code, how many contacts had it (most first).
    issues: Vec<IssueCount>,
    /// Per error code (what makes a contact invalid), how many contacts had it.
    invalid_by_code: BTreeMap<String, usize>,
    /// Whether `limit` stopped the run before every contact that needs it was checked.
    limited: bool,
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let ids = contact_ids(&input.contact_ids);
    let limit = input.limit.map(|l| l as usize);
    let selection = ContactSelection::ToValidate {
        rules_version: RULES_VERSION,
    };
    let contacts = read_all(ctx.contacts, &selection, ids.as_deref(), limit).await?;
    let mut effects = Vec::new();
    let mut counts: BTreeMap<(String, Severity), usize> = BTreeMap::new();
    let mut invalid_by_code: BTreeMap<String, usize> = BTreeMap::new();
    let (mut valid, mut invalid) = (0, 0);
    for contact in contacts
        .iter()
        .filter(|c| c.needs_validation(RULES_VERSION))
    {
        let report = validate(&contact.validation_input());
        if report.valid {
            valid += 1;
        } else {
            invalid += 1;
        }
        let mut seen: Vec<&str> = Vec::new();
        for issue in &report.issues {
            if seen.contains(&issue.code.as_str()) {
                continue;
            }
            seen.push(&issue.code);
            *counts
                .entry((issue.code.clone(), issue.severity))
                .or_default() += 1;
            if issue.severity == Severity::Error {
                *invalid_by_code.entry(issue.code.clone()).or_default() += 1;
            }
        }
        effects.push(Effect::RecordValidation {
            contact: contact.id,
            report,
        });
    }
    let mut issues: Vec<IssueCount> = counts
        .into_iter()
        .map(|((code, severity), contacts)| IssueCount {
            code,
            severity,
            contacts,
        })
        .collect();
    issues.sort_by(|x, y| y.contacts.cmp(&x.contacts).then(x.code.cmp(&y.code)));
    let report = Report {
        rules_version: RULES_VERSION,
        checked: valid + invalid,
        valid,
        invalid,
        issues,
        invalid_by_code,
        limited: limit.is_some_and(|l| contacts.len() >= l),
    };
    let text = render(&report);
    let mut outcome = Outcome::report(&report, text)?;
    outcome.effects = effects;
    Ok(outcome)
}

fn render(report: &Report) -> String {
    let mut text = format!(
        "## Contact validation (rules v{})\n\n{} contacts checked: {} valid, {} invalid.\n",
        report.rules_version, report.checked, report.valid, report.invalid
    );
    if report.checked == 0 {
        text.push_str("\nEvery contact's last validation is current; nothing to check.\n");
    }
    if !report.issues.is_empty() {
        text.push_str("\n| issue | severity | contacts |\n|---|---|---|\n");
        for issue in &report.issues {
            let severity = match issue.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            text.push_str(&format!(
                "| `{}` | {severity} | {} |\n",
                issue.code, issue.contacts
            ));
        }
    }
    if report.limited {
        text.push_str("\nThe run's limit was reached; the next run checks the rest.\n");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hygiene::testing::{contact, FakeContacts};
    use crate::llm::testing::Harness;
    use crate::Effect;

    async fn run_with(fake: &FakeContacts, input: serde_json::Value) -> Outcome {
        let harness = Harness::offline();
        let ctx = harness.ctx().with_contacts(fake);
        let spec = crate::find(NAME).expect("registered");
        spec.validate(&input).expect("a valid input");
        crate::run(spec, &input, &ctx).await.expect("runs")
    }

    #[tokio::test]
    async fn it_validates_the_contacts_that_need_it_and_counts_issues_by_code() {
        let now = crate::llm::testing::fixed_now();
        let mut current = contact(3, "Ada", "Lovelace", "ada@analytical.example");
        current.validated = Some((now, RULES_VERSION));
        let mut changed = contact(4, "grace", "hopper", "grace@navy.example");
        changed.validated = Some((
            changed.updated_at - chrono::Duration::days(1),
            RULES_VERSION,
        ));
        let fake = FakeContacts {
            contacts: vec![
                contact(1, "Alan", "Turing", "alan@bletchley.example"),
                contact(2, "Bad", "Address", "not-an-address"),
                current,
                changed,
                contact(5, "Merged", "Away", "x@merged.example"),
            ],
            merged: vec![uuid::Uuid::from_u128(5)],
            ..FakeContacts::default()
        };
        let outcome = run_with(&fake, serde_json::json!({})).await;
        let out = &outcome.output;
        // (what, value, expected)
        let table = [
            ("checked", &out["checked"], serde_json::json!(3)),
            ("valid", &out["valid"], serde_json::json!(2)),
            ("invalid", &out["invalid"], serde_json::json!(1)),
        ];
        for (what, value, expected) in table {
            assert_eq!(value, &expected, "{what}: {out}");
        }
        let recorded: Vec<u128> = outcome
            .effects
            .iter()
            .map(|e| match e {
                Effect::RecordValidation { contact, .. } => contact.as_u128(),
                other => panic!("unexpected effect {other:?}"),
            })
            .collect();
        assert_eq!(
            recorded,
            vec![1, 2, 4],
            "the current and the merged are skipped"
        );
        assert!(
            out["invalid_by_code"]
                .as_object()
                .is_some_and(|m| !m.is_empty()),
            "the invalid one names its error code: {out}"
        );
        assert!(
            out["issues"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["code"].as_str().is_some_and(|c| c.starts_with("name."))),
            "lower-case names are a casing issue: {out}"
        );
    }

    #[tokio::test]
    async fn contact_ids_and_limit_narrow_the_run() {
        let fake = FakeContacts {
            contacts: (1..=5)
                .map(|n| contact(n, "Alan", "Turing", "alan@bletchley.example"))
                .collect(),
            ..FakeContacts::default()
        };
        let ids = serde_json::json!([
            uuid::Uuid::from_u128(2).to_string(),
            uuid::Uuid::from_u128(4).to_string()
        ]);
        let outcome = run_with(&fake, serde_json::json!({"contact_ids": ids})).await;
        assert_eq!(outcome.output["checked"], 2, "{}", outcome.output);
        let outcome = run_with(&fake, serde_json::json!({"limit": 3})).await;
        assert_eq!(outcome.output["checked"], 3, "{}", outcome.output);
        assert_eq!(outcome.output["limited"], true, "{}", outcome.output);
    }

    #[test]
    fn contact_ids_must_be_hyphenated_uuids() {
        let spec = crate::find(NAME).expect("registered");
        // (input, accepted)
        let table = [
            (serde_json::json!({}), true),
            (serde_json::json!({"contact_ids": []}), true),
            (
                serde_json::json!({"contact_ids": ["0190c6b2-6c1e-7a2b-9c1d-2e3f4a5b6c7d"]}),
                true,
            ),
            (
                serde_json::json!({"contact_ids": ["0190c6b26c1e7a2b9c1d2e3f4a5b6c7d"]}),
                false,
            ),
            (serde_json::json!({"limit": 0}), false),
        ];
        for (input, accepted) in table {
            assert_eq!(spec.validate(&input).is_ok(), accepted, "{input}");
        }
    }
}
