//! Processors: pure functions from a signal to the move it calls for (or to why none), one
//! per kind of signal, with the seed's numbers — fixed where the seed was broken:
//!
//! - **Form → follow-up** (`form_follow_up`): requires an `email` field (else skipped
//!   `missing_email`); `email_follow_up`, revenue = the form's `revenue_potential` (0–1) or
//!   60%, urgency 90%, strategic 50%, effort 20%, due in 2 hours. The title is derived from
//!   the submitter and the form, never missing (the seed's had none, and every form webhook
//!   rolled back on `NotNullViolation`).
//! - **HubSpot deal created / stage changed / amount changed** (`hubspot_deal`): revenue by
//!   the seed's tiers of the amount (≥ $100k 100%, ≥ $50k 90%, ≥ $25k 80%, ≥ $10k 70%,
//!   ≥ $5k 60%, > 0 50%, none 30%), urgency and strategic by the stage (HubSpot's default
//!   stages from the seed's tables — the same table as `deals::aps::STAGE_INPUTS`; won 30% /
//!   100%, lost 10% / 20%; another pipeline's open stage by its probability), effort 30%;
//!   due in 4 hours for a new deal, else by the stage (1 hour at ≥ 80% probability, 4 hours
//!   at ≥ 40%, 24 hours once won, otherwise 8). Whether a stage change advanced or regressed
//!   the deal is judged by the pipeline's stage order (`Pipeline::direction`), never by
//!   comparing names: advanced → `deal_progression`, regressed → `review_deal` (urgency at
//!   least 85%), won → `onboarding_kickoff`, lost → `win_loss_analysis`.
//! - **Gmail reply** (`gmail_reply`): the intent from the subject and snippet, matched as
//!   whole words (the seed matched substrings, so "sometimes" meant a meeting) and
//!   unsubscribe first (the seed read "not interested" as interest): unsubscribe
//!   (unsubscribe, not interested, remove, stop) → `unsubscribe_process`; meeting (meet,
//!   call, schedule, calendar, time, available) → `book_meeting`; pricing (interested,
//!   pricing, demo, trial) → `email_follow_up`; otherwise `thread_reply`. Urgency 85% (50%
//!   for an unsubscribe), +10 points with meeting words, +10 with pricing words, at most 95%;
//!   revenue 60%, strategic 70%, effort 30%; due in 2 hours (8 for an unsubscribe).
//! - **Rules** (`deal_rules`, `lead_rules`): the priority score of [`super::rules::score`]
//!   is the move's urgency (so the seed's CRITICAL/HIGH/MEDIUM/LOW order holds within APS),
//!   revenue by the deal's amount tier, strategic by its stage; stalled → `follow_up`,
//!   closing soon and big deal moved → `review_deal`, gone cold → `check_in`; due by priority.
//! - **Manual** (`manual`): the person's title and action type (default `manual_task`),
//!   revenue 40%, urgency 50%, effort 50%, strategic 50% (the seed's manual row), due in 24
//!   hours.
//!
//! Every move's id is [`move_id`]`(rule, entity, UTC day of the signal)`, so at most one
//! move is proposed per rule, entity and day however many signals call for it.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::rules::{self, RuleFacts};
use super::{SignalKind, SignalView};
use crate::deals::aps::{REVENUE_SMALL, REVENUE_TIERS, STAGE_INPUTS};
use crate::kernel::{CrmId, EmailAddress, Money};
use crate::pipelines::{Pipeline, Stage, StageDirection, StageKind};
use crate::queue::aps::{ApsInputs, ApsOverrides, Fraction};
use crate::queue::{ActionType, ContactRef, RecordRef, Target};

/// The namespace of moves proposed from signals: `Uuid::new_v5(MOVE_NAMESPACE,
/// "<rule>|<entity>|<YYYY-MM-DD>")`.
const MOVE_NAMESPACE: Uuid = Uuid::from_u128(0x8d2e_41c7_a35b_4e60_b1f9_6c04_2e7a_93d5);

