//! ProposalGenerator: a client proposal in markdown: executive summary, goals, scope,
//! investment, timeline, terms and one next step.
//!
//! Prices come from PricingCalculator's [`quote`], so a proposal and a quote for the same
//! services always agree. The executive summary is written by the language model or,
//! without one, assembled from the goals, services and total.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::draft_writer::{clean_punctuation, goal_clause, join_list, non_blank, sentence};
use crate::pricing_calculator::{
    billed_hours, quote, quote_markdown, quote_rules, Complexity, Currency, Quote, QuoteRequest,
    Referral, Service, ServiceRequest,
};
use crate::repurpose::limit_words;
use crate::schema::{self, InputSchema};
use crate::text_fields::{optional_text, required_text};
use crate::voice::VoiceProfile;
use crate::{field_error, AgentError, Ctx, Outcome, Prompt};

pub const NAME: &str = "ProposalGenerator";
pub const DOMAIN: AgentDomain = AgentDomain::Contracts;
pub const DESCRIPTION: &str =
    "Writes a client proposal with an executive summary, scope, priced investment table, timeline and terms.";
pub const USES_LLM: bool = true;
pub const PROPOSES_MOVES: bool = false;

pub const GOALS: std::ops::RangeInclusive<usize> = 1..=10;
pub const MAX_GOAL_CHARS: usize = 300;
pub const MAX_NAME_CHARS: usize = 120;
pub const DEFAULT_VALID_DAYS: u32 = 30;
pub const VALID_DAYS: std::ops::RangeInclusive<u32> = 1..=180;
/// Goals the offline summary names before "and N more".
const SUMMARY_GOALS: usize = 3;
/// Longest executive summary kept, in words.
const SUMMARY_MAX_WORDS: usize = 250;
const MAX_TOKENS: u32 = 600;

/// What each service covers, as the proposal's scope describes it.
pub const SCOPE: &[(Service, &str)] = &[
    (
        Service::Audit,
        "A structured review of your sales process, CRM data and reporting, ending in a written findings report with ranked recommendations.",
    ),
    (
        Service::Strategy,
        "Discovery interviews with your team, a review of pipeline, process and tooling, and a prioritised 90-day plan with owners and measures.",
    ),
    (
        Service::Implementation,
        "Configuration and rollout of the agreed process and tooling, data migration and integrations, and hands-on support until your team runs it unaided.",
    ),
    (
        Service::Training,
        "Live, hands-on sessions for your team built around your own deals and process, with materials to keep.",
    ),
    (
        Service::Retainer,
        "Ongoing senior support each month within the tier's hours: working sessions, pipeline and process reviews, and help as questions come up.",
    ),
];

/// The order phases run in; retainers start after the project work.
pub const PHASE_ORDER: [Service; 5] = [
    Service::Audit,
    Service::Strategy,
    Service::Implementation,
    Service::Training,
    Service::Retainer,
];
/// Delivery pace used for the timeline estimate.
pub const STRATEGY_HOURS_PER_WEEK: u32 = 15;
pub const IMPLEMENTATION_HOURS_PER_WEEK: u32 = 30;
pub const AUDIT_WEEKS: u32 = 2;
pub const TRAINING_DAYS_PER_WEEK: u32 = 2;
pub const PAYMENT_TERMS: &str =
    "Project work is invoiced 50% on signature and 50% on completion; retainers are invoiced monthly in advance. Invoices are due within 30 days.";

/// A client, their goals and the services to propose.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub client_name: String,
    #[serde(default)]
    pub client_industry: Option<String>,
    /// What the client wants to achieve (1–10 goals).
    pub goals: Vec<String>,
    /// The services, each `{service, hours?, days?, tier?, months?}` as for PricingCalculator.
    #[schema(inline)]
    pub services: Vec<ServiceRequest>,
    /// How demanding the work is (default standard).
    #[serde(default)]
    #[schema(inline)]
    pub complexity: Complexity,
    /// Whole years the client has worked with us (1: 5%, 2: 10%, 3 or more: 15%).
    #[serde(default)]
    pub years_as_client: Option<u32>,
    /// Who referred them (standard 5%, partner 10%).
    #[serde(default)]
    #[schema(inline)]
    pub referral: Option<Referral>,
    /// Days within which they will sign (7 or fewer: 10%, 14 or fewer: 5%).
    #[serde(default)]
    pub signed_within_days: Option<u32>,
    /// Strategic account tier, 1 (10%) or 2 (5%).
    #[serde(default)]
    pub strategic_tier: Option<u8>,
    /// Days the proposal stays valid (1–180, default 30).
    #[serde(default)]
    pub valid_days: Option<u32>,
}

