//! Nurturing: from a contact's stage and last touch, decides the next follow-up and when
//! it is due, and proposes it for Today's Moves with a short draft in the operator's voice.
//!
//! The seed's follow-up intervals, plus `negotiation`; closed and unsubscribed contacts get
//! no follow-up and the output says why. A follow-up whose date has passed is due now,
//! with the days overdue reported and a higher urgency.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use caseyos_domain::queue::aps::{ApsOverrides, Fraction};
use caseyos_domain::queue::{ActionType, Draft as MoveDraft};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::contact::{self, Contact};
use crate::schema::InputSchema;
use crate::text_fields::{optional_text, optional_text_not_blank, required_text};
use crate::{field_error, words, AgentError, Ctx, Outcome, Proposal, VoiceProfile};

pub const NAME: &str = "Nurturing";
pub const DOMAIN: AgentDomain = AgentDomain::Sales;
pub const DESCRIPTION: &str =
    "Decides when to follow up with a contact from their stage and last touch, and proposes the follow-up with a short draft.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = true;

/// Stages that get a follow-up: days after the last touch, and the revenue input of the
/// proposed move's APS (thousandths; later stages are closer to money). Stages not listed
/// get no follow-up.
pub const FOLLOW_UPS: &[(Stage, i64, u16)] = &[
    (Stage::InitialContact, 3, 400),
    (Stage::Engaged, 5, 500),
    (Stage::Qualified, 2, 700),
    (Stage::Proposal, 7, 800),
    (Stage::Negotiation, 3, 900),
];
/// APS urgency (thousandths) of a follow-up that is not yet due, one that is overdue, and
/// one overdue by at least [`LONG_OVERDUE_DAYS`].
pub const URGENCY_SCHEDULED: u16 = 500;
pub const URGENCY_OVERDUE: u16 = 800;
pub const URGENCY_LONG_OVERDUE: u16 = 950;
pub const LONG_OVERDUE_DAYS: i64 = 7;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_SUMMARY_CHARS: usize = 1000;
/// The company name used in drafts when none is given.
const NO_COMPANY: &str = "your team";
/// Closes a draft when the voice asks for a P.S.
const PS_LINE: &str = "P.S. No slides and no pitch, just a working conversation.";
/// The call to action used when a stage's own would break the voice's prohibited words.
const FALLBACK_ASK: &str = "Would a short call this week help?";
/// The subject used when a stage's own would break the voice's prohibited words.
const FALLBACK_SUBJECT: &str = "Checking in";
/// Contractions the templates use, and their expansion for voices that avoid them.
const CONTRACTIONS: &[(&str, &str)] = &[
    ("I'm", "I am"),
    ("I'd", "I would"),
    ("I'll", "I will"),
    ("It's", "It is"),
    ("it's", "it is"),
    ("What's", "What is"),
    ("We're", "We are"),
    ("there's", "there is"),
    ("doesn't", "does not"),
];

/// Where a contact stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    InitialContact,
    Engaged,
    Qualified,
    Proposal,
    Negotiation,
    ClosedWon,
    ClosedLost,
    Unsubscribed,
}

impl Stage {
    const fn label(self) -> &'static str {
        match self {
            Stage::InitialContact => "initial contact",
            Stage::Engaged => "engaged",
            Stage::Qualified => "qualified",
            Stage::Proposal => "proposal",
            Stage::Negotiation => "negotiation",
            Stage::ClosedWon => "closed won",
            Stage::ClosedLost => "closed lost",
            Stage::Unsubscribed => "unsubscribed",
        }
    }

    /// The next action, for stages that get a follow-up; why not, for the others.
    const fn next_action(self) -> &'static str {
        match self {
            Stage::InitialContact => "Send a second touch and ask for a short call",
            Stage::Engaged => "Offer whatever would help them take a next step",
            Stage::Qualified => "Propose a working session to map goals, budget and timing",
            Stage::Proposal => "Check the proposal landed and offer a walkthrough",
            Stage::Negotiation => "Settle the open terms and agree a start date",
            Stage::ClosedWon => "No follow-up: the deal is won, so onboarding takes over",
            Stage::ClosedLost => {
                "No follow-up: the deal is lost; revisit only if something changes"
            }
            Stage::Unsubscribed => "No follow-up: the contact unsubscribed and must not be emailed",
        }
    }
}

