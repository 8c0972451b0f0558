//! DraftWriter: writes an outreach email for a contact and a goal in the operator's voice,
//! checks it with Validation and proposes sending it.
//!
//! The seed had no way to run this agent and, without a model, filled a hard-coded
//! three-slot template. Here the language model (or, without one, a deterministic template
//! built from the facts) writes the draft; the voice is then enforced in code on whatever
//! was written ([`apply_voice`]), and a draft Validation rejects is never proposed.
//! The voice helpers here serve Prospecting and ProposalGenerator too.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use caseyos_domain::queue::aps::ApsOverrides;
use caseyos_domain::queue::ActionType;
use caseyos_domain::voice::persona;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::contact::{self, Contact};
use crate::schema::InputSchema;
use crate::text_fields::{optional_text, required_text};
use crate::validation::{self, ValidationReport};
use crate::voice::{VoiceExample, VoiceProfile};
use crate::{words, AgentError, Ctx, Outcome, Prompt, Proposal};

pub const NAME: &str = "DraftWriter";
pub const DOMAIN: AgentDomain = AgentDomain::Sales;
pub const DESCRIPTION: &str =
    "Writes an outreach email for a contact and goal in your voice, checks it and proposes sending it.";
pub const USES_LLM: bool = true;
pub const PROPOSES_MOVES: bool = true;

/// Appended to outreach that has no opt-out line, so Validation's unsubscribe rule holds.
pub const UNSUBSCRIBE_LINE: &str =
    "Not the right time? Reply \"unsubscribe\" and I'll stop writing.";
/// The call to action when the voice profile has no booking link.
pub const CTA_WITHOUT_LINK: &str = "Would a 20-minute call next week be worth it?";
/// Longest name, company or title accepted.
pub const MAX_NAME_CHARS: usize = 120;
pub const MAX_GOAL_CHARS: usize = 500;
pub const MAX_CONTEXT_CHARS: usize = 5_000;
/// Upper bound on the model's answer.
const MAX_TOKENS: u32 = 700;
/// Greeting and sign-off blocks are at most this many words (a sign-off also has no final
/// stop); other blocks are paragraphs.
const MAX_FRAME_WORDS: usize = 6;
/// Runs of these characters become a comma when the voice profile prohibits them.
const COMMA_LIKE: &[char] = &['—', '–', ';'];

/// Who to write to and what the email should achieve.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The contact's full name.
    pub contact_name: String,
    /// Where the email goes.
    pub contact_email: String,
    /// The contact's CRM id; with it the move is linked to the contact.
    #[serde(default)]
    pub contact_id: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    /// The contact's job title.
    #[serde(default)]
    pub contact_title: Option<String>,
    /// What the email should achieve, e.g. "compare notes on how they run pipeline reviews".
    pub goal: String,
    /// Notes about the contact or company the email may use.
    #[serde(default)]
    pub context: Option<String>,
    /// `trained` (the default): written after the operator's top-rated voice samples;
    /// `default`: the voice profile alone.
    #[serde(default)]
    #[schema(inline)]
    pub voice: Option<VoiceMode>,
}

/// Whether a draft follows the operator's top-rated voice samples.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoiceMode {
    #[default]
    Trained,
    Default,
}

/// Samples a trained draft follows at most.
const EXAMPLES: usize = 3;

/// What the samples teach a draft: the examples themselves (for the model) and the usual
/// greeting and sign-off (which the offline template uses too).
struct Trained {
    mode: VoiceMode,
    examples: Vec<VoiceExample>,
    greeting: Option<String>,
    sign_off: Option<String>,
}

impl Trained {
    /// No samples: the default voice.
    #[cfg(test)]
    fn none() -> Trained {
        Trained {
            mode: VoiceMode::Default,
            examples: Vec::new(),
            greeting: None,
            sign_off: None,
        }
    }

    async fn load(mode: VoiceMode, ctx: &Ctx<'_>) -> Result<Trained, AgentError> {
        let examples = match mode {
            VoiceMode::Default => Vec::new(),
            VoiceMode::Trained => ctx
                .examples
                .top_rated(EXAMPLES)
                .await
                .map_err(|e| AgentError::new("voice.read_failed", e, true))?,
        };
        let samples: Vec<(&str, Option<u8>)> = examples
            .iter()
            .map(|e| (e.content.as_str(), Some(e.rating)))
            .collect();
        let traits = persona::traits(&samples);
        Ok(Trained {
            mode,
            examples,
            greeting: traits.greeting,
            sign_off: traits.sign_off,
        })
    }

