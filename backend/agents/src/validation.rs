//! Validation: checks an email draft against the seed's rules and the operator's voice.
//!
//! The seed matched words as substrings ("compromise" was flagged for "promise") and
//! approved a draft only when every check passed, style hints included. Here words match
//! whole ([`crate::words`]), every finding carries a severity, and a draft is approved when
//! it has no error-severity issue. [`review`] is the pure rule set DraftWriter and
//! Prospecting reuse.

use std::ops::RangeInclusive;

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::InputSchema;
use crate::voice::VoiceProfile;
use crate::{field_error, words, AgentError, Ctx, Outcome};

pub const NAME: &str = "Validation";
pub const DOMAIN: AgentDomain = AgentDomain::Sales;
pub const DESCRIPTION: &str =
    "Checks an email draft for prohibited or pushy wording, missing unsubscribe, length limits and the operator's voice.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// Words a draft must not use (the seed's list, plus the forms "guaranteed" and
/// "promised" that its substring match used to catch).
pub const PROHIBITED_WORDS: &[&str] = &[
    "guarantee",
    "guaranteed",
    "guarantees",
    "promise",
    "promised",
    "promises",
    "won't",
    "can't",
];
/// Words that read as pressure.
pub const AGGRESSIVE_WORDS: &[&str] = &["must", "demand", "urgent", "immediately"];
/// The word an outreach email must contain (an opt-out line).
pub const UNSUBSCRIBE_WORD: &str = "unsubscribe";
/// The opener the seed flagged as too casual.
pub const CASUAL_OPENER: &str = "hi";
/// Subject length, in characters.
pub const SUBJECT_CHARS: RangeInclusive<usize> = 5..=100;
/// Body length, in characters (trimmed).
pub const BODY_CHARS: RangeInclusive<usize> = 50..=2000;
/// Subject plus body, in characters.
pub const TOTAL_CHARS: RangeInclusive<usize> = 100..=3000;
/// The longest subject or body this agent accepts as input.
pub const MAX_INPUT_CHARS: usize = 20_000;

/// How much a finding matters. Only errors block approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// What a finding is about. Each kind has one severity, set in [`IssueCode::severity`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueCode {
    ProhibitedWord,
    MissingUnsubscribe,
    SubjectLength,
    BodyLength,
    TotalLength,
    AggressiveWord,
    VoiceWord,
    VoicePunctuation,
    /// Longer than the voice profile's subject or body limit.
    VoiceLength,
    CasualOpener,
}

impl IssueCode {
    /// Prohibited words, a missing opt-out and broken length limits are errors (the seed
    /// refused such drafts); pushy words and the voice profile's words, punctuation and
    /// length limits are warnings (fix before sending, but a person may judge); the "Hi" opener is a hint.
    pub const fn severity(self) -> Severity {
        match self {
            IssueCode::ProhibitedWord
            | IssueCode::MissingUnsubscribe
            | IssueCode::SubjectLength
            | IssueCode::BodyLength
            | IssueCode::TotalLength => Severity::Error,
            IssueCode::AggressiveWord
            | IssueCode::VoiceWord
            | IssueCode::VoicePunctuation
            | IssueCode::VoiceLength => Severity::Warning,
            IssueCode::CasualOpener => Severity::Info,
        }
    }
}

/// The part of the email a finding is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Subject,
    Body,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub code: IssueCode,
    pub severity: Severity,
    pub field: Field,
    pub message: String,
}

/// What [`review`] found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    /// No error-severity issue.
    pub approved: bool,
    pub issues: Vec<Issue>,
}

impl ValidationReport {
    /// The issues of at least `severity`.
    pub fn at_least(&self, severity: Severity) -> impl Iterator<Item = &Issue> {
        self.issues.iter().filter(move |i| i.severity >= severity)
    }

    /// One sentence for a move's rationale: approved, and how many warnings to look at.
    pub fn approval_note(&self) -> String {
        let verdict = if self.approved {
            "approved"
        } else {
            "rejected"
        };
        match self.at_least(Severity::Warning).count() {
            0 => format!("Validation {verdict} it with no warnings."),
            1 => format!("Validation {verdict} it with 1 warning to look at."),
            n => format!("Validation {verdict} it with {n} warnings to look at."),
        }
    }

