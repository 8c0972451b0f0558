//! EnrichmentOrchestrator: plans, field by field, which configured provider could fill
//! what new contacts are missing. Only providers that are configured count — HubSpot's
//! company data (a company looked up by the contact's company domain) when HubSpot is
//! connected; the seed's Clearbit, Apollo, ZoomInfo and Hunter are not integrated. With no
//! provider it says so and plans nothing; it never invents a value.
//!
//! It plans only: executing the plan needs the HubSpot company look-up as something a run
//! can call, which agents do not have yet, and the output says so.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use caseyos_domain::hygiene::matching::{is_company_domain, normalise_domain};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::hygiene::{
    check_scope, contact_ids, contact_ids_schema, read_all, read_failed, ContactRecord,
    ContactSelection, MAX_LIMIT,
};
use crate::schema::InputSchema;
use crate::{AgentError, Ctx, Outcome};

pub const NAME: &str = "EnrichmentOrchestrator";
pub const DOMAIN: AgentDomain = AgentDomain::DataHygiene;
pub const DESCRIPTION: &str = "Plans enrichment of new contacts field by field from configured providers only (HubSpot company data when HubSpot is connected); with none configured it says so and plans nothing.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// Without `since`, contacts created this long before the run (the schedule runs hourly).
pub const DEFAULT_WINDOW_HOURS: i64 = 1;
/// The stable code of an unconfigured connector.
pub const NOT_CONNECTED: &str = "connector.not_connected";
/// Why the plan is not executed.
pub const PLAN_ONLY: &str = "Plan only: the HubSpot company look-up is not available to agent runs yet, so nothing was fetched or written.";

/// Which contacts to plan for; `{}` plans for contacts created in the last hour.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// At most this many contacts (by id), when given.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only these contacts (whenever they were created).
    #[serde(default)]
    pub contact_ids: Option<Vec<String>>,
    /// Contacts created at or after this instant (RFC 3339; default: an hour before the
    /// run).
    #[serde(default, deserialize_with = "crate::instants::strict_option")]
    pub since: Option<DateTime<Utc>>,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({"since": "2026-11-30T05:00:00Z"})
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .integer("limit", 1, MAX_LIMIT.into())
        .field_rules("contact_ids", contact_ids_schema())
        .field_rules("since", crate::instants::schema())
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    check_scope(input.limit, &input.contact_ids)
}

/// A provider and what it could fill.
#[derive(Debug, Serialize)]
struct Provider {
    name: &'static str,
    configured: bool,
    fields: &'static [&'static str],
}

/// One planned look-up.
#[derive(Debug, Serialize)]
struct Planned {
    contact_id: Uuid,
    field: &'static str,
    provider: &'static str,
    /// What would be looked up.
    lookup: String,
}

/// Missing values no configured provider can fill, per field.
#[derive(Debug, Default, Serialize)]
struct Unplannable {
    /// Missing a company name and no company domain to look it up by.
    company_name_without_domain: usize,
    /// Missing a company name, but no provider is configured.
    company_name_no_provider: usize,
    /// Missing a job title: no configured provider supplies job titles.
    job_title: usize,
    /// Missing a phone: no configured provider supplies phones.
    phones: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    message: String,
    providers: Vec<Provider>,
    since: Option<DateTime<Utc>>,
    contacts_considered: usize,
    plan: Vec<Planned>,
    unplannable: Unplannable,
    executed: bool,
}

