//! Repurpose: turns one piece of content into a LinkedIn post, an X thread, an email and a
//! newsletter section.
//!
//! The seed asked a model per format and, without one, returned placeholder text. Here each
//! format is written by the model or, without one, by a deterministic extractive summarizer
//! ([`rank_sentences`]: sentences scored by the frequency of their words and their
//! position). Each format's real limits are enforced on whatever was written: LinkedIn at
//! most 3,000 characters, X posts at most 280 characters (counted as characters, not
//! bytes), the email at most 200 words, the newsletter 3–5 key points.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::draft_writer::{clean_punctuation, clip_words, fit_subject, parse_email, sentences};
use crate::schema::{self, InputSchema, WHITESPACE};
use crate::text_fields::{is_blank, optional_text};
use crate::voice::VoiceProfile;
use crate::{field_error, words, AgentError, Ctx, Outcome, Prompt};

pub const NAME: &str = "Repurpose";
pub const DOMAIN: AgentDomain = AgentDomain::Content;
pub const DESCRIPTION: &str =
    "Turns a piece of content into a LinkedIn post, an X thread, an email and a newsletter section.";
pub const USES_LLM: bool = true;
pub const PROPOSES_MOVES: bool = false;

/// Accepted content length, in characters.
pub const CONTENT_CHARS: RangeInclusive<usize> = 100..=50_000;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_URL_CHARS: usize = 2_048;
pub const LINKEDIN_MAX_CHARS: usize = 3_000;
/// Key points in the offline LinkedIn post.
const LINKEDIN_POINTS: usize = 5;
pub const X_POST_MAX_CHARS: usize = 280;
/// Room kept in each post for its `12/12 ` number.
const X_NUMBER_CHARS: usize = 6;
pub const X_MAX_POSTS: usize = 12;
/// Key points in the offline thread (after the hook).
const X_POINTS: usize = 6;
pub const EMAIL_MAX_WORDS: usize = 200;
pub const EMAIL_SUBJECT_MAX_CHARS: usize = 60;
/// Bullets in the offline email.
const EMAIL_POINTS: usize = 3;
pub const NEWSLETTER_TITLE_MAX_CHARS: usize = 80;
/// Sentences in the newsletter's summary paragraph.
const NEWSLETTER_SUMMARY_SENTENCES: usize = 2;
pub const NEWSLETTER_POINTS: RangeInclusive<usize> = 3..=5;
/// Sentences shorter than this are not picked as key points (headings, fragments).
const MIN_POINT_WORDS: usize = 5;
/// The first sentence (usually the thesis) weighs this much more, in percent; each
/// paragraph's first, this much.
const FIRST_SENTENCE_BONUS: u64 = 100;
const PARAGRAPH_START_BONUS: u64 = 20;
/// How much content a prompt carries, in characters.
const PROMPT_CONTENT_CHARS: usize = 24_000;
const MAX_TOKENS: u32 = 1_200;
/// Words that say nothing about the topic; they do not count towards a sentence's score.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "that", "this", "with", "you", "your", "are", "was", "were", "but", "not",
    "have", "has", "had", "from", "they", "their", "them", "its", "it's", "our", "ours", "will",
    "would", "can", "could", "should", "what", "when", "where", "which", "who", "how", "why",
    "all", "any", "more", "most", "some", "than", "then", "there", "these", "those", "into",
    "about", "over", "just", "also", "very", "one", "out", "only", "been", "being", "we're",
    "you're", "don't", "does", "did", "each", "every", "such", "because", "while",
];

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Linkedin,
    XThread,
    Email,
    Newsletter,
}

impl Format {
    pub const ALL: [Format; 4] = [
        Format::Linkedin,
        Format::XThread,
        Format::Email,
        Format::Newsletter,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Linkedin => "linkedin",
            Format::XThread => "x_thread",
            Format::Email => "email",
            Format::Newsletter => "newsletter",
        }
    }
}

/// Content to repurpose.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The text to repurpose: an article, post or transcript (100–50,000 characters).
    pub content: String,
    #[serde(default)]
    pub title: Option<String>,
    /// The formats to produce; all four when absent.
    #[serde(default)]
    #[schema(inline)]
    pub formats: Option<Vec<Format>>,
    /// Where the original lives; linked from each format.
    #[serde(default)]
    pub source_url: Option<String>,
}

