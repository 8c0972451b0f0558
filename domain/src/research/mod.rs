//! Deep research: a question answered from CaseyOS's own data (contacts, deals, moves,
//! runs, signals — PostgreSQL full-text search) and, when a search provider is configured,
//! the web; a report in sections whose every sentence cites its sources as `[n]`.
//!
//! One research session is one run of the `StandardResearch` or `DeepResearch` agent and
//! shares its id: the run does the work (tracked as every run is), the session keeps what a
//! person reads — the question, the progress as it happened, the report, or why it failed.
//! The worker records the progress while the agent works; the `research` reactor records
//! the report (or the failure) once the run has ended.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, Ownership, RejectionKind};
use crate::kernel::Actor;

#[cfg(test)]
mod tests;

pub const EVENT_VERSION: &str = "1";
/// Shortest and longest question, in characters.
pub const MIN_QUESTION_CHARS: usize = 3;
pub const MAX_QUESTION_CHARS: usize = 500;
/// Longest progress detail kept, in characters.
const MAX_DETAIL_CHARS: usize = 300;

/// How far a research goes: `standard` asks once, `deep` also asks narrower questions and
/// reads more sources.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResearchDepth {
    #[default]
    Standard,
    Deep,
}

impl ResearchDepth {
    /// The agent that does this depth of research.
    pub const fn agent(self) -> &'static str {
        match self {
            ResearchDepth::Standard => "StandardResearch",
            ResearchDepth::Deep => "DeepResearch",
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            ResearchDepth::Standard => "standard",
            ResearchDepth::Deep => "deep",
        }
    }

    /// The depth of the agent with this canonical name.
    pub fn of_agent(agent: &str) -> Option<ResearchDepth> {
        [ResearchDepth::Standard, ResearchDepth::Deep]
            .into_iter()
            .find(|d| d.agent() == agent)
    }
}

/// What the research is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResearchStage {
    InternalSearch,
    WebSearch,
    Synthesis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResearchStatus {
    Running,
    Completed,
    Failed,
}

impl ResearchStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ResearchStatus::Running => "running",
            ResearchStatus::Completed => "completed",
            ResearchStatus::Failed => "failed",
        }
    }
}

/// Whether the web was searched: `not_configured` when no search provider is set up (the
/// report then rests on CaseyOS's own data only), `failed` when the provider refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WebUse {
    Used,
    NotConfigured,
    Failed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A record of CaseyOS's own: a contact, deal, move, run or signal.
    Internal,
    Web,
}

/// A source a report cites as `[n]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ResearchSource {
    /// What `[n]` in the report refers to (1-based).
    pub n: u32,
    pub kind: SourceKind,
    pub title: String,
    /// An internal record's page in the app (`/contacts/{id}`, `/deals/{id}`,
    /// `/queue/{id}`, `/runs/{id}`, `/signals`), or the web page's URL.
    pub link: String,
    /// The passage that matched.
    pub snippet: String,
    /// An internal record's type: `contact`, `deal`, `move`, `agent_run`, `signal`.
    pub record_type: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Section {
    pub heading: String,
    /// Sentences, each citing at least one source as `[n]`.
    pub body: String,
}

/// What a research found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Report {
    pub title: String,
    pub sections: Vec<Section>,
    pub sources: Vec<ResearchSource>,
    pub web: WebUse,
    /// `llm`, or `offline` when no language model is configured (the report then lists
    /// what each source says, grouped, without a model's synthesis).
    pub writer: String,
    pub model: Option<String>,
    /// The searches made.
    #[serde(default)]
    pub queries: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ProgressStep {
    pub stage: ResearchStage,
    pub detail: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ResearchFailure {
    pub code: String,
    pub message: String,
}

/// A research as people read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ResearchSessionView {
    pub id: Uuid,
    /// The agent run doing (or that did) the work: the same id.
    pub run_id: Uuid,
    pub question: String,
    pub depth: ResearchDepth,
    pub status: ResearchStatus,
    pub requested_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub progress: Vec<ProgressStep>,
    pub report: Option<Report>,
    pub error: Option<ResearchFailure>,
    pub deleted: bool,
    pub version: u64,
}

