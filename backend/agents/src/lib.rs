//! CaseyOS agents: the registry of agents that work, each agent's rules (pure functions
//! with table-driven tests) and writing, and the one client for OpenAI-compatible
//! chat-completion APIs.
//!
//! An agent takes a validated JSON input and a [`Ctx`] and returns an [`Outcome`]: its
//! output, optional text for people, and the moves it proposes. It never writes to the
//! database or the event log: the backend's worker turns the outcome into commands. Agents
//! that write use [`Ctx::write`], which asks the configured language model or, without one,
//! the agent's deterministic offline writer, and records the tokens used.
//!
//! Workers run an [`Agents`] value: the registry, plus any [`ExtraAgent`]s the application
//! adds (the integration tests add agents that panic or sleep; the registry holds none).

pub mod deals;
pub mod hygiene;
pub mod llm;
pub mod research;
pub mod voice;
pub mod words;

mod contact;
mod instants;
mod schema;
mod text_fields;

mod account_analyzer;
mod agenda_generator;
mod client_health;
mod contract_review;
mod deal_advisor;
mod deal_risk_analyzer;
mod draft_writer;
mod nurturing;
mod persona_router;
mod pipeline_digest;
mod pricing_calculator;
mod proposal_generator;
mod prospecting;
mod repurpose;
mod revenue_ops;
mod validation;

mod contact_validation;
mod data_decay;
mod duplicate_watcher;
mod enrichment_orchestrator;
mod sync_health;

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use async_trait::async_trait;
use caseyos_domain::agent_run::{AgentDomain, LlmUsage};
use caseyos_domain::api::FieldError;
use caseyos_domain::queue::aps::ApsOverrides;
use caseyos_domain::queue::{ActionType, Draft, QueueItemView, Target};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use deals::{DealReader, NoDeals, PipelineWeek};
pub use hygiene::{
    AlertSpec, ContactReader, ContactRecord, ContactSelection, Effect, NoContacts, SyncState,
};
pub use llm::{ChatMessage, LlmClient, LlmConfig, LlmError, ToolCall};
pub use research::{Found, NoResearch, ResearchSources};
pub use voice::{NoExamples, VoiceExample, VoiceExamples, VoiceProfile};

use research::{deep_research, standard_research};

/// What the registry knows of an agent.
#[derive(Clone, Copy, Debug)]
pub struct AgentSpec {
    /// The canonical name, e.g. `DraftWriter`.
    pub name: &'static str,
    pub domain: AgentDomain,
    pub description: &'static str,
    /// Whether it writes with a language model (an offline writer stands in without one).
    pub uses_llm: bool,
    /// Whether its outcome may propose moves for Today's Moves.
    pub proposes_moves: bool,
    schema: fn() -> Value,
    /// A realistic, valid input (the SPA offers it; tests run every agent with it).
    pub example: fn() -> Value,
    check: fn(&Value) -> Result<(), Vec<FieldError>>,
}

impl AgentSpec {
    /// The JSON Schema of its input.
    pub fn input_schema(&self) -> Value {
        (self.schema)()
    }

    /// Checks an input against the schema and the agent's own rules, naming every bad field.
    pub fn validate(&self, input: &Value) -> Result<(), Vec<FieldError>> {
        (self.check)(input)
    }
}

/// A move an agent proposes; the worker proposes it through the normal queue command, as
/// the run's owner, with the run as its source and cause.
#[derive(Clone, Debug, PartialEq)]
pub struct Proposal {
    pub action_type: ActionType,
    pub title: Option<String>,
    pub target: Target,
    /// What the move carries out, e.g. `{"to", "subject", "body"}` for an email.
    pub payload: Value,
    pub due_by: Option<DateTime<Utc>>,
    pub aps: ApsOverrides,
    pub rationale: Option<String>,
    /// How the payload's draft was written (a model, or a template), when it has one.
    pub draft: Option<Draft>,
}

/// What a successful run produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// The result, shown as JSON.
    pub output: Value,
    /// Text for people (markdown), when the agent writes any.
    pub text: Option<String>,
    pub proposals: Vec<Proposal>,
    /// Changes it asks the worker to make (hygiene agents: validations, duplicate pairs,
    /// alerts), executed as commands in order.
    pub effects: Vec<Effect>,
}

