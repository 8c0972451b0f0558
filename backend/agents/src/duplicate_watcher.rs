//! DuplicateWatcher: finds candidate duplicate pairs among every contact not merged away
//! (`caseyos_domain::hygiene::find_candidates`: blocking on email, phone — across domains
//! too —, company domain and company with similar names; scored with the reasons that
//! fired and a criteria version) and asks for each new or changed finding to be recorded
//! as a duplicate pair.
//!
//! Whether a finding is new, reopens a pair a person closed, rescores an open pair, or
//! changes nothing is decided by the `duplicate_pair` aggregate's own rule, run here on
//! each pair's current state: a pair marked "not a duplicate" comes back only when one of
//! the two records changed in a field the criteria read (its fingerprint). Only findings
//! that change something become effects, so a second run over the same contacts records
//! nothing.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::alerts::{AlertKind, AlertSeverity, AlertSubject};
use caseyos_domain::api::FieldError;
use caseyos_domain::duplicates::{
    pair_id, DuplicatePair, DuplicatePairCommand, DuplicatePairEvent, Finding, MatchReason,
    PairStatus,
};
use caseyos_domain::hygiene::{
    criteria_fingerprint, find_candidates_with_stats, MatchRecord, CRITERIA_VERSION,
};
use caseyos_domain::kernel::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::hygiene::{
    check_scope, contact_ids, contact_ids_schema, read_all, read_failed, utc_date, AlertSpec,
    ContactSelection, Effect, MAX_LIMIT,
};
use crate::schema::InputSchema;
use crate::{AgentError, Ctx, Outcome};

pub const NAME: &str = "DuplicateWatcher";
pub const DOMAIN: AgentDomain = AgentDomain::DataHygiene;
pub const DESCRIPTION: &str = "Finds likely duplicate contacts (same email, same phone across domains, same company with a similar name), records each new or changed pair for review, and never re-proposes a pair a person rejected unless a matched field changed.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// More new (or reopened) open pairs than this in one run raise a `duplicates.surge` alert.
pub const NEW_PAIRS_ALERT_THRESHOLD: usize = 25;
/// Pair states read at a time.
const PAIR_PAGE: usize = 1_000;
/// The pairs an alert names (the highest scores).
const ALERT_SUBJECTS: usize = 20;

/// What to look at; `{}` matches every contact.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Record at most this many findings (the highest scores first), when given.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only pairs with at least one of these contacts (matched against every contact).
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

/// What happened to each candidate.
#[derive(Debug, Default, Serialize)]
struct Counts {
    /// Pairs seen for the first time.
    new: usize,
    /// Pairs a person closed whose records changed in a matched field since.
    reopened: usize,
    /// Open pairs whose score or reasons changed.
    rescored: usize,
    /// Open pairs found again as they were.
    unchanged: usize,
    /// Pairs a person closed (not a duplicate, ignored, unmerged) that stay closed.
    kept_closed: usize,
    /// Pairs already merged.
    merged: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    criteria_version: u32,
    contacts_scanned: usize,
    pairs_compared: usize,
    candidates: usize,
    #[serde(flatten)]
    counts: Counts,
    /// Findings to record (new, reopened and rescored).
    recorded: usize,
    /// The highest-scoring new or reopened pairs.
    top: Vec<TopPair>,
    /// Whether `limit` held findings back.
    limited: bool,
    alert_threshold: usize,
}

#[derive(Debug, Serialize)]
struct TopPair {
    pair_id: Uuid,
    a: Uuid,
    b: Uuid,
    score: f64,
    reasons: Vec<String>,
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let only = contact_ids(&input.contact_ids);
    let contacts = read_all(ctx.contacts, &ContactSelection::NotMerged, None, None).await?;
    let records: Vec<MatchRecord> = contacts.iter().map(|c| c.match_record()).collect();
    drop(contacts);
    let (candidates, stats) = find_candidates_with_stats(&records);
    let fingerprint_of = {
        let mut by_id: Vec<(Uuid, String)> = records
            .iter()
            .map(|r| (r.id, criteria_fingerprint(r)))
            .collect();
        by_id.sort_unstable_by_key(|(id, _)| *id);
        move |id: Uuid| -> String {
            by_id
                .binary_search_by_key(&id, |(i, _)| *i)
                .map(|i| by_id[i].1.clone())
                .unwrap_or_default()
        }
    };
    let findings: Vec<Finding> = candidates
        .into_iter()
        .filter(|c| {
            only.as_ref().is_none_or(|ids| {
                ids.binary_search(&c.a).is_ok() || ids.binary_search(&c.b).is_ok()
            })
        })
        .map(|c| Finding {
            a: c.a,
            b: c.b,
            score: c.score,
            reasons: c
                .reasons
                .into_iter()
                .map(|r| MatchReason {
                    code: r.code,
                    detail: r.detail,
                })
                .collect(),
            criteria_version: CRITERIA_VERSION,
            fingerprints: [fingerprint_of(c.a), fingerprint_of(c.b)],
        })
        .collect();
    let candidates = findings.len();

