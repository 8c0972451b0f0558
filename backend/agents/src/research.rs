//! StandardResearch and DeepResearch: a question answered from CaseyOS's own data and, when
//! a search provider is configured, the web, as a report whose every sentence cites its
//! sources `[n]` (`caseyos_domain::research`).
//!
//! The agent searches through [`ResearchSources`] (the backend's PostgreSQL full-text
//! search over contacts, deals, moves, runs and signals, and its web search provider) and
//! tells it each step, which the backend records as the research's progress. The language
//! model writes the synthesis from the numbered sources; every sentence it writes without a
//! citation to one of them is dropped. Without a model, the report lists what each source
//! says, grouped by kind, each cited — and says it was written offline.

use async_trait::async_trait;
use caseyos_domain::agent_run::AgentRun;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::FieldError;
use caseyos_domain::contacts::Contact;
use caseyos_domain::deals::Deal;
use caseyos_domain::research::{
    cited_only, report_markdown, Report, ResearchDepth, ResearchSource, ResearchStage, Section,
    SourceKind, WebUse, MAX_QUESTION_CHARS, MIN_QUESTION_CHARS,
};
use caseyos_domain::signals::Signal;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::schema::{self, InputSchema};
use crate::text_fields::required_text;
use crate::{field_error, AgentError, Ctx, Outcome, Prompt};

/// A search result: what a source will be, before it is numbered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub kind: SourceKind,
    pub title: String,
    pub link: String,
    pub snippet: String,
    pub record_type: Option<String>,
}

/// Where research looks, and who hears of its steps.
#[async_trait]
pub trait ResearchSources: Send + Sync {
    /// CaseyOS's own records matching any of `terms`, best first (at most `limit`).
    async fn internal(&self, terms: &[String], limit: usize) -> Result<Vec<Found>, String>;
    /// The web's results for `query`; `None` when no search provider is configured.
    async fn web(&self, query: &str, limit: usize) -> Option<Result<Vec<Found>, String>>;
    /// A step of the research, as people should read it.
    async fn progress(&self, stage: ResearchStage, detail: &str);
}

/// The sources of runs given none: nothing internal, no web, steps unheard.
pub struct NoResearch;

#[async_trait]
impl ResearchSources for NoResearch {
    async fn internal(&self, _: &[String], _: usize) -> Result<Vec<Found>, String> {
        Ok(Vec::new())
    }

    async fn web(&self, _: &str, _: usize) -> Option<Result<Vec<Found>, String>> {
        None
    }

    async fn progress(&self, _: ResearchStage, _: &str) {}
}

/// What to research.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The question, e.g. "What do we know about Northwind's renewal?".
    pub question: String,
}

pub fn example() -> serde_json::Value {
    json!({"question": "What do we know about Northwind Logistics and its renewal?"})
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .field_rules(
            "question",
            schema::non_blank_text(MIN_QUESTION_CHARS, MAX_QUESTION_CHARS),
        )
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    let mut errors = Vec::new();
    required_text(&mut errors, "question", &input.question, MAX_QUESTION_CHARS);
    if errors.is_empty() && input.question.chars().count() < MIN_QUESTION_CHARS {
        errors.push(field_error(
            "question",
            format!("must be at least {MIN_QUESTION_CHARS} characters"),
        ));
    }
    errors
}

/// An agent module of one depth, as the registry reads agents.
macro_rules! research_agent {
    ($module:ident, $depth:expr, $description:expr) => {
        pub mod $module {
            use caseyos_domain::agent_run::AgentDomain;
            use caseyos_domain::api::FieldError;
            use caseyos_domain::research::ResearchDepth;

            use crate::{AgentError, Ctx, Outcome};

            pub use super::Input;

            const DEPTH: ResearchDepth = $depth;
            pub const NAME: &str = DEPTH.agent();
            pub const DOMAIN: AgentDomain = AgentDomain::Research;
            pub const DESCRIPTION: &str = $description;
            pub const USES_LLM: bool = true;
            pub const PROPOSES_MOVES: bool = false;

            pub fn example() -> serde_json::Value {
                super::example()
            }

            pub fn schema() -> serde_json::Value {
                super::schema()
            }

            pub fn check(input: &Input) -> Vec<FieldError> {
                super::check(input)
            }

            pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
                super::run(input, ctx, DEPTH).await
            }
        }
    };
}