impl Input {
    fn request(&self) -> QuoteRequest {
        QuoteRequest {
            services: self.services.clone(),
            complexity: self.complexity,
            years_as_client: self.years_as_client,
            referral: self.referral,
            signed_within_days: self.signed_within_days,
            strategic_tier: self.strategic_tier,
            currency: Currency::Usd,
        }
    }

    fn valid_days(&self) -> u32 {
        self.valid_days.unwrap_or(DEFAULT_VALID_DAYS)
    }
}

pub fn example() -> serde_json::Value {
    json!({
        "client_name": "BrightPath Health",
        "client_industry": "healthcare software",
        "goals": [
            "Cut the weekly forecast call from 90 to 30 minutes",
            "Catch slipping deals two weeks earlier",
            "Get the new SDR team to full productivity by Q3"
        ],
        "services": [
            {"service": "strategy", "hours": 40},
            {"service": "implementation", "hours": 100},
            {"service": "training", "days": 2}
        ],
        "complexity": "standard",
        "years_as_client": 1,
        "signed_within_days": 7,
        "valid_days": 30
    })
}

pub fn schema() -> serde_json::Value {
    let schema = InputSchema::of::<Input>()
        .non_blank_text("client_name", MAX_NAME_CHARS)
        .text("client_industry", MAX_NAME_CHARS)
        .field_rules(
            "goals",
            json!({
                "minItems": GOALS.start(),
                "maxItems": GOALS.end(),
                "items": schema::non_blank_text(1, MAX_GOAL_CHARS),
            }),
        )
        .integer(
            "valid_days",
            (*VALID_DAYS.start()).into(),
            (*VALID_DAYS.end()).into(),
        );
    quote_rules(schema).build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    let mut errors = Vec::new();
    required_text(
        &mut errors,
        "client_name",
        &input.client_name,
        MAX_NAME_CHARS,
    );
    optional_text(
        &mut errors,
        "client_industry",
        input.client_industry.as_deref(),
        MAX_NAME_CHARS,
    );
    if !GOALS.contains(&input.goals.len()) {
        errors.push(field_error(
            "goals",
            format!("must list {}–{} goals", GOALS.start(), GOALS.end()),
        ));
    }
    for (i, goal) in input.goals.iter().enumerate() {
        required_text(&mut errors, &format!("goals[{i}]"), goal, MAX_GOAL_CHARS);
    }
    if let Err(mut quote_errors) = quote(&input.request()) {
        errors.append(&mut quote_errors);
    }
    if input.valid_days.is_some_and(|d| !VALID_DAYS.contains(&d)) {
        errors.push(field_error(
            "valid_days",
            format!("must be {}–{} days", VALID_DAYS.start(), VALID_DAYS.end()),
        ));
    }
    errors
}

/// One phase of the timeline, in weeks from the start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Phase {
    pub service: Service,
    pub start_week: u32,
    /// The last week of a project phase; none for a retainer (it runs by the month).
    pub end_week: Option<u32>,
    pub description: String,
}

/// Weeks a project phase takes at the delivery pace above (at least one).
fn phase_weeks(line: &ServiceRequest) -> Option<u32> {
    let weeks = match line.service {
        Service::Strategy => billed_hours(line)?.div_ceil(STRATEGY_HOURS_PER_WEEK),
        Service::Implementation => billed_hours(line)?.div_ceil(IMPLEMENTATION_HOURS_PER_WEEK),
        Service::Audit => AUDIT_WEEKS,
        Service::Training => line.days?.div_ceil(TRAINING_DAYS_PER_WEEK),
        Service::Retainer => return None,
    };
    Some(weeks.max(1))
}

/// A short name for a service line: `Strategy (40 hours)`.
fn line_label(line: &ServiceRequest) -> String {
    let label = line.service.label();
    match line.service {
        Service::Strategy | Service::Implementation => {
            format!("{label} ({} hours)", billed_hours(line).unwrap_or_default())
        }
        Service::Training => {
            let days = line.days.unwrap_or_default();
            format!("{label} ({days} day{})", if days == 1 { "" } else { "s" })
        }
        Service::Retainer => format!(
            "{label} ({} hours a month for {} months)",
            line.tier.unwrap_or_default(),
            line.months.unwrap_or_default()
        ),
        Service::Audit => label.to_string(),
    }
}