    /// The error-severity issues as one line, for an agent error.
    pub fn errors_summary(&self) -> String {
        self.at_least(Severity::Error)
            .map(|i| format!("{}: {}", field_name(i.field), i.message))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A retryable `draft.invalid` error naming the error-severity issues, unless the text
    /// was approved; `what` names the text (`the draft`, `the reply`).
    pub(crate) fn require_approved(&self, what: &str) -> Result<(), AgentError> {
        if self.approved {
            return Ok(());
        }
        Err(AgentError::new(
            "draft.invalid",
            format!("{what} failed validation: {}", self.errors_summary()),
            true,
        ))
    }
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::Subject => "subject",
        Field::Body => "body",
    }
}

fn issue(code: IssueCode, field: Field, message: String) -> Issue {
    Issue {
        code,
        severity: code.severity(),
        field,
        message,
    }
}

/// Reviews an outreach email (an opt-out line required).
pub fn review(subject: &str, body: &str, voice: &VoiceProfile) -> ValidationReport {
    review_with(subject, body, voice, true)
}

/// Reviews an email; replies in a thread pass `require_unsubscribe = false`.
pub fn review_with(
    subject: &str,
    body: &str,
    voice: &VoiceProfile,
    require_unsubscribe: bool,
) -> ValidationReport {
    let mut issues = Vec::new();
    let subject_chars = subject.trim().chars().count();
    let body_chars = body.trim().chars().count();

    for (field, text) in [(Field::Subject, subject), (Field::Body, body)] {
        for word in words::found(text, PROHIBITED_WORDS) {
            issues.push(issue(
                IssueCode::ProhibitedWord,
                field,
                format!("uses the prohibited word \"{word}\""),
            ));
        }
    }
    if require_unsubscribe && !words::contains(body, UNSUBSCRIBE_WORD) {
        issues.push(issue(
            IssueCode::MissingUnsubscribe,
            Field::Body,
            "has no unsubscribe line; outreach must offer a way out".into(),
        ));
    }
    if let Some(message) = outside("subject", subject_chars, &SUBJECT_CHARS) {
        issues.push(issue(IssueCode::SubjectLength, Field::Subject, message));
    }
    if let Some(message) = outside("body", body_chars, &BODY_CHARS) {
        issues.push(issue(IssueCode::BodyLength, Field::Body, message));
    }
    if let Some(message) = outside(
        "subject and body together",
        subject_chars + body_chars,
        &TOTAL_CHARS,
    ) {
        issues.push(issue(IssueCode::TotalLength, Field::Body, message));
    }

    let voice_words: Vec<&str> = voice.prohibited_words.iter().map(String::as_str).collect();
    for (field, text) in [(Field::Subject, subject), (Field::Body, body)] {
        for word in words::found(text, AGGRESSIVE_WORDS) {
            issues.push(issue(
                IssueCode::AggressiveWord,
                field,
                format!("\"{word}\" reads as pressure"),
            ));
        }
        for word in words::found(text, &voice_words) {
            issues.push(issue(
                IssueCode::VoiceWord,
                field,
                format!("\"{word}\" is on the voice profile's list of words to avoid"),
            ));
        }
        for mark in voice
            .prohibited_punctuation
            .iter()
            .filter(|p| !p.is_empty() && text.contains(p.as_str()))
        {
            issues.push(issue(
                IssueCode::VoicePunctuation,
                field,
                format!("contains \"{mark}\", which the voice profile avoids"),
            ));
        }
    }
    if voice.max_subject_chars > 0 && subject_chars > voice.max_subject_chars {
        issues.push(issue(
            IssueCode::VoiceLength,
            Field::Subject,
            format!(
                "subject is {subject_chars} characters; the voice profile keeps it to {}",
                voice.max_subject_chars
            ),
        ));
    }
    let body_words = words::tokens(body).len();
    if voice.max_body_words > 0 && body_words > voice.max_body_words {
        issues.push(issue(
            IssueCode::VoiceLength,
            Field::Body,
            format!(
                "body is {body_words} words; the voice profile keeps it to {}",
                voice.max_body_words
            ),
        ));
    }
    if words::tokens(body).first().map(String::as_str) == Some(CASUAL_OPENER) {
        issues.push(issue(
            IssueCode::CasualOpener,
            Field::Body,
            "opens with \"Hi\"; consider opening with their name or an observation".into(),
        ));
    }

    issues.sort_by_key(|i| std::cmp::Reverse(i.severity));
    ValidationReport {
        approved: !issues.iter().any(|i| i.severity == Severity::Error),
        issues,
    }
}