/// The id of the one move a rule may propose about an entity on a UTC day.
pub fn move_id(rule: &str, entity: &str, day: NaiveDate) -> Uuid {
    Uuid::new_v5(&MOVE_NAMESPACE, format!("{rule}|{entity}|{day}").as_bytes())
}

/// Revenue of a deal without an amount (the seed's "unknown").
pub const REVENUE_UNKNOWN: u16 = 300;
/// Effort of every deal move (the seed's HubSpot processor).
pub const DEAL_EFFORT: u16 = 300;
/// Urgency and strategic of a won stage and of a lost one.
pub const WON_INPUTS: (u16, u16) = (300, 1000);
pub const LOST_INPUTS: (u16, u16) = (100, 200);
/// A regressed deal's urgency is at least this.
pub const REGRESSED_URGENCY: u16 = 850;

/// The form processor's inputs (revenue default, urgency, effort, strategic) and due.
pub const FORM_INPUTS: ApsInputs = ApsInputs::new(600, 900, 200, 500);
pub const FORM_DUE_HOURS: i64 = 2;
/// The reply processor's revenue, strategic and effort.
pub const REPLY_REVENUE: u16 = 600;
pub const REPLY_STRATEGIC: u16 = 700;
pub const REPLY_EFFORT: u16 = 300;
pub const REPLY_URGENCY: u16 = 850;
pub const REPLY_URGENCY_UNSUBSCRIBE: u16 = 500;
pub const REPLY_URGENCY_BONUS: u16 = 100;
pub const REPLY_URGENCY_CAP: u16 = 950;
/// The manual processor's inputs and due.
pub const MANUAL_INPUTS: ApsInputs = ApsInputs::new(400, 500, 500, 500);
pub const MANUAL_DUE_HOURS: i64 = 24;

/// Words that make a reply about a meeting, pricing, or an unsubscribe (matched as whole
/// words, or word beginnings for the stems ending in `*`).
pub const MEETING_WORDS: &[&str] = &[
    "meet*",
    "call*",
    "schedul*",
    "calendar*",
    "time",
    "available",
];
pub const PRICING_WORDS: &[&str] = &["interested", "pricing", "demo*", "trial*"];
pub const UNSUBSCRIBE_WORDS: &[&str] = &["unsubscribe*", "not interested", "remove", "stop"];

/// A deal as a signal about it records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DealSnapshot {
    pub deal_id: Uuid,
    pub name: String,
    pub owner: String,
    pub pipeline: CrmId,
    pub stage: Stage,
    /// The stage before, for a stage change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_stage: Option<Stage>,
    #[serde(default)]
    pub amount: Option<Money>,
    /// The amount before, for an amount change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_amount: Option<Money>,
    #[serde(default)]
    pub close_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm_id: Option<CrmId>,
}

/// A contact as a signal about it records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSnapshot {
    pub contact_id: Uuid,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<EmailAddress>,
    #[serde(default)]
    pub owner: Option<String>,
}

/// A Gmail reply's payload (what the poller records).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPayload {
    pub thread_id: String,
    pub message_id: String,
    pub from_email: EmailAddress,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub snippet: String,
}

/// A form submission's payload: the form's name and the fields as submitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormPayload {
    pub form: String,
    pub fields: Map<String, Value>,
}

/// A rule signal's payload: what the rule measured and about what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RulePayload {
    pub facts: RuleFacts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal: Option<DealSnapshot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactSnapshot>,
}

/// A manual signal's payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManualPayload {
    pub title: String,
    #[serde(default)]
    pub action_type: Option<ActionType>,
    #[serde(default)]
    pub note: Option<String>,
}

/// What a processor may know besides the signal.
#[derive(Clone, Copy, Debug)]
pub struct ProcessContext<'a> {
    /// When it runs (due times count from here).
    pub now: DateTime<Utc>,
    /// The owner of moves about no one's record (the configured operator).
    pub operator: &'a str,
    /// The deal's pipeline, for a deal signal: how a stage change is judged.
    pub pipeline: Option<&'a Pipeline>,
    /// The CaseyOS contact with the signal's address, when there is one.
    pub contact: Option<&'a ContactSnapshot>,
}