research_agent!(
    standard_research,
    ResearchDepth::Standard,
    "Researches a question in CaseyOS's own data (contacts, deals, moves, runs, signals) and \
     the web when a search provider is configured: a report whose every sentence cites its \
     sources."
);
research_agent!(
    deep_research,
    ResearchDepth::Deep,
    "Researches a question in depth: narrower questions besides the question itself, more \
     internal and web sources; a report whose every sentence cites its sources."
);

/// How much each depth reads.
struct Reach {
    internal_per_query: usize,
    web_per_query: usize,
    /// Narrower questions asked besides the question itself.
    sub_queries: usize,
}

impl Reach {
    fn of(depth: ResearchDepth) -> Reach {
        match depth {
            ResearchDepth::Standard => Reach {
                internal_per_query: 8,
                web_per_query: 5,
                sub_queries: 0,
            },
            ResearchDepth::Deep => Reach {
                internal_per_query: 6,
                web_per_query: 4,
                sub_queries: 3,
            },
        }
    }
}

/// Sources at most, after duplicates are dropped.
const MAX_SOURCES: usize = 24;
const MAX_TOKENS: u32 = 1_500;

const STOPWORDS: &[&str] = &[
    "a", "about", "an", "and", "any", "are", "as", "at", "be", "by", "can", "did", "do", "does",
    "for", "from", "has", "have", "how", "i", "in", "is", "it", "its", "know", "me", "my", "of",
    "on", "or", "our", "should", "tell", "that", "the", "their", "them", "there", "they", "this",
    "to", "us", "was", "we", "were", "what", "when", "where", "which", "who", "why", "will",
    "with", "would", "you", "your",
];

/// The words of a question worth searching for: lower-cased letters and digits, two or
/// more characters, common words left out, each once.
pub fn search_terms(text: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let word = word.to_lowercase();
        if word.chars().count() >= 2
            && !STOPWORDS.contains(&word.as_str())
            && !terms.contains(&word)
        {
            terms.push(word);
        }
    }
    terms
}