impl Input {
    fn formats(&self) -> Vec<Format> {
        self.formats.clone().unwrap_or_else(|| Format::ALL.to_vec())
    }
}

pub fn example() -> serde_json::Value {
    json!({
        "title": "Shorter pipeline reviews",
        "content": "Most pipeline reviews run long because they try to do three jobs at once. They inspect deals, coach reps and produce a forecast, all in one meeting.\n\nSplit the jobs. Deal inspection belongs in a short async update that each rep writes before the meeting, with the next step, the date and the person who owns it.\n\nCoaching belongs in one-to-ones, where a rep can admit a deal is stuck without an audience. When coaching happens in the group review, reps defend deals instead of learning from them.\n\nThe forecast call then only covers the deals that changed stage, slipped a date or lost their next step. On a team of twelve that is usually six to eight deals, which fits in thirty minutes.\n\nTeams that made this change cut their review time in half within a quarter. They also caught slipping deals two weeks earlier, because the written updates made missing next steps visible.",
        "formats": ["linkedin", "x_thread", "email", "newsletter"],
        "source_url": "https://blog.example.com/shorter-pipeline-reviews"
    })
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .field_rules(
            "content",
            schema::non_blank_text(*CONTENT_CHARS.start(), *CONTENT_CHARS.end()),
        )
        .text("title", MAX_TITLE_CHARS)
        .field_rules("formats", json!({"minItems": 1, "uniqueItems": true}))
        .field_rules(
            "source_url",
            json!({
                "type": "string",
                "maxLength": MAX_URL_CHARS,
                "pattern": format!(r"^https?://[^\u0000{WHITESPACE}]+$"),
            }),
        )
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let chars = input.content.chars().count();
    if is_blank(&input.content) {
        errors.push(field_error("content", "must not be empty"));
    } else if !CONTENT_CHARS.contains(&chars) {
        errors.push(field_error(
            "content",
            format!(
                "must be {}–{} characters (it is {chars})",
                CONTENT_CHARS.start(),
                CONTENT_CHARS.end()
            ),
        ));
    }
    optional_text(
        &mut errors,
        "title",
        input.title.as_deref(),
        MAX_TITLE_CHARS,
    );
    if let Some(formats) = &input.formats {
        if formats.is_empty() {
            errors.push(field_error("formats", "must list at least one format"));
        }
        for (i, format) in formats.iter().enumerate() {
            if formats[..i].contains(format) {
                errors.push(field_error(
                    &format!("formats[{i}]"),
                    format!("lists {} twice", format.as_str()),
                ));
            }
        }
    }
    if let Some(url) = &input.source_url {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        let ok = rest.is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
            && url.chars().count() <= MAX_URL_CHARS;
        if !ok {
            errors.push(field_error(
                "source_url",
                format!(
                    "must be an http(s) URL without spaces, at most {MAX_URL_CHARS} characters"
                ),
            ));
        }
    }
    errors
}

/// A LinkedIn post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LinkedinPost {
    pub text: String,
    pub chars: usize,
}

/// An X thread: numbered posts, each at most [`X_POST_MAX_CHARS`] characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct XThread {
    pub posts: Vec<String>,
}

/// An email to subscribers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EmailVersion {
    pub subject: String,
    pub body: String,
    pub words: usize,
}

/// A newsletter section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewsletterSection {
    pub title: String,
    pub summary: String,
    pub key_points: Vec<String>,
    /// The source, linked after the key points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// Every format asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Repurposed {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linkedin: Option<LinkedinPost>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_thread: Option<XThread>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newsletter: Option<NewsletterSection>,
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let source = Source::new(&input);
    let mut out = Repurposed::default();
    let mut offline = true;
    for format in input.formats() {
        let prompt = Prompt {
            system: system_prompt(format, ctx.voice),
            user: source.prompt(),
            max_tokens: MAX_TOKENS,
        };
        let written = ctx.write(&prompt, || source.offline(format)).await?;
        offline = written.offline;
        let text = clean_punctuation(&written.text, ctx.voice);
        match format {
            Format::Linkedin => out.linkedin = Some(linkedin_from(&text)),
            Format::XThread => out.x_thread = Some(thread_from(&text)),
            Format::Email => out.email = Some(email_from(&text, &source)),
            Format::Newsletter => out.newsletter = Some(newsletter_from(&text, &source)),
        }
    }
    let writer = if offline { "offline" } else { "llm" };
    let markdown = markdown(&out, offline);
    Ok(Outcome {
        output: json!({"formats": out, "writer": writer}),
        text: Some(markdown),
        proposals: Vec::new(),
        effects: Vec::new(),
    })
}