/// A move a processor proposes.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    /// [`move_id`] of its rule, entity and day.
    pub item_id: Uuid,
    /// `form.follow_up`, `hubspot.deal_stage_changed`, `rule.deal_stalled`, …
    pub rule: String,
    pub action_type: ActionType,
    pub title: String,
    pub target: Target,
    pub payload: Value,
    pub owner: String,
    pub due_by: DateTime<Utc>,
    /// Every input assessed (the processors give all four).
    pub aps: ApsOverrides,
    /// Why, one sentence each: the signal's facts, then each APS input's basis.
    pub reasons: Vec<String>,
}

impl Proposal {
    /// The reasons as one rationale.
    pub fn rationale(&self) -> String {
        self.reasons.join(" ")
    }
}

/// What a processor came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Processed {
    Propose(Box<Proposal>),
    /// Nothing to propose: a stable reason code and why in words.
    Skip {
        code: &'static str,
        message: String,
    },
}

fn skip(code: &'static str, message: impl Into<String>) -> Processed {
    Processed::Skip {
        code,
        message: message.into(),
    }
}

/// The processor of a kind of signal.
pub fn processor_of(kind: SignalKind) -> &'static str {
    match kind {
        SignalKind::FormSubmitted => "form_follow_up",
        SignalKind::DealCreated | SignalKind::DealStageChanged | SignalKind::DealAmountChanged => {
            "hubspot_deal"
        }
        SignalKind::ReplyReceived => "gmail_reply",
        SignalKind::DealStalled | SignalKind::DealClosingSoon | SignalKind::BigDealMoved => {
            "deal_rules"
        }
        SignalKind::LeadGoneCold => "lead_rules",
        SignalKind::Manual => "manual",
    }
}

/// Runs the processor of the signal's kind.
pub fn process(signal: &SignalView, ctx: &ProcessContext<'_>) -> Processed {
    fn payload<T: serde::de::DeserializeOwned>(signal: &SignalView) -> Result<T, Processed> {
        serde_json::from_value(signal.payload.clone()).map_err(|e| {
            skip(
                "invalid_payload",
                format!(
                    "the payload is not a {} signal's: {e}",
                    signal.kind.as_str()
                ),
            )
        })
    }
    let day = signal.occurred_at.date_naive();
    let result = match signal.kind {
        SignalKind::FormSubmitted => payload(signal).map(|p| form(&p, day, ctx)),
        SignalKind::DealCreated | SignalKind::DealStageChanged | SignalKind::DealAmountChanged => {
            payload(signal).map(|p| deal(signal.kind, &p, day, ctx))
        }
        SignalKind::ReplyReceived => payload(signal).map(|p| reply(&p, day, ctx)),
        SignalKind::DealStalled
        | SignalKind::DealClosingSoon
        | SignalKind::BigDealMoved
        | SignalKind::LeadGoneCold => payload(signal).map(|p| rule(signal.kind, &p, day, ctx)),
        SignalKind::Manual => payload(signal).map(|p| manual(signal.id, &p, day, ctx)),
    };
    result.unwrap_or_else(|skipped| skipped)
}

fn frac(thousandths: u16) -> Fraction {
    Fraction::from_thousandths(thousandths)
}

fn overrides(inputs: ApsInputs) -> ApsOverrides {
    ApsOverrides {
        revenue: Some(inputs.revenue),
        urgency: Some(inputs.urgency),
        effort: Some(inputs.effort),
        strategic: Some(inputs.strategic),
    }
}

fn pct(thousandths: u16) -> String {
    frac(thousandths).percent_label()
}

fn crm_id(id: Uuid) -> Option<CrmId> {
    CrmId::parse(&id.to_string()).ok()
}