impl ResearchSessionView {
    pub fn source_count(&self) -> usize {
        self.report.as_ref().map_or(0, |r| r.sources.len())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ResearchCommand {
    /// Begins the research of `question` (repeating it with the same question changes
    /// nothing).
    Begin {
        id: Uuid,
        question: String,
        depth: ResearchDepth,
        requested_by: String,
        at: DateTime<Utc>,
    },
    /// Records a step (the same step as the last one, or one after the end, records
    /// nothing).
    Progress {
        stage: ResearchStage,
        detail: String,
        at: DateTime<Utc>,
    },
    /// Records the report (once; also after a failed attempt the run retried).
    Complete {
        report: Box<Report>,
        at: DateTime<Utc>,
    },
    /// Records why the run failed (nothing after a report).
    Fail {
        failure: ResearchFailure,
        at: DateTime<Utc>,
    },
    /// Deletes it: no longer listed or read; its events stay in the audit history.
    Delete { by: Actor, at: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ResearchEvent {
    ResearchBegun(ResearchBegun),
    ResearchProgressed(ProgressStep),
    ResearchCompleted(ResearchCompleted),
    ResearchFailed(ResearchFailed),
    ResearchDeleted(ResearchDeleted),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResearchBegun {
    pub id: Uuid,
    pub question: String,
    pub depth: ResearchDepth,
    pub requested_by: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResearchCompleted {
    pub report: Report,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResearchFailed {
    pub failure: ResearchFailure,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResearchDeleted {
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResearchError {
    #[error("no such research")]
    NotFound,
    #[error("this research was deleted")]
    Deleted,
    #[error("this research id belongs to another question")]
    OtherQuestion,
}

impl DomainError for ResearchError {
    fn code(&self) -> &'static str {
        match self {
            ResearchError::NotFound => "research.not_found",
            ResearchError::Deleted => "research.deleted",
            ResearchError::OtherQuestion => "research.other_question",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            ResearchError::NotFound => RejectionKind::NotFound,
            ResearchError::Deleted | ResearchError::OtherQuestion => RejectionKind::Conflict,
        }
    }
}

/// The research session aggregate; its id is its run's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResearchSession {
    pub session: Option<ResearchSessionView>,
}

impl Aggregate for ResearchSession {
    const TYPE: &'static str = "research_session";
    const EVENT_VERSION: &'static str = EVENT_VERSION;
    type Command = ResearchCommand;
    type Event = ResearchEvent;
    type Error = ResearchError;
    type View = ResearchSessionView;

    fn command_name(command: &ResearchCommand) -> &'static str {
        match command {
            ResearchCommand::Begin { .. } => "begin",
            ResearchCommand::Progress { .. } => "progress",
            ResearchCommand::Complete { .. } => "complete",
            ResearchCommand::Fail { .. } => "fail",
            ResearchCommand::Delete { .. } => "delete",
        }
    }

    fn event_name(event: &ResearchEvent) -> &'static str {
        match event {
            ResearchEvent::ResearchBegun(_) => "ResearchBegun",
            ResearchEvent::ResearchProgressed(_) => "ResearchProgressed",
            ResearchEvent::ResearchCompleted(_) => "ResearchCompleted",
            ResearchEvent::ResearchFailed(_) => "ResearchFailed",
            ResearchEvent::ResearchDeleted(_) => "ResearchDeleted",
        }
    }

    fn view(&self) -> Option<&ResearchSessionView> {
        self.session.as_ref()
    }

    fn into_view(self) -> Option<ResearchSessionView> {
        self.session
    }

    fn ownership(&self) -> Option<Ownership> {
        self.session.as_ref().map(|s| Ownership {
            owner: Actor::user(s.requested_by.clone()),
            disclosed: false,
        })
    }

    fn decide(&self, command: ResearchCommand) -> Result<Vec<ResearchEvent>, ResearchError> {
        if let ResearchCommand::Begin {
            id,
            question,
            depth,
            requested_by,
            at,
        } = command
        {
            return match &self.session {
                Some(s) if s.question == question && s.depth == depth => Ok(Vec::new()),
                Some(_) => Err(ResearchError::OtherQuestion),
                None => Ok(vec![ResearchEvent::ResearchBegun(ResearchBegun {
                    id,
                    question,
                    depth,
                    requested_by,
                    at,
                })]),
            };
        }
        let Some(session) = &self.session else {
            return Err(ResearchError::NotFound);
        };
        if session.deleted {
            return match command {
                ResearchCommand::Delete { .. } => Ok(Vec::new()),
                _ => Err(ResearchError::Deleted),
            };
        }
        Ok(match command {
            ResearchCommand::Begin { .. } => Vec::new(),
            ResearchCommand::Progress { stage, detail, at } => {
                let detail: String = detail.trim().chars().take(MAX_DETAIL_CHARS).collect();
                let repeated = session
                    .progress
                    .last()
                    .is_some_and(|p| p.stage == stage && p.detail == detail);
                if session.status != ResearchStatus::Running || repeated {
                    Vec::new()
                } else {
                    vec![ResearchEvent::ResearchProgressed(ProgressStep {
                        stage,
                        detail,
                        at,
                    })]
                }
            }
            ResearchCommand::Complete { report, at } => {
                if session.status == ResearchStatus::Completed {
                    Vec::new()
                } else {
                    vec![ResearchEvent::ResearchCompleted(ResearchCompleted {
                        report: *report,
                        at,
                    })]
                }
            }
            ResearchCommand::Fail { failure, at } => {
                if session.status == ResearchStatus::Running {
                    vec![ResearchEvent::ResearchFailed(ResearchFailed {
                        failure,
                        at,
                    })]
                } else {
                    Vec::new()
                }
            }
            ResearchCommand::Delete { by, at } => {
                vec![ResearchEvent::ResearchDeleted(ResearchDeleted { by, at })]
            }
        })
    }

    fn apply(&mut self, event: ResearchEvent) {
        if let ResearchEvent::ResearchBegun(e) = event {
            self.session = Some(ResearchSessionView {
                id: e.id,
                run_id: e.id,
                question: e.question,
                depth: e.depth,
                status: ResearchStatus::Running,
                requested_by: e.requested_by,
                started_at: e.at,
                finished_at: None,
                progress: Vec::new(),
                report: None,
                error: None,
                deleted: false,
                version: 1,
            });
            return;
        }
        let Some(s) = self.session.as_mut() else {
            return;
        };
        s.version += 1;
        match event {
            ResearchEvent::ResearchBegun(_) => {}
            ResearchEvent::ResearchProgressed(step) => s.progress.push(step),
            ResearchEvent::ResearchCompleted(e) => {
                s.status = ResearchStatus::Completed;
                s.report = Some(e.report);
                s.error = None;
                s.finished_at = Some(e.at);
            }
            ResearchEvent::ResearchFailed(e) => {
                s.status = ResearchStatus::Failed;
                s.error = Some(e.failure);
                s.finished_at = Some(e.at);
            }
            ResearchEvent::ResearchDeleted(_) => s.deleted = true,
        }
    }
}

/// The citations `[n]` in `text`, in order (`[2][3]` is two).
pub fn citations(text: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find(']') else { break };
        let inside = &rest[..close];
        if !inside.is_empty() && inside.len() <= 4 && inside.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = inside.parse() {
                found.push(n);
            }
        }
    }
    found
}

/// `text` with only its sentences that cite a source in `1..=sources` (and no citation to
/// anything else): a claim without a source is not written.
pub fn cited_only(text: &str, sources: u32) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for sentence in sentences(text) {
        let cited = citations(sentence);
        if !cited.is_empty() && cited.iter().all(|n| (1..=sources).contains(n)) {
            kept.push(sentence);
        }
    }
    kept.join(" ")
}

/// The sentences of a paragraph: ends at `.`, `!` or `?` (and any citations right after),
/// followed by whitespace or the end.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if matches!(bytes[i], b'.' | b'!' | b'?') {
            let mut end = i + 1;
            // Citations after the stop belong to the sentence ("… grew. [2]").
            loop {
                let rest = &text[end..];
                let trimmed = rest.trim_start_matches(' ');
                if trimmed.starts_with('[') {
                    if let Some(close) = trimmed.find(']') {
                        let inside = &trimmed[1..close];
                        if !inside.is_empty() && inside.bytes().all(|b| b.is_ascii_digit()) {
                            end += rest.len() - trimmed.len() + close + 1;
                            continue;
                        }
                    }
                }
                break;
            }
            if end >= bytes.len() || bytes[end].is_ascii_whitespace() {
                let sentence = text[start..end].trim();
                if !sentence.is_empty() {
                    out.push(sentence);
                }
                start = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    let tail = text[start..].trim();
    if !tail.is_empty() {
        out.push(tail);
    }
    out
}

/// The research as Markdown: the question, the report's sections with their citations, and
/// the numbered sources.
pub fn to_markdown(session: &ResearchSessionView) -> String {
    let mut md = String::new();
    let title = session
        .report
        .as_ref()
        .map_or(session.question.as_str(), |r| r.title.as_str());
    md.push_str(&format!("# {}\n\n", one_line(title)));
    md.push_str(&format!(
        "- Question: {}\n- Depth: {}\n- Asked by: {} at {}\n- Status: {}\n",
        one_line(&session.question),
        session.depth.as_str(),
        session.requested_by,
        session.started_at.to_rfc3339(),
        session.status.as_str(),
    ));
    match &session.report {
        Some(report) => md.push_str(&report_markdown(report)),
        None => {
            if let Some(error) = &session.error {
                md.push_str(&format!("\nFailed: {} ({})\n", error.message, error.code));
            }
        }
    }
    md
}

/// A report as Markdown: who wrote it, whether the web was searched, its sections and its
/// numbered sources.
pub fn report_markdown(report: &Report) -> String {
    let mut md = String::new();
    let writer = match &report.model {
        Some(model) => format!("{} ({model})", report.writer),
        None if report.writer == "offline" => "offline: no language model configured".into(),
        None => report.writer.clone(),
    };
    md.push_str(&format!("- Written by: {writer}\n"));
    md.push_str(&format!(
        "- Web: {}\n\n",
        match report.web {
            WebUse::Used => "searched",
            WebUse::NotConfigured =>
                "not searched: no search provider configured (internal sources only)",
            WebUse::Failed => "the search provider failed (internal sources only)",
        }
    ));
    for section in &report.sections {
        md.push_str(&format!(
            "## {}\n\n{}\n\n",
            one_line(&section.heading),
            section.body.trim()
        ));
    }
    if !report.sources.is_empty() {
        md.push_str("## Sources\n\n");
    }
    for source in &report.sources {
        md.push_str(&format!(
            "{}. [{}]({}): {}\n",
            source.n,
            one_line(&source.title).replace(['[', ']'], ""),
            source.link.replace(' ', "%20"),
            one_line(&source.snippet)
        ));
    }
    md
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