fn system_prompt(format: Format, voice: &VoiceProfile) -> String {
    let shape = match format {
        Format::Linkedin => format!(
            "Write a LinkedIn post of at most {LINKEDIN_MAX_CHARS} characters: a one-line hook, \
             short paragraphs, and one question for readers at the end. Plain text."
        ),
        Format::XThread => format!(
            "Write an X thread of 3 to 8 posts. Put each post on its own line, starting with its \
             number like `1/`. Each post at most {} characters.",
            X_POST_MAX_CHARS - X_NUMBER_CHARS
        ),
        Format::Email => format!(
            "Write an email to subscribers: a first line `Subject: <subject>` (at most \
             {EMAIL_SUBJECT_MAX_CHARS} characters), a blank line, then a body of at most \
             {EMAIL_MAX_WORDS} words."
        ),
        Format::Newsletter => format!(
            "Write a newsletter section: the first line is its title starting with `# `, then \
             one summary paragraph, then {} to {} key points, each a line starting with `- `.",
            NEWSLETTER_POINTS.start(),
            NEWSLETTER_POINTS.end()
        ),
    };
    let mut rules = vec![
        format!(
            "You repurpose content written by {} (tone: {}).",
            voice.sender_name, voice.tone
        ),
        shape,
        "Use only facts from the content.".to_string(),
    ];
    rules.extend(voice.prohibitions());
    rules.join("\n")
}

/// The content, its ranked sentences and what every format shares.
struct Source<'a> {
    content: &'a str,
    title: Option<&'a str>,
    url: Option<&'a str>,
    sentences: Vec<&'a str>,
    /// Indices into `sentences`, best first.
    ranked: Vec<usize>,
}

impl<'a> Source<'a> {
    fn new(input: &'a Input) -> Self {
        let content = input.content.trim();
        let ranked_sentences = rank_sentences(content);
        Source {
            content,
            title: input
                .title
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty()),
            url: input.source_url.as_deref(),
            sentences: ranked_sentences.sentences,
            ranked: ranked_sentences.ranked,
        }
    }

    fn prompt(&self) -> String {
        let mut lines = Vec::new();
        if let Some(title) = self.title {
            lines.push(format!("Title: {title}"));
        }
        if let Some(url) = self.url {
            lines.push(format!("Link to include: {url}"));
        }
        let content: String = self.content.chars().take(PROMPT_CONTENT_CHARS).collect();
        lines.push(String::new());
        lines.push(content);
        lines.join("\n")
    }

    /// The `n` best sentences after skipping `skip`, in document order.
    fn points(&self, skip: usize, n: usize) -> Vec<&'a str> {
        let mut picked: Vec<usize> = self.ranked.iter().copied().skip(skip).take(n).collect();
        picked.sort_unstable();
        picked.into_iter().map(|i| self.sentences[i]).collect()
    }

    /// The hook: the title, or the best sentence.
    fn hook(&self) -> String {
        self.title
            .map(str::to_string)
            .or_else(|| self.points(0, 1).first().map(|s| s.to_string()))
            .unwrap_or_default()
    }

    /// Best sentences to use after the hook (the best one is the hook without a title).
    fn after_hook(&self) -> usize {
        usize::from(self.title.is_none())
    }

    fn offline(&self, format: Format) -> String {
        match format {
            Format::Linkedin => self.offline_linkedin(),
            Format::XThread => self.offline_thread(),
            Format::Email => self.offline_email(),
            Format::Newsletter => self.offline_newsletter(),
        }
    }

    /// The hook, then the `n` best sentences after it, in document order.
    fn hook_and_points(&self, n: usize) -> Vec<String> {
        let mut blocks = vec![self.hook()];
        blocks.extend(
            self.points(self.after_hook(), n)
                .into_iter()
                .map(str::to_string),
        );
        blocks
    }

    fn offline_linkedin(&self) -> String {
        let mut blocks = self.hook_and_points(LINKEDIN_POINTS);
        blocks.push("How does your team handle this?".to_string());
        if let Some(url) = self.url {
            blocks.push(format!("Full piece: {url}"));
        }
        blocks.join("\n\n")
    }

    fn offline_thread(&self) -> String {
        let mut posts = self.hook_and_points(X_POINTS);
        if let Some(url) = self.url {
            posts.push(format!("Full piece: {url}"));
        }
        posts.join("\n\n")
    }

    fn offline_email(&self) -> String {
        let subject = self.hook();
        let lead = self
            .points(0, 1)
            .first()
            .map(|s| s.to_string())
            .unwrap_or_default();
        let bullets: Vec<String> = self
            .points(1, EMAIL_POINTS)
            .into_iter()
            .map(|p| format!("- {p}"))
            .collect();
        let mut body = vec![lead];
        if !bullets.is_empty() {
            body.push(format!("The short version:\n{}", bullets.join("\n")));
        }
        if let Some(url) = self.url {
            body.push(format!("Read the full piece: {url}"));
        }
        format!("Subject: {subject}\n\n{}", body.join("\n\n"))
    }

    fn offline_newsletter(&self) -> String {
        let summary = self.points(0, NEWSLETTER_SUMMARY_SENTENCES).join(" ");
        let points = self.newsletter_points(&[]);
        let mut text = format!("# {}\n\n{summary}\n", self.hook());
        for point in points {
            text.push_str(&format!("\n- {point}"));
        }
        text
    }

    /// Key points for the newsletter: `have` first, then the best sentences after the
    /// summary, then clauses of longer sentences, until there are at least the minimum.
    fn newsletter_points(&self, have: &[String]) -> Vec<String> {
        let mut points: Vec<String> = have.to_vec();
        let want = *NEWSLETTER_POINTS.end();
        let mut candidates: Vec<String> = self
            .points(NEWSLETTER_SUMMARY_SENTENCES, want)
            .into_iter()
            .map(str::to_string)
            .collect();
        candidates.extend(self.sentences.iter().flat_map(|s| clauses(s)));
        for candidate in candidates {
            if points.len() >= *NEWSLETTER_POINTS.start() && !have.is_empty() {
                break;
            }
            if points.len() >= want {
                break;
            }
            if !points.iter().any(|p| p.eq_ignore_ascii_case(&candidate)) {
                points.push(candidate);
            }
        }
        points.truncate(want);
        points
    }
}