/// One contact to nurture.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The contact's full name.
    pub contact_name: String,
    /// The contact's email address; the draft is addressed to it.
    pub contact_email: String,
    /// The contact's CRM id, when known; the proposed move is linked to it.
    #[serde(default)]
    pub contact_id: Option<String>,
    /// The contact's company.
    #[serde(default)]
    pub company: Option<String>,
    /// Where the contact stands.
    #[schema(inline)]
    pub stage: Stage,
    /// When we last touched the contact (RFC 3339). A run refuses a time in the future (a
    /// rule of the moment the run starts, which a schema cannot say).
    #[serde(deserialize_with = "crate::instants::strict")]
    pub last_touch_at: DateTime<Utc>,
    /// What happened at the last touch, for the move's rationale.
    #[serde(default)]
    pub last_touch_summary: Option<String>,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({
        "contact_name": "Dana Whitfield",
        "contact_email": "dana.whitfield@northwind-analytics.com",
        "contact_id": "48213",
        "company": "Northwind Analytics",
        "stage": "qualified",
        "last_touch_at": "2025-01-06T15:30:00Z",
        "last_touch_summary": "Discovery call: 14 field events a year, no follow-up process after shows."
    })
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .non_blank_text("contact_name", MAX_NAME_CHARS)
        .field_rules("contact_email", contact::email_schema())
        .field_rules("contact_id", contact::crm_id_schema())
        .non_blank_text("company", MAX_NAME_CHARS)
        .field_rules("last_touch_at", crate::instants::schema())
        .text("last_touch_summary", MAX_SUMMARY_CHARS)
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    let mut errors = Vec::new();
    required_text(
        &mut errors,
        "contact_name",
        &input.contact_name,
        MAX_NAME_CHARS,
    );
    contact::check(
        &mut errors,
        "contact_email",
        &input.contact_email,
        input.contact_id.as_deref(),
    );
    optional_text_not_blank(
        &mut errors,
        "company",
        input.company.as_deref(),
        MAX_NAME_CHARS,
    );
    optional_text(
        &mut errors,
        "last_touch_summary",
        input.last_touch_summary.as_deref(),
        MAX_SUMMARY_CHARS,
    );
    errors
}

/// When and how to follow up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub stage: Stage,
    pub next_action: &'static str,
    /// Days after the last touch; `None` for stages that get no follow-up.
    pub follow_up_days: Option<i64>,
    /// When the follow-up is due (now, when its date has passed).
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// Whole days since the follow-up fell due.
    pub overdue_days: i64,
    /// APS inputs for the proposed move.
    pub urgency: Fraction,
    pub revenue: Fraction,
    pub reason: String,
}