/// The phases in [`PHASE_ORDER`], one after another; retainers start when the project
/// work ends.
pub fn timeline(services: &[ServiceRequest]) -> Vec<Phase> {
    let mut phases = Vec::new();
    let mut next_week = 1;
    for service in PHASE_ORDER {
        for line in services.iter().filter(|l| l.service == service) {
            match phase_weeks(line) {
                Some(weeks) => {
                    let end = next_week + weeks - 1;
                    phases.push(Phase {
                        service,
                        start_week: next_week,
                        end_week: Some(end),
                        description: line_label(line),
                    });
                    next_week = end + 1;
                }
                None => phases.push(Phase {
                    service,
                    start_week: next_week,
                    end_week: None,
                    description: line_label(line),
                }),
            }
        }
    }
    phases
}

fn phase_line(phase: &Phase) -> String {
    match phase.end_week {
        Some(end) if end == phase.start_week => {
            format!("- Week {}: {}", phase.start_week, phase.description)
        }
        Some(end) => format!("- Weeks {}–{end}: {}", phase.start_week, phase.description),
        None => format!("- From week {}: {}", phase.start_week, phase.description),
    }
}

/// The deterministic executive summary: who, what they want, what we propose, how long and
/// what it costs.
fn offline_summary(input: &Input, quote: &Quote, phases: &[Phase]) -> String {
    let client = input.client_name.trim();
    let who = match non_blank(input.client_industry.as_deref()) {
        Some(industry) => format!("{client}, a {industry} team,"),
        None => client.to_string(),
    };
    let mut goals: Vec<String> = input
        .goals
        .iter()
        .take(SUMMARY_GOALS)
        .map(|g| goal_clause(g))
        .collect();
    let more = input.goals.len().saturating_sub(SUMMARY_GOALS);
    if more > 0 {
        goals.push(format!(
            "{more} further goal{} listed below",
            if more == 1 { "" } else { "s" }
        ));
    }
    let services: Vec<String> = input
        .services
        .iter()
        .map(|l| goal_clause(&line_label(l)))
        .collect();
    let project_weeks = phases.iter().filter_map(|p| p.end_week).max();
    let retainer = phases.iter().find(|p| p.end_week.is_none());
    let duration = match (project_weeks, retainer) {
        (Some(weeks), Some(_)) => format!(
            " over about {weeks} week{}, followed by ongoing monthly support",
            if weeks == 1 { "" } else { "s" }
        ),
        (Some(weeks), None) => {
            format!(
                " over about {weeks} week{}",
                if weeks == 1 { "" } else { "s" }
            )
        }
        (None, Some(_)) => " as ongoing monthly support".to_string(),
        (None, None) => String::new(),
    };
    let investment = if quote.total_discount_minor > 0 {
        format!(
            "The investment is {}, which includes {} in discounts.",
            quote.total, quote.total_discount
        )
    } else {
        format!("The investment is {}.", quote.total)
    };
    format!(
        "{who} wants to {}. We propose {}{duration}. {investment} Each phase ends with a review against these goals, so progress is visible as we go.",
        join_list(&goals),
        join_list(&services),
    )
}

fn system_prompt(voice: &VoiceProfile) -> String {
    let mut rules = vec![
        format!(
            "You write the executive summary of a consulting proposal for {} (tone: {}).",
            voice.sender_name, voice.tone
        ),
        format!(
            "One or two short paragraphs, at most {SUMMARY_MAX_WORDS} words, no heading. Name the client's goals, what we propose, how long it takes and the investment. Use only the facts given."
        ),
    ];
    rules.extend(voice.prohibitions());
    rules.join("\n")
}

fn facts(input: &Input, quote: &Quote, phases: &[Phase]) -> String {
    let mut lines = vec![format!("Client: {}", input.client_name.trim())];
    if let Some(industry) = non_blank(input.client_industry.as_deref()) {
        lines.push(format!("Industry: {industry}"));
    }
    lines.push("Goals:".into());
    lines.extend(input.goals.iter().map(|g| format!("- {}", g.trim())));
    lines.push("Timeline:".into());
    lines.extend(phases.iter().map(phase_line));
    lines.push(format!(
        "Investment: {} (subtotal {}, discounts {})",
        quote.total, quote.subtotal, quote.total_discount
    ));
    lines.join("\n")
}