/// Sentences of a text, and their order by score.
pub struct RankedSentences<'a> {
    pub sentences: Vec<&'a str>,
    /// Indices into `sentences`, best first; sentences shorter than [`MIN_POINT_WORDS`]
    /// come last.
    pub ranked: Vec<usize>,
}

/// Scores sentences by the average content-word frequency of their words, with a bonus
/// for the first sentence and for each paragraph's first; ties keep document order.
pub fn rank_sentences(text: &str) -> RankedSentences<'_> {
    let mut all = Vec::new();
    let mut paragraph_starts = Vec::new();
    for paragraph in text.split("\n\n") {
        let found: Vec<&str> = sentences(paragraph)
            .into_iter()
            .map(strip_marker)
            .filter(|s| !s.is_empty())
            .collect();
        if !found.is_empty() {
            paragraph_starts.push(all.len());
        }
        all.extend(found);
    }
    let mut frequency: HashMap<String, u64> = HashMap::new();
    for token in content_words(text) {
        *frequency.entry(token).or_default() += 1;
    }
    let mut scored: Vec<(bool, u64, usize)> = all
        .iter()
        .enumerate()
        .map(|(i, sentence)| {
            let tokens = content_words(sentence);
            let sum: u64 = tokens
                .iter()
                .map(|t| frequency.get(t).copied().unwrap_or(0))
                .sum();
            let mean_milli = sum * 1_000 / (tokens.len() as u64 + 1);
            let bonus = if i == 0 {
                FIRST_SENTENCE_BONUS
            } else if paragraph_starts.contains(&i) {
                PARAGRAPH_START_BONUS
            } else {
                0
            };
            let long_enough = words::tokens(sentence).len() >= MIN_POINT_WORDS;
            (long_enough, mean_milli * (100 + bonus) / 100, i)
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    RankedSentences {
        sentences: all,
        ranked: scored.into_iter().map(|(_, _, i)| i).collect(),
    }
}

fn content_words(text: &str) -> Vec<String> {
    words::tokens(text)
        .into_iter()
        .filter(|t| t.chars().count() >= 3 && !STOPWORDS.contains(&t.as_str()))
        .collect()
}

/// A sentence without a leading markdown heading or list marker.
fn strip_marker(sentence: &str) -> &str {
    let s = sentence.trim_start_matches(['#', '>', ' ']).trim();
    let s = s
        .strip_prefix("- ")
        .or_else(|| s.strip_prefix("* "))
        .or_else(|| s.strip_prefix("• "))
        .unwrap_or(s);
    let digits = s.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && s[digits..].starts_with(['.', ')']) && s[digits + 1..].starts_with(' ') {
        s[digits + 2..].trim()
    } else {
        s.trim()
    }
}

/// The parts of a sentence between commas and semicolons that stand as points (at least
/// [`MIN_POINT_WORDS`] words), as sentences.
fn clauses(sentence: &str) -> Vec<String> {
    sentence
        .trim_end_matches(['.', '!', '?'])
        .split([',', ';'])
        .map(str::trim)
        .filter(|c| words::tokens(c).len() >= MIN_POINT_WORDS)
        .map(crate::draft_writer::sentence)
        .collect()
}

/// At most `max` characters: whole paragraphs, then whole sentences, then whole words.
pub fn limit_chars(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut kept = String::new();
    'paragraphs: for paragraph in text.split("\n\n") {
        let separator = if kept.is_empty() { "" } else { "\n\n" };
        let candidate = format!("{kept}{separator}{paragraph}");
        if candidate.chars().count() <= max {
            kept = candidate;
            continue;
        }
        let mut partial = format!("{kept}{separator}");
        for sentence in sentences(paragraph) {
            let space = if partial.ends_with('\n') || partial.is_empty() {
                ""
            } else {
                " "
            };
            let next = format!("{partial}{space}{sentence}");
            if next.chars().count() > max {
                break 'paragraphs;
            }
            partial = next;
            kept.clone_from(&partial);
        }
        break;
    }
    if kept.trim().is_empty() {
        clip_words(text, max)
    } else {
        kept.trim().to_string()
    }
}

