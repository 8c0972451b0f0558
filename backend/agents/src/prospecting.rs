//! Prospecting: reads an inbound message, names what it asks for and drafts the reply.
//!
//! The seed raised six regex flags, scored the share present and drafted a reply only above
//! 0.5, so most real inbound got none. Here the intents are matched as whole words with
//! their evidence listed, a reply is always drafted unless they said no (not interested or
//! unsubscribe: then nothing is proposed and the output says why), and the reply's priority
//! comes from what they asked for ([`APS_BY_INTENT`]).

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use caseyos_domain::queue::aps::{ApsOverrides, Fraction};
use caseyos_domain::queue::ActionType;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::contact::{self, Contact};
use crate::draft_writer::{
    apply_voice, call_to_action, clip_words, cta_instruction, first_name, join_list, non_blank,
    parse_email, sentences,
};
use crate::schema::InputSchema;
use crate::text_fields::{optional_text, required_text};
use crate::validation;
use crate::{field_error, words, AgentError, Ctx, Outcome, Prompt, Proposal};

pub const NAME: &str = "Prospecting";
pub const DOMAIN: AgentDomain = AgentDomain::Sales;
pub const DESCRIPTION: &str =
    "Reads an inbound message, names its intents with evidence and drafts a reply to each point, unless they said no.";
pub const USES_LLM: bool = true;
pub const PROPOSES_MOVES: bool = true;

/// What an inbound message may ask for or say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Greeting,
    Question,
    Pain,
    Pricing,
    Timeline,
    /// A proposal, contract or other next step.
    NextSteps,
    MeetingRequest,
    NotInterested,
    Unsubscribe,
}

impl Intent {
    /// Intents that mean "do not write back".
    pub const fn is_negative(self) -> bool {
        matches!(self, Intent::NotInterested | Intent::Unsubscribe)
    }
}

/// Phrases that signal each intent, matched as whole words, in the order a reply answers
/// them (a question is also any sentence ending in `?`).
pub const INTENT_PHRASES: &[(Intent, &[&str])] = &[
    (
        Intent::Greeting,
        &[
            "hi",
            "hello",
            "hey",
            "good morning",
            "good afternoon",
            "thanks for reaching out",
            "thank you for reaching out",
            "nice to meet you",
            "great to meet you",
        ],
    ),
    (
        Intent::Question,
        &[
            "i was wondering",
            "i'm wondering",
            "curious if",
            "curious whether",
            "could you explain",
            "can you tell me",
            "could you tell me",
            "let me know if",
        ],
    ),
    (
        Intent::Pain,
        &[
            "struggling",
            "struggle",
            "challenge",
            "challenges",
            "problem",
            "problems",
            "frustrated",
            "frustrating",
            "pain",
            "bottleneck",
            "manual",
            "churn",
            "losing",
            "falling behind",
            "missed",
            "broken",
            "too slow",
            "overwhelmed",
        ],
    ),
    (
        Intent::Pricing,
        &[
            "price",
            "prices",
            "pricing",
            "cost",
            "costs",
            "budget",
            "budgets",
            "quote",
            "how much",
            "fee",
            "fees",
            "rates",
            "per seat",
            "per month",
            "discount",
            "investment",
        ],
    ),
    (
        Intent::Timeline,
        &[
            "timeline",
            "timelines",
            "timeframe",
            "time frame",
            "deadline",
            "by end of",
            "this quarter",
            "next quarter",
            "q1",
            "q2",
            "q3",
            "q4",
            "asap",
            "this month",
            "next month",
            "go live",
            "launch",
            "kick off",
            "kickoff",
            "start date",
            "how soon",
            "how long",
        ],
    ),
    (
        Intent::NextSteps,
        &[
            "proposal",
            "next steps",
            "next step",
            "contract",
            "sow",
            "statement of work",
            "agreement",
            "paperwork",
            "move forward",
            "moving forward",
            "get started",
        ],
    ),
    (
        Intent::MeetingRequest,
        &[
            "meet",
            "meeting",
            "call",
            "chat",
            "demo",
            "schedule",
            "calendar",
            "available",
            "availability",
            "book a time",
            "hop on",
            "zoom",
            "catch up",
        ],
    ),
    (
        Intent::NotInterested,
        &[
            "not interested",
            "no thank you",
            "not a fit",
            "not a good fit",
            "not a priority",
            "not looking",
            "we're all set",
            "we are all set",
            "pass for now",
            "please stop",
        ],
    ),
    (
        Intent::Unsubscribe,
        &[
            "unsubscribe",
            "remove me",
            "take me off",
            "stop emailing",
            "stop contacting",
            "do not contact",
            "don't contact",
            "opt out",
            "opt me out",
        ],
    ),
];