pub async fn run(input: Input, ctx: &Ctx<'_>, depth: ResearchDepth) -> Result<Outcome, AgentError> {
    let question = input.question.trim().to_string();
    let reach = Reach::of(depth);
    let mut queries = vec![question.clone()];
    if reach.sub_queries > 0 {
        queries.extend(sub_queries(ctx, &question, reach.sub_queries).await?);
    }

    let mut found: Vec<Found> = Vec::new();
    let add = |found: &mut Vec<Found>, more: Vec<Found>| {
        for f in more {
            if found.len() < MAX_SOURCES && !found.iter().any(|g| g.link == f.link) {
                found.push(f);
            }
        }
    };

    let research = ctx.research;
    research
        .progress(
            ResearchStage::InternalSearch,
            "searching internal data: contacts, deals, moves, runs and signals",
        )
        .await;
    for query in &queries {
        let terms = search_terms(query);
        if terms.is_empty() {
            continue;
        }
        let hits = research
            .internal(&terms, reach.internal_per_query)
            .await
            .map_err(|e| AgentError::new("research.internal_search", e, true))?;
        add(&mut found, hits);
    }
    let internal = found.len();
    research
        .progress(
            ResearchStage::InternalSearch,
            &format!("found {internal} internal record{}", plural(internal)),
        )
        .await;

    let mut web = WebUse::Used;
    for query in &queries {
        let detail = format!("searching the web: {query}");
        match research.web(query, reach.web_per_query).await {
            None => {
                web = WebUse::NotConfigured;
                research
                    .progress(
                        ResearchStage::WebSearch,
                        "no web search provider configured: internal sources only",
                    )
                    .await;
                break;
            }
            Some(Err(error)) => {
                web = WebUse::Failed;
                research
                    .progress(
                        ResearchStage::WebSearch,
                        &format!("the web search failed ({error}): internal sources only"),
                    )
                    .await;
                break;
            }
            Some(Ok(hits)) => {
                research.progress(ResearchStage::WebSearch, &detail).await;
                add(&mut found, hits);
            }
        }
    }
    if web == WebUse::Failed {
        found.retain(|f| f.kind == SourceKind::Internal);
    }

    research
        .progress(
            ResearchStage::Synthesis,
            &format!("synthesising {} source{}", found.len(), plural(found.len())),
        )
        .await;
    let sources: Vec<ResearchSource> = found
        .into_iter()
        .enumerate()
        .map(|(i, f)| ResearchSource {
            n: i as u32 + 1,
            kind: f.kind,
            title: f.title,
            link: f.link,
            snippet: f.snippet,
            record_type: f.record_type,
        })
        .collect();
    let (title, sections, writer, model) =
        if sources.is_empty() {
            (
                format!("Research: {question}"),
                vec![Section {
                    heading: "Nothing found".into(),
                    body: format!(
                    "No record in CaseyOS{} matched the question, so this report makes no claim.",
                    if web == WebUse::Used { " and no web result" } else { "" }
                ),
                }],
                "offline".to_string(),
                None,
            )
        } else {
            synthesise(ctx, &question, &sources).await?
        };
    let report = Report {
        title,
        sections,
        sources,
        web,
        writer,
        model,
        queries,
    };
    let text = report_markdown(&report);
    let output = serde_json::to_value(&report)
        .map_err(|e| AgentError::new("agent.output", e.to_string(), false))?;
    Ok(Outcome {
        output,
        text: Some(text),
        proposals: Vec::new(),
        effects: Vec::new(),
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Narrower questions: the model's, or — offline — the question's longest search terms
/// each on its own.
async fn sub_queries(ctx: &Ctx<'_>, question: &str, n: usize) -> Result<Vec<String>, AgentError> {
    let prompt = Prompt {
        system: "You plan research for a sales team. Answer with up to three short search \
                 queries, one per line, no numbering, that together answer the question."
            .into(),
        user: question.to_string(),
        max_tokens: 120,
    };
    let offline = || {
        let mut terms = search_terms(question);
        terms.sort_by_key(|t| std::cmp::Reverse(t.chars().count()));
        terms.into_iter().take(n).collect::<Vec<_>>().join("\n")
    };
    let written = ctx.write(&prompt, offline).await?;
    Ok(written
        .text
        .lines()
        .map(|l| l.trim().trim_start_matches(['-', '*', '•', ' ']).trim())
        .filter(|l| !l.is_empty() && *l != question)
        .take(n)
        .map(|l| l.chars().take(MAX_QUESTION_CHARS).collect())
        .collect())
}

type Synthesis = (String, Vec<Section>, String, Option<String>);

/// The report's title and sections, by the model (every uncited sentence dropped) or, when
/// none is configured or it cited nothing, the offline listing.
async fn synthesise(
    ctx: &Ctx<'_>,
    question: &str,
    sources: &[ResearchSource],
) -> Result<Synthesis, AgentError> {
    let mut listing = String::new();
    for s in sources {
        listing.push_str(&format!(
            "[{}] {} ({})\n{}\n\n",
            s.n, s.title, s.link, s.snippet
        ));
    }
    let prompt = Prompt {
        system: "You write research reports for a sales team from numbered sources only. \
                 Every sentence ends with the citations of the sources it rests on, like [1] \
                 or [2][3]; write nothing a source does not say. Answer with a first line \
                 `# <title>`, then two to five sections, each a line `## <heading>` and one \
                 paragraph."
            .into(),
        user: format!("Question: {question}\n\nSources:\n{listing}"),
        max_tokens: MAX_TOKENS,
    };
    let written = ctx.write(&prompt, String::new).await?;
    if !written.offline {
        let (title, sections) = parse_report(&written.text, sources.len() as u32);
        if !sections.is_empty() {
            return Ok((
                title.unwrap_or_else(|| format!("Research: {question}")),
                sections,
                "llm".into(),
                written.model,
            ));
        }
    }
    Ok((
        format!("Research: {question}"),
        offline_sections(sources),
        "offline".into(),
        None,
    ))
}

/// The model's `# title` and `## sections`, each body kept to its cited sentences.
fn parse_report(text: &str, sources: u32) -> (Option<String>, Vec<Section>) {
    let mut title = None;
    let mut sections: Vec<Section> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(h) = line.strip_prefix("## ") {
            sections.push(Section {
                heading: h.trim().to_string(),
                body: String::new(),
            });
        } else if let Some(t) = line.strip_prefix("# ") {
            title.get_or_insert_with(|| t.trim().to_string());
        } else if !line.is_empty() {
            if let Some(section) = sections.last_mut() {
                if !section.body.is_empty() {
                    section.body.push(' ');
                }
                section.body.push_str(line);
            }
        }
    }
    for section in &mut sections {
        section.body = cited_only(&section.body, sources);
    }
    sections.retain(|s| !s.body.is_empty() && !s.heading.is_empty());
    (title, sections)
}

/// What each source says, grouped by kind, each cited.
fn offline_sections(sources: &[ResearchSource]) -> Vec<Section> {
    const GROUPS: &[(&str, &str)] = &[
        (Contact::TYPE, "Contacts"),
        (Deal::TYPE, "Deals"),
        ("move", "Moves"),
        (AgentRun::TYPE, "Agent runs"),
        (Signal::TYPE, "Signals"),
        ("web", "On the web"),
    ];
    let group_of = |s: &ResearchSource| match s.kind {
        SourceKind::Web => "web".to_string(),
        SourceKind::Internal => s.record_type.clone().unwrap_or_default(),
    };
    let mut sections = Vec::new();
    for (key, heading) in GROUPS {
        let lines: Vec<String> = sources
            .iter()
            .filter(|s| group_of(s) == *key)
            .map(|s| {
                let snippet = one_line(&s.snippet);
                let snippet = snippet.trim_end_matches(['.', ' ']);
                if snippet.is_empty() {
                    format!("{} [{}].", one_line(&s.title), s.n)
                } else {
                    format!("{}: {snippet} [{}].", one_line(&s.title), s.n)
                }
            })
            .collect();
        if !lines.is_empty() {
            sections.push(Section {
                heading: heading.to_string(),
                body: lines.join(" "),
            });
        }
    }
    sections
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_is_searched_by_its_words_that_matter() {
        assert_eq!(
            search_terms("What do we know about Acme's renewal and Acme's CFO?"),
            ["acme", "renewal", "cfo"]
        );
        assert_eq!(search_terms("Who? Why?"), Vec::<String>::new());
    }

    fn source(n: u32, record_type: &str, snippet: &str) -> ResearchSource {
        ResearchSource {
            n,
            kind: if record_type == "web" {
                SourceKind::Web
            } else {
                SourceKind::Internal
            },
            title: format!("Title {n}"),
            link: format!("/x/{n}"),
            snippet: snippet.into(),
            record_type: (record_type != "web").then(|| record_type.to_string()),
        }
    }

    #[test]
    fn the_models_report_keeps_only_cited_sentences_and_drops_empty_sections() {
        let text = "# Acme at a glance\n\n## Deals\nAcme renews in March [1]. It is our best \
                    customer.\n## Rumours\nThey may be acquired.\n## People\nDana leads sales \
                    [2][3]. Sam left [9].";
        let (title, sections) = parse_report(text, 3);
        assert_eq!(title.as_deref(), Some("Acme at a glance"));
        assert_eq!(
            sections,
            vec![
                Section {
                    heading: "Deals".into(),
                    body: "Acme renews in March [1].".into()
                },
                Section {
                    heading: "People".into(),
                    body: "Dana leads sales [2][3].".into()
                },
            ]
        );
    }

    #[test]
    fn the_offline_report_cites_every_source_grouped_by_kind() {
        let sources = [
            source(1, "deal", "Renewal, negotiation stage."),
            source(2, "contact", "VP Sales\nat Acme"),
            source(3, "web", ""),
        ];
        let sections = offline_sections(&sources);
        let headings: Vec<&str> = sections.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(headings, ["Contacts", "Deals", "On the web"]);
        assert_eq!(sections[0].body, "Title 2: VP Sales at Acme [2].");
        assert_eq!(sections[1].body, "Title 1: Renewal, negotiation stage [1].");
        assert_eq!(sections[2].body, "Title 3 [3].");
    }
}