/// At most `max` words, keeping line breaks.
pub fn limit_words(text: &str, max: usize) -> String {
    let mut left = max;
    let mut lines = Vec::new();
    for line in text.trim().lines() {
        if left == 0 {
            break;
        }
        let line_words: Vec<&str> = line.split_whitespace().collect();
        if line_words.len() <= left {
            left -= line_words.len();
            lines.push(line.trim_end().to_string());
        } else {
            lines.push(line_words[..left].join(" "));
            left = 0;
        }
    }
    lines.join("\n").trim().to_string()
}

fn linkedin_from(text: &str) -> LinkedinPost {
    let text = limit_chars(text, LINKEDIN_MAX_CHARS);
    LinkedinPost {
        chars: text.chars().count(),
        text,
    }
}

/// Posts from written text: numbered lines (`1/`, `1.`, `1)`) start posts, otherwise blank
/// lines separate them. Each is split to fit and renumbered `i/n`.
fn thread_from(text: &str) -> XThread {
    let numbered = |line: &str| post_number_len(line.trim()).is_some();
    let mut raw: Vec<String> = Vec::new();
    if text.lines().any(numbered) {
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match post_number_len(line) {
                Some(len) => raw.push(line[len..].trim().to_string()),
                None => match raw.last_mut() {
                    Some(last) => {
                        last.push(' ');
                        last.push_str(line);
                    }
                    None => raw.push(line.to_string()),
                },
            }
        }
    } else {
        raw = text
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect();
    }
    let mut chunks: Vec<String> = raw
        .iter()
        .flat_map(|p| split_post(p, X_POST_MAX_CHARS - X_NUMBER_CHARS))
        .collect();
    chunks.truncate(X_MAX_POSTS);
    let n = chunks.len();
    XThread {
        posts: chunks
            .into_iter()
            .enumerate()
            .map(|(i, c)| format!("{}/{n} {c}", i + 1))
            .collect(),
    }
}

/// The length of a leading post number (`1/`, `1/5`, `1.`, `1)`) and the space after it.
fn post_number_len(line: &str) -> Option<usize> {
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let rest = &line[digits..];
    let marker = if let Some(after) = rest.strip_prefix('/') {
        1 + after.chars().take_while(char::is_ascii_digit).count()
    } else if rest.starts_with(['.', ')']) {
        1
    } else {
        return None;
    };
    let after = &rest[marker..];
    (after.is_empty() || after.starts_with(' ')).then_some(digits + marker)
}