/// How strongly each intent signals buying interest, in thousandths; the intent score is
/// their sum, capped at 1 (0 when they said no).
pub const INTENT_WEIGHTS: &[(Intent, u16)] = &[
    (Intent::MeetingRequest, 350),
    (Intent::Pricing, 300),
    (Intent::NextSteps, 300),
    (Intent::Timeline, 200),
    (Intent::Pain, 200),
    (Intent::Question, 100),
];

const fn aps(revenue: Option<u16>, urgency: Option<u16>, strategic: Option<u16>) -> ApsOverrides {
    const fn f(v: Option<u16>) -> Option<Fraction> {
        match v {
            Some(t) => Some(Fraction::from_thousandths(t)),
            None => None,
        }
    }
    ApsOverrides {
        revenue: f(revenue),
        urgency: f(urgency),
        effort: None,
        strategic: f(strategic),
    }
}

/// The reply's priority inputs per intent; a reply takes the highest value per dimension
/// over its intents, and the action's defaults for dimensions none sets. Next steps are
/// treated like pricing plus urgency (a buyer asking for paperwork).
pub const APS_BY_INTENT: &[(Intent, ApsOverrides)] = &[
    (Intent::MeetingRequest, aps(Some(700), Some(900), None)),
    (Intent::Pricing, aps(Some(800), Some(700), None)),
    (Intent::NextSteps, aps(Some(800), Some(800), None)),
    (Intent::Timeline, aps(None, Some(800), None)),
    (Intent::Pain, aps(Some(600), None, Some(700))),
    (Intent::Question, aps(None, Some(500), None)),
];

/// A reply is due this long after the message arrived (or now, if that has passed).
pub const REPLY_WITHIN: Duration = Duration::hours(24);
/// Quoted sentences in the offline reply are at most this long.
const MAX_QUOTE_CHARS: usize = 90;
const MAX_NAME_CHARS: usize = 120;
const MAX_SUBJECT_CHARS: usize = 300;
const MAX_BODY_CHARS: usize = 20_000;
const MAX_TOKENS: u32 = 600;

/// One detected intent and the phrases that show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Detected {
    pub intent: Intent,
    pub evidence: Vec<String>,
}

/// The intents of a message, in reply order, each with its evidence.
pub fn detect(subject: &str, body: &str) -> Vec<Detected> {
    let text = format!("{subject}\n{body}");
    INTENT_PHRASES
        .iter()
        .filter_map(|(intent, phrases)| {
            let mut evidence: Vec<String> = Vec::new();
            if *intent == Intent::Question {
                evidence.extend(
                    sentences(body)
                        .into_iter()
                        .filter(|s| s.trim_end_matches(['"', '”', ')']).ends_with('?'))
                        .map(|s| clip_words(s, MAX_QUOTE_CHARS)),
                );
            }
            evidence.extend(words::found(&text, phrases).into_iter().map(String::from));
            (!evidence.is_empty()).then_some(Detected {
                intent: *intent,
                evidence,
            })
        })
        .collect()
}

/// The buying-interest score of detected intents, in `[0, 1]`.
pub fn intent_score(detected: &[Detected]) -> Fraction {
    if detected.iter().any(|d| d.intent.is_negative()) {
        return Fraction::ZERO;
    }
    let sum: u32 = detected
        .iter()
        .filter_map(|d| INTENT_WEIGHTS.iter().find(|(i, _)| *i == d.intent))
        .map(|(_, w)| u32::from(*w))
        .sum();
    Fraction::from_thousandths(u16::try_from(sum).unwrap_or(u16::MAX))
}