impl Outcome {
    /// An outcome whose output is `report` as JSON, with `text` for people and no moves.
    pub(crate) fn report(report: &impl Serialize, text: String) -> Result<Outcome, AgentError> {
        let output = serde_json::to_value(report)
            .map_err(|e| AgentError::new("agent.output", e.to_string(), false))?;
        Ok(Outcome {
            output,
            text: Some(text),
            proposals: Vec::new(),
            effects: Vec::new(),
        })
    }
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct AgentError {
    /// Stable machine code, e.g. `llm.rate_limited`.
    pub code: String,
    pub message: String,
    /// Whether running it again may succeed.
    pub retryable: bool,
}

impl AgentError {
    pub fn new(code: impl Into<String>, message: impl Into<String>, retryable: bool) -> Self {
        AgentError {
            code: code.into(),
            message: message.into(),
            retryable,
        }
    }

    /// The `request.validation` error naming each bad field of an input
    /// (`input.goals[1]: must not be empty; …`).
    pub(crate) fn invalid_input(errors: &[FieldError]) -> Self {
        AgentError::new(
            "request.validation",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            false,
        )
    }
}

/// The read side agents may look at (the queue's read model, for the agenda).
#[async_trait]
pub trait QueueReader: Send + Sync {
    /// The owner's open moves (pending, and snoozed ones that are due), ranked.
    async fn open_moves(&self, owner: &str, limit: i64) -> Result<Vec<QueueItemView>, String>;
}

/// Who writes text: a language model, or the deterministic offline writer.
pub enum Writer {
    Llm(Box<LlmClient>),
    Offline,
}

/// A request for text.
#[derive(Clone, Debug)]
pub struct Prompt {
    pub system: String,
    pub user: String,
    /// Upper bound on the answer's length, in tokens.
    pub max_tokens: u32,
}

/// Text an agent asked for, and who wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    pub text: String,
    /// `true` when the deterministic offline writer wrote it (no provider configured).
    pub offline: bool,
    /// The model that wrote it, as the provider named it (none offline).
    pub model: Option<String>,
}

impl Written {
    /// How a move built from this text records its draft's origin.
    pub fn draft(&self) -> Draft {
        if self.offline {
            Draft::offline_template()
        } else {
            Draft::llm(self.model.clone())
        }
    }

    /// How outputs name the writer: `"llm"` or `"offline"`.
    pub fn writer(&self) -> &'static str {
        if self.offline {
            "offline"
        } else {
            "llm"
        }
    }
}

/// Everything a run may use.
pub struct Ctx<'a> {
    /// The user the run is for (its requester); proposed moves are theirs.
    pub owner: &'a str,
    pub now: DateTime<Utc>,
    pub voice: &'a VoiceProfile,
    pub writer: &'a Writer,
    pub queue: &'a dyn QueueReader,
    /// Contacts, duplicate pairs and the CRM sync (the hygiene agents); [`NoContacts`]
    /// unless the run was given a reader ([`Ctx::with_contacts`]).
    pub contacts: &'a dyn ContactReader,
    /// Deals (the deal agents); [`NoDeals`] unless the run was given a reader
    /// ([`Ctx::with_deals`]).
    pub deals: &'a dyn DealReader,
    /// Where research looks (the research agents); [`NoResearch`] unless the run was given
    /// sources ([`Ctx::with_research`]).
    pub research: &'a dyn ResearchSources,
    /// The operator's top-rated voice samples (DraftWriter's examples); [`NoExamples`]
    /// unless the run was given them ([`Ctx::with_examples`]).
    pub examples: &'a dyn VoiceExamples,
    usage: Mutex<LlmUsage>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        owner: &'a str,
        now: DateTime<Utc>,
        voice: &'a VoiceProfile,
        writer: &'a Writer,
        queue: &'a dyn QueueReader,
    ) -> Self {
        Ctx {
            owner,
            now,
            voice,
            writer,
            queue,
            contacts: &NoContacts,
            deals: &*NO_DEALS_READER,
            research: &NoResearch,
            examples: &NoExamples,
            usage: Mutex::new(LlmUsage::default()),
        }
    }

    /// This context, reading contacts from `contacts`.
    pub fn with_contacts(mut self, contacts: &'a dyn ContactReader) -> Self {
        self.contacts = contacts;
        self
    }

    /// This context, reading deals from `deals`.
    pub fn with_deals(mut self, deals: &'a dyn DealReader) -> Self {
        self.deals = deals;
        self
    }

    /// This context, researching through `research`.
    pub fn with_research(mut self, research: &'a dyn ResearchSources) -> Self {
        self.research = research;
        self
    }

    /// This context, with the voice samples of `examples`.
    pub fn with_examples(mut self, examples: &'a dyn VoiceExamples) -> Self {
        self.examples = examples;
        self
    }

    /// Tokens used so far by this run.
    pub fn usage(&self) -> LlmUsage {
        self.usage.lock().map(|u| u.clone()).unwrap_or_default()
    }

    /// Asks the language model for text, or — with no provider configured — returns what
    /// `offline` writes, marked as offline.
    pub async fn write(
        &self,
        prompt: &Prompt,
        offline: impl FnOnce() -> String,
    ) -> Result<Written, AgentError> {
        match self.writer {
            Writer::Offline => Ok(Written {
                text: offline(),
                offline: true,
                model: None,
            }),
            Writer::Llm(client) => {
                let messages = [
                    ChatMessage::system(&prompt.system),
                    ChatMessage::user(&prompt.user),
                ];
                let completion = client
                    .chat(&messages, prompt.max_tokens)
                    .await
                    .map_err(|e| e.into_agent_error())?;
                if let Ok(mut usage) = self.usage.lock() {
                    usage.add(&completion.usage);
                }
                Ok(Written {
                    text: completion.text,
                    offline: false,
                    model: completion.usage.model,
                })
            }
        }
    }
}