/// A post split into parts of at most `max` characters at word boundaries.
fn split_post(post: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    for word in post.split_whitespace() {
        let word = if word.chars().count() > max {
            word.chars().take(max).collect::<String>()
        } else {
            word.to_string()
        };
        let len = current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if len > max && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

fn email_from(text: &str, source: &Source<'_>) -> EmailVersion {
    let (subject, body) = parse_email(text);
    let subject = fit_subject(
        &subject.unwrap_or_else(|| source.hook()),
        EMAIL_SUBJECT_MAX_CHARS,
    );
    let body = limit_words(&body, EMAIL_MAX_WORDS);
    EmailVersion {
        words: body.split_whitespace().count(),
        subject,
        body,
    }
}

fn newsletter_from(text: &str, source: &Source<'_>) -> NewsletterSection {
    let mut title = None;
    let mut summary = Vec::new();
    let mut points = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let bullet = line
            .strip_prefix("- ")
            .or_else(|| line.strip_prefix("* "))
            .or_else(|| line.strip_prefix("• "))
            .map(str::to_string)
            .or_else(|| post_number_len(line).map(|len| line[len..].trim().to_string()));
        match (bullet, title.is_some()) {
            (_, false) => {
                title = Some(
                    line.trim_start_matches(['#', ' '])
                        .trim_matches('*')
                        .trim()
                        .to_string(),
                );
            }
            (Some(point), true) => points.push(point),
            (None, true) if points.is_empty() => summary.push(line.to_string()),
            // Lines after the key points (a sign-off, a link) are dropped; the link is ours.
            (None, true) => {}
        }
    }
    let title = title
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| source.hook());
    NewsletterSection {
        title: fit_subject(&title, NEWSLETTER_TITLE_MAX_CHARS),
        summary: summary.join(" "),
        key_points: source.newsletter_points(&points),
        link: source.url.map(str::to_string),
    }
}