/// The reply's priority inputs: the highest per dimension over the detected intents.
pub fn aps_for(detected: &[Detected]) -> ApsOverrides {
    let max = |a: Option<Fraction>, b: Option<Fraction>| match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    detected
        .iter()
        .filter_map(|d| APS_BY_INTENT.iter().find(|(i, _)| *i == d.intent))
        .fold(ApsOverrides::default(), |acc, (_, o)| ApsOverrides {
            revenue: max(acc.revenue, o.revenue),
            urgency: max(acc.urgency, o.urgency),
            effort: max(acc.effort, o.effort),
            strategic: max(acc.strategic, o.strategic),
        })
}

/// An inbound message to answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The sender's name.
    pub from_name: String,
    /// The sender's address; the reply goes there.
    pub from_email: String,
    /// The sender's CRM id; with it the move is linked to the contact.
    #[serde(default)]
    pub contact_id: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    /// The message's subject.
    pub subject: String,
    /// The message's text.
    pub body: String,
    /// When the message arrived (RFC 3339); the reply is due a day later. A run refuses a
    /// time in the future (a rule of the moment the run starts, which a schema cannot say).
    #[serde(default, deserialize_with = "crate::instants::strict_option")]
    pub received_at: Option<DateTime<Utc>>,
}

pub fn example() -> serde_json::Value {
    json!({
        "from_name": "Priya Raman",
        "from_email": "priya.raman@brightpath.example",
        "contact_id": "88021",
        "company": "BrightPath Health",
        "subject": "Re: Forecasting for the new SDR team",
        "body": "Hi Casey,\n\nThanks for the note. We're struggling to keep forecast calls under an hour now that the team has doubled. What does pricing look like for a team of 12? We'd want something in place before the Q3 kickoff.\n\nPriya",
        "received_at": "2026-03-01T15:30:00Z"
    })
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .non_blank_text("from_name", MAX_NAME_CHARS)
        .field_rules("from_email", contact::email_schema())
        .field_rules("contact_id", contact::crm_id_schema())
        .text("company", MAX_NAME_CHARS)
        .non_blank_text("subject", MAX_SUBJECT_CHARS)
        .non_blank_text("body", MAX_BODY_CHARS)
        .field_rules("received_at", crate::instants::schema())
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    let mut errors = Vec::new();
    required_text(&mut errors, "from_name", &input.from_name, MAX_NAME_CHARS);
    contact::check(
        &mut errors,
        "from_email",
        &input.from_email,
        input.contact_id.as_deref(),
    );
    optional_text(
        &mut errors,
        "company",
        input.company.as_deref(),
        MAX_NAME_CHARS,
    );
    required_text(&mut errors, "subject", &input.subject, MAX_SUBJECT_CHARS);
    required_text(&mut errors, "body", &input.body, MAX_BODY_CHARS);
    errors
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    if input.received_at.is_some_and(|at| at > ctx.now) {
        return Err(AgentError::invalid_input(&[field_error(
            "received_at",
            "must not be in the future",
        )]));
    }
    let contact = Contact::parse("from_email", &input.from_email, input.contact_id.as_deref())
        .map_err(|(field, m)| {
            AgentError::new("request.validation", format!("{field} {m}"), false)
        })?;
    let to = &contact.email;
    let detected = detect(&input.subject, &input.body);
    let score = intent_score(&detected);

    if let Some(no) = detected.iter().find(|d| d.intent.is_negative()) {
        let reason = match no.intent {
            Intent::Unsubscribe => "they asked to be unsubscribed",
            _ => "they said they are not interested",
        };
        return Ok(Outcome {
            output: json!({
                "intents": detected,
                "intent_score": score,
                "reply": null,
                "validation": null,
                "aps": null,
                "writer": null,
                "no_reply_reason": reason,
            }),
            text: Some(format!(
                "No reply drafted: {reason} (\"{}\"). Nothing is proposed.",
                no.evidence.join("\", \"")
            )),
            proposals: Vec::new(),
            effects: Vec::new(),
        });
    }

    let prompt = Prompt {
        system: system_prompt(&detected, ctx),
        user: message_for_prompt(&input),
        max_tokens: MAX_TOKENS,
    };
    let written = ctx
        .write(&prompt, || offline_reply(&input, &detected, ctx))
        .await?;
    let (_, body) = parse_email(&written.text);
    let body = apply_voice(&body, ctx.voice);
    let subject = reply_subject(&input.subject);

    let report = validation::review_with(&subject, &body, ctx.voice, false);
    report.require_approved("the reply")?;

    let aps = aps_for(&detected);
    let named: Vec<&str> = detected.iter().map(|d| intent_label(d.intent)).collect();
    let due = input.received_at.unwrap_or(ctx.now) + REPLY_WITHIN;
    let proposal = Proposal {
        action_type: ActionType::ReplyResponse,
        title: Some(format!("Reply to {}: {subject}", input.from_name.trim())),
        target: contact.target(input.from_name.trim()),
        payload: json!({"to": to.as_str(), "subject": subject, "body": body}),
        due_by: Some(due.max(ctx.now)),
        aps,
        rationale: Some(format!(
            "They wrote about {}; the reply answers each in turn. {}",
            join_names(&named),
            report.approval_note()
        )),
        draft: Some(written.draft()),
    };
    let output = json!({
        "intents": detected,
        "intent_score": score,
        "reply": {"to": to.as_str(), "subject": subject, "body": body},
        "validation": report,
        "aps": aps,
        "writer": written.writer(),
    });
    let text = format!(
        "**Intents:** {}\n\n**To:** {}\n**Subject:** {subject}\n\n{body}{}",
        join_names(&named),
        to.as_str(),
        if written.offline {
            "\n\n_Written by the offline template (no language model configured)._"
        } else {
            ""
        }
    );
    Ok(Outcome {
        output,
        text: Some(text),
        proposals: vec![proposal],
        effects: Vec::new(),
    })
}