fn deal_target(deal: &DealSnapshot) -> Target {
    Target {
        deal: crm_id(deal.deal_id).map(|id| RecordRef {
            id,
            name: Some(deal.name.clone()),
        }),
        ..Target::default()
    }
}

fn contact_target(contact: Option<&ContactSnapshot>, email: Option<&EmailAddress>) -> Target {
    Target {
        contact: contact.and_then(|c| {
            crm_id(c.contact_id).map(|id| ContactRef {
                id,
                name: c.name.clone().filter(|n| !n.trim().is_empty()),
                email: email.cloned().or_else(|| c.email.clone()),
            })
        }),
        ..Target::default()
    }
}

/// The revenue input of a deal's amount by the seed's tiers, and why.
pub fn revenue_of(amount: Option<Money>) -> (u16, String) {
    match amount.filter(|m| m.minor > 0) {
        Some(m) => {
            let dollars = m.minor / m.currency.minor_per_major().max(1);
            let (input, band) = REVENUE_TIERS
                .iter()
                .find(|(at_least, _)| dollars >= *at_least)
                .map(|(at_least, input)| (*input, format!("≥ ${at_least}")))
                .unwrap_or((REVENUE_SMALL, "under $5000".to_string()));
            (
                input,
                format!("Revenue {} from the amount {m} (tier {band}).", pct(input)),
            )
        }
        None => (
            REVENUE_UNKNOWN,
            format!("Revenue {}: the deal has no amount.", pct(REVENUE_UNKNOWN)),
        ),
    }
}

/// The urgency and strategic inputs of a stage (the seed's tables), and how long a move
/// about a deal in it may wait.
pub fn stage_inputs(stage: &Stage) -> (u16, u16, Duration) {
    let due = |p: u8| match p {
        80.. => Duration::hours(1),
        40.. => Duration::hours(4),
        _ => Duration::hours(8),
    };
    match stage.kind {
        StageKind::Won => (WON_INPUTS.0, WON_INPUTS.1, Duration::hours(24)),
        StageKind::Lost => (LOST_INPUTS.0, LOST_INPUTS.1, Duration::hours(8)),
        StageKind::Open => {
            let p = stage.probability;
            match STAGE_INPUTS
                .iter()
                .find(|(id, _, _)| *id == stage.id.as_str())
            {
                Some((_, urgency, strategic)) => (*urgency, *strategic, due(p)),
                // Stages of other pipelines: by probability, as `deals::aps` does.
                None => {
                    let p16 = u16::from(p);
                    (500 + p16 * 5, 400 + p16 * 5, due(p))
                }
            }
        }
    }
}