    /// The examples for the model's instructions.
    fn prompt(&self, voice: &VoiceProfile) -> String {
        if self.examples.is_empty() {
            return String::new();
        }
        let mut text = format!(
            "\n\nHow {} writes (emails they rated as their voice; match their greeting, \
             sign-off, rhythm and word choice, not their content):",
            voice.sender_name
        );
        for example in &self.examples {
            text.push_str(&format!("\n---\n{}", example.content.trim()));
        }
        text.push_str("\n---");
        text
    }

    fn output(&self) -> serde_json::Value {
        let mut out = json!({
            "mode": self.mode,
            "samples_used": self.examples.len(),
            "sample_ids": self.examples.iter().map(|e| e.id).collect::<Vec<_>>(),
            "greeting": self.greeting,
            "sign_off": self.sign_off,
        });
        if self.mode == VoiceMode::Trained && self.examples.is_empty() {
            out["note"] = json!("no voice samples rated 4 or 5 yet: written in the default voice");
        }
        out
    }
}

pub fn example() -> serde_json::Value {
    json!({
        "contact_name": "Dana Whitfield",
        "contact_email": "dana.whitfield@northwind.example",
        "contact_id": "51234",
        "company": "Northwind Logistics",
        "contact_title": "VP of Sales",
        "goal": "compare notes on how Northwind runs pipeline reviews as the SDR team grows",
        "context": "Northwind doubled its SDR team this quarter and is hiring a sales ops lead."
    })
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .non_blank_text("contact_name", MAX_NAME_CHARS)
        .field_rules("contact_email", contact::email_schema())
        .field_rules("contact_id", contact::crm_id_schema())
        .text("company", MAX_NAME_CHARS)
        .text("contact_title", MAX_NAME_CHARS)
        .non_blank_text("goal", MAX_GOAL_CHARS)
        .text("context", MAX_CONTEXT_CHARS)
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
    optional_text(
        &mut errors,
        "company",
        input.company.as_deref(),
        MAX_NAME_CHARS,
    );
    optional_text(
        &mut errors,
        "contact_title",
        input.contact_title.as_deref(),
        MAX_NAME_CHARS,
    );
    required_text(&mut errors, "goal", &input.goal, MAX_GOAL_CHARS);
    optional_text(
        &mut errors,
        "context",
        input.context.as_deref(),
        MAX_CONTEXT_CHARS,
    );
    errors
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let contact = Contact::parse(
        "contact_email",
        &input.contact_email,
        input.contact_id.as_deref(),
    )
    .map_err(|(field, m)| AgentError::new("request.validation", format!("{field} {m}"), false))?;
    let to = &contact.email;

    let trained = Trained::load(input.voice.unwrap_or_default(), ctx).await?;
    let prompt = Prompt {
        system: format!("{}{}", system_prompt(ctx.voice), trained.prompt(ctx.voice)),
        user: facts(&input),
        max_tokens: MAX_TOKENS,
    };
    let written = ctx
        .write(&prompt, || offline_draft(&input, ctx.voice, &trained))
        .await?;
    let (subject, body) = finish_outreach(
        &written.text,
        &default_subject(&input, ctx.voice),
        ctx.voice,
    );

    let report = validation::review(&subject, &body, ctx.voice);
    report.require_approved("the draft")?;

    let proposal = Proposal {
        action_type: ActionType::SendEmail,
        title: Some(format!("Email {}: {subject}", input.contact_name.trim())),
        target: contact.target(input.contact_name.trim()),
        payload: json!({"to": to.as_str(), "subject": subject, "body": body}),
        due_by: None,
        aps: ApsOverrides::default(),
        rationale: Some(rationale(&input.goal, &report)),
        draft: Some(written.draft()),
    };
    let output = json!({
        "draft": {"to": to.as_str(), "subject": subject, "body": body},
        "validation": report,
        "writer": written.writer(),
        "voice": trained.output(),
    });
    Ok(Outcome {
        output,
        text: Some(draft_markdown(
            to.as_str(),
            &subject,
            &body,
            written.offline,
        )),
        proposals: vec![proposal],
        effects: Vec::new(),
    })
}

/// Parses what was written, enforces the voice and adds the opt-out line.
fn finish_outreach(text: &str, fallback_subject: &str, voice: &VoiceProfile) -> (String, String) {
    let (subject, body) = parse_email(text);
    let subject = fit_subject(
        &clean_punctuation(subject.as_deref().unwrap_or(fallback_subject), voice),
        voice.max_subject_chars,
    );
    let mut body = apply_voice(&body, voice);
    if !words::contains(&body, validation::UNSUBSCRIBE_WORD) {
        body = format!("{body}\n\n{UNSUBSCRIBE_LINE}");
    }
    (subject, body)
}

fn rationale(goal: &str, report: &ValidationReport) -> String {
    format!(
        "Outreach drafted to {}. {}",
        goal_clause(goal),
        report.approval_note()
    )
}