/// The model's summary without a heading or label, within the word limit.
fn tidy_summary(text: &str, voice: &VoiceProfile) -> String {
    let text = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.trim();
    let text = [
        "Executive summary:",
        "**Executive summary**",
        "Executive Summary:",
    ]
    .iter()
    .find_map(|label| text.strip_prefix(label))
    .unwrap_or(text);
    limit_words(&clean_punctuation(text.trim(), voice), SUMMARY_MAX_WORDS)
}

fn next_step(voice: &VoiceProfile) -> String {
    match non_blank(voice.calendar_link.as_deref()) {
        Some(link) => format!("Book a 30-minute walkthrough of this proposal: {link}"),
        None => "Reply to confirm, and we'll send the agreement for signature.".to_string(),
    }
}

fn scope_of(service: Service) -> &'static str {
    SCOPE
        .iter()
        .find(|(s, _)| *s == service)
        .map_or("", |(_, text)| text)
}

fn proposal_markdown(
    input: &Input,
    quote: &Quote,
    phases: &[Phase],
    summary: &str,
    valid_until: DateTime<Utc>,
    ctx: &Ctx<'_>,
    offline: bool,
) -> String {
    let voice = ctx.voice;
    let mut md = vec![
        format!("# Proposal for {}", input.client_name.trim()),
        format!(
            "Prepared by {} on {}. Valid until {}.",
            voice.sender_name,
            long_date(ctx.now),
            long_date(valid_until)
        ),
        format!("## Executive summary\n\n{summary}"),
    ];
    let goals: Vec<String> = input
        .goals
        .iter()
        .enumerate()
        .map(|(i, g)| format!("{}. {}", i + 1, sentence(g)))
        .collect();
    md.push(format!("## Goals\n\n{}", goals.join("\n")));
    let scope: Vec<String> = PHASE_ORDER
        .iter()
        .flat_map(|service| input.services.iter().filter(move |l| l.service == *service))
        .map(|line| format!("### {}\n\n{}", line_label(line), scope_of(line.service)))
        .collect();
    md.push(format!("## Scope\n\n{}", scope.join("\n\n")));
    md.push(format!("## Investment\n\n{}", quote_markdown(quote)));
    let timeline: Vec<String> = phases.iter().map(phase_line).collect();
    md.push(format!(
        "## Timeline\n\n{}\n\nWeeks are counted from the kickoff after signature.",
        timeline.join("\n")
    ));
    md.push(format!(
        "## Terms\n\n- Prices are in US dollars and exclude applicable taxes.\n- {PAYMENT_TERMS}\n- This proposal is valid until {} ({} days).",
        long_date(valid_until),
        input.valid_days()
    ));
    md.push(format!("## Next step\n\n{}", next_step(voice)));
    if offline {
        md.push(
            "_Executive summary written by the offline template (no language model configured)._"
                .into(),
        );
    }
    md.join("\n\n")
}

