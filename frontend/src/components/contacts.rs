//! How a contact's parts read wherever they show: its name, a field's value as text, a
//! validation finding's severity badge, and the "demo" and status chips.

use caseyos_domain::contacts::{ContactField, ContactFields, ContactStatus};
use caseyos_domain::hygiene::Severity;
use yew::prelude::*;

use crate::infra::format::{absolute, humanize};

/// Who the contact is, for people: the name, else the first email, else "(no name)".
pub fn name(fields: &ContactFields) -> String {
    fields
        .display_name()
        .or_else(|| fields.primary_email().map(str::to_string))
        .unwrap_or_else(|| "(no name)".to_string())
}

/// A field's label: "Job title", "custom: plan".
pub fn label(field: &ContactField) -> String {
    match field {
        ContactField::Custom(key) => format!("Custom: {key}"),
        named => humanize(named.name()),
    }
}

/// A field's value as text ("—" when empty): emails one after another, phones as E.164
/// with the text as written when it differs.
pub fn value(field: &ContactField, fields: &ContactFields) -> String {
    let text = match field {
        ContactField::FirstName => fields.first_name.clone(),
        ContactField::LastName => fields.last_name.clone(),
        ContactField::Emails => Some(fields.emails.join(", ")),
        ContactField::Phones => Some(
            fields
                .phones
                .iter()
                .map(|p| match &p.e164 {
                    Some(e164) if *e164 != p.raw => format!("{e164} ({})", p.raw),
                    Some(e164) => e164.clone(),
                    None => format!("{} (not a valid number)", p.raw),
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ContactField::JobTitle => fields.job_title.clone(),
        ContactField::CompanyName => fields.company_name.clone(),
        ContactField::CompanyDomain => fields.company_domain.clone(),
        ContactField::LifecycleStage => fields.lifecycle_stage.map(|s| s.as_str().to_string()),
        ContactField::Owner => fields.owner.clone(),
        ContactField::CrmId => fields.crm_id.clone(),
        ContactField::LastContactedAt => fields.last_contacted_at.map(absolute),
        ContactField::Custom(key) => fields.custom.get(key).cloned(),
    };
    text.filter(|t| !t.is_empty())
        .unwrap_or_else(|| "—".to_string())
}

/// A finding's severity: words and a glyph, never colour alone.
pub fn severity_badge(severity: Severity) -> Html {
    let (tone, glyph, words) = match severity {
        Severity::Error => ("bad", "✕", "error"),
        Severity::Warning => ("late", "!", "warning"),
        Severity::Info => ("off", "i", "info"),
    };
    html! {
        <span class={classes!("chip", "run-status", tone)}>
            <span aria-hidden="true">{ glyph }</span>{ words }
        </span>
    }
}

/// The chips after a contact's name: its status when not active, and "demo" for demo data.
pub fn chips(status: ContactStatus, demo: bool) -> Html {
    html! {
        <>
            if status != ContactStatus::Active {
                { " " }<span class="chip">{ status.as_str() }</span>
            }
            if demo {
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

#[cfg(test)]
mod tests {
    use super::*;
    use caseyos_domain::contacts::Phone;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn values_read_as_people_write_them() {
        let fields = ContactFields {
            first_name: Some("Dana".into()),
            emails: vec!["dana@acme.io".into(), "d@lee.me".into()],
            phones: vec![
                Phone {
                    raw: "(415) 555-0100".into(),
                    e164: Some("+14155550100".into()),
                },
                Phone {
                    raw: "+442071838750".into(),
                    e164: Some("+442071838750".into()),
                },
                Phone {
                    raw: "12".into(),
                    e164: None,
                },
            ],
            ..ContactFields::default()
        };
        let table = [
            (ContactField::FirstName, "Dana"),
            (ContactField::Emails, "dana@acme.io, d@lee.me"),
            (
                ContactField::Phones,
                "+14155550100 ((415) 555-0100), +442071838750, 12 (not a valid number)",
            ),
            (ContactField::JobTitle, "—"),
            (ContactField::Custom("plan".into()), "—"),
        ];
        for (field, expected) in table {
            assert_eq!(value(&field, &fields), expected, "{field}");
        }
        assert_eq!(name(&fields), "Dana");
        assert_eq!(name(&ContactFields::default()), "(no name)");
        assert_eq!(label(&ContactField::JobTitle), "Job title");
        assert_eq!(percent(0.874), "87%");
        assert_eq!(percent(0.875), "88%");
        assert_eq!(percent(1.2), "100%");
    }
}