fn draft_markdown(to: &str, subject: &str, body: &str, offline: bool) -> String {
    let note = if offline {
        "\n\n_Written by the offline template (no language model configured)._"
    } else {
        ""
    };
    format!("**To:** {to}\n**Subject:** {subject}\n\n{body}{note}")
}

fn system_prompt(voice: &VoiceProfile) -> String {
    format!(
        "{}\n\nYou write one cold outreach email.\n\
         Answer with exactly: a first line `Subject: <subject>`, a blank line, then the body \
         (a greeting with their first name, at most {} short paragraphs, then sign as {}).\n\
         Do not add an unsubscribe line; it is appended automatically.\n\
         Never use these words: {}. Avoid pressure words: {}.\n{}",
        voice.instructions(),
        voice.max_paragraphs,
        voice.sender_name,
        validation::PROHIBITED_WORDS.join(", "),
        validation::AGGRESSIVE_WORDS.join(", "),
        cta_instruction(voice),
    )
}

/// Tells the model which call to action to use.
pub(crate) fn cta_instruction(voice: &VoiceProfile) -> String {
    match &voice.calendar_link {
        Some(link) => format!("The one call to action offers this booking link: {link}"),
        None => "The one call to action asks for a short call.".to_string(),
    }
}

/// The facts for the model. The email address stays out of the prompt.
fn facts(input: &Input) -> String {
    let mut lines = vec![format!("Contact: {}", input.contact_name.trim())];
    if let Some(title) = non_blank(input.contact_title.as_deref()) {
        lines.push(format!("Title: {title}"));
    }
    if let Some(company) = non_blank(input.company.as_deref()) {
        lines.push(format!("Company: {company}"));
    }
    lines.push(format!("Goal of the email: {}", input.goal.trim()));
    if let Some(context) = non_blank(input.context.as_deref()) {
        lines.push(format!("Notes: {context}"));
    }
    lines.join("\n")
}

/// The deterministic draft. It states only what the input says, in fixed neutral phrasing:
/// the notes given about them (their first sentences, as written), who they are and what
/// the email is for, then one call to action. It makes no claim of its own: no "I've been
/// following", no compliments, nothing the sender did not say.
fn offline_draft(input: &Input, voice: &VoiceProfile, trained: &Trained) -> String {
    let mut paragraphs = Vec::new();
    if let Some(notes) = non_blank(input.context.as_deref()) {
        paragraphs.push(sentence(&first_sentences(notes, 2)));
    }
    paragraphs.push(purpose(
        input.contact_title.as_deref(),
        input.company.as_deref(),
        &input.goal,
    ));
    paragraphs.push(call_to_action(voice));
    let greeting = match &trained.greeting {
        Some(word) => format!("{word} {}", first_name(&input.contact_name)),
        None => first_name(&input.contact_name).to_string(),
    };
    let signature = match &trained.sign_off {
        Some(sign_off) => format!("{sign_off}\n{}", voice.sender_name),
        None => voice.sender_name.clone(),
    };
    format!(
        "Subject: {}\n\n{greeting},\n\n{}\n\n{signature}",
        default_subject(input, voice),
        paragraphs.join("\n\n"),
    )
}

/// Why the email is written, addressed to who they are: "I'm writing to you in your role as
/// VP Sales at Acme to compare notes on pipeline reviews."
fn purpose(title: Option<&str>, company: Option<&str>, goal: &str) -> String {
    let to_you = match (non_blank(title), non_blank(company)) {
        (Some(title), Some(company)) => format!(" to you in your role as {title} at {company}"),
        (Some(title), None) => format!(" to you in your role as {title}"),
        (None, Some(company)) => format!(" to you at {company}"),
        (None, None) => String::new(),
    };
    format!("I'm writing{to_you} to {}.", goal_clause(goal))
}

/// The subject used when none was written: their first name, and their company or the
/// sender's name.
fn default_subject(input: &Input, voice: &VoiceProfile) -> String {
    let first = first_name(&input.contact_name);
    match non_blank(input.company.as_deref()) {
        Some(company) => format!("{first}, about {company}"),
        None => format!("{first}, a note from {}", voice.sender_name.trim()),
    }
}

/// The one call to action: the booking link when the profile has one.
pub(crate) fn call_to_action(voice: &VoiceProfile) -> String {
    match non_blank(voice.calendar_link.as_deref()) {
        Some(link) => format!("If it's worth 20 minutes, pick a time that suits you: {link}"),
        None => CTA_WITHOUT_LINK.to_string(),
    }
}

/// The goal as a clause after "to": no leading "to", no final stop, lower-cased first letter
/// unless it starts an acronym or name.
pub(crate) fn goal_clause(goal: &str) -> String {
    let goal = goal.trim().trim_end_matches(['.', '!', '?']).trim();
    let goal = goal
        .strip_prefix("to ")
        .or_else(|| goal.strip_prefix("To "))
        .unwrap_or(goal);
    let mut chars = goal.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain(goal.chars().skip(1)).collect()
        }
        _ => goal.to_string(),
    }
}