fn intent_label(intent: Intent) -> &'static str {
    match intent {
        Intent::Greeting => "a greeting",
        Intent::Question => "a question",
        Intent::Pain => "a problem they have",
        Intent::Pricing => "pricing",
        Intent::Timeline => "timing",
        Intent::NextSteps => "next steps",
        Intent::MeetingRequest => "meeting",
        Intent::NotInterested => "not being interested",
        Intent::Unsubscribe => "unsubscribing",
    }
}

fn join_names(names: &[&str]) -> String {
    if names.is_empty() {
        "nothing specific".to_string()
    } else {
        join_list(names)
    }
}

/// `Re: <subject>`, without stacking prefixes, within Validation's subject limit.
fn reply_subject(subject: &str) -> String {
    let subject = subject.trim();
    let replied = if subject
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("re:"))
    {
        subject.to_string()
    } else {
        format!("Re: {subject}")
    };
    clip_words(&replied, *validation::SUBJECT_CHARS.end())
}

fn system_prompt(detected: &[Detected], ctx: &Ctx<'_>) -> String {
    let points: Vec<String> = detected
        .iter()
        .filter(|d| d.intent != Intent::Greeting)
        .map(|d| {
            format!(
                "- {} (they wrote: {})",
                intent_label(d.intent),
                d.evidence.join("; ")
            )
        })
        .collect();
    format!(
        "{}\n\nYou reply to an inbound email. Write only the reply body: a greeting with their \
         first name, at most {} short paragraphs, then sign as {}.\n\
         Answer these points in this order:\n{}\n\
         Never use these words: {}. Avoid pressure words: {}.\n{}",
        ctx.voice.instructions(),
        ctx.voice.max_paragraphs,
        ctx.voice.sender_name,
        if points.is_empty() {
            "- thank them and ask what prompted the note".to_string()
        } else {
            points.join("\n")
        },
        validation::PROHIBITED_WORDS.join(", "),
        validation::AGGRESSIVE_WORDS.join(", "),
        cta_instruction(ctx.voice),
    )
}