/// The reader of runs that read no deals.
static NO_DEALS_READER: std::sync::LazyLock<NoDeals> = std::sync::LazyLock::new(NoDeals::default);

/// Reads an input into the agent's input type, naming the first bad field as serde sees it.
fn parse<T: DeserializeOwned>(input: &Value) -> Result<T, Vec<FieldError>> {
    let input = integral_numbers(input);
    serde_path_to_error::deserialize::<_, T>(&input).map_err(|e| {
        let path = e.path().to_string();
        vec![FieldError {
            field: if path == "." {
                "input".into()
            } else {
                format!("input.{path}")
            },
            message: e.inner().to_string(),
        }]
    })
}

/// The value with every number that has no fraction written as an integer: JSON Schema's
/// `integer` is any number without a fraction (`2.0` and `1e2` are integers), serde's
/// integer types take only numbers written without a fraction or exponent.
fn integral_numbers(value: &Value) -> Value {
    match value {
        Value::Number(number) => match number.as_f64() {
            Some(float)
                if number.is_f64()
                    && float.fract() == 0.0
                    && float >= i64::MIN as f64
                    && float < i64::MAX as f64 =>
            {
                Value::from(float as i64)
            }
            _ => value.clone(),
        },
        Value::Array(items) => Value::Array(items.iter().map(integral_numbers).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, field)| (key.clone(), integral_numbers(field)))
                .collect(),
        ),
        _ => value.clone(),
    }
}

/// A field error at `input.<field>`.
pub fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: format!("input.{field}"),
        message: message.into(),
    }
}

/// Every string in an input that holds U+0000, which no text CaseyOS stores can hold
/// (PostgreSQL refuses it); every input schema's string patterns refuse it too.
fn nul_errors(input: &Value) -> Vec<FieldError> {
    fn walk(value: &Value, path: String, errors: &mut Vec<FieldError>) {
        match value {
            Value::String(text) if text.contains('\0') => errors.push(FieldError {
                field: path,
                message: "must not contain the NUL character (U+0000)".into(),
            }),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, format!("{path}[{i}]"), errors);
                }
            }
            Value::Object(fields) => {
                for (key, field) in fields {
                    walk(field, format!("{path}.{key}"), errors);
                }
            }
            _ => {}
        }
    }
    let mut errors = Vec::new();
    walk(input, "input".into(), &mut errors);
    errors
}