fn markdown(out: &Repurposed, offline: bool) -> String {
    let mut md = Vec::new();
    if let Some(post) = &out.linkedin {
        md.push(format!("## LinkedIn\n\n{}", post.text));
    }
    if let Some(thread) = &out.x_thread {
        md.push(format!("## X thread\n\n{}", thread.posts.join("\n\n")));
    }
    if let Some(email) = &out.email {
        md.push(format!(
            "## Email\n\n**Subject:** {}\n\n{}",
            email.subject, email.body
        ));
    }
    if let Some(section) = &out.newsletter {
        let points: Vec<String> = section
            .key_points
            .iter()
            .map(|p| format!("- {p}"))
            .collect();
        let link = section
            .link
            .as_deref()
            .map(|url| format!("\n\nRead the full piece: {url}"))
            .unwrap_or_default();
        md.push(format!(
            "## Newsletter\n\n### {}\n\n{}\n\n{}{link}",
            section.title,
            section.summary,
            points.join("\n")
        ));
    }
    if offline {
        md.push("_Written by the offline summarizer (no language model configured)._".into());
    }
    md.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::testing::Harness;

    fn input() -> Input {
        serde_json::from_value(example()).expect("example parses")
    }

    #[test]
    fn sentences_rank_by_word_frequency_position_and_length() {
        let table: [(&str, &[usize]); 3] = [
            // The first sentence's bonus beats a frequent later one; a paragraph's first
            // sentence beats plainer ones.
            (
                "Pipeline reviews waste everyone's time. Cats are nice animals to keep around.\n\nShort pipeline reviews help pipeline health and pipeline reviews matter. Lunch was good today at noon.",
                &[0, 2, 1, 3],
            ),
            // Without position help, the sentence full of the text's frequent words wins.
            (
                "Cats are nice animals to keep around. Short pipeline reviews help pipeline health and pipeline reviews matter. Pipeline reviews waste everyone's time.",
                &[1, 0, 2],
            ),
            // Fragments shorter than five words come last whatever their score.
            (
                "Pipeline reviews. Cats are nice animals to keep around. Pipeline reviews waste everyone's time.",
                &[2, 1, 0],
            ),
        ];
        for (text, expected) in table {
            assert_eq!(rank_sentences(text).ranked, expected, "{text:?}");
        }
    }

    #[test]
    fn headings_and_list_markers_are_not_part_of_sentences() {
        let table = [
            ("# Title", "Title"),
            ("- a point here", "a point here"),
            ("* a point", "a point"),
            ("12. a numbered point", "a numbered point"),
            ("3) another", "another"),
            ("2026 was a year", "2026 was a year"),
            ("> quoted", "quoted"),
        ];
        for (text, expected) in table {
            assert_eq!(strip_marker(text), expected, "{text:?}");
        }
    }

    #[test]
    fn linkedin_text_is_cut_to_three_thousand_characters_at_a_boundary() {
        let paragraph = format!("{} End.", "Word ".repeat(150).trim());
        let long = vec![paragraph.clone(); 5].join("\n\n");
        assert!(long.chars().count() > LINKEDIN_MAX_CHARS);
        let post = linkedin_from(&long);
        assert!(post.chars <= LINKEDIN_MAX_CHARS);
        assert_eq!(post.chars, post.text.chars().count());
        assert!(
            post.text.ends_with("End."),
            "cut after a whole paragraph or sentence"
        );
        let short = linkedin_from("A short post.");
        assert_eq!(short.text, "A short post.");
    }

    #[test]
    fn limit_chars_prefers_paragraphs_then_sentences_then_words() {
        let table = [
            ("One. Two.\n\nThree. Four.", 12, "One. Two."),
            ("One. Two.\n\nThree. Four.", 18, "One. Two.\n\nThree."),
            ("One two three four five", 12, "One two"),
            ("Fits.", 100, "Fits."),
        ];
        for (text, max, expected) in table {
            assert_eq!(limit_chars(text, max), expected, "{text:?} / {max}");
        }
    }

    #[test]
    fn thread_posts_are_numbered_and_fit_in_280_characters_counting_characters() {
        let long = "é".repeat(150) + " " + &"ü".repeat(150);
        let written = format!("1/ First post\n2. Second post\ncontinues here\n3) {long}");
        let thread = thread_from(&written);
        assert_eq!(
            thread.posts[..2],
            [
                "1/4 First post".to_string(),
                "2/4 Second post continues here".to_string()
            ]
        );
        assert_eq!(thread.posts.len(), 4);
        for post in &thread.posts {
            assert!(post.chars().count() <= X_POST_MAX_CHARS, "{post}");
        }
        assert!(
            thread.posts[2].len() > X_POST_MAX_CHARS,
            "bytes may exceed 280; characters may not"
        );
    }

    #[test]
    fn unnumbered_threads_split_on_blank_lines_and_are_capped() {
        let written = (1..=20)
            .map(|i| format!("Post number {i}."))
            .collect::<Vec<_>>()
            .join("\n\n");
        let thread = thread_from(&written);
        assert_eq!(thread.posts.len(), X_MAX_POSTS);
        assert_eq!(thread.posts[0], format!("1/{X_MAX_POSTS} Post number 1."));
    }

    #[test]
    fn post_numbers_are_recognised_only_at_the_start() {
        let table = [
            ("1/ text", Some(2)),
            ("1/5 text", Some(3)),
            ("10. text", Some(3)),
            ("2) text", Some(2)),
            ("2026 was big", None),
            ("3.5 million", None),
            ("text 1/", None),
        ];
        for (line, expected) in table {
            assert_eq!(post_number_len(line), expected, "{line:?}");
        }
    }

    #[test]
    fn email_bodies_are_cut_to_two_hundred_words_keeping_lines() {
        let body = format!("Subject: A very long subject line that keeps going well past sixty characters\n\nIntro line.\n{}", "word ".repeat(300));
        let source_input = input();
        let source = Source::new(&source_input);
        let email = email_from(&body, &source);
        assert_eq!(email.words, EMAIL_MAX_WORDS);
        assert!(email.body.starts_with("Intro line.\nword"));
        assert!(email.subject.chars().count() <= EMAIL_SUBJECT_MAX_CHARS);
        assert_eq!(limit_words("a b\nc d", 3), "a b\nc");
    }

    #[test]
    fn newsletter_sections_keep_three_to_five_points() {
        let source_input = input();
        let source = Source::new(&source_input);
        let table = [
            ("# T\n\nSummary.\n\n- a\n- b\n- c\n- d\n- e\n- f\n- g", 5),
            ("# T\n\nSummary.\n\n- only one point from the model", 3),
            ("# T\n\nSummary.\n\n1. first\n2. second\n3. third", 3),
        ];
        for (written, expected) in table {
            let section = newsletter_from(written, &source);
            assert_eq!(section.title, "T");
            assert_eq!(section.summary, "Summary.");
            assert_eq!(section.key_points.len(), expected, "{written:?}");
        }
        let topped_up = newsletter_from(
            "# T\n\nSummary.\n\n- only one point from the model",
            &source,
        );
        assert_eq!(topped_up.key_points[0], "only one point from the model");
    }

    #[test]
    fn check_refuses_short_content_bad_urls_and_repeated_formats() {
        let bad = Input {
            content: "too short".into(),
            title: Some("t".repeat(MAX_TITLE_CHARS + 1)),
            formats: Some(vec![Format::Email, Format::Email]),
            source_url: Some("javascript:alert(1)".into()),
        };
        let fields: Vec<String> = check(&bad).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "input.content",
                "input.title",
                "input.formats[1]",
                "input.source_url"
            ]
        );
        let empty = Input {
            formats: Some(vec![]),
            ..input()
        };
        assert_eq!(check(&empty)[0].field, "input.formats");
        let boundary = Input {
            content: "x".repeat(100),
            ..input()
        };
        assert!(check(&boundary).is_empty());
        let over = Input {
            content: "x".repeat(50_001),
            ..input()
        };
        assert_eq!(check(&over)[0].field, "input.content");
    }

    #[tokio::test]
    async fn offline_every_format_is_built_from_the_content_within_its_limits() {
        let harness = Harness::offline();
        let outcome = run(input(), &harness.ctx()).await.expect("runs");
        let formats = &outcome.output["formats"];
        assert_eq!(outcome.output["writer"], "offline");

        let linkedin = formats["linkedin"]["text"].as_str().unwrap_or_default();
        assert!(
            linkedin.starts_with("Shorter pipeline reviews\n\n"),
            "{linkedin}"
        );
        assert!(linkedin.contains("Full piece: https://blog.example.com/shorter-pipeline-reviews"));
        assert!(linkedin.chars().count() <= LINKEDIN_MAX_CHARS);

        let posts = formats["x_thread"]["posts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(posts.len() >= 3);
        for post in &posts {
            assert!(post.as_str().unwrap_or_default().chars().count() <= X_POST_MAX_CHARS);
        }
        assert!(posts[0].as_str().unwrap_or_default().starts_with("1/"));

        assert_eq!(formats["email"]["subject"], "Shorter pipeline reviews");
        assert!(formats["email"]["words"].as_u64().unwrap_or(999) <= EMAIL_MAX_WORDS as u64);
        assert!(formats["email"]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("\n- "));

        let points = formats["newsletter"]["key_points"]
            .as_array()
            .map_or(0, Vec::len);
        assert!(NEWSLETTER_POINTS.contains(&points), "{points}");
        assert!(!formats["newsletter"]["summary"]
            .as_str()
            .unwrap_or_default()
            .is_empty());

        let text = outcome.text.unwrap_or_default();
        for heading in [
            "## LinkedIn",
            "## X thread",
            "## Email",
            "## Newsletter",
            "offline summarizer",
        ] {
            assert!(text.contains(heading), "{heading}");
        }
    }

    #[tokio::test]
    async fn only_the_formats_asked_for_are_written() {
        let harness = Harness::offline();
        let input = Input {
            formats: Some(vec![Format::XThread]),
            title: None,
            ..input()
        };
        let outcome = run(input, &harness.ctx()).await.expect("runs");
        let formats = outcome.output["formats"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert_eq!(formats.keys().collect::<Vec<_>>(), ["x_thread"]);
    }

    #[tokio::test]
    async fn model_output_is_held_to_the_same_limits() {
        let long_post = format!("1/ {}\n2/ Second — point!!", "word ".repeat(80));
        let (_server, harness) = Harness::answering(&long_post).await;
        let input = Input {
            formats: Some(vec![Format::XThread]),
            ..input()
        };

        let outcome = run(input, &harness.ctx()).await.expect("runs");

        assert_eq!(outcome.output["writer"], "llm");
        let posts: Vec<String> =
            serde_json::from_value(outcome.output["formats"]["x_thread"]["posts"].clone())
                .expect("posts");
        assert_eq!(posts.len(), 3, "the 400-character post is split in two");
        assert!(posts.iter().all(|p| p.chars().count() <= X_POST_MAX_CHARS));
        assert_eq!(posts[2], "3/3 Second, point!");
    }
}