    let mut counts = Counts::default();
    let mut to_record: Vec<(Finding, bool)> = Vec::new();
    let agent = Actor::agent(NAME);
    for chunk in findings.chunks(PAIR_PAGE) {
        let ids: Vec<Uuid> = chunk.iter().map(|f| pair_id(f.a, f.b)).collect();
        let pairs = ctx.contacts.pairs(&ids).await.map_err(read_failed)?;
        for (finding, id) in chunk.iter().zip(&ids) {
            let current = DuplicatePair {
                pair: pairs.iter().find(|p| p.id == *id).cloned(),
            };
            let status = current.pair.as_ref().map(|p| p.status);
            let decided = current.decide(DuplicatePairCommand::Detect {
                finding: finding.clone(),
                run_id: None,
                by: agent.clone(),
                at: ctx.now,
            });
            match decided.as_deref() {
                Ok([DuplicatePairEvent::DuplicatePairDetected(_)]) => {
                    counts.new += 1;
                    to_record.push((finding.clone(), true));
                }
                Ok([DuplicatePairEvent::DuplicatePairReopened(_)]) => {
                    counts.reopened += 1;
                    to_record.push((finding.clone(), true));
                }
                Ok([DuplicatePairEvent::DuplicatePairRescored(_)]) => {
                    counts.rescored += 1;
                    to_record.push((finding.clone(), false));
                }
                _ => match status {
                    Some(PairStatus::Merged) => counts.merged += 1,
                    Some(PairStatus::Open) | None => counts.unchanged += 1,
                    Some(_) => counts.kept_closed += 1,
                },
            }
        }
    }
    // Highest scores first (the matcher's order); `limit` keeps the first ones.
    let limited = input
        .limit
        .is_some_and(|limit| to_record.len() > limit as usize);
    if let Some(limit) = input.limit {
        to_record.truncate(limit as usize);
    }
    let opened: Vec<&Finding> = to_record
        .iter()
        .filter(|(_, opens)| *opens)
        .map(|(f, _)| f)
        .collect();
    let top: Vec<TopPair> = opened
        .iter()
        .take(ALERT_SUBJECTS)
        .map(|f| TopPair {
            pair_id: pair_id(f.a, f.b),
            a: f.a,
            b: f.b,
            score: f.score,
            reasons: f.reasons.iter().map(|r| r.code.clone()).collect(),
        })
        .collect();
    let mut effects: Vec<Effect> = Vec::with_capacity(to_record.len() + 1);
    if opened.len() > NEW_PAIRS_ALERT_THRESHOLD {
        effects.push(Effect::RaiseAlert(AlertSpec {
            key: format!(
                "{}/{}",
                AlertKind::DuplicatesSurge.as_str(),
                utc_date(ctx.now)
            ),
            kind: AlertKind::DuplicatesSurge,
            severity: AlertSeverity::Normal,
            title: format!("{} new duplicate pairs to review", opened.len()),
            message: format!(
                "DuplicateWatcher found {} new or reopened duplicate pairs (more than {}). \
                 The strongest are listed as this alert's subjects; review them under \
                 Duplicates.",
                opened.len(),
                NEW_PAIRS_ALERT_THRESHOLD
            ),
            subjects: top
                .iter()
                .map(|p| AlertSubject::DuplicatePair(p.pair_id))
                .collect(),
        }));
    }
    let recorded = to_record.len();
    effects.extend(
        to_record
            .into_iter()
            .map(|(finding, _)| Effect::DetectDuplicate(finding)),
    );
    let report = Report {
        criteria_version: CRITERIA_VERSION,
        contacts_scanned: stats.records,
        pairs_compared: stats.pairs_compared,
        candidates,
        counts,
        recorded,
        top,
        limited,
        alert_threshold: NEW_PAIRS_ALERT_THRESHOLD,
    };
    let text = render(&report);
    let mut outcome = Outcome::report(&report, text)?;
    outcome.effects = effects;
    Ok(outcome)
}