/// Plans the follow-up of a contact at `stage` last touched at `last_touch_at`.
pub fn plan(stage: Stage, last_touch_at: DateTime<Utc>, now: DateTime<Utc>) -> Plan {
    let since = (now - last_touch_at).num_days();
    let Some(&(_, days, revenue)) = FOLLOW_UPS.iter().find(|(s, _, _)| *s == stage) else {
        return Plan {
            stage,
            next_action: stage.next_action(),
            follow_up_days: None,
            due_at: None,
            overdue: false,
            overdue_days: 0,
            urgency: Fraction::ZERO,
            revenue: Fraction::ZERO,
            reason: format!(
                "Contacts at the {} stage get no nurture follow-up.",
                stage.label()
            ),
        };
    };
    let scheduled = last_touch_at + Duration::days(days);
    let overdue = scheduled < now;
    let overdue_days = if overdue {
        (now - scheduled).num_days()
    } else {
        0
    };
    let urgency = match overdue {
        false => URGENCY_SCHEDULED,
        true if overdue_days >= LONG_OVERDUE_DAYS => URGENCY_LONG_OVERDUE,
        true => URGENCY_OVERDUE,
    };
    let mut reason = format!(
        "Last touched {since} day{} ago; {} contacts get a follow-up after {days} day{}.",
        plural(since),
        stage.label(),
        plural(days),
    );
    if overdue {
        reason.push_str(&format!(
            " It fell due on {} ({overdue_days} day{} overdue), so it is due now.",
            scheduled.format("%Y-%m-%d"),
            plural(overdue_days),
        ));
    }
    Plan {
        stage,
        next_action: stage.next_action(),
        follow_up_days: Some(days),
        due_at: Some(if overdue { now } else { scheduled }),
        overdue,
        overdue_days,
        urgency: Fraction::from_thousandths(urgency),
        revenue: Fraction::from_thousandths(revenue),
        reason,
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A stage's draft; `{company}` and `{link}` are filled in.
struct Template {
    subject: &'static str,
    opener: &'static str,
    middle: &'static str,
    ask: &'static str,
    ask_with_link: &'static str,
}

fn template(stage: Stage) -> Option<Template> {
    // Each sentence states only what the input says (the stage: a proposal exists at
    // `proposal`, terms are open at `negotiation`; a last touch happened) or what the sender
    // offers or asks; nothing about the contact or about results we never saw.
    let t = match stage {
        Stage::InitialContact => Template {
            subject: "Another note for {company}",
            opener: "I'm writing again since we were last in touch.",
            middle: "I'd like to learn what {company} is working on this quarter.",
            ask: "Would a 20-minute call next week be useful?",
            ask_with_link: "If a 20-minute call would be useful, pick a time here: {link}",
        },
        Stage::Engaged => Template {
            subject: "Next step for {company}",
            opener: "Thanks for staying in touch.",
            middle: "I'm happy to send over anything that would help {company} with a next step.",
            ask: "What would be most useful to you right now?",
            ask_with_link: "If it's easier to talk it through, pick a time here: {link}",
        },
        Stage::Qualified => Template {
            subject: "Next step for {company}",
            opener: "I'm writing to suggest a next step.",
            middle: "It's a short working session to map goals, budget and timing for {company}.",
            ask: "Does Tuesday or Wednesday work for 30 minutes?",
            ask_with_link: "Pick a 30-minute slot that suits you here: {link}",
        },
        Stage::Proposal => Template {
            subject: "Any questions on the proposal?",
            opener: "I'm writing about the proposal.",
            middle: "I'm happy to walk through any part of it, or adjust the scope if something doesn't fit {company}.",
            ask: "What's the one open question I can answer this week?",
            ask_with_link: "If a walkthrough helps, pick a time here: {link}",
        },
        Stage::Negotiation => Template {
            subject: "Closing out the open points",
            opener: "I'm writing about the open terms.",
            middle: "I'd like to settle them so {company} can get started.",
            ask: "Can we take 15 minutes this week to finalise them?",
            ask_with_link: "Pick 15 minutes this week to finalise them here: {link}",
        },
        Stage::ClosedWon | Stage::ClosedLost | Stage::Unsubscribed => return None,
    };
    Some(t)
}

/// A follow-up email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Draft {
    pub subject: String,
    pub body: String,
}

/// Writes `text` the way the voice wants it: contractions expanded when it avoids them.
fn in_voice(text: &str, voice: &VoiceProfile) -> String {
    if voice.use_contractions {
        return text.to_string();
    }
    CONTRACTIONS
        .iter()
        .fold(text.to_string(), |t, (short, long)| t.replace(short, long))
}

/// Whether `text` avoids every prohibited word of the voice.
fn allowed(text: &str, voice: &VoiceProfile) -> bool {
    !voice
        .prohibited_words
        .iter()
        .any(|word| words::contains(text, word))
}

/// Removes the voice's prohibited character sequences.
fn strip_punctuation(text: &str, voice: &VoiceProfile) -> String {
    voice
        .prohibited_punctuation
        .iter()
        .filter(|p| !p.is_empty())
        .fold(text.to_string(), |t, p| t.replace(p.as_str(), ""))
}

/// At most `max` characters, cut at a word boundary when possible.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(space) if space > 0 => cut[..space].trim_end().to_string(),
        _ => cut,
    }
}