/// `April 1, 2026`.
fn long_date(at: DateTime<Utc>) -> String {
    at.format("%B %-d, %Y").to_string()
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let quote = quote(&input.request()).map_err(|errors| AgentError::invalid_input(&errors))?;
    let phases = timeline(&input.services);
    let prompt = Prompt {
        system: system_prompt(ctx.voice),
        user: facts(&input, &quote, &phases),
        max_tokens: MAX_TOKENS,
    };
    let written = ctx
        .write(&prompt, || offline_summary(&input, &quote, &phases))
        .await?;
    let summary = tidy_summary(&written.text, ctx.voice);
    let valid_until = ctx.now + Duration::days(i64::from(input.valid_days()));
    let markdown = proposal_markdown(
        &input,
        &quote,
        &phases,
        &summary,
        valid_until,
        ctx,
        written.offline,
    );
    Ok(Outcome {
        output: json!({
            "quote": quote,
            "executive_summary": summary,
            "timeline": phases,
            "valid_until": valid_until.date_naive(),
            "markdown": markdown,
            "writer": written.writer(),
        }),
        text: Some(markdown),
        proposals: Vec::new(),
        effects: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::testing::{first_prompt, Harness};
    use crate::pricing_calculator::tests::line;

    fn input() -> Input {
        serde_json::from_value(example()).expect("example parses")
    }

    #[test]
    fn phases_follow_the_phase_order_at_the_delivery_pace() {
        let services = vec![
            ServiceRequest {
                days: Some(3),
                ..line(Service::Training)
            },
            ServiceRequest {
                tier: Some(20),
                months: Some(6),
                ..line(Service::Retainer)
            },
            ServiceRequest {
                hours: Some(100),
                ..line(Service::Implementation)
            },
            line(Service::Audit),
            ServiceRequest {
                hours: Some(40),
                ..line(Service::Strategy)
            },
        ];
        let got: Vec<(Service, u32, Option<u32>)> = timeline(&services)
            .into_iter()
            .map(|p| (p.service, p.start_week, p.end_week))
            .collect();
        assert_eq!(
            got,
            [
                (Service::Audit, 1, Some(2)),
                (Service::Strategy, 3, Some(5)), // 40 h at 15 h/week: 3 weeks
                (Service::Implementation, 6, Some(9)), // 100 h at 30 h/week: 4 weeks
                (Service::Training, 10, Some(11)), // 3 days at 2 days/week: 2 weeks
                (Service::Retainer, 12, None),
            ]
        );
    }

    #[test]
    fn phase_length_uses_billed_hours_and_at_least_one_week() {
        let table = [
            (line(Service::Strategy), Some(2)), // 30 h minimum
            (
                ServiceRequest {
                    hours: Some(10),
                    ..line(Service::Strategy)
                },
                Some(2),
            ),
            (
                ServiceRequest {
                    hours: Some(46),
                    ..line(Service::Strategy)
                },
                Some(4),
            ),
            (line(Service::Implementation), Some(3)), // 80 h minimum
            (
                ServiceRequest {
                    days: Some(1),
                    ..line(Service::Training)
                },
                Some(1),
            ),
            (line(Service::Audit), Some(AUDIT_WEEKS)),
            (
                ServiceRequest {
                    tier: Some(40),
                    months: Some(3),
                    ..line(Service::Retainer)
                },
                None,
            ),
        ];
        for (service, weeks) in table {
            assert_eq!(phase_weeks(&service), weeks, "{service:?}");
        }
    }

    #[test]
    fn timeline_lines_read_as_weeks() {
        let table = [
            (
                Phase {
                    service: Service::Audit,
                    start_week: 1,
                    end_week: Some(2),
                    description: "Audit".into(),
                },
                "- Weeks 1–2: Audit",
            ),
            (
                Phase {
                    service: Service::Training,
                    start_week: 3,
                    end_week: Some(3),
                    description: "Training (1 day)".into(),
                },
                "- Week 3: Training (1 day)",
            ),
            (
                Phase {
                    service: Service::Retainer,
                    start_week: 4,
                    end_week: None,
                    description: "Retainer".into(),
                },
                "- From week 4: Retainer",
            ),
        ];
        for (phase, expected) in table {
            assert_eq!(phase_line(&phase), expected);
        }
    }

    #[test]
    fn the_offline_summary_names_goals_services_duration_and_investment() {
        let input = input();
        let quote = quote(&input.request()).expect("valid");
        let phases = timeline(&input.services);
        let summary = offline_summary(&input, &quote, &phases);
        assert_eq!(
            summary,
            "BrightPath Health, a healthcare software team, wants to cut the weekly forecast call from 90 to 30 minutes, catch slipping deals two weeks earlier and get the new SDR team to full productivity by Q3. \
             We propose strategy (40 hours), implementation (100 hours) and training (2 days) over about 8 weeks. \
             The investment is $26,000.00, which includes $6,500.00 in discounts. \
             Each phase ends with a review against these goals, so progress is visible as we go."
        );
    }

    #[test]
    fn more_than_three_goals_are_summarised_as_a_count() {
        let mut input = input();
        input.goals.push("Clean up the CRM".into());
        input.goals.push("Shorten onboarding".into());
        let quote = quote(&input.request()).expect("valid");
        let summary = offline_summary(&input, &quote, &timeline(&input.services));
        assert!(
            summary.contains("by Q3 and 2 further goals listed below."),
            "{summary}"
        );
    }

    #[test]
    fn model_summaries_lose_headings_labels_and_prohibited_marks() {
        let voice = VoiceProfile::default();
        let table = [
            (
                "# Executive summary\n\nBrightPath wants speed — and clarity!!",
                "BrightPath wants speed, and clarity!",
            ),
            ("Executive summary: Short and clear.", "Short and clear."),
            ("Plain text.", "Plain text."),
        ];
        for (text, expected) in table {
            assert_eq!(tidy_summary(text, &voice), expected, "{text:?}");
        }
        let long = "word ".repeat(400);
        assert_eq!(
            tidy_summary(&long, &voice).split_whitespace().count(),
            SUMMARY_MAX_WORDS
        );
    }

    #[test]
    fn check_names_bad_goals_services_and_validity() {
        let input = Input {
            goals: vec!["ok".into(), " ".into()],
            services: vec![line(Service::Training)],
            valid_days: Some(0),
            client_name: "".into(),
            ..input()
        };
        let fields: Vec<String> = check(&input).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "input.client_name",
                "input.goals[1]",
                "input.services[0].days",
                "input.valid_days"
            ]
        );
        let none = Input {
            goals: vec![],
            ..self::input()
        };
        assert_eq!(check(&none)[0].field, "input.goals");
        let eleven = Input {
            goals: vec!["A goal".into(); 11],
            ..self::input()
        };
        assert_eq!(check(&eleven)[0].field, "input.goals");
    }

    #[tokio::test]
    async fn offline_the_proposal_has_every_section_and_agrees_with_the_quote() {
        let harness = Harness::offline();
        let outcome = run(input(), &harness.ctx()).await.expect("runs");

        assert_eq!(outcome.output["writer"], "offline");
        assert_eq!(outcome.output["valid_until"], "2026-04-01");
        let expected_quote = quote(&input().request()).expect("valid");
        assert_eq!(
            outcome.output["quote"]["total_minor"],
            expected_quote.total_minor
        );
        let md = outcome.text.clone().unwrap_or_default();
        assert_eq!(outcome.output["markdown"], md.as_str());
        for section in [
            "# Proposal for BrightPath Health",
            "Prepared by Casey on March 2, 2026. Valid until April 1, 2026.",
            "## Executive summary\n\nBrightPath Health, a healthcare software team, wants to",
            "## Goals\n\n1. Cut the weekly forecast call from 90 to 30 minutes.\n2. Catch",
            "## Scope\n\n### Strategy (40 hours)\n\nDiscovery interviews",
            "### Implementation (100 hours)",
            "### Training (2 days)",
            "## Investment\n\n| Item | Quantity | Unit price | Amount |",
            "| **Total (USD)** | | | **$26,000.00** |",
            "## Timeline\n\n- Weeks 1–3: Strategy (40 hours)\n- Weeks 4–7: Implementation (100 hours)\n- Week 8: Training (2 days)",
            "This proposal is valid until April 1, 2026 (30 days).",
            "## Next step\n\nReply to confirm, and we'll send the agreement for signature.",
        ] {
            assert!(md.contains(section), "missing {section:?} in\n{md}");
        }
    }

    #[tokio::test]
    async fn the_next_step_offers_the_calendar_link_when_set() {
        let mut harness = Harness::offline();
        harness.voice.calendar_link = Some("https://cal.example/casey".into());
        let outcome = run(input(), &harness.ctx()).await.expect("runs");
        let md = outcome.text.unwrap_or_default();
        assert!(
            md.contains("Book a 30-minute walkthrough of this proposal: https://cal.example/casey")
        );
        assert!(!md.contains("Reply to confirm"));
    }

    #[tokio::test]
    async fn a_model_summary_is_used_and_marked_as_llm() {
        let (server, harness) = Harness::answering(
            "## Executive summary\n\nBrightPath wants shorter forecast calls — we can help.",
        )
        .await;

        let outcome = run(input(), &harness.ctx()).await.expect("runs");

        assert_eq!(outcome.output["writer"], "llm");
        assert_eq!(
            outcome.output["executive_summary"],
            "BrightPath wants shorter forecast calls, we can help."
        );
        let (_, user) = first_prompt(&server).await;
        assert!(user.contains("Investment: $26,000.00"), "{user}");
        assert!(user.contains("- Cut the weekly forecast call"));
    }
}