/// The domain HubSpot's company data would be looked up by: the company domain, else the
/// primary address's domain when it is a company's (not free mail, not throwaway).
fn company_domain(contact: &ContactRecord) -> Option<String> {
    contact
        .company_domain
        .as_deref()
        .and_then(normalise_domain)
        .or_else(|| {
            let email = contact.emails.first()?;
            let domain = normalise_domain(email.rsplit_once('@')?.1)?;
            is_company_domain(&domain).then_some(domain)
        })
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let hubspot = ctx
        .contacts
        .sync_state()
        .await
        .map_err(read_failed)?
        .connected;
    let ids = contact_ids(&input.contact_ids);
    let since = match (&ids, input.since) {
        (Some(_), since) => since,
        (None, since) => Some(since.unwrap_or(ctx.now - Duration::hours(DEFAULT_WINDOW_HOURS))),
    };
    let selection = match since {
        Some(at) => ContactSelection::CreatedSince(at),
        None => ContactSelection::Active,
    };
    let limit = input.limit.map(|l| l as usize);
    let contacts = read_all(ctx.contacts, &selection, ids.as_deref(), limit).await?;

    let mut plan = Vec::new();
    let mut unplannable = Unplannable::default();
    for contact in &contacts {
        let no_company = contact
            .company_name
            .as_deref()
            .is_none_or(|n| n.trim().is_empty());
        if no_company {
            match (company_domain(contact), hubspot) {
                (Some(domain), true) => plan.push(Planned {
                    contact_id: contact.id,
                    field: "company_name",
                    provider: "hubspot",
                    lookup: format!("HubSpot company by domain {domain}"),
                }),
                (Some(_), false) => unplannable.company_name_no_provider += 1,
                (None, _) => unplannable.company_name_without_domain += 1,
            }
        }
        if contact
            .job_title
            .as_deref()
            .is_none_or(|t| t.trim().is_empty())
        {
            unplannable.job_title += 1;
        }
        if contact.phones.is_empty() {
            unplannable.phones += 1;
        }
    }
    let (status, code, message) = if hubspot {
        (
            "planned",
            None,
            format!(
                "{} look-ups planned from HubSpot company data for {} contacts considered. {PLAN_ONLY}",
                plan.len(),
                contacts.len()
            ),
        )
    } else {
        (
            "not_connected",
            Some(NOT_CONNECTED),
            format!(
                "No enrichment provider is configured (HubSpot is not connected), so nothing \
                 was planned for the {} contacts considered and no value was invented.",
                contacts.len()
            ),
        )
    };
    let report = Report {
        status,
        code,
        message: message.clone(),
        providers: vec![Provider {
            name: "hubspot",
            configured: hubspot,
            fields: &["company_name"],
        }],
        since,
        contacts_considered: contacts.len(),
        plan,
        unplannable,
        executed: false,
    };
    Outcome::report(&report, format!("## Enrichment plan\n\n{message}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hygiene::testing::{contact, FakeContacts};
    use crate::hygiene::SyncState;
    use crate::llm::testing::{fixed_now, Harness};

    fn contacts() -> Vec<ContactRecord> {
        let mut with_domain = contact(1, "Ada", "Lovelace", "ada@analytical.example");
        with_domain.created_at = fixed_now() - Duration::minutes(10);
        let mut free_mail = contact(2, "Alan", "Turing", "alan@gmail.com");
        free_mail.created_at = fixed_now() - Duration::minutes(20);
        let mut named = contact(3, "Grace", "Hopper", "grace@navy.example");
        named.company_name = Some("US Navy".into());
        named.created_at = fixed_now() - Duration::minutes(30);
        let old = contact(4, "Old", "Timer", "old@acme.example");
        vec![with_domain, free_mail, named, old]
    }

    async fn run_with(connected: bool, input: serde_json::Value) -> Outcome {
        let fake = FakeContacts {
            contacts: contacts(),
            sync: SyncState {
                connected,
                ..SyncState::default()
            },
            ..FakeContacts::default()
        };
        let harness = Harness::offline();
        let ctx = harness.ctx().with_contacts(&fake);
        let spec = crate::find(NAME).expect("registered");
        spec.validate(&input).expect("a valid input");
        crate::run(spec, &input, &ctx).await.expect("runs")
    }

    #[tokio::test]
    async fn with_no_provider_it_says_not_connected_and_plans_nothing() {
        let outcome = run_with(false, serde_json::json!({})).await;
        let out = &outcome.output;
        assert_eq!(out["status"], "not_connected", "{out}");
        assert_eq!(out["code"], NOT_CONNECTED);
        assert_eq!(out["plan"], serde_json::json!([]));
        assert_eq!(
            out["contacts_considered"], 3,
            "the last hour's contacts: {out}"
        );
        assert_eq!(out["executed"], false);
        assert!(outcome.effects.is_empty());
        assert!(outcome.proposals.is_empty());
    }

    #[tokio::test]
    async fn with_hubspot_it_plans_company_data_by_domain_only_where_there_is_one() {
        let outcome = run_with(true, serde_json::json!({})).await;
        let out = &outcome.output;
        assert_eq!(out["status"], "planned", "{out}");
        let plan = out["plan"].as_array().unwrap();
        assert_eq!(plan.len(), 1, "{out}");
        assert_eq!(plan[0]["contact_id"], Uuid::from_u128(1).to_string());
        assert_eq!(
            plan[0]["lookup"],
            "HubSpot company by domain analytical.example"
        );
        assert_eq!(
            out["unplannable"]["company_name_without_domain"], 1,
            "gmail: {out}"
        );
        assert!(out["message"].as_str().unwrap().contains(PLAN_ONLY));
    }

    #[tokio::test]
    async fn since_and_contact_ids_choose_the_contacts() {
        let outcome = run_with(
            true,
            serde_json::json!({"since": "2026-01-01T00:00:00+01:00"}),
        )
        .await;
        assert_eq!(
            outcome.output["contacts_considered"], 4,
            "{}",
            outcome.output
        );
        let ids = serde_json::json!({"contact_ids": [Uuid::from_u128(4).to_string()]});
        let outcome = run_with(true, ids).await;
        assert_eq!(
            outcome.output["contacts_considered"], 1,
            "{}",
            outcome.output
        );
    }
}