/// The follow-up draft for a stage, deterministic and within the voice's limits: one call
/// to action (the calendar link when set), at most `max_paragraphs` paragraphs between the
/// greeting and the sign-off (the context paragraphs go first), at most `max_body_words`
/// words when that is reachable, no prohibited words or punctuation.
pub fn draft(
    stage: Stage,
    contact_name: &str,
    company: Option<&str>,
    voice: &VoiceProfile,
) -> Option<Draft> {
    let t = template(stage)?;
    let company = company
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .unwrap_or(NO_COMPANY);
    let fill = |text: &str| {
        let link = voice.calendar_link.as_deref().unwrap_or_default();
        in_voice(
            &text.replace("{company}", company).replace("{link}", link),
            voice,
        )
    };
    let first_name = contact_name
        .split_whitespace()
        .next()
        .unwrap_or(contact_name);
    let greeting = format!("Hi {first_name},");
    let sign_off = voice.sender_name.trim().to_string();

    let mut asks = Vec::new();
    if voice
        .calendar_link
        .as_deref()
        .is_some_and(|l| !l.trim().is_empty())
    {
        asks.push(fill(t.ask_with_link));
    }
    asks.push(fill(t.ask));
    asks.push(in_voice(FALLBACK_ASK, voice));
    let ask = asks.into_iter().find(|a| allowed(a, voice));

    // Context paragraphs, in the order they are given up when space runs out.
    let mut context: Vec<String> = [fill(t.opener), fill(t.middle)]
        .into_iter()
        .filter(|p| allowed(p, voice))
        .collect();
    let ps = (voice.include_ps && allowed(PS_LINE, voice)).then(|| in_voice(PS_LINE, voice));
    let max_paragraphs = voice.max_paragraphs.max(1);
    let compose = |context: &[String]| {
        let mut parts = vec![greeting.clone()];
        parts.extend(context.iter().cloned());
        parts.extend(ask.clone());
        parts.extend(ps.clone());
        parts.push(sign_off.clone());
        parts.join("\n\n")
    };
    let paragraphs = |context: &[String]| context.len() + usize::from(ask.is_some());
    while !context.is_empty()
        && (paragraphs(&context) > max_paragraphs
            || compose(&context).split_whitespace().count() > voice.max_body_words)
    {
        // The middle paragraph goes first, then the opener.
        context.pop();
    }
    let body = strip_punctuation(&compose(&context), voice);

    let subject = [fill(t.subject), in_voice(FALLBACK_SUBJECT, voice)]
        .into_iter()
        .find(|s| allowed(s, voice))
        .unwrap_or_default();
    let subject = truncate(&strip_punctuation(&subject, voice), voice.max_subject_chars);
    Some(Draft { subject, body })
}

/// What the run reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NurtureOutput {
    pub contact_name: String,
    pub stage: Stage,
    pub next_action: &'static str,
    pub follow_up_days: Option<i64>,
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub overdue_days: i64,
    /// Whether a follow-up move was proposed.
    pub proposed: bool,
    pub reason: String,
    pub draft: Option<Draft>,
}

fn invalid(field: &str, message: &str) -> AgentError {
    AgentError::invalid_input(&[field_error(field, message)])
}

fn render(out: &NurtureOutput) -> String {
    let mut text = format!(
        "## {} ({})\n\n**Next:** {}\n\n{}\n",
        out.contact_name,
        out.stage.label(),
        out.next_action,
        out.reason
    );
    if let Some(due) = out.due_at {
        text.push_str(&format!(
            "\n**Due:** {}{}\n",
            due.format("%Y-%m-%d %H:%M UTC"),
            if out.overdue { " (overdue)" } else { "" }
        ));
    }
    if let Some(draft) = &out.draft {
        text.push_str(&format!(
            "\n### Draft\n\n**Subject:** {}\n\n{}\n",
            draft.subject, draft.body
        ));
    }
    text
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    if input.last_touch_at > ctx.now {
        return Err(invalid("last_touch_at", "must not be in the future"));
    }
    let contact = Contact::parse(
        "contact_email",
        &input.contact_email,
        input.contact_id.as_deref(),
    )
    .map_err(|(field, m)| invalid(field, m))?;
    let email = &contact.email;
    let name = input.contact_name.trim().to_string();
    let plan = plan(input.stage, input.last_touch_at, ctx.now);
    let draft = draft(input.stage, &name, input.company.as_deref(), ctx.voice);

    let proposals = match (&draft, plan.due_at) {
        (Some(draft), Some(due)) => {
            let target = contact.target(&name);
            let mut rationale = format!("{} {}.", plan.reason, plan.next_action);
            if let Some(summary) = input
                .last_touch_summary
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                rationale.push_str(&format!(" Last touch: {summary}"));
            }
            vec![Proposal {
                action_type: ActionType::FollowUp,
                title: Some(format!("Follow up with {name} ({})", plan.stage.label())),
                target,
                payload: serde_json::json!({
                    "to": email.as_str(),
                    "subject": draft.subject,
                    "body": draft.body,
                }),
                due_by: Some(due),
                aps: ApsOverrides {
                    urgency: Some(plan.urgency),
                    revenue: Some(plan.revenue),
                    ..ApsOverrides::default()
                },
                rationale: Some(rationale),
                draft: Some(MoveDraft::offline_template()),
            }]
        }
        _ => Vec::new(),
    };

    let output = NurtureOutput {
        contact_name: name,
        stage: plan.stage,
        next_action: plan.next_action,
        follow_up_days: plan.follow_up_days,
        due_at: plan.due_at,
        overdue: plan.overdue,
        overdue_days: plan.overdue_days,
        proposed: !proposals.is_empty(),
        reason: plan.reason,
        draft,
    };
    Ok(Outcome {
        proposals,
        ..Outcome::report(&output, render(&output))?
    })
}