fn outside(what: &str, chars: usize, allowed: &RangeInclusive<usize>) -> Option<String> {
    if chars < *allowed.start() {
        Some(format!(
            "{what} is {chars} characters; at least {} needed",
            allowed.start()
        ))
    } else if chars > *allowed.end() {
        Some(format!(
            "{what} is {chars} characters; at most {} allowed",
            allowed.end()
        ))
    } else {
        None
    }
}

/// An email draft to check.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The subject line (may be empty; that is reported).
    pub subject: String,
    /// The body text (may be empty; that is reported).
    pub body: String,
    /// Whether the email must offer an unsubscribe line. Defaults to true; a reply in an
    /// existing thread needs none.
    #[serde(default = "default_true")]
    #[schema(default = true)]
    pub require_unsubscribe: bool,
}

fn default_true() -> bool {
    true
}

pub fn example() -> serde_json::Value {
    serde_json::json!({
        "subject": "Northwind's pipeline reviews",
        "body": "Dana,\n\nYour team doubled its SDR headcount this quarter, and that usually means forecast calls get harder before they get easier.\n\nWould a 20-minute call next week be useful to compare notes on how teams your size keep pipeline reviews short?\n\nCasey\n\nNot relevant? Reply \"unsubscribe\" and I'll stop writing.",
        "require_unsubscribe": true
    })
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .text("subject", MAX_INPUT_CHARS)
        .text("body", MAX_INPUT_CHARS)
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    [("subject", &input.subject), ("body", &input.body)]
        .into_iter()
        .filter(|(_, text)| text.chars().count() > MAX_INPUT_CHARS)
        .map(|(field, _)| {
            field_error(
                field,
                format!("must be at most {MAX_INPUT_CHARS} characters"),
            )
        })
        .collect()
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let report = review_with(
        &input.subject,
        &input.body,
        ctx.voice,
        input.require_unsubscribe,
    );
    Outcome::report(&report, report_markdown(&report))
}

