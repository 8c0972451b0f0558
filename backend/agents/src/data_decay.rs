//! DataDecay: how long since anyone contacted each active contact — fresh, stale, decayed
//! or zombie (`caseyos_domain::hygiene::decay`, counted from `last_contacted_at`, or from
//! the creation when nobody ever did) — and one `contact.stale` alert a day naming how
//! many contacts are untouched 90 days or more, the longest untouched first.
//!
//! Every time is an instant (`DateTime<Utc>`): a time stamp written with `Z` or any offset
//! was read into one before it got here (the seed crashed subtracting them).

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::alerts::{AlertKind, AlertSeverity, AlertSubject};
use caseyos_domain::api::FieldError;
use caseyos_domain::hygiene::decay::STALE_AFTER_DAYS;
use caseyos_domain::hygiene::{decay, DecayLevel};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::hygiene::{
    check_scope, contact_ids, contact_ids_schema, read_all, utc_date, AlertSpec, ContactSelection,
    Effect, MAX_LIMIT,
};
use crate::schema::InputSchema;
use crate::{AgentError, Ctx, Outcome};

pub const NAME: &str = "DataDecay";
pub const DOMAIN: AgentDomain = AgentDomain::DataHygiene;
pub const DESCRIPTION: &str = "Rates every active contact fresh, stale, decayed or zombie by its last contact, and raises one alert a day for contacts untouched 90+ days.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// The longest-untouched contacts listed in the output and named in the alert's subjects.
pub const TOP_STALE: usize = 20;
/// Of those, how many the alert's message names.
pub const MESSAGE_NAMES: usize = 5;

/// Which contacts to rate; `{}` rates every active contact.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// At most this many contacts (by id), when given.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only these contacts.
    #[serde(default)]
    pub contact_ids: Option<Vec<String>>,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({})
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

#[derive(Debug, Default, Serialize)]
struct Levels {
    fresh: usize,
    stale: usize,
    decayed: usize,
    zombie: usize,
}

#[derive(Debug, Serialize)]
struct StaleContact {
    id: Uuid,
    name: String,
    level: DecayLevel,
    days_since: i64,
    /// The instant counted from.
    since: DateTime<Utc>,
    /// Whether `since` is the creation (nobody ever contacted them).
    never_contacted: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    as_of: DateTime<Utc>,
    contacts: usize,
    levels: Levels,
    /// Untouched [`STALE_AFTER_DAYS`] days or more (stale, decayed and zombie).
    stale_90_plus: usize,
    stale_after_days: i64,
    /// The longest untouched, most days first.
    oldest: Vec<StaleContact>,
    limited: bool,
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let ids = contact_ids(&input.contact_ids);
    let limit = input.limit.map(|l| l as usize);
    let contacts = read_all(
        ctx.contacts,
        &ContactSelection::Active,
        ids.as_deref(),
        limit,
    )
    .await?;
    let mut levels = Levels::default();
    let mut stale = Vec::new();
    for contact in &contacts {
        let d = decay(contact.last_contacted_at, contact.created_at, ctx.now);
        match d.level {
            DecayLevel::Fresh => levels.fresh += 1,
            DecayLevel::Stale => levels.stale += 1,
            DecayLevel::Decayed => levels.decayed += 1,
            DecayLevel::Zombie => levels.zombie += 1,
        }
        if d.level != DecayLevel::Fresh {
            stale.push(StaleContact {
                id: contact.id,
                name: contact.display_name(),
                level: d.level,
                days_since: d.days_since,
                since: d.since,
                never_contacted: contact.last_contacted_at.is_none(),
            });
        }
    }
    stale.sort_by(|x, y| y.days_since.cmp(&x.days_since).then(x.id.cmp(&y.id)));
    let stale_90_plus = stale.len();
    stale.truncate(TOP_STALE);
    let mut effects = Vec::new();
    if stale_90_plus > 0 {
        effects.push(Effect::RaiseAlert(stale_alert(
            stale_90_plus,
            &stale,
            ctx.now,
        )));
    } else if ids.is_none() && limit.is_none() {
        // Only a run over every contact may say the condition cleared.
        effects.push(Effect::ResolveAlerts(AlertKind::ContactStale));
    }
    let report = Report {
        as_of: ctx.now,
        contacts: contacts.len(),
        levels,
        stale_90_plus,
        stale_after_days: STALE_AFTER_DAYS,
        oldest: stale,
        limited: limit.is_some_and(|l| contacts.len() >= l),
    };
    let text = render(&report);
    let mut outcome = Outcome::report(&report, text)?;
    outcome.effects = effects;
    Ok(outcome)
}