fn form(payload: &FormPayload, day: NaiveDate, ctx: &ProcessContext<'_>) -> Processed {
    let field = |name: &str| {
        payload
            .fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let Some(raw) = field("email") else {
        return skip(
            "missing_email",
            format!(
                "the {} form's submission has no email field: nobody to follow up with",
                payload.form
            ),
        );
    };
    let Ok(email) = EmailAddress::parse(raw) else {
        return skip(
            "invalid_email",
            format!(
                "the {} form's email field is not an email address",
                payload.form
            ),
        );
    };
    let name = field("name").map(str::to_string).or_else(|| {
        let parts: Vec<&str> = [field("first_name"), field("last_name")]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    let who = name
        .clone()
        .or_else(|| ctx.contact.and_then(|c| c.name.clone()))
        .unwrap_or_else(|| email.as_str().to_string());
    let mut inputs = FORM_INPUTS;
    let revenue_reason = match payload
        .fields
        .get("revenue_potential")
        .and_then(Value::as_f64)
        .filter(|r| (0.0..=1.0).contains(r))
        .and_then(Fraction::from_f64_clamped)
    {
        Some(revenue) => {
            inputs.revenue = revenue;
            format!(
                "Revenue {} from the form's revenue_potential.",
                revenue.percent_label()
            )
        }
        None => format!(
            "Revenue {}: the form gave no revenue_potential.",
            inputs.revenue.percent_label()
        ),
    };
    let reasons = vec![
        format!("{who} submitted the {} form.", payload.form),
        revenue_reason,
        "Urgency 90%: a fresh form submission is answered within 2 hours.".to_string(),
        "Strategic 50%, effort 20% (the seed's form processor).".to_string(),
    ];
    Processed::Propose(Box::new(Proposal {
        item_id: move_id("form.follow_up", email.as_str(), day),
        rule: "form.follow_up".into(),
        action_type: ActionType::EmailFollowUp,
        title: format!("Follow up with {who} ({} form)", payload.form),
        target: contact_target(ctx.contact, Some(&email)),
        payload: json!({
            "to": email.as_str(),
            "subject": format!("Re: your {} request", payload.form),
            "form": payload.form,
            "fields": payload.fields,
        }),
        owner: ctx
            .contact
            .and_then(|c| c.owner.clone())
            .unwrap_or_else(|| ctx.operator.to_string()),
        due_by: ctx.now + Duration::hours(FORM_DUE_HOURS),
        aps: overrides(inputs),
        reasons,
    }))
}

fn deal(
    kind: SignalKind,
    deal: &DealSnapshot,
    day: NaiveDate,
    ctx: &ProcessContext<'_>,
) -> Processed {
    let (mut urgency, strategic, stage_due) = stage_inputs(&deal.stage);
    let (revenue, revenue_reason) = revenue_of(deal.amount);
    let name = &deal.name;
    let label = &deal.stage.label;
    let (action_type, title, fact, due) = match kind {
        SignalKind::DealCreated => (
            ActionType::DealOutreach,
            format!("Reach out on the new deal {name}"),
            format!("{name} was created in HubSpot in {label}."),
            Duration::hours(4),
        ),
        SignalKind::DealAmountChanged => {
            let old = deal
                .previous_amount
                .map_or("none".to_string(), |m| m.to_string());
            let new = deal.amount.map_or("none".to_string(), |m| m.to_string());
            (
                ActionType::ReviewDeal,
                format!("Review {name}: amount {old} → {new}"),
                format!("{name}'s amount changed from {old} to {new} in HubSpot."),
                stage_due,
            )
        }
        _ => {
            let direction = match (&deal.previous_stage, ctx.pipeline) {
                (Some(from), Some(pipeline)) => pipeline.direction(&from.id, &deal.stage.id),
                _ => None,
            };
            let from = deal
                .previous_stage
                .as_ref()
                .map_or("an unknown stage".to_string(), |s| s.label.clone());
            match (deal.stage.kind, direction) {
                (StageKind::Won, _) => (
                    ActionType::OnboardingKickoff,
                    format!("Kick off onboarding for {name}"),
                    format!("{name} was won (from {from})."),
                    stage_due,
                ),
                (StageKind::Lost, _) => (
                    ActionType::WinLossAnalysis,
                    format!("Win/loss analysis for {name}"),
                    format!("{name} was lost (from {from})."),
                    stage_due,
                ),
                (StageKind::Open, Some(StageDirection::Regressed)) => {
                    urgency = urgency.max(REGRESSED_URGENCY);
                    (
                        ActionType::ReviewDeal,
                        format!("Review {name}: moved back to {label}"),
                        format!(
                            "{name} moved back from {from} to {label} (by the pipeline's stage \
                             order); urgency at least {}.",
                            pct(REGRESSED_URGENCY)
                        ),
                        stage_due,
                    )
                }
                (StageKind::Open, Some(StageDirection::Advanced)) => (
                    ActionType::DealProgression,
                    format!("Progress {name}: now {label}"),
                    format!(
                        "{name} advanced from {from} to {label} (by the pipeline's stage order)."
                    ),
                    stage_due,
                ),
                (StageKind::Open, None) => (
                    ActionType::DealProgression,
                    format!("Progress {name}: now {label}"),
                    format!(
                        "{name} is now in {label} (from {from}; the pipeline's order cannot \
                         say which way it moved)."
                    ),
                    stage_due,
                ),
            }
        }
    };
    let rule = format!("hubspot.{}", kind.as_str());
    let reasons = vec![
        fact,
        revenue_reason,
        format!(
            "Urgency {}, strategic {} from the stage {label} ({}%).",
            pct(urgency),
            pct(strategic),
            deal.stage.probability
        ),
        format!("Effort {}.", pct(DEAL_EFFORT)),
    ];
    Processed::Propose(Box::new(Proposal {
        item_id: move_id(&rule, &deal.deal_id.to_string(), day),
        rule,
        action_type,
        title,
        target: deal_target(deal),
        payload: json!({"deal_id": deal.deal_id, "deal_name": deal.name, "stage": deal.stage.id}),
        owner: deal.owner.clone(),
        due_by: ctx.now + due,
        aps: overrides(ApsInputs::new(revenue, urgency, DEAL_EFFORT, strategic)),
        reasons,
    }))
}

/// A reply's intent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    Unsubscribe,
    Meeting,
    Pricing,
    Other,
}

/// Whether `words` (lower-case words of the text) hold one of `keywords`: a keyword is a
/// word, a phrase of words, or a word beginning ending in `*`.
fn mentions(words: &[String], keywords: &[&str]) -> bool {
    keywords.iter().any(|keyword| {
        let parts: Vec<&str> = keyword.split(' ').collect();
        words.windows(parts.len()).any(|window| {
            window
                .iter()
                .zip(&parts)
                .all(|(word, part)| match part.strip_suffix('*') {
                    Some(stem) => word.starts_with(stem),
                    None => word == part,
                })
        })
    })
}

/// A reply's intent and whether it mentions a meeting and pricing.
pub fn intent_of(text: &str) -> (Intent, bool, bool) {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let meeting = mentions(&words, MEETING_WORDS);
    let pricing = mentions(&words, PRICING_WORDS);
    let intent = if mentions(&words, UNSUBSCRIBE_WORDS) {
        Intent::Unsubscribe
    } else if meeting {
        Intent::Meeting
    } else if pricing {
        Intent::Pricing
    } else {
        Intent::Other
    };
    (intent, meeting, pricing)
}

fn reply(reply: &ReplyPayload, day: NaiveDate, ctx: &ProcessContext<'_>) -> Processed {
    let (intent, meeting, pricing) = intent_of(&format!("{} {}", reply.subject, reply.snippet));
    let who = ctx
        .contact
        .and_then(|c| c.name.clone())
        .unwrap_or_else(|| reply.from_email.as_str().to_string());
    let subject = if reply.subject.trim().is_empty() {
        "(no subject)".to_string()
    } else {
        reply.subject.trim().to_string()
    };
    let (action_type, title, name, why) = match intent {
        Intent::Unsubscribe => (
            ActionType::UnsubscribeProcess,
            format!("Process unsubscribe for {who}"),
            "unsubscribe",
            "asks not to be contacted (unsubscribe, not interested, remove or stop)",
        ),
        Intent::Meeting => (
            ActionType::BookMeeting,
            format!("Book a meeting with {who}"),
            "meeting",
            "mentions meeting (meet, call, schedule, calendar, time or available)",
        ),
        Intent::Pricing => (
            ActionType::EmailFollowUp,
            format!("Follow up on pricing with {who}"),
            "pricing",
            "mentions pricing (interested, pricing, demo or trial)",
        ),
        Intent::Other => (
            ActionType::ThreadReply,
            format!("Reply to {who}: {subject}"),
            "other",
            "needs an answer",
        ),
    };
    let (urgency, urgency_reason, due) = if intent == Intent::Unsubscribe {
        (
            REPLY_URGENCY_UNSUBSCRIBE,
            format!(
                "Urgency {}: an unsubscribe.",
                pct(REPLY_URGENCY_UNSUBSCRIBE)
            ),
            Duration::hours(8),
        )
    } else {
        let mut urgency = REPLY_URGENCY;
        let mut why = vec![format!("{} for a reply", pct(REPLY_URGENCY))];
        for (present, words) in [(meeting, "meeting"), (pricing, "pricing")] {
            if present {
                urgency += REPLY_URGENCY_BONUS;
                why.push(format!("+10 for {words} words"));
            }
        }
        if urgency > REPLY_URGENCY_CAP {
            urgency = REPLY_URGENCY_CAP;
            why.push(format!("capped at {}", pct(REPLY_URGENCY_CAP)));
        }
        (
            urgency,
            format!("Urgency {}: {}.", pct(urgency), why.join(", ")),
            Duration::hours(2),
        )
    };
    let rule = format!("gmail.reply.{name}");
    let mut payload = json!({
        "thread_id": reply.thread_id,
        "message_id": reply.message_id,
        "to": reply.from_email.as_str(),
        "subject": format!("Re: {subject}"),
        "intent": name,
    });
    if intent == Intent::Unsubscribe {
        payload["unsubscribe"] = json!(true);
    }
    Processed::Propose(Box::new(Proposal {
        item_id: move_id(&rule, reply.from_email.as_str(), day),
        rule,
        action_type,
        title,
        target: contact_target(ctx.contact, Some(&reply.from_email)),
        payload,
        owner: ctx
            .contact
            .and_then(|c| c.owner.clone())
            .unwrap_or_else(|| ctx.operator.to_string()),
        due_by: ctx.now + due,
        aps: overrides(ApsInputs::new(
            REPLY_REVENUE,
            urgency,
            REPLY_EFFORT,
            REPLY_STRATEGIC,
        )),
        reasons: vec![
            format!("{who} replied on \"{subject}\"; the reply {why} (intent {name})."),
            urgency_reason,
            format!(
                "Revenue {}, strategic {}, effort {} for a reply.",
                pct(REPLY_REVENUE),
                pct(REPLY_STRATEGIC),
                pct(REPLY_EFFORT)
            ),
        ],
    }))
}

fn rule(
    kind: SignalKind,
    payload: &RulePayload,
    day: NaiveDate,
    ctx: &ProcessContext<'_>,
) -> Processed {
    let Some(scored) = rules::score(kind, &payload.facts) else {
        return skip("not_a_rule", format!("{} is not a rule", kind.as_str()));
    };
    let days = payload.facts.days;
    let (action_type, title, fact, entity, target, owner, revenue, strategic) =
        match (kind, &payload.deal, &payload.contact) {
            (SignalKind::LeadGoneCold, _, Some(contact)) => {
                let who = contact
                    .name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .or_else(|| contact.email.as_ref().map(|e| e.as_str().to_string()))
                    .unwrap_or_else(|| format!("contact {}", contact.contact_id));
                let defaults = ApsInputs::defaults_for(ActionType::CheckIn);
                (
                    ActionType::CheckIn,
                    format!("Check in with {who}: {days} days since the last contact"),
                    format!("{who} was last contacted {days} days ago (cold at 14–90 days)."),
                    contact.contact_id.to_string(),
                    contact_target(Some(contact), None),
                    contact.owner.clone(),
                    (
                        defaults.revenue.thousandths(),
                        format!(
                            "Revenue {} (check in's default: no deal to size it).",
                            defaults.revenue.percent_label()
                        ),
                    ),
                    (
                        defaults.strategic.thousandths(),
                        format!(
                            "Strategic {} (check in's default).",
                            defaults.strategic.percent_label()
                        ),
                    ),
                )
            }
            (SignalKind::LeadGoneCold, _, None) => {
                return skip(
                    "invalid_payload",
                    "a lead_gone_cold signal names no contact",
                )
            }
            (_, Some(deal), _) => {
                let name = &deal.name;
                let (_, strategic, _) = stage_inputs(&deal.stage);
                let (action_type, title, fact) = match kind {
                    SignalKind::DealStalled => (
                        ActionType::FollowUp,
                        format!("Follow up on {name}: no change for {days} days"),
                        format!("{name} has not changed for {days} days (stalled at ≥ 7)."),
                    ),
                    SignalKind::DealClosingSoon => (
                        ActionType::ReviewDeal,
                        format!("Review {name}: closes in {days} days"),
                        format!("{name} closes in {days} days (closing soon at 0–7)."),
                    ),
                    _ => (
                        ActionType::ReviewDeal,
                        format!("Review {name}: a big deal moved"),
                        format!(
                            "{name} ({}) changed {days} days ago (a deal of ≥ $50,000 that moved \
                         within a day).",
                            deal.amount.map(|m| m.to_string()).unwrap_or_default()
                        ),
                    ),
                };
                (
                    action_type,
                    title,
                    fact,
                    deal.deal_id.to_string(),
                    deal_target(deal),
                    Some(deal.owner.clone()),
                    revenue_of(deal.amount),
                    (
                        strategic,
                        format!(
                            "Strategic {} from the stage {} ({}%).",
                            pct(strategic),
                            deal.stage.label,
                            deal.stage.probability
                        ),
                    ),
                )
            }
            (_, None, _) => {
                return skip(
                    "invalid_payload",
                    format!("a {} signal names no deal", kind.as_str()),
                )
            }
        };
    let urgency = u16::from(scored.score) * 10;
    let effort = ApsInputs::defaults_for(action_type).effort.thousandths();
    let rule = format!("rule.{}", kind.as_str());
    let mut reasons = vec![fact];
    reasons.push(format!(
        "Urgency {} = the rule's score {}: {}.",
        pct(urgency),
        scored.score,
        scored.reasons.join(", ")
    ));
    reasons.push(revenue.1);
    reasons.push(strategic.1);
    reasons.push(format!(
        "Effort {} ({}'s default). Due {}.",
        pct(effort),
        action_type.label().to_lowercase(),
        match scored.priority {
            rules::Priority::Critical => "now",
            rules::Priority::High => "in a day",
            rules::Priority::Medium => "in 3 days",
            rules::Priority::Low => "in 7 days",
        }
    ));
    Processed::Propose(Box::new(Proposal {
        item_id: move_id(&rule, &entity, day),
        rule,
        action_type,
        title,
        target,
        payload: json!({
            "rule": kind.as_str(),
            "priority": scored.priority,
            "score": scored.score,
            "days": days,
        }),
        owner: owner.unwrap_or_else(|| ctx.operator.to_string()),
        due_by: ctx.now + scored.priority.due_in(),
        aps: overrides(ApsInputs::new(revenue.0, urgency, effort, strategic.0)),
        reasons,
    }))
}

fn manual(
    signal_id: Uuid,
    payload: &ManualPayload,
    day: NaiveDate,
    ctx: &ProcessContext<'_>,
) -> Processed {
    let title = payload.title.trim();
    if title.is_empty() {
        return skip("invalid_payload", "a manual signal needs a title");
    }
    let action_type = payload.action_type.unwrap_or(ActionType::ManualTask);
    let mut reasons = vec![format!("Recorded by hand: {title}.")];
    if let Some(note) = payload.note.as_deref().filter(|n| !n.trim().is_empty()) {
        reasons.push(format!("Note: {}.", note.trim()));
    }
    reasons.push(
        "Revenue 40%, urgency 50%, effort 50%, strategic 50% (the seed's manual task), due in \
         24 hours."
            .to_string(),
    );
    Processed::Propose(Box::new(Proposal {
        item_id: move_id("manual", &signal_id.to_string(), day),
        rule: "manual".into(),
        action_type,
        title: title.to_string(),
        target: contact_target(ctx.contact, None),
        payload: json!({"note": payload.note}),
        owner: ctx
            .contact
            .and_then(|c| c.owner.clone())
            .unwrap_or_else(|| ctx.operator.to_string()),
        due_by: ctx.now + Duration::hours(MANUAL_DUE_HOURS),
        aps: overrides(MANUAL_INPUTS),
        reasons,
    }))
}