/// The message for the model. The sender's address stays out of the prompt.
fn message_for_prompt(input: &Input) -> String {
    let from = match non_blank(input.company.as_deref()) {
        Some(company) => format!("{} at {company}", input.from_name.trim()),
        None => input.from_name.trim().to_string(),
    };
    format!(
        "From: {from}\nSubject: {}\n\n{}",
        input.subject.trim(),
        input.body.trim()
    )
}

/// The deterministic reply: thanks, then each detected intent in reply order, one call to
/// action. At most three paragraphs between greeting and sign-off.
///
/// It states only what their message says (their question and their words, quoted) and
/// otherwise asks: no claims about what we do, no promised numbers or deadlines the sender
/// never gave.
fn offline_reply(input: &Input, detected: &[Detected], ctx: &Ctx<'_>) -> String {
    let has = |intent: Intent| detected.iter().find(|d| d.intent == intent);
    let replied = input
        .subject
        .trim()
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("re:"));
    let mut opening = vec![if replied {
        "Thanks for getting back to me.".to_string()
    } else {
        "Thanks for reaching out.".to_string()
    }];
    if let Some(question) = has(Intent::Question) {
        match question.evidence.iter().find(|e| e.ends_with('?')) {
            Some(asked) => opening.push(format!(
                "You asked \"{asked}\" Could you tell me a little about your setup, so I can answer it for you?"
            )),
            None => opening.push(
                "On your question: could you tell me a little about your setup, so I can answer it for you?"
                    .to_string(),
            ),
        }
    }
    if let Some(pain) = has(Intent::Pain) {
        let said = pain
            .evidence
            .first()
            .and_then(|phrase| sentence_with(&input.body, phrase));
        opening.push(match said {
            Some(said) => format!("You wrote \"{said}\". Where does that cost you the most time?"),
            None => "Where does the problem you describe cost you the most time?".to_string(),
        });
    }
    if detected.iter().all(|d| d.intent == Intent::Greeting) {
        opening.push("What prompted your note?".to_string());
    }

    let mut specifics = Vec::new();
    if has(Intent::Pricing).is_some() {
        specifics.push("On pricing: what scope do you have in mind, so the numbers fit it?");
    }
    if has(Intent::Timeline).is_some() {
        specifics.push("On timing: what date are you working back from?");
    }
    if has(Intent::NextSteps).is_some() {
        specifics.push("On next steps: what would you like a proposal to cover?");
    }
    let cta = if has(Intent::MeetingRequest).is_some() {
        format!("Happy to find a time. {}", call_to_action(ctx.voice))
    } else {
        call_to_action(ctx.voice)
    };

    let mut blocks = vec![
        format!("{},", first_name(&input.from_name)),
        opening.join(" "),
    ];
    if !specifics.is_empty() {
        blocks.push(specifics.join(" "));
    }
    blocks.push(cta);
    blocks.push(ctx.voice.sender_name.clone());
    blocks.join("\n\n")
}