fn stale_alert(count: usize, oldest: &[StaleContact], now: DateTime<Utc>) -> AlertSpec {
    let named: Vec<String> = oldest
        .iter()
        .take(MESSAGE_NAMES)
        .map(|c| format!("{} ({} days)", c.name, c.days_since))
        .collect();
    let more = count.saturating_sub(named.len());
    let mut message = format!(
        "{count} contacts have not been contacted for {STALE_AFTER_DAYS} days or more. \
         Longest untouched: {}",
        named.join(", ")
    );
    if more > 0 {
        message.push_str(&format!(", and {more} more"));
    }
    message.push('.');
    AlertSpec {
        key: format!("{}/{}", AlertKind::ContactStale.as_str(), utc_date(now)),
        kind: AlertKind::ContactStale,
        severity: AlertSeverity::Normal,
        title: format!(
            "{count} {} untouched for {STALE_AFTER_DAYS}+ days",
            if count == 1 { "contact" } else { "contacts" }
        ),
        message,
        subjects: oldest.iter().map(|c| AlertSubject::Contact(c.id)).collect(),
    }
}

fn render(report: &Report) -> String {
    let l = &report.levels;
    let mut text = format!(
        "## Data decay\n\n{} active contacts: {} fresh, {} stale, {} decayed, {} zombie.\n",
        report.contacts, l.fresh, l.stale, l.decayed, l.zombie
    );
    if !report.oldest.is_empty() {
        text.push_str("\nLongest untouched:\n\n");
        for c in &report.oldest {
            text.push_str(&format!(
                "- {} — {} days ({}{})\n",
                c.name,
                c.days_since,
                c.level.as_str(),
                if c.never_contacted {
                    ", never contacted"
                } else {
                    ""
                }
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hygiene::testing::{contact, FakeContacts};
    use crate::llm::testing::{fixed_now, Harness};

    async fn run_with(fake: &FakeContacts, input: serde_json::Value) -> Outcome {
        let harness = Harness::offline();
        let ctx = harness.ctx().with_contacts(fake);
        let spec = crate::find(NAME).expect("registered");
        spec.validate(&input).expect("a valid input");
        crate::run(spec, &input, &ctx).await.expect("runs")
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .with_timezone(&Utc)
    }

    #[tokio::test]
    async fn contacts_are_rated_by_last_contact_with_offsets_read_as_instants() {
        // now is 2026-03-02T09:00:00Z. (id, last contacted, level)
        let table = [
            (1, Some("2026-02-20T10:00:00Z"), "fresh"),
            // 09:00Z on 2025-12-03, 89 days before now, written with an offset: still fresh.
            (2, Some("2025-12-03T14:30:00+05:30"), "fresh"),
            (3, Some("2025-11-30T09:00:00Z"), "stale"),
            (4, Some("2025-08-01T00:00:00-07:00"), "decayed"),
            (5, Some("2024-01-01T00:00:00Z"), "zombie"),
        ];
        let contacts = table
            .iter()
            .map(|(n, last, _)| {
                let mut c = contact(*n, "Pat", &format!("Number{n}"), "pat@acme.example");
                c.last_contacted_at = last.map(at);
                c
            })
            .collect();
        let fake = FakeContacts {
            contacts,
            ..FakeContacts::default()
        };
        let outcome = run_with(&fake, serde_json::json!({})).await;
        let out = &outcome.output;
        for (n, last, level) in table {
            let listed = out["oldest"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["id"] == Uuid::from_u128(n).to_string());
            match level {
                "fresh" => assert!(listed.is_none(), "{n} {last:?}: {out}"),
                _ => assert_eq!(listed.unwrap()["level"], level, "{n} {last:?}"),
            }
        }
        assert_eq!(out["levels"]["fresh"], 2, "{out}");
        assert_eq!(out["stale_90_plus"], 3, "{out}");
        assert_eq!(out["oldest"][0]["id"], Uuid::from_u128(5).to_string());
        let Some(Effect::RaiseAlert(alert)) = outcome.effects.first() else {
            panic!("a stale alert: {:?}", outcome.effects)
        };
        assert_eq!(alert.key, "contact.stale/2026-03-02");
        assert_eq!(alert.title, "3 contacts untouched for 90+ days");
        assert!(alert.message.starts_with("3 contacts"), "{}", alert.message);
        assert!(alert.message.contains("Pat Number5 ("), "{}", alert.message);
        assert_eq!(alert.subjects.len(), 3);
    }

    #[tokio::test]
    async fn a_contact_never_contacted_counts_from_its_creation_and_none_stale_resolves() {
        let mut old = contact(1, "Old", "Record", "old@acme.example");
        old.created_at = fixed_now() - chrono::Duration::days(400);
        let fake = FakeContacts {
            contacts: vec![old],
            ..FakeContacts::default()
        };
        let outcome = run_with(&fake, serde_json::json!({})).await;
        assert_eq!(outcome.output["levels"]["zombie"], 1);
        assert_eq!(outcome.output["oldest"][0]["never_contacted"], true);

        let fresh = FakeContacts {
            contacts: vec![contact(2, "New", "Record", "new@acme.example")],
            ..FakeContacts::default()
        };
        let outcome = run_with(&fresh, serde_json::json!({})).await;
        assert_eq!(
            outcome.effects,
            vec![Effect::ResolveAlerts(AlertKind::ContactStale)]
        );
    }
}