fn render(report: &Report) -> String {
    let c = &report.counts;
    let mut text = format!(
        "## Duplicate watch (criteria v{})\n\n{} contacts scanned, {} pairs compared, {} \
         candidates: {} new, {} reopened, {} rescored, {} unchanged, {} kept closed by a \
         person, {} already merged.\n",
        report.criteria_version,
        report.contacts_scanned,
        report.pairs_compared,
        report.candidates,
        c.new,
        c.reopened,
        c.rescored,
        c.unchanged,
        c.kept_closed,
        c.merged
    );
    if report.limited {
        text.push_str("\nThe run's limit held some findings back; the next run records them.\n");
    }
    if c.new + c.reopened > report.alert_threshold {
        text.push_str(&format!(
            "\nMore than {} pairs opened: an alert was raised.\n",
            report.alert_threshold
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use caseyos_domain::duplicates::DuplicatePairView;

    use super::*;
    use crate::hygiene::testing::{contact, FakeContacts};
    use crate::hygiene::ContactRecord;
    use crate::llm::testing::{fixed_now, Harness};

    async fn run_with(fake: &FakeContacts, input: serde_json::Value) -> Outcome {
        let harness = Harness::offline();
        let ctx = harness.ctx().with_contacts(fake);
        let spec = crate::find(NAME).expect("registered");
        spec.validate(&input).expect("a valid input");
        crate::run(spec, &input, &ctx).await.expect("runs")
    }

    fn with_phone(mut c: ContactRecord, e164: &str) -> ContactRecord {
        c.phones = vec![caseyos_domain::contacts::Phone {
            raw: e164.into(),
            e164: Some(e164.into()),
        }];
        c
    }

    /// Two pairs: the same address twice, and the same phone across two domains.
    fn base() -> Vec<ContactRecord> {
        vec![
            contact(1, "Ada", "Lovelace", "ada@analytical.example"),
            contact(2, "Ada", "Lovelace", "ada@analytical.example"),
            with_phone(
                contact(3, "Grace", "Hopper", "grace@navy.example"),
                "+14155550100",
            ),
            with_phone(
                contact(4, "Grace", "Hopper", "ghopper@cobol.example"),
                "+14155550100",
            ),
            contact(5, "Alan", "Turing", "alan@bletchley.example"),
        ]
    }

    fn findings(outcome: &Outcome) -> Vec<Finding> {
        outcome
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::DetectDuplicate(f) => Some(f.clone()),
                _ => None,
            })
            .collect()
    }

    /// The pair as the aggregate leaves it after `finding` and then `then` (a person's
    /// decision), if any.
    fn pair_after(finding: &Finding, then: Option<DuplicatePairCommand>) -> DuplicatePairView {
        let mut pair = DuplicatePair::default();
        let at = fixed_now();
        let detect = DuplicatePairCommand::Detect {
            finding: finding.clone(),
            run_id: None,
            by: Actor::agent(NAME),
            at,
        };
        for command in std::iter::once(detect).chain(then) {
            for event in pair.decide(command).expect("decides") {
                pair.apply(event);
            }
        }
        pair.pair.expect("a pair")
    }

    #[tokio::test]
    async fn new_pairs_are_recorded_including_same_phone_across_domains() {
        let fake = FakeContacts {
            contacts: base(),
            ..FakeContacts::default()
        };
        let outcome = run_with(&fake, serde_json::json!({})).await;
        let found = findings(&outcome);
        let pairs: Vec<(u128, u128)> = found
            .iter()
            .map(|f| (f.a.as_u128(), f.b.as_u128()))
            .collect();
        assert!(pairs.contains(&(1, 2)), "same email: {pairs:?}");
        assert!(
            pairs.contains(&(3, 4)),
            "same phone, other domain: {pairs:?}"
        );
        let out = &outcome.output;
        assert_eq!(out["contacts_scanned"], 5, "{out}");
        assert_eq!(out["candidates"], found.len(), "{out}");
        assert_eq!(out["new"], found.len(), "{out}");
        assert_eq!(out["criteria_version"], CRITERIA_VERSION, "{out}");
        assert!(out["pairs_compared"].as_u64().unwrap() >= 2, "{out}");
        assert!(found
            .iter()
            .all(|f| f.fingerprints.iter().all(|p| !p.is_empty())));
    }

    #[tokio::test]
    async fn a_second_run_over_the_same_contacts_records_nothing() {
        let first = run_with(
            &FakeContacts {
                contacts: base(),
                ..FakeContacts::default()
            },
            serde_json::json!({}),
        )
        .await;
        let pairs: Vec<DuplicatePairView> = findings(&first)
            .iter()
            .map(|f| pair_after(f, None))
            .collect();
        let fake = FakeContacts {
            contacts: base(),
            pairs,
            ..FakeContacts::default()
        };
        let second = run_with(&fake, serde_json::json!({})).await;
        assert!(second.effects.is_empty(), "{:?}", second.effects);
        assert_eq!(second.output["new"], 0);
        assert_eq!(second.output["unchanged"], first.output["candidates"]);
    }

    #[tokio::test]
    async fn a_pair_marked_not_a_duplicate_stays_closed_until_a_matched_field_changes() {
        let first = run_with(
            &FakeContacts {
                contacts: base(),
                ..FakeContacts::default()
            },
            serde_json::json!({}),
        )
        .await;
        let not_duplicate = DuplicatePairCommand::MarkNotDuplicate {
            by: Actor::user("casey"),
            at: fixed_now(),
        };
        let pairs: Vec<DuplicatePairView> = findings(&first)
            .iter()
            .map(|f| pair_after(f, Some(not_duplicate.clone())))
            .collect();
        let closed = pairs.len();
        let fake = FakeContacts {
            contacts: base(),
            pairs: pairs.clone(),
            ..FakeContacts::default()
        };
        let again = run_with(&fake, serde_json::json!({})).await;
        assert!(again.effects.is_empty(), "{:?}", again.effects);
        assert_eq!(again.output["kept_closed"], closed, "{}", again.output);

        // Grace's second record changes her last name: that pair reopens, the other stays.
        let mut changed = base();
        changed[3].last_name = Some("Hopper-Murray".into());
        let fake = FakeContacts {
            contacts: changed,
            pairs,
            ..FakeContacts::default()
        };
        let after_edit = run_with(&fake, serde_json::json!({})).await;
        let reopened: Vec<(u128, u128)> = findings(&after_edit)
            .iter()
            .map(|f| (f.a.as_u128(), f.b.as_u128()))
            .collect();
        assert_eq!(reopened, vec![(3, 4)], "{}", after_edit.output);
        assert_eq!(after_edit.output["reopened"], 1, "{}", after_edit.output);
    }

    #[tokio::test]
    async fn merged_contacts_are_not_matched_and_contact_ids_narrow_the_pairs() {
        let fake = FakeContacts {
            contacts: base(),
            merged: vec![Uuid::from_u128(2)],
            ..FakeContacts::default()
        };
        let outcome = run_with(&fake, serde_json::json!({})).await;
        assert!(findings(&outcome).iter().all(|f| f.b.as_u128() != 2));
        let fake = FakeContacts {
            contacts: base(),
            ..FakeContacts::default()
        };
        let only = serde_json::json!({"contact_ids": [Uuid::from_u128(3).to_string()]});
        let outcome = run_with(&fake, only).await;
        let pairs: Vec<(u128, u128)> = findings(&outcome)
            .iter()
            .map(|f| (f.a.as_u128(), f.b.as_u128()))
            .collect();
        assert_eq!(pairs, vec![(3, 4)]);
    }

    #[tokio::test]
    async fn more_new_pairs_than_the_threshold_raise_one_alert() {
        let mut contacts = Vec::new();
        for n in 0..=NEW_PAIRS_ALERT_THRESHOLD as u128 {
            let email = format!("person{n}@company{n}.example");
            contacts.push(contact(1000 + 2 * n, "Sam", &format!("Person{n}"), &email));
            contacts.push(contact(1001 + 2 * n, "Sam", &format!("Person{n}"), &email));
        }
        let fake = FakeContacts {
            contacts,
            ..FakeContacts::default()
        };
        let outcome = run_with(&fake, serde_json::json!({})).await;
        let alerts: Vec<&AlertSpec> = outcome
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::RaiseAlert(a) => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(alerts.len(), 1, "{:?}", outcome.output);
        assert_eq!(alerts[0].key, "duplicates.surge/2026-03-02");
        assert_eq!(alerts[0].subjects.len(), ALERT_SUBJECTS);
        let fewer = FakeContacts {
            contacts: base(),
            ..FakeContacts::default()
        };
        let outcome = run_with(&fewer, serde_json::json!({})).await;
        assert!(!outcome
            .effects
            .iter()
            .any(|e| matches!(e, Effect::RaiseAlert(_))));
    }
}