/// `Dana` from `Dana Whitfield`.
pub(crate) fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or("there")
}

pub(crate) fn non_blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Text with a capital first letter and a final full stop.
pub(crate) fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// `a, b and c`.
pub(crate) fn join_list(items: &[impl AsRef<str>]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [rest @ .., last] => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", rest.join(", "), last.as_ref())
        }
    }
}

/// The first `n` sentences of `text`.
pub(crate) fn first_sentences(text: &str, n: usize) -> String {
    sentences(text)
        .into_iter()
        .take(n)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The sentences of `text`: a sentence ends at `.`, `!` or `?` before a space, or at a line
/// break. Decimal points (`3.5`) do not end one.
pub(crate) fn sentences(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|(_, n)| *n);
        let ends = c == '\n'
            || (matches!(c, '.' | '!' | '?')
                && next.is_none_or(|n| n.is_whitespace() || n == '"' || n == '”' || n == ')'));
        if ends {
            let mut end = i + c.len_utf8();
            while let Some((j, n)) = chars.peek().copied() {
                if matches!(n, '.' | '!' | '?' | '"' | '”' | ')') {
                    end = j + n.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            found.push(text[start..end].trim());
            start = end;
        }
    }
    found.push(text[start..].trim());
    found.retain(|s| !s.is_empty());
    found
}

/// At most `max_chars` characters of `text`, cut at a word boundary (mid-word only when the
/// first word alone is too long).
pub(crate) fn clip_words(text: &str, max_chars: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= max_chars {
        return text;
    }
    let mut clipped = String::new();
    for word in text.split(' ') {
        let len = clipped.chars().count() + usize::from(!clipped.is_empty()) + word.chars().count();
        if len > max_chars {
            break;
        }
        if !clipped.is_empty() {
            clipped.push(' ');
        }
        clipped.push_str(word);
    }
    if clipped.is_empty() {
        clipped = text.chars().take(max_chars).collect();
    }
    clipped
}

/// Splits a written email into its subject (a first line `Subject: …`, with or without
/// markdown) and body. Code fences and a `Body:` label are dropped.
pub fn parse_email(text: &str) -> (Option<String>, String) {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("```"))
        .collect();
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let Some(start) = start else {
        return (None, String::new());
    };
    let first = lines[start]
        .trim()
        .trim_start_matches(['#', '*', '_', ' '])
        .trim();
    let subject = first
        .get(..8)
        .filter(|p| p.eq_ignore_ascii_case("subject:"))
        .map(|_| {
            first[8..]
                .trim()
                .trim_matches(['*', '_', '"', '“', '”', ' '])
                .to_string()
        })
        .filter(|s| !s.is_empty());
    let body_lines = if subject.is_some() {
        &lines[start + 1..]
    } else {
        &lines[start..]
    };
    let mut body = body_lines.join("\n").trim().to_string();
    if body
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("body:"))
    {
        body = body[5..].trim().to_string();
    }
    (subject, body)
}

/// A subject of at most `max_chars` characters (none when 0), cut at a word boundary.
pub fn fit_subject(subject: &str, max_chars: usize) -> String {
    let max_chars = if max_chars == 0 {
        usize::MAX
    } else {
        max_chars
    };
    clip_words(subject, max_chars)
        .trim_end_matches([',', ';', ':', '-', ' '])
        .to_string()
}

/// Removes the voice profile's prohibited punctuation: a run of a repeated mark (`!!`,
/// `???`) becomes one mark, a dash or semicolon becomes a comma, anything else is dropped.
pub fn clean_punctuation(text: &str, voice: &VoiceProfile) -> String {
    let mut text = text.replace("\r\n", "\n");
    for mark in voice
        .prohibited_punctuation
        .iter()
        .filter(|m| !m.is_empty())
    {
        let chars: Vec<char> = mark.chars().collect();
        text = if chars.len() >= 2 && chars.iter().all(|c| *c == chars[0]) {
            collapse_runs(&text, chars[0], chars.len())
        } else if chars.iter().all(|c| COMMA_LIKE.contains(c)) {
            join_with_comma(&text, mark)
        } else {
            text.replace(mark.as_str(), "")
        };
    }
    text
}