#[cfg(test)]
mod tests {
    use caseyos_domain::queue::Target;
    use chrono::TimeZone;

    use super::*;
    use crate::llm::testing::Harness;

    /// An offline harness at [`now`].
    fn harness() -> Harness {
        let mut harness = Harness::offline();
        harness.now = now();
        harness
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 10, 12, 0, 0).unwrap()
    }

    fn input(stage: Stage, last_touch_at: DateTime<Utc>) -> Input {
        Input {
            contact_name: "Dana Whitfield".into(),
            contact_email: "Dana@Northwind.com".into(),
            contact_id: Some("48213".into()),
            company: Some("Northwind".into()),
            stage,
            last_touch_at,
            last_touch_summary: Some("Discovery call went well.".into()),
        }
    }

    #[test]
    fn each_open_stage_follows_up_after_its_interval() {
        let table = [
            (Stage::InitialContact, 3),
            (Stage::Engaged, 5),
            (Stage::Qualified, 2),
            (Stage::Proposal, 7),
            (Stage::Negotiation, 3),
        ];
        let touched = now() - Duration::days(1);
        for (stage, days) in table {
            let plan = plan(stage, touched, now());
            assert_eq!(plan.follow_up_days, Some(days), "{stage:?}");
            assert_eq!(
                plan.due_at,
                Some(touched + Duration::days(days)),
                "{stage:?}"
            );
            assert!(!plan.overdue, "{stage:?}");
            assert_eq!(plan.urgency.thousandths(), URGENCY_SCHEDULED);
        }
    }

    #[test]
    fn closed_and_unsubscribed_contacts_get_no_follow_up_and_say_why() {
        for stage in [Stage::ClosedWon, Stage::ClosedLost, Stage::Unsubscribed] {
            let plan = plan(stage, now() - Duration::days(30), now());
            assert_eq!(plan.follow_up_days, None, "{stage:?}");
            assert_eq!(plan.due_at, None, "{stage:?}");
            assert!(plan.reason.contains("no nurture follow-up"), "{stage:?}");
            assert!(plan.next_action.starts_with("No follow-up"), "{stage:?}");
            assert!(draft(stage, "Dana", None, &VoiceProfile::default()).is_none());
        }
    }

    #[test]
    fn a_passed_follow_up_is_due_now_with_days_overdue_and_higher_urgency() {
        // Qualified: due two days after the last touch.
        let table = [
            // (hours since last touch, overdue, overdue days, urgency)
            (47, false, 0, URGENCY_SCHEDULED),
            (48, false, 0, URGENCY_SCHEDULED),
            (49, true, 0, URGENCY_OVERDUE),
            (48 + 24 * 6 + 23, true, 6, URGENCY_OVERDUE),
            (48 + 24 * 7, true, 7, URGENCY_LONG_OVERDUE),
            (48 + 24 * 30, true, 30, URGENCY_LONG_OVERDUE),
        ];
        for (hours, overdue, days, urgency) in table {
            let touched = now() - Duration::hours(hours);
            let plan = plan(Stage::Qualified, touched, now());
            assert_eq!(plan.overdue, overdue, "{hours}h");
            assert_eq!(plan.overdue_days, days, "{hours}h");
            assert_eq!(plan.urgency.thousandths(), urgency, "{hours}h");
            let expected_due = if overdue {
                now()
            } else {
                touched + Duration::days(2)
            };
            assert_eq!(plan.due_at, Some(expected_due), "{hours}h");
        }
    }

    #[test]
    fn later_stages_carry_more_revenue_weight() {
        let revenue: Vec<u16> = FOLLOW_UPS.iter().map(|(_, _, r)| *r).collect();
        assert!(revenue.windows(2).all(|w| w[0] <= w[1]), "{revenue:?}");
    }

    #[test]
    fn drafts_respect_the_default_voice() {
        let voice = VoiceProfile::default();
        for (stage, _, _) in FOLLOW_UPS {
            let d = draft(*stage, "Dana Whitfield", Some("Northwind"), &voice).unwrap();
            assert!(d.body.starts_with("Hi Dana,"), "{stage:?}");
            assert!(d.body.ends_with("Casey"), "{stage:?}");
            assert!(d.subject.chars().count() <= voice.max_subject_chars);
            assert!(d.body.split_whitespace().count() <= voice.max_body_words);
            // Greeting + at most three paragraphs + sign-off.
            assert!(d.body.split("\n\n").count() <= voice.max_paragraphs + 2);
            for p in &voice.prohibited_punctuation {
                assert!(!d.body.contains(p.as_str()), "{stage:?} {p}");
            }
            assert!(allowed(&d.body, &voice), "{stage:?}");
            assert!(!d.body.contains('{'), "{stage:?} left a placeholder");
        }
    }

    #[test]
    fn the_calendar_link_becomes_the_single_call_to_action() {
        let voice = VoiceProfile {
            calendar_link: Some("https://cal.example.com/casey".into()),
            ..VoiceProfile::default()
        };
        let d = draft(Stage::Qualified, "Dana", None, &voice).unwrap();
        assert!(d.body.contains("https://cal.example.com/casey"));
        assert!(!d.body.contains("Tuesday or Wednesday"));
        assert_eq!(d.body.matches('?').count(), 0);
        assert!(d.subject.contains("your team"));
    }

    #[test]
    fn voice_limits_and_prohibitions_shape_the_draft() {
        let base = VoiceProfile::default();
        let table: [(VoiceProfile, &str, bool); 6] = [
            // One paragraph: only the call to action survives.
            (
                VoiceProfile {
                    max_paragraphs: 1,
                    ..base.clone()
                },
                "Hi Dana,\n\nDoes Tuesday or Wednesday work for 30 minutes?\n\nCasey",
                true,
            ),
            // A prohibited word drops the paragraph that used it.
            (
                VoiceProfile {
                    prohibited_words: vec!["budget".into()],
                    ..base.clone()
                },
                "working session",
                false,
            ),
            // No contractions.
            (
                VoiceProfile {
                    use_contractions: false,
                    ..base.clone()
                },
                "It is a short working session",
                true,
            ),
            // Prohibited punctuation is removed.
            (
                VoiceProfile {
                    prohibited_punctuation: vec!["?".into()],
                    ..base.clone()
                },
                "work for 30 minutes\n",
                true,
            ),
            // A P.S. when asked for.
            (
                VoiceProfile {
                    include_ps: true,
                    ..base.clone()
                },
                PS_LINE,
                true,
            ),
            // A word budget drops context before the call to action.
            (
                VoiceProfile {
                    max_body_words: 20,
                    ..base.clone()
                },
                "working session",
                false,
            ),
        ];
        for (voice, needle, present) in table {
            let d = draft(Stage::Qualified, "Dana", None, &voice).unwrap();
            assert_eq!(
                d.body.contains(needle),
                present,
                "{needle:?} in {:?}",
                d.body
            );
        }
    }

    #[test]
    fn subjects_fall_back_and_truncate_at_a_word_boundary() {
        let voice = VoiceProfile {
            prohibited_words: vec!["proposal".into()],
            ..VoiceProfile::default()
        };
        let d = draft(Stage::Proposal, "Dana", None, &voice).unwrap();
        assert_eq!(d.subject, FALLBACK_SUBJECT);
        let short = VoiceProfile {
            max_subject_chars: 14,
            ..VoiceProfile::default()
        };
        let d = draft(Stage::InitialContact, "Dana", Some("Northwind"), &short).unwrap();
        assert_eq!(d.subject, "Another note");
    }

    #[test]
    fn drafts_state_only_the_stage_and_the_inputs_and_claim_nothing_else() {
        let linked = VoiceProfile {
            calendar_link: Some("https://cal.example.com/casey".into()),
            ..VoiceProfile::default()
        };
        let formal = VoiceProfile {
            use_contractions: false,
            include_ps: true,
            max_paragraphs: 5,
            ..VoiceProfile::default()
        };
        for voice in [VoiceProfile::default(), linked, formal] {
            for (stage, _, _) in FOLLOW_UPS {
                for company in [None, Some("COMPANY1")] {
                    let d = draft(*stage, "NAME1 SURNAME1", company, &voice).unwrap();
                    let text = format!("{}\n{}", d.subject, d.body).to_lowercase();
                    for claim in crate::words::INVENTED_CLAIMS {
                        assert!(!text.contains(claim), "{stage:?}: {claim:?} in\n{text}");
                    }
                    assert!(!text.contains('{'), "{stage:?} left a placeholder");
                    assert!(!text.contains("surname1"), "only the first name is used");
                    if company.is_some() {
                        assert!(
                            !text.contains(NO_COMPANY),
                            "{stage:?}: a given company is named"
                        );
                    }
                }
            }
        }
    }

    #[tokio::test]
    async fn a_follow_up_says_its_draft_is_an_offline_template() {
        let harness = harness();
        let outcome = run(
            input(Stage::Proposal, now() - Duration::days(1)),
            &harness.ctx(),
        )
        .await
        .unwrap();
        assert_eq!(
            outcome.proposals[0].draft,
            Some(MoveDraft::offline_template())
        );
    }

    #[test]
    fn check_names_each_bad_field() {
        let mut bad = input(Stage::Engaged, now());
        bad.contact_name = " ".into();
        bad.contact_email = "not-an-email".into();
        bad.contact_id = Some("has spaces".into());
        bad.company = Some("".into());
        bad.last_touch_summary = Some("x".repeat(MAX_SUMMARY_CHARS + 1));
        let fields: Vec<String> = check(&bad).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            vec![
                "input.contact_name",
                "input.contact_email",
                "input.contact_id",
                "input.company",
                "input.last_touch_summary"
            ]
        );
        assert!(check(&input(Stage::Engaged, now())).is_empty());
    }

    #[tokio::test]
    async fn run_proposes_a_follow_up_linked_to_the_contact() {
        let harness = harness();
        let ctx = harness.ctx();
        let outcome = run(input(Stage::Qualified, now() - Duration::days(5)), &ctx)
            .await
            .unwrap();
        assert_eq!(outcome.proposals.len(), 1);
        let p = &outcome.proposals[0];
        assert_eq!(p.action_type, ActionType::FollowUp);
        assert_eq!(
            p.title.as_deref(),
            Some("Follow up with Dana Whitfield (qualified)")
        );
        let contact = p.target.contact.as_ref().unwrap();
        assert_eq!(contact.id.as_str(), "48213");
        assert_eq!(
            contact.email.as_ref().unwrap().as_str(),
            "dana@northwind.com"
        );
        assert_eq!(p.payload["to"], "dana@northwind.com");
        assert_eq!(p.due_by, Some(now()));
        assert_eq!(
            p.aps.urgency,
            Some(Fraction::from_thousandths(URGENCY_OVERDUE))
        );
        assert!(p.rationale.as_deref().unwrap().contains("Discovery call"));
        assert_eq!(outcome.output["overdue_days"], 3);
        assert_eq!(outcome.output["proposed"], true);
    }

    #[tokio::test]
    async fn run_without_a_contact_id_proposes_with_an_empty_target() {
        let harness = harness();
        let ctx = harness.ctx();
        let mut no_id = input(Stage::Engaged, now() - Duration::days(1));
        no_id.contact_id = None;
        let outcome = run(no_id, &ctx).await.unwrap();
        assert_eq!(outcome.proposals[0].target, Target::default());
        assert_eq!(outcome.proposals[0].due_by, Some(now() + Duration::days(4)));
    }

    #[tokio::test]
    async fn run_proposes_nothing_for_a_closed_contact() {
        let harness = harness();
        let ctx = harness.ctx();
        let outcome = run(input(Stage::ClosedWon, now() - Duration::days(9)), &ctx)
            .await
            .unwrap();
        assert!(outcome.proposals.is_empty());
        assert_eq!(outcome.output["proposed"], false);
        assert!(outcome.output["reason"]
            .as_str()
            .unwrap()
            .contains("closed won"));
    }

    #[tokio::test]
    async fn run_refuses_a_last_touch_in_the_future() {
        let harness = harness();
        let ctx = harness.ctx();
        let err = run(input(Stage::Engaged, now() + Duration::minutes(1)), &ctx)
            .await
            .unwrap_err();
        assert_eq!(err.code, "request.validation");
        assert!(err.message.contains("input.last_touch_at"));
        assert!(!err.retryable);
    }
}