/// The report for people.
pub fn report_markdown(report: &ValidationReport) -> String {
    let mut text = if report.approved {
        String::from("**Approved**")
    } else {
        String::from("**Not approved**")
    };
    if report.issues.is_empty() {
        text.push_str(": no issues found.");
    }
    for i in &report.issues {
        let severity = match i.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        text.push_str(&format!(
            "\n- {severity} ({}): {}",
            field_name(i.field),
            i.message
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::testing::Harness;

    const GOOD_SUBJECT: &str = "Northwind's pipeline reviews";
    const GOOD_BODY: &str = "Dana,\n\nYour team doubled its SDR headcount this quarter. Would a 20-minute call next week help?\n\nCasey\n\nReply \"unsubscribe\" and I'll stop writing.";

    fn codes(report: &ValidationReport) -> Vec<IssueCode> {
        report.issues.iter().map(|i| i.code).collect()
    }

    fn with_body(extra: &str) -> String {
        format!("{GOOD_BODY}\n{extra}")
    }

    #[test]
    fn a_clean_draft_is_approved_with_no_issues() {
        let report = review(GOOD_SUBJECT, GOOD_BODY, &VoiceProfile::default());
        assert_eq!(
            report,
            ValidationReport {
                approved: true,
                issues: vec![]
            }
        );
    }

    #[test]
    fn each_rule_reports_its_code_and_severity() {
        let voice = VoiceProfile::default();
        let long_body = "word ".repeat(401);
        let long_subject = "s".repeat(101);
        let wordy_subject = "s".repeat(61);
        let wordy_body = format!("{GOOD_BODY} {}", "more ".repeat(130));
        let table: Vec<(&str, String, IssueCode, Severity)> = vec![
            (
                "We guarantee results",
                GOOD_BODY.into(),
                IssueCode::ProhibitedWord,
                Severity::Error,
            ),
            (
                GOOD_SUBJECT,
                with_body("We promise it works."),
                IssueCode::ProhibitedWord,
                Severity::Error,
            ),
            (
                GOOD_SUBJECT,
                with_body("Results are guaranteed."),
                IssueCode::ProhibitedWord,
                Severity::Error,
            ),
            (
                GOOD_SUBJECT,
                with_body("You won’t regret it."),
                IssueCode::ProhibitedWord,
                Severity::Error,
            ),
            (
                GOOD_SUBJECT,
                with_body("We can't wait."),
                IssueCode::ProhibitedWord,
                Severity::Error,
            ),
            (
                GOOD_SUBJECT,
                GOOD_BODY.replace("unsubscribe", "stop"),
                IssueCode::MissingUnsubscribe,
                Severity::Error,
            ),
            (
                "Hey",
                GOOD_BODY.into(),
                IssueCode::SubjectLength,
                Severity::Error,
            ),
            (
                &long_subject,
                GOOD_BODY.into(),
                IssueCode::SubjectLength,
                Severity::Error,
            ),
            (
                GOOD_SUBJECT,
                "Short. unsubscribe".into(),
                IssueCode::BodyLength,
                Severity::Error,
            ),
            (
                GOOD_SUBJECT,
                format!("{long_body}unsubscribe"),
                IssueCode::BodyLength,
                Severity::Error,
            ),
            (
                GOOD_SUBJECT,
                with_body("This is urgent."),
                IssueCode::AggressiveWord,
                Severity::Warning,
            ),
            (
                GOOD_SUBJECT,
                with_body("You must see this."),
                IssueCode::AggressiveWord,
                Severity::Warning,
            ),
            (
                GOOD_SUBJECT,
                with_body("Reply immediately."),
                IssueCode::AggressiveWord,
                Severity::Warning,
            ),
            (
                GOOD_SUBJECT,
                with_body("We demand a reply."),
                IssueCode::AggressiveWord,
                Severity::Warning,
            ),
            (
                GOOD_SUBJECT,
                with_body("Real synergy here."),
                IssueCode::VoiceWord,
                Severity::Warning,
            ),
            (
                GOOD_SUBJECT,
                with_body("Let's touch base."),
                IssueCode::VoiceWord,
                Severity::Warning,
            ),
            (
                GOOD_SUBJECT,
                with_body("One thing — timing."),
                IssueCode::VoicePunctuation,
                Severity::Warning,
            ),
            (
                GOOD_SUBJECT,
                with_body("Great news!!"),
                IssueCode::VoicePunctuation,
                Severity::Warning,
            ),
            (
                "Really???",
                GOOD_BODY.into(),
                IssueCode::VoicePunctuation,
                Severity::Warning,
            ),
            (
                GOOD_SUBJECT,
                format!("Hi Dana,\n\n{GOOD_BODY}"),
                IssueCode::CasualOpener,
                Severity::Info,
            ),
            (
                &wordy_subject,
                GOOD_BODY.into(),
                IssueCode::VoiceLength,
                Severity::Warning,
            ),
            (
                GOOD_SUBJECT,
                wordy_body.clone(),
                IssueCode::VoiceLength,
                Severity::Warning,
            ),
        ];
        for (subject, body, code, severity) in table {
            let report = review(subject, &body, &voice);
            let found = report.issues.iter().find(|i| i.code == code);
            assert_eq!(
                found.map(|i| i.severity),
                Some(severity),
                "{subject:?} / {body:?}: {report:?}"
            );
            assert_eq!(
                report.approved,
                severity != Severity::Error,
                "{subject:?} / {body:?}"
            );
        }
    }

    #[test]
    fn words_inside_other_words_are_not_flagged() {
        let voice = VoiceProfile::default();
        for extra in [
            "A fair compromise on scope.",
            "Mustard on the side.",
            "Our emergency plan is urgently needed? No: it's not.",
            "Hiring is up 20%.",
        ] {
            let body = if extra.starts_with("Hiring") {
                format!("{extra} {GOOD_BODY}")
            } else {
                with_body(extra)
            };
            let report = review(GOOD_SUBJECT, &body, &voice);
            assert!(
                !codes(&report).iter().any(|c| matches!(
                    c,
                    IssueCode::ProhibitedWord | IssueCode::AggressiveWord | IssueCode::CasualOpener
                )),
                "{extra}: {report:?}"
            );
        }
    }

    #[test]
    fn length_limits_hold_at_their_boundaries() {
        let voice = VoiceProfile::default();
        let pad = |n: usize| format!("unsubscribe {}", "x".repeat(n - 12));
        let table = [
            (5, 95, None),
            (4, 96, Some(IssueCode::SubjectLength)),
            (100, 50, None),
            (101, 50, Some(IssueCode::SubjectLength)),
            (50, 49, Some(IssueCode::BodyLength)),
            (50, 2000, None),
            (50, 2001, Some(IssueCode::BodyLength)),
            (20, 79, Some(IssueCode::TotalLength)),
            (20, 80, None),
            (100, 2000, None),
            (100, 2001, Some(IssueCode::BodyLength)),
        ];
        for (subject_chars, body_chars, expected) in table {
            let subject = "s".repeat(subject_chars);
            let report = review(&subject, &pad(body_chars), &voice);
            let length_codes: Vec<IssueCode> = codes(&report)
                .into_iter()
                .filter(|c| {
                    matches!(
                        c,
                        IssueCode::SubjectLength | IssueCode::BodyLength | IssueCode::TotalLength
                    )
                })
                .collect();
            assert_eq!(
                length_codes.first().copied(),
                expected,
                "{subject_chars}/{body_chars}: {report:?}"
            );
        }
    }

    #[test]
    fn over_three_thousand_characters_in_all_is_reported_as_well() {
        let body = format!("unsubscribe {}", "x".repeat(3000));
        let report = review(GOOD_SUBJECT, &body, &VoiceProfile::default());
        assert_eq!(
            codes(&report),
            vec![IssueCode::BodyLength, IssueCode::TotalLength]
        );
    }

    #[test]
    fn replies_need_no_unsubscribe_line() {
        let body = GOOD_BODY.replace("unsubscribe", "stop");
        let report = review_with(GOOD_SUBJECT, &body, &VoiceProfile::default(), false);
        assert!(report.approved, "{report:?}");
    }

    #[test]
    fn the_voice_profile_decides_which_extra_words_and_marks_are_flagged() {
        let voice = VoiceProfile {
            prohibited_words: vec!["ping".into()],
            prohibited_punctuation: vec![";".into()],
            ..VoiceProfile::default()
        };
        let report = review(
            GOOD_SUBJECT,
            &with_body("I'll ping you; synergy — soon!!"),
            &voice,
        );
        assert_eq!(
            codes(&report),
            vec![IssueCode::VoiceWord, IssueCode::VoicePunctuation]
        );
        assert!(report.approved);
    }

    #[test]
    fn warnings_alone_keep_a_draft_approved_and_errors_come_first() {
        let report = review(
            "Urgent",
            &with_body("Hi, we promise."),
            &VoiceProfile::default(),
        );
        assert!(!report.approved);
        assert_eq!(report.issues[0].severity, Severity::Error);
        assert!(report
            .errors_summary()
            .contains("prohibited word \"promise\""));
    }

    #[test]
    fn empty_subject_and_body_are_reported_not_refused() {
        let input: Input =
            serde_json::from_value(serde_json::json!({"subject": "", "body": ""})).expect("input");
        assert!(input.require_unsubscribe);
        assert!(check(&input).is_empty());
        let report = review(&input.subject, &input.body, &VoiceProfile::default());
        assert!(!report.approved);
        assert!(codes(&report).contains(&IssueCode::SubjectLength));
        assert!(codes(&report).contains(&IssueCode::MissingUnsubscribe));
    }

    #[test]
    fn inputs_longer_than_the_cap_are_refused() {
        let input = Input {
            subject: "ok subject".into(),
            body: "x".repeat(MAX_INPUT_CHARS + 1),
            require_unsubscribe: true,
        };
        let errors = check(&input);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "input.body");
    }

    #[tokio::test]
    async fn the_example_runs_and_is_approved() {
        let harness = Harness::offline();
        let input: Input = serde_json::from_value(example()).expect("example parses");
        let outcome = run(input, &harness.ctx()).await.expect("runs");
        assert_eq!(outcome.output["approved"], true);
        assert!(outcome.proposals.is_empty());
        assert!(outcome.text.unwrap_or_default().starts_with("**Approved**"));
    }

    #[tokio::test]
    async fn the_run_output_lists_issues_with_code_severity_and_field() {
        let harness = Harness::offline();
        let input = Input {
            subject: "Hey".into(),
            body: with_body("This is urgent."),
            require_unsubscribe: true,
        };
        let outcome = run(input, &harness.ctx()).await.expect("runs");
        assert_eq!(outcome.output["approved"], false);
        assert_eq!(
            outcome.output["issues"][0],
            serde_json::json!({
                "code": "subject_length",
                "severity": "error",
                "field": "subject",
                "message": "subject is 3 characters; at least 5 needed"
            })
        );
    }
}