/// Each agent module provides `NAME`, `DOMAIN`, `DESCRIPTION`, `USES_LLM`,
/// `PROPOSES_MOVES`, an `Input` type (serde + utoipa), `schema() -> Value` (the input's
/// JSON Schema: exactly what `check` accepts, see [`schema`]), `example() -> Value`,
/// `check(&Input) -> Vec<FieldError>` and `async fn run(Input, &Ctx) -> Result<Outcome,
/// AgentError>`.
macro_rules! registry {
    ($($module:ident),+ $(,)?) => {
        /// Every agent CaseyOS runs, in display order.
        pub static REGISTRY: &[AgentSpec] = &[
            $(AgentSpec {
                name: $module::NAME,
                domain: $module::DOMAIN,
                description: $module::DESCRIPTION,
                uses_llm: $module::USES_LLM,
                proposes_moves: $module::PROPOSES_MOVES,
                schema: $module::schema,
                example: $module::example,
                check: |input| {
                    let parsed: $module::Input = parse(input)?;
                    let mut errors = nul_errors(input);
                    errors.extend($module::check(&parsed));
                    if errors.is_empty() { Ok(()) } else { Err(errors) }
                },
            },)+
        ];

        /// Runs the named agent on a validated input.
        pub async fn run(spec: &AgentSpec, input: &Value, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
            $(
                if spec.name == $module::NAME {
                    let parsed: $module::Input =
                        parse(input).map_err(|errors| AgentError::invalid_input(&errors))?;
                    return $module::run(parsed, ctx).await;
                }
            )+
            Err(AgentError::new("agent.not_found", format!("no agent named {}", spec.name), false))
        }
    };
}

registry!(
    validation,
    persona_router,
    account_analyzer,
    draft_writer,
    prospecting,
    nurturing,
    agenda_generator,
    pricing_calculator,
    contract_review,
    proposal_generator,
    deal_risk_analyzer,
    deal_advisor,
    pipeline_digest,
    client_health,
    revenue_ops,
    repurpose,
    contact_validation,
    duplicate_watcher,
    enrichment_orchestrator,
    data_decay,
    sync_health,
    standard_research,
    deep_research,
);

/// The future of one run of an [`ExtraAgent`].
pub type AgentFuture<'a> = Pin<Box<dyn Future<Output = Result<Outcome, AgentError>> + Send + 'a>>;

/// An agent that is not in [`REGISTRY`]: one an embedding application (or a test harness)
/// adds to the [`Agents`] its workers run. Its input is any JSON object.
#[derive(Clone, Copy)]
pub struct ExtraAgent {
    pub spec: AgentSpec,
    pub run: for<'a> fn(&'a Value, &'a Ctx<'a>) -> AgentFuture<'a>,
}

impl ExtraAgent {
    pub fn new(
        name: &'static str,
        description: &'static str,
        run: for<'a> fn(&'a Value, &'a Ctx<'a>) -> AgentFuture<'a>,
    ) -> ExtraAgent {
        ExtraAgent {
            spec: AgentSpec {
                name,
                domain: AgentDomain::Ops,
                description,
                uses_llm: false,
                proposes_moves: false,
                schema: || serde_json::json!({"type": "object", "properties": {}}),
                example: || serde_json::json!({}),
                check: |input| {
                    if input.is_object() {
                        Ok(())
                    } else {
                        Err(vec![FieldError {
                            field: "input".into(),
                            message: "must be a JSON object".into(),
                        }])
                    }
                },
            },
            run,
        }
    }
}

/// The agents a worker runs: the [`REGISTRY`], and any [`ExtraAgent`]s the application
/// added (a registry name always wins over an extra agent's).
#[derive(Clone, Default)]
pub struct Agents {
    extra: Vec<ExtraAgent>,
}

impl Agents {
    /// The registry's agents only.
    pub fn registry() -> Agents {
        Agents::default()
    }

    /// These agents and `agent`.
    pub fn with(mut self, agent: ExtraAgent) -> Agents {
        self.extra.push(agent);
        self
    }

    /// The agent with this name ([`find`]'s matching), from the registry or the extras.
    pub fn find(&self, name: &str) -> Option<&AgentSpec> {
        find(name).or_else(|| {
            let wanted = normalise(name);
            self.extra
                .iter()
                .map(|agent| &agent.spec)
                .find(|spec| normalise(spec.name) == wanted)
        })
    }