/// Runs of `mark` at least `min` long become a single `mark`.
fn collapse_runs(text: &str, mark: char, min: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = 0;
    for c in text.chars().chain(std::iter::once('\0')) {
        if c == mark {
            run += 1;
            continue;
        }
        if run > 0 {
            let keep = if run >= min { 1 } else { run };
            out.extend(std::iter::repeat_n(mark, keep));
            run = 0;
        }
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// `a — b` becomes `a, b`; a mark at the start of a line or after other punctuation is dropped.
fn join_with_comma(text: &str, mark: &str) -> String {
    let mut pieces = text.split(mark);
    let mut out = pieces.next().unwrap_or_default().to_string();
    for piece in pieces {
        let left = out.trim_end_matches([' ', '\t']).len();
        out.truncate(left);
        let piece = piece.trim_start_matches([' ', '\t']);
        let joiner = match out.chars().last() {
            None | Some('\n') => "",
            Some(c) if c.is_ascii_punctuation() => " ",
            Some(_) if piece.is_empty() || piece.starts_with(['\n', ',', '.']) => "",
            Some(_) => ", ",
        };
        out.push_str(joiner);
        out.push_str(piece);
    }
    out
}

/// Enforces the voice on a written body: prohibited punctuation removed, a P.S. dropped
/// unless the profile wants one, and at most `max_paragraphs` paragraphs between the
/// greeting and the sign-off.
pub fn apply_voice(body: &str, voice: &VoiceProfile) -> String {
    let cleaned = clean_punctuation(body, voice);
    let mut blocks: Vec<String> = cleaned
        .split("\n\n")
        .map(|b| {
            b.lines()
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_string()
        })
        .filter(|b| !b.is_empty())
        .collect();
    if !voice.include_ps {
        blocks.retain(|b| !is_postscript(b));
    }
    let is_frame = |b: &String| words::tokens(b).len() <= MAX_FRAME_WORDS;
    let greeting =
        (blocks.len() > 1 && is_frame(&blocks[0]) && blocks[0].trim_end().ends_with([',', ':']))
            .then(|| blocks.remove(0));
    let is_sign_off = |b: &String| is_frame(b) && !b.trim_end().ends_with(['.', '?', '!']);
    let sign_off = (blocks.len() > 1 && blocks.last().is_some_and(is_sign_off))
        .then(|| blocks.pop())
        .flatten();
    blocks.truncate(voice.max_paragraphs.max(1));
    greeting
        .into_iter()
        .chain(blocks)
        .chain(sign_off)
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn is_postscript(block: &str) -> bool {
    let start: String = block
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(4)
        .collect::<String>()
        .to_ascii_lowercase();
    start.starts_with("p.s") || start.starts_with("ps:") || start.starts_with("pps")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::testing::{fake_provider, first_prompt, Harness};
    use caseyos_domain::queue::Draft;
    use wiremock::ResponseTemplate;

    fn input() -> Input {
        serde_json::from_value(example()).expect("example parses")
    }

    #[test]
    fn a_trained_draft_takes_the_samples_greeting_and_sign_off_and_a_default_one_does_not() {
        let voice = VoiceProfile::default();
        let sample = "Hey Sam,\n\nSaw the hiring news. Curious how you run reviews now?\n\nTalk soon,\nCasey";
        let trained = Trained {
            mode: VoiceMode::Trained,
            examples: vec![VoiceExample {
                id: uuid::Uuid::from_u128(1),
                content: sample.into(),
                rating: 5,
            }],
            greeting: Some("Hey".into()),
            sign_off: Some("Talk soon,".into()),
        };
        let (_, body) = finish_outreach(&offline_draft(&input(), &voice, &trained), "x", &voice);
        assert!(body.starts_with("Hey Dana,\n\n"), "{body}");
        assert!(body.contains("\n\nTalk soon,\nCasey"), "{body}");
        let (subject, default_body) = finish_outreach(
            &offline_draft(&input(), &voice, &Trained::none()),
            "x",
            &voice,
        );
        assert!(default_body.starts_with("Dana,\n\n"), "{default_body}");
        assert!(!default_body.contains("Talk soon"), "{default_body}");
        let report = validation::review(&subject, &body, &voice);
        assert!(report.approved, "{report:?}");
        let prompt = trained.prompt(&voice);
        assert!(prompt.contains(sample), "{prompt}");
        assert_eq!(Trained::none().prompt(&voice), "");
        assert_eq!(trained.output()["samples_used"], 1);
        assert_eq!(trained.output()["mode"], "trained");
    }

    #[test]
    fn prohibited_punctuation_is_replaced_not_just_flagged() {
        let voice = VoiceProfile::default();
        let table = [
            ("Dana — quick question", "Dana, quick question"),
            ("Dana—quick question", "Dana, quick question"),
            ("— a list item", "a list item"),
            ("Done. — next", "Done. next"),
            ("Great news!!", "Great news!"),
            ("Great news!!!!", "Great news!"),
            ("Really???", "Really?"),
            ("Really??", "Really??"),
            ("One! Two?", "One! Two?"),
            ("no marks here", "no marks here"),
        ];
        for (text, expected) in table {
            assert_eq!(clean_punctuation(text, &voice), expected, "{text:?}");
        }
    }

    #[test]
    fn other_prohibited_marks_follow_the_profile() {
        let voice = VoiceProfile {
            prohibited_punctuation: vec![";".into(), "...".into(), "(".into()],
            ..VoiceProfile::default()
        };
        let table = [
            ("soon; later", "soon, later"),
            ("well... maybe", "well. maybe"),
            ("a (b", "a b"),
            ("keep — this", "keep — this"),
        ];
        for (text, expected) in table {
            assert_eq!(clean_punctuation(text, &voice), expected, "{text:?}");
        }
    }

    #[test]
    fn apply_voice_keeps_greeting_and_sign_off_and_trims_paragraphs() {
        let voice = VoiceProfile::default();
        let table = [
            (
                "Dana,\n\nOne.\n\nTwo.\n\nThree.\n\nFour.\n\nCasey",
                "Dana,\n\nOne.\n\nTwo.\n\nThree.\n\nCasey",
            ),
            ("One.\n\nTwo.\n\nThree.\n\nFour.", "One.\n\nTwo.\n\nThree."),
            (
                "Dana,\n\nOne — really!!\n\nBest,\nCasey\n\nP.S. A postscript.",
                "Dana,\n\nOne, really!\n\nBest,\nCasey",
            ),
            (
                "Dana,\r\n\r\nOne.  \r\n\r\n\r\nCasey",
                "Dana,\n\nOne.\n\nCasey",
            ),
            ("Just one paragraph.", "Just one paragraph."),
        ];
        for (body, expected) in table {
            assert_eq!(apply_voice(body, &voice), expected, "{body:?}");
        }
    }

    #[test]
    fn a_profile_that_wants_a_postscript_keeps_it() {
        let voice = VoiceProfile {
            include_ps: true,
            max_paragraphs: 5,
            ..VoiceProfile::default()
        };
        assert_eq!(
            apply_voice("Dana,\n\nOne.\n\nCasey\n\nP.S. Still here.", &voice),
            "Dana,\n\nOne.\n\nCasey\n\nP.S. Still here."
        );
    }

    #[test]
    fn written_emails_are_split_into_subject_and_body() {
        let table = [
            ("Subject: Hello\n\nBody text", Some("Hello"), "Body text"),
            ("subject:   Hello  \nBody text", Some("Hello"), "Body text"),
            (
                "**Subject:** Hello\n\nBody text",
                Some("Hello"),
                "Body text",
            ),
            (
                "```\nSubject: \"Hello\"\n\nBody: Body text\n```",
                Some("Hello"),
                "Body text",
            ),
            (
                "\n\nDana,\n\nNo subject here",
                None,
                "Dana,\n\nNo subject here",
            ),
            ("Subject:\n\nBody only", None, "Subject:\n\nBody only"),
            ("", None, ""),
        ];
        for (text, subject, body) in table {
            let (s, b) = parse_email(text);
            assert_eq!((s.as_deref(), b.as_str()), (subject, body), "{text:?}");
        }
    }

    #[test]
    fn subjects_are_cut_at_a_word_boundary() {
        let table = [
            ("Short one", 60, "Short one"),
            (
                "Dana,   a question  about Northwind",
                60,
                "Dana, a question about Northwind",
            ),
            (
                "Dana, a question about Northwind Logistics and more",
                30,
                "Dana, a question about",
            ),
            ("Supercalifragilistic", 5, "Super"),
            ("Dana, a question: about", 17, "Dana, a question"),
        ];
        for (subject, max, expected) in table {
            assert_eq!(fit_subject(subject, max), expected, "{subject:?}");
        }
    }

    #[test]
    fn text_is_split_into_sentences() {
        let table: [(&str, &[&str]); 6] = [
            ("One. Two? Three!", &["One.", "Two?", "Three!"]),
            ("Costs 3.5k. Next", &["Costs 3.5k.", "Next"]),
            ("Really?! Yes.", &["Really?!", "Yes."]),
            ("Line one\nLine two", &["Line one", "Line two"]),
            (
                "He said \"go.\" Then left.",
                &["He said \"go.\"", "Then left."],
            ),
            ("  ", &[]),
        ];
        for (text, expected) in table {
            assert_eq!(sentences(text), expected, "{text:?}");
        }
    }

    #[test]
    fn goals_read_as_a_clause_after_to() {
        let table = [
            ("Book a call.", "book a call"),
            ("to book a call", "book a call"),
            ("ROI review with their CFO", "ROI review with their CFO"),
            ("  compare notes  ", "compare notes"),
        ];
        for (goal, expected) in table {
            assert_eq!(goal_clause(goal), expected, "{goal:?}");
        }
    }

    #[test]
    fn the_offline_draft_is_built_from_the_facts_and_passes_validation() {
        let voice = VoiceProfile::default();
        let input = input();
        let (subject, body) = finish_outreach(
            &offline_draft(&input, &voice, &Trained::none()),
            "unused",
            &voice,
        );
        assert_eq!(subject, "Dana, about Northwind Logistics");
        assert!(body.starts_with("Dana,\n\nNorthwind doubled its SDR team this quarter"));
        assert!(body.contains(
            "I'm writing to you in your role as VP of Sales at Northwind Logistics to compare notes on how \
             Northwind runs pipeline reviews"
        ));
        assert!(body.contains(CTA_WITHOUT_LINK));
        assert!(body.ends_with(UNSUBSCRIBE_LINE));
        let report = validation::review(&subject, &body, &voice);
        assert!(report.approved && report.issues.is_empty(), "{report:?}");
    }

    #[test]
    fn the_purpose_names_who_they_are_only_as_the_input_says() {
        let table = [
            (
                Some("VP Sales"),
                Some("Acme"),
                "I'm writing to you in your role as VP Sales at Acme to compare notes.",
            ),
            (
                None,
                Some("Acme"),
                "I'm writing to you at Acme to compare notes.",
            ),
            (
                Some("VP Sales"),
                None,
                "I'm writing to you in your role as VP Sales to compare notes.",
            ),
            (Some(" "), None, "I'm writing to compare notes."),
            (None, None, "I'm writing to compare notes."),
        ];
        for (title, company, expected) in table {
            assert_eq!(purpose(title, company, "Compare notes."), expected);
        }
    }

    /// An input whose every field is a marker, so the draft shows exactly which words are
    /// the template's own.
    fn marked(title: bool, company: bool, context: bool) -> Input {
        Input {
            contact_name: "NAME1 SURNAME1".into(),
            contact_email: "n@example.com".into(),
            contact_id: None,
            company: company.then(|| "COMPANY1".into()),
            contact_title: title.then(|| "TITLE1".into()),
            goal: "GOAL1".into(),
            context: context.then(|| "CONTEXT1. CONTEXT2! CONTEXT3.".into()),
            voice: None,
        }
    }

    #[test]
    fn the_offline_template_interpolates_only_given_fields_into_fixed_neutral_phrasing() {
        let voice = VoiceProfile::default();
        let table = [
            (
                marked(true, true, true),
                "Subject: NAME1, about COMPANY1\n\nNAME1,\n\nCONTEXT1. CONTEXT2!\n\n\
                 I'm writing to you in your role as TITLE1 at COMPANY1 to GOAL1.\n\n\
                 Would a 20-minute call next week be worth it?\n\nCasey",
            ),
            (
                marked(false, true, false),
                "Subject: NAME1, about COMPANY1\n\nNAME1,\n\n\
                 I'm writing to you at COMPANY1 to GOAL1.\n\n\
                 Would a 20-minute call next week be worth it?\n\nCasey",
            ),
            (
                marked(true, false, false),
                "Subject: NAME1, a note from Casey\n\nNAME1,\n\n\
                 I'm writing to you in your role as TITLE1 to GOAL1.\n\n\
                 Would a 20-minute call next week be worth it?\n\nCasey",
            ),
            (
                marked(false, false, false),
                "Subject: NAME1, a note from Casey\n\nNAME1,\n\nI'm writing to GOAL1.\n\n\
                 Would a 20-minute call next week be worth it?\n\nCasey",
            ),
        ];
        for (input, expected) in table {
            assert_eq!(
                offline_draft(&input, &voice, &Trained::none()),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn offline_drafts_claim_nothing_the_input_does_not_say() {
        let linked = VoiceProfile {
            calendar_link: Some("https://cal.example/casey".into()),
            ..VoiceProfile::default()
        };
        let companies = [None, Some("Northwind Logistics"), Some("Acme")];
        let titles = [None, Some("VP of Sales"), Some("Head of RevOps")];
        let contexts = [None, Some("They opened two new warehouses in March.")];
        for company in companies {
            for title in titles {
                for context in contexts {
                    for voice in [VoiceProfile::default(), linked.clone()] {
                        let input = Input {
                            company: company.map(Into::into),
                            contact_title: title.map(Into::into),
                            context: context.map(Into::into),
                            ..input()
                        };
                        let (subject, body) = finish_outreach(
                            &offline_draft(&input, &voice, &Trained::none()),
                            "unused",
                            &voice,
                        );
                        let text = format!("{subject}\n{body}").to_lowercase();
                        for claim in crate::words::INVENTED_CLAIMS {
                            assert!(!text.contains(claim), "{claim:?} in\n{text}");
                        }
                        let report = validation::review(&subject, &body, &voice);
                        assert!(report.approved, "{report:?}\n{text}");
                    }
                }
            }
        }
    }

    #[test]
    fn the_call_to_action_offers_the_calendar_link_when_set() {
        let voice = VoiceProfile {
            calendar_link: Some("https://cal.example/casey".into()),
            ..VoiceProfile::default()
        };
        let draft = offline_draft(&input(), &voice, &Trained::none());
        assert!(draft.contains("pick a time that suits you: https://cal.example/casey"));
        assert!(!draft.contains(CTA_WITHOUT_LINK));
    }

    #[test]
    fn check_names_every_bad_field() {
        let input: Input = serde_json::from_value(json!({
            "contact_name": " ",
            "contact_email": "not-an-email",
            "contact_id": "has spaces",
            "goal": "",
            "context": "x".repeat(MAX_CONTEXT_CHARS + 1)
        }))
        .expect("parses");
        let fields: Vec<String> = check(&input).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "input.contact_name",
                "input.contact_email",
                "input.contact_id",
                "input.goal",
                "input.context"
            ]
        );
    }

    #[tokio::test]
    async fn offline_it_proposes_a_send_email_move_to_the_contact() {
        let harness = Harness::offline();
        let outcome = run(input(), &harness.ctx()).await.expect("runs");

        assert_eq!(outcome.output["writer"], "offline");
        assert_eq!(outcome.output["validation"]["approved"], true);
        let proposal = &outcome.proposals[0];
        assert_eq!(proposal.action_type, ActionType::SendEmail);
        assert_eq!(proposal.payload["to"], "dana.whitfield@northwind.example");
        assert_eq!(
            proposal.payload["subject"],
            outcome.output["draft"]["subject"]
        );
        assert_eq!(proposal.payload["body"], outcome.output["draft"]["body"]);
        let contact = proposal.target.contact.as_ref().expect("contact target");
        assert_eq!(contact.id.as_str(), "51234");
        assert!(proposal
            .rationale
            .as_deref()
            .unwrap_or_default()
            .contains("compare notes"));
        assert!(outcome
            .text
            .unwrap_or_default()
            .contains("offline template"));
        assert_eq!(proposal.draft, Some(Draft::offline_template()));
    }

    #[tokio::test]
    async fn without_a_contact_id_the_move_has_no_contact_target_but_keeps_the_address() {
        let harness = Harness::offline();
        let mut input = input();
        input.contact_id = None;
        let outcome = run(input, &harness.ctx()).await.expect("runs");
        assert!(outcome.proposals[0].target.is_empty());
        assert_eq!(
            outcome.proposals[0].payload["to"],
            "dana.whitfield@northwind.example"
        );
    }

    #[tokio::test]
    async fn a_model_draft_is_voiced_given_an_unsubscribe_line_and_marked_as_llm() {
        let written = "Subject: Pipeline reviews — a thought\n\nDana,\n\nYou doubled the SDR team — congrats!!\n\nTwo.\n\nThree.\n\nFour.\n\nCasey";
        let (server, harness) = Harness::answering(written).await;
        let ctx = harness.ctx();

        let outcome = run(input(), &ctx).await.expect("runs");

        assert_eq!(outcome.output["writer"], "llm");
        assert_eq!(
            outcome.proposals[0].draft,
            Some(Draft::llm(Some("test-model-2026".into())))
        );
        assert_eq!(
            outcome.output["draft"]["subject"],
            "Pipeline reviews, a thought"
        );
        assert_eq!(
            outcome.output["draft"]["body"],
            format!("Dana,\n\nYou doubled the SDR team, congrats!\n\nTwo.\n\nThree.\n\nCasey\n\n{UNSUBSCRIBE_LINE}")
        );
        assert_eq!(ctx.usage().calls, 1);
        let (system, user) = first_prompt(&server).await;
        assert!(user.contains("Goal of the email: compare notes"));
        assert!(
            !user.contains("dana.whitfield@"),
            "the address stays out of the prompt"
        );
        assert!(system.contains("Never use these words: guarantee"));
    }

    #[tokio::test]
    async fn a_model_draft_that_validation_rejects_is_not_proposed() {
        let (_server, harness) = Harness::answering(
            "Subject: Results\n\nDana,\n\nWe guarantee a 30% lift in pipeline within a quarter.\n\nCasey",
        )
        .await;

        let error = run(input(), &harness.ctx()).await.unwrap_err();

        assert_eq!(error.code, "draft.invalid");
        assert!(error.retryable);
        assert!(error.message.contains("\"guarantee\""), "{}", error.message);
    }

    #[tokio::test]
    async fn a_model_failure_is_the_run_error() {
        let server = fake_provider(ResponseTemplate::new(401)).await;
        let harness = Harness::llm(&server.uri());

        let error = run(input(), &harness.ctx()).await.unwrap_err();

        assert_eq!(error.code, "llm.unauthorized");
    }
}