/// The sentence of `text` containing `phrase`, clipped for quoting.
fn sentence_with(text: &str, phrase: &str) -> Option<String> {
    sentences(text)
        .into_iter()
        .find(|s| words::contains(s, phrase))
        .map(|s| clip_words(s.trim_end_matches(['.', '!']), MAX_QUOTE_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::testing::{first_prompt, fixed_now, Harness};
    use caseyos_domain::queue::Draft;

    fn input() -> Input {
        serde_json::from_value(example()).expect("example parses")
    }

    fn intents(subject: &str, body: &str) -> Vec<Intent> {
        detect(subject, body)
            .into_iter()
            .map(|d| d.intent)
            .collect()
    }

    fn thousandths(value: Option<Fraction>) -> Option<u16> {
        value.map(Fraction::thousandths)
    }

    #[test]
    fn each_intent_is_detected_from_its_phrases() {
        use Intent::*;
        let table: [(&str, &[Intent]); 12] = [
            ("Hello Casey, good to hear from you.", &[Greeting]),
            ("How does onboarding work?", &[Question]),
            ("I was wondering about onboarding.", &[Question]),
            ("We're struggling with manual reporting.", &[Pain]),
            ("What does it cost per seat?", &[Question, Pricing]),
            ("We need this live before the Q3 deadline.", &[Timeline]),
            ("Send over a proposal and we'll move forward.", &[NextSteps]),
            (
                "Can we schedule a call Thursday?",
                &[Question, MeetingRequest],
            ),
            ("Thanks, but we're not interested.", &[NotInterested]),
            ("Please remove me from your list.", &[Unsubscribe]),
            ("Unsubscribe", &[Unsubscribe]),
            ("Noted, will read it later.", &[]),
        ];
        for (body, expected) in table {
            assert_eq!(intents("Note", body), expected, "{body:?}");
        }
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let table = [
            "Our caller ID changed.",
            "The recall went fine.",
            "This is a high-priced... no, actually, skip that",
            "Themselves to blame, said the pricingless memo",
            "We sowed the seeds.",
            "Ship it.",
        ];
        for body in table {
            assert_eq!(intents("Note", body), [], "{body:?}");
        }
    }

    #[test]
    fn evidence_lists_the_questions_and_matched_phrases() {
        let detected = detect(
            "Pricing?",
            "Hi Casey. What does pricing look like? We have budget this quarter.",
        );
        assert_eq!(
            detected,
            vec![
                Detected {
                    intent: Intent::Greeting,
                    evidence: vec!["hi".into()]
                },
                Detected {
                    intent: Intent::Question,
                    evidence: vec!["What does pricing look like?".into()]
                },
                Detected {
                    intent: Intent::Pricing,
                    evidence: vec!["pricing".into(), "budget".into()]
                },
                Detected {
                    intent: Intent::Timeline,
                    evidence: vec!["this quarter".into()]
                },
            ]
        );
    }

    #[test]
    fn the_intent_score_sums_weights_caps_at_one_and_is_zero_after_a_no() {
        let table = [
            ("Hello there, Casey.", 0),
            ("Any thoughts?", 100),
            ("What's the price?", 400),
            (
                "What's the price? Can we meet this quarter? Send a proposal. We're struggling.",
                1000,
            ),
            ("What's the price? Actually, please unsubscribe me.", 0),
        ];
        for (body, expected) in table {
            assert_eq!(
                intent_score(&detect("Note", body)).thousandths(),
                expected,
                "{body:?}"
            );
        }
    }

    #[test]
    fn aps_takes_the_highest_value_per_dimension_over_the_intents() {
        // (message, revenue, urgency, strategic) in thousandths.
        let table = [
            ("Can we meet?", Some(700), Some(900), None),
            ("What's the price", Some(800), Some(700), None),
            ("What's the timeline", None, Some(800), None),
            ("We're struggling", Some(600), None, Some(700)),
            ("Any thoughts?", None, Some(500), None),
            (
                "What's the price, and can we meet? We're struggling.",
                Some(800),
                Some(900),
                Some(700),
            ),
            ("Hello Casey", None, None, None),
        ];
        for (body, revenue, urgency, strategic) in table {
            let aps = aps_for(&detect("Note", body));
            assert_eq!(
                (
                    thousandths(aps.revenue),
                    thousandths(aps.urgency),
                    thousandths(aps.strategic),
                    aps.effort
                ),
                (revenue, urgency, strategic, None),
                "{body:?}"
            );
        }
    }

    #[test]
    fn reply_subjects_do_not_stack_prefixes_and_fit_validation() {
        let long = format!("Re: {}", "word ".repeat(40));
        let table = [
            ("Pricing question", "Re: Pricing question".to_string()),
            ("Re: Pricing question", "Re: Pricing question".to_string()),
            ("RE: Pricing", "RE: Pricing".to_string()),
            (long.as_str(), clip_words(&long, 100)),
        ];
        for (subject, expected) in table {
            assert_eq!(reply_subject(subject), expected);
            assert!(reply_subject(subject).chars().count() <= 100);
        }
    }

    #[test]
    fn the_seed_threshold_is_gone_a_single_question_gets_a_reply() {
        let harness = Harness::offline();
        let ctx = harness.ctx();
        let input = Input {
            body: "Does this work with Salesforce?".into(),
            subject: "Quick question".into(),
            ..input()
        };
        let detected = detect(&input.subject, &input.body);
        let reply = offline_reply(&input, &detected, &ctx);
        assert!(
            reply.contains("You asked \"Does this work with Salesforce?\""),
            "{reply}"
        );
    }

    #[tokio::test]
    async fn offline_it_answers_each_intent_in_order_and_proposes_a_reply() {
        let harness = Harness::offline();
        let outcome = run(input(), &harness.ctx()).await.expect("runs");

        assert_eq!(outcome.output["writer"], "offline");
        let names: Vec<&str> = outcome.output["intents"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d["intent"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            names,
            ["greeting", "question", "pain", "pricing", "timeline"]
        );
        let body = outcome.output["reply"]["body"].as_str().unwrap_or_default();
        let question = body.find("You asked \"What does pricing look like for a team of 12?\"");
        let pain = body.find("You wrote \"We're struggling to keep forecast calls");
        let pricing = body.find("On pricing:");
        let timing = body.find("On timing:");
        assert!(
            question < pain && pain < pricing && pricing < timing && question.is_some(),
            "{body}"
        );
        assert!(body.starts_with("Priya,\n\nThanks for getting back to me."));
        assert!(body.ends_with("Would a 20-minute call next week be worth it?\n\nCasey"));
        assert!(!body.contains("unsubscribe"));
        assert_eq!(outcome.output["validation"]["approved"], true);

        let proposal = &outcome.proposals[0];
        assert_eq!(proposal.action_type, ActionType::ReplyResponse);
        assert_eq!(proposal.draft, Some(Draft::offline_template()));
        assert_eq!(
            proposal.payload["subject"],
            "Re: Forecasting for the new SDR team"
        );
        assert_eq!(proposal.payload["to"], "priya.raman@brightpath.example");
        assert_eq!(thousandths(proposal.aps.revenue), Some(800));
        assert_eq!(thousandths(proposal.aps.urgency), Some(800));
        assert_eq!(thousandths(proposal.aps.strategic), Some(700));
        assert_eq!(
            proposal.target.contact.as_ref().map(|c| c.id.as_str()),
            Some("88021")
        );
        let received = input().received_at.expect("example has received_at");
        assert_eq!(proposal.due_by, Some(received + REPLY_WITHIN));
    }

    /// Every intent, alone and together, with and without a booking link.
    #[test]
    fn the_offline_reply_quotes_them_asks_and_claims_nothing_of_its_own() {
        let bodies = [
            "Hello Casey, good to hear from you.",
            "Does this work with Salesforce?",
            "We're struggling with manual reporting.",
            "What does it cost per seat? We have budget this quarter.",
            "We need this live before the Q3 deadline.",
            "Send over a proposal and we'll move forward.",
            "Can we schedule a call Thursday?",
            "Noted, will read it later.",
        ];
        let mut linked = Harness::offline();
        linked.voice.calendar_link = Some("https://cal.example/casey".into());
        let all = bodies.join(" ");
        for harness in [Harness::offline(), linked] {
            let ctx = harness.ctx();
            for body in bodies.iter().copied().chain([all.as_str()]) {
                for subject in ["Question", "Re: Question"] {
                    let input = Input {
                        subject: subject.into(),
                        body: body.into(),
                        ..input()
                    };
                    let detected = detect(&input.subject, &input.body);
                    let reply = apply_voice(&offline_reply(&input, &detected, &ctx), ctx.voice);
                    let lower = reply.to_lowercase();
                    for claim in crate::words::INVENTED_CLAIMS.iter().chain(&[
                        "two or three",
                        "business days",
                        "real numbers",
                    ]) {
                        assert!(!lower.contains(claim), "{claim:?} in\n{reply}");
                    }
                    let report = validation::review_with(
                        &reply_subject(&input.subject),
                        &reply,
                        ctx.voice,
                        false,
                    );
                    assert!(report.approved, "{report:?}\n{reply}");
                }
            }
        }
    }

    #[tokio::test]
    async fn a_message_received_in_the_future_is_refused() {
        let harness = Harness::offline();
        let input = Input {
            received_at: Some(fixed_now() + Duration::minutes(1)),
            ..input()
        };
        let err = run(input, &harness.ctx()).await.unwrap_err();
        assert_eq!(err.code, "request.validation");
        assert_eq!(err.message, "input.received_at: must not be in the future");
        assert!(!err.retryable);
    }

    #[tokio::test]
    async fn a_reply_to_an_old_message_is_due_now() {
        let harness = Harness::offline();
        let input = Input {
            received_at: Some(fixed_now() - Duration::days(3)),
            ..input()
        };
        let outcome = run(input, &harness.ctx()).await.expect("runs");
        assert_eq!(outcome.proposals[0].due_by, Some(fixed_now()));
    }

    #[tokio::test]
    async fn a_no_proposes_nothing_and_says_why() {
        let harness = Harness::offline();
        let table = [
            (
                "Please unsubscribe me from these emails.",
                "they asked to be unsubscribed",
            ),
            (
                "Appreciate it, but we're not interested right now.",
                "they said they are not interested",
            ),
        ];
        for (body, reason) in table {
            let input = Input {
                body: body.into(),
                ..input()
            };
            let outcome = run(input, &harness.ctx()).await.expect("runs");
            assert!(outcome.proposals.is_empty(), "{body}");
            assert_eq!(outcome.output["no_reply_reason"], reason);
            assert_eq!(outcome.output["reply"], serde_json::Value::Null);
            assert_eq!(outcome.output["intent_score"], 0.0);
            assert!(outcome
                .text
                .unwrap_or_default()
                .starts_with("No reply drafted"));
        }
    }

    #[tokio::test]
    async fn a_greeting_alone_still_gets_a_reply_that_passes_validation() {
        let harness = Harness::offline();
        let input = Input {
            subject: "Hello".into(),
            body: "Hello Casey, good to hear from you.".into(),
            contact_id: None,
            ..input()
        };
        let outcome = run(input, &harness.ctx()).await.expect("runs");
        assert_eq!(outcome.proposals.len(), 1);
        assert!(outcome.proposals[0].target.is_empty());
        assert_eq!(outcome.output["validation"]["approved"], true);
    }

    #[tokio::test]
    async fn a_model_reply_is_voiced_and_marked_as_llm() {
        let (server, harness) = Harness::answering(
            "Subject: ignored\n\nPriya,\n\nGreat question — pricing starts with scope!!\n\nCould we talk Tuesday?\n\nCasey",
        )
        .await;

        let outcome = run(input(), &harness.ctx()).await.expect("runs");

        assert_eq!(outcome.output["writer"], "llm");
        assert_eq!(
            outcome.proposals[0].draft,
            Some(Draft::llm(Some("test-model-2026".into())))
        );
        assert_eq!(
            outcome.output["reply"]["body"],
            "Priya,\n\nGreat question, pricing starts with scope!\n\nCould we talk Tuesday?\n\nCasey"
        );
        assert_eq!(
            outcome.output["reply"]["subject"],
            "Re: Forecasting for the new SDR team"
        );
        let (system, user) = first_prompt(&server).await;
        assert!(
            system.contains("- pricing (they wrote: pricing)"),
            "{system}"
        );
        assert!(user.starts_with("From: Priya Raman at BrightPath Health"));
        assert!(!user.contains("priya.raman@"));
    }

    #[test]
    fn check_names_every_bad_field() {
        let input = Input {
            from_name: "".into(),
            from_email: "priya@".into(),
            contact_id: Some("".into()),
            company: None,
            subject: " ".into(),
            body: "".into(),
            received_at: None,
        };
        let fields: Vec<String> = check(&input).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "input.from_name",
                "input.from_email",
                "input.contact_id",
                "input.subject",
                "input.body"
            ]
        );
    }
}