    /// Runs `spec` (one of these agents) on a validated input.
    pub async fn run(
        &self,
        spec: &AgentSpec,
        input: &Value,
        ctx: &Ctx<'_>,
    ) -> Result<Outcome, AgentError> {
        if find(spec.name).is_none() {
            if let Some(extra) = self.extra.iter().find(|a| a.spec.name == spec.name) {
                return (extra.run)(input, ctx).await;
            }
        }
        run(spec, input, ctx).await
    }
}

/// `DraftWriter`, `draft_writer`, `draft-writer` and `Draft Writer Agent` all name one agent.
fn normalise(name: &str) -> String {
    let lower: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match lower.strip_suffix("agent") {
        Some(stem) if !stem.is_empty() => stem.to_string(),
        _ => lower,
    }
}

/// The agent with this name, ignoring case, separators and an `Agent` suffix.
pub fn find(name: &str) -> Option<&'static AgentSpec> {
    let wanted = normalise(name);
    REGISTRY.iter().find(|spec| normalise(spec.name) == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_ignoring_case_separators_and_suffix() {
        for name in [
            "DraftWriter",
            "draft_writer",
            "draft-writer",
            "Draft Writer Agent",
        ] {
            assert_eq!(find(name).map(|s| s.name), Some("DraftWriter"), "{name}");
        }
        assert!(find("Nope").is_none());
        assert!(find("").is_none());
    }

    fn extra_run<'a>(_input: &'a Value, _ctx: &'a Ctx<'a>) -> AgentFuture<'a> {
        Box::pin(async { Err(AgentError::new("test.extra", "the extra agent ran", false)) })
    }

    #[test]
    fn extra_agents_are_found_beside_the_registry_which_wins_a_clash() {
        let agents = Agents::registry()
            .with(ExtraAgent::new("TestEcho", "A test agent.", extra_run))
            .with(ExtraAgent::new("DraftWriter", "A clash.", extra_run));
        assert_eq!(agents.find("test-echo").map(|s| s.name), Some("TestEcho"));
        let draft = agents.find("DraftWriter").expect("the registry's");
        assert_eq!(draft.description, find("DraftWriter").unwrap().description);
        assert!(Agents::registry().find("TestEcho").is_none());
        assert!(
            find("TestEcho").is_none(),
            "the registry itself is unchanged"
        );
        let echo = agents.find("TestEcho").unwrap();
        assert_eq!(echo.validate(&serde_json::json!({"any": 1})), Ok(()));
        assert!(echo.validate(&serde_json::json!([1])).is_err());
    }

    #[tokio::test]
    async fn an_extra_agent_runs_its_own_function() {
        let agents = Agents::registry().with(ExtraAgent::new("TestEcho", "A test.", extra_run));
        let harness = crate::llm::testing::Harness::offline();
        let ctx = harness.ctx();
        let spec = agents.find("TestEcho").unwrap();
        let error = agents
            .run(spec, &serde_json::json!({}), &ctx)
            .await
            .unwrap_err();
        assert_eq!(error.code, "test.extra");
        // A registry agent still runs the registry's code.
        let router = agents.find("PersonaRouter").unwrap();
        let outcome = agents
            .run(router, &serde_json::json!({"job_title": "CMO"}), &ctx)
            .await
            .expect("PersonaRouter runs");
        assert!(outcome.output.is_object());
    }

    #[test]
    fn the_registry_holds_twenty_three_distinct_agents() {
        let mut names: Vec<_> = REGISTRY.iter().map(|s| normalise(s.name)).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 23);
    }

    #[test]
    fn every_schema_is_a_self_contained_object_schema() {
        for spec in REGISTRY {
            let schema = spec.input_schema();
            assert_eq!(schema["type"], "object", "{}", spec.name);
            assert!(schema["properties"].is_object(), "{}", spec.name);
            let text = schema.to_string();
            assert!(
                !text.contains("$ref"),
                "{} has a $ref; inline nested types",
                spec.name
            );
        }
    }

    #[test]
    fn every_example_input_is_valid() {
        for spec in REGISTRY {
            let example = (spec.example)();
            assert_eq!(spec.validate(&example), Ok(()), "{}", spec.name);
        }
    }

    #[test]
    fn every_agent_refuses_unknown_fields_and_names_them() {
        for spec in REGISTRY {
            let errors = spec
                .validate(&serde_json::json!({"surely_not_a_field": 1}))
                .unwrap_err();
            assert!(errors[0].field.starts_with("input"), "{}", spec.name);
        }
    }
}
