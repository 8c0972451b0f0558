//! PersonaRouter: reads a job title and names the buyer persona to speak to, with the pain
//! points, value propositions and calls to action for that persona.
//!
//! The seed scored titles by substring, so "cro" matched "micro" and a tie went to
//! whichever persona its dictionary happened to list first. Here keywords match whole
//! words ([`crate::words`]), "Vice President" reads as "VP", a score is the sum of the
//! matched keywords' lengths (integers), and ties follow [`TIE_BREAK_ORDER`].

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::InputSchema;
use crate::text_fields::required_text;
use crate::{words, AgentError, Ctx, Outcome};

pub const NAME: &str = "PersonaRouter";
pub const DOMAIN: AgentDomain = AgentDomain::Sales;
pub const DESCRIPTION: &str =
    "Classifies a job title into a buyer persona and returns that persona's pain points, value propositions and calls to action.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// Longest job title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

/// Keywords per persona. A keyword scores its length in characters (spaces included), so
/// longer, more specific phrases ("field marketing") outweigh short generic ones ("vp").
const KEYWORDS: &[(Persona, &[&str])] = &[
    (
        Persona::Events,
        &[
            "event",
            "events",
            "event marketing",
            "field marketing",
            "experiential",
            "conference",
            "conferences",
            "trade show",
            "trade shows",
            "tradeshow",
            "sponsorship",
            "sponsorships",
            "hospitality",
            "venue",
        ],
    ),
    (
        Persona::DemandGen,
        &[
            "demand",
            "demand gen",
            "demand generation",
            "growth",
            "growth marketing",
            "acquisition",
            "pipeline",
            "lead gen",
            "lead generation",
            "abm",
            "account based",
            "performance marketing",
            "digital marketing",
            "paid media",
            "marketing operations",
            "marketing ops",
        ],
    ),
    (
        Persona::Sales,
        &[
            "sales",
            "account executive",
            "ae",
            "sdr",
            "bdr",
            "business development",
            "account manager",
            "revenue",
            "revops",
            "partnerships",
            "commercial",
        ],
    ),
    (
        Persona::MarketingGeneral,
        &[
            "marketing",
            "brand",
            "communications",
            "content",
            "pr",
            "public relations",
            "social media",
            "creative",
        ],
    ),
    (
        Persona::Executive,
        &[
            "chief",
            "officer",
            "ceo",
            "cmo",
            "cro",
            "coo",
            "cfo",
            "founder",
            "president",
            "owner",
            "vp",
            "svp",
            "evp",
            "managing director",
            "general manager",
        ],
    ),
];

/// Who wins a tie: the most specific service line first, the generalist last. A "VP of
/// Events" and a CMO both matter, but the events brief is the sharper conversation.
pub const TIE_BREAK_ORDER: [Persona; 5] = [
    Persona::Events,
    Persona::DemandGen,
    Persona::Sales,
    Persona::MarketingGeneral,
    Persona::Executive,
];

/// Spelled-out titles read as their abbreviation, so "Vice President" is not scored as a
/// "President". Longest first.
const TITLE_ALIASES: &[(&str, &str)] = &[
    ("senior vice president", "svp"),
    ("executive vice president", "evp"),
    ("vice president", "vp"),
];

/// What a persona hears: three pain points, three value propositions, three calls to action.
struct Messaging {
    pain_points: [&'static str; 3],
    value_props: [&'static str; 3],
    ctas: [&'static str; 3],
}

fn messaging(persona: Persona) -> Messaging {
    match persona {
        Persona::Events => Messaging {
            pain_points: [
                "Events eat a large share of budget, but the pipeline they create is hard to prove to finance",
                "Booth scans and badge lists go stale because follow-up starts days after the show",
                "Each event is planned from scratch, so the team repeats the same logistics mistakes",
            ],
            value_props: [
                "An event-to-pipeline plan that sets meeting targets before the show and tracks them to revenue",
                "A 48-hour follow-up playbook with sequences written before the doors open",
                "A reusable event operating calendar and checklist your team can run without us",
            ],
            ctas: [
                "Send me your next three events and I'll map where the pipeline will come from",
                "Book 30 minutes to review your last event's follow-up",
                "Get our post-event follow-up playbook",
            ],
        },
        Persona::DemandGen => Messaging {
            pain_points: [
                "Lead volume is up, but sales says the leads aren't ready to talk",
                "Paid channels are getting more expensive while conversion to pipeline stays flat",
                "Attribution arguments take more time than improving the campaigns",
            ],
            value_props: [
                "A shared definition of a qualified lead that marketing and sales both sign",
                "A channel mix review that moves budget to the programs that create pipeline",
                "A simple pipeline scorecard that ends the attribution debate",
            ],
            ctas: [
                "Share last quarter's funnel numbers and I'll point out the biggest leak",
                "Book a 30-minute pipeline review",
                "Get our lead handoff scorecard template",
            ],
        },
        Persona::Sales => Messaging {
            pain_points: [
                "Reps spend their week prospecting cold lists instead of working warm accounts",
                "Deals stall after the first meeting because next steps aren't agreed",
                "The forecast depends on gut feel rather than stage evidence",
            ],
            value_props: [
                "A target account list built from the signals your best customers showed before they bought",
                "Meeting and proposal frameworks that end every call with a dated next step",
                "Stage exit criteria that make the forecast something you can defend",
            ],
            ctas: [
                "Send me two stalled deals and I'll show you where they slipped",
                "Book 30 minutes to review your sales stages",
                "Get our deal stage exit checklist",
            ],
        },
        Persona::MarketingGeneral => Messaging {
            pain_points: [
                "The team runs many programs, but few of them connect to revenue",
                "Brand and content work is hard to justify when budgets are reviewed",
                "Priorities shift every quarter, so no program runs long enough to learn from",
            ],
            value_props: [
                "A go-to-market plan that ties each program to a pipeline goal",
                "A content engine that feeds sales conversations, not just traffic",
                "A quarterly planning rhythm that keeps the few programs that work",
            ],
            ctas: [
                "Tell me your top three programs and I'll show you which one to double",
                "Book 30 minutes to pressure-test your plan for next quarter",
                "Get our go-to-market planning worksheet",
            ],
        },
        Persona::Executive => Messaging {
            pain_points: [
                "Growth targets keep rising while the go-to-market team's output stays flat",
                "Marketing and sales report different numbers for the same pipeline",
                "Hiring more people hasn't made revenue more predictable",
            ],
            value_props: [
                "An outside review of your go-to-market motion with a ranked list of fixes",
                "One revenue plan that marketing, sales and events are all measured against",
                "Senior strategy help without the cost of another executive hire",
            ],
            ctas: [
                "Book 30 minutes for a go-to-market diagnostic",
                "Send me your revenue plan and I'll mark the three riskiest assumptions",
                "Get our one-page go-to-market review",
            ],
        },
        Persona::Unknown => Messaging {
            pain_points: [
                "It isn't clear yet which part of the go-to-market motion they own",
                "Their priorities may sit outside marketing, sales or events",
                "Generic outreach to an unclear role rarely gets a reply",
            ],
            value_props: [
                "A short discovery conversation to learn what they're measured on",
                "Introductions to the right owner of pipeline at their company",
                "A general overview of how we help go-to-market teams grow pipeline",
            ],
            ctas: [
                "Ask who owns pipeline generation at their company",
                "Book 15 minutes to learn their priorities",
                "Get our go-to-market overview",
            ],
        },
    }
}

/// A buyer persona.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Persona {
    Events,
    DemandGen,
    Sales,
    MarketingGeneral,
    Executive,
    /// No keyword matched.
    Unknown,
}

impl Persona {
    fn label(self) -> &'static str {
        match self {
            Persona::Events => "Events",
            Persona::DemandGen => "Demand generation",
            Persona::Sales => "Sales",
            Persona::MarketingGeneral => "Marketing (general)",
            Persona::Executive => "Executive",
            Persona::Unknown => "Unknown",
        }
    }
}

/// Routes one job title to a persona.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The contact's job title, e.g. "Senior Manager, Field Marketing".
    pub job_title: String,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({"job_title": "Vice President, Demand Generation"})
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .non_blank_text("job_title", MAX_TITLE_CHARS)
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    let mut errors = Vec::new();
    required_text(&mut errors, "job_title", &input.job_title, MAX_TITLE_CHARS);
    errors
}

/// One persona's score and the keywords that earned it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonaScore {
    pub persona: Persona,
    /// Sum of the matched keywords' lengths.
    pub score: u32,
    pub matched_keywords: Vec<&'static str>,
}

/// The routing of one title.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Routing {
    pub job_title: String,
    pub persona: Persona,
    /// The winning score as a share of all points scored, in percent (0 when unknown).
    pub confidence_percent: u32,
    /// Every persona's score, in tie-break order.
    pub scores: Vec<PersonaScore>,
    pub pain_points: Vec<&'static str>,
    pub value_props: Vec<&'static str>,
    pub ctas: Vec<&'static str>,
}

/// A title as lower-case words, spelled-out titles replaced by their abbreviation
/// ("Vice President, Sales" → "vp sales"). Shared with the account analyzer.
pub(crate) fn normalise_title(title: &str) -> String {
    let mut padded = format!(" {} ", words::tokens(title).join(" "));
    for (long, short) in TITLE_ALIASES {
        padded = padded.replace(&format!(" {long} "), &format!(" {short} "));
    }
    padded.trim().to_string()
}

/// Scores a title against every persona, in [`TIE_BREAK_ORDER`].
pub fn score_title(title: &str) -> Vec<PersonaScore> {
    let normal = normalise_title(title);
    TIE_BREAK_ORDER
        .iter()
        .map(|&persona| {
            let keywords = KEYWORDS
                .iter()
                .find(|(p, _)| *p == persona)
                .map(|(_, k)| *k)
                .unwrap_or(&[]);
            let matched = words::found(&normal, keywords);
            let score = matched.iter().map(|k| k.chars().count() as u32).sum();
            PersonaScore {
                persona,
                score,
                matched_keywords: matched,
            }
        })
        .collect()
}

/// Routes a title: the highest score wins, ties go to the earlier persona in
/// [`TIE_BREAK_ORDER`], and no match at all is [`Persona::Unknown`].
pub fn route(title: &str) -> Routing {
    let scores = score_title(title);
    let total: u32 = scores.iter().map(|s| s.score).sum();
    // `max_by_key` keeps the last maximum; reversing the order keeps the first.
    let best = scores
        .iter()
        .rev()
        .max_by_key(|s| s.score)
        .filter(|s| s.score > 0);
    let (persona, confidence_percent) = match best {
        Some(best) => (best.persona, best.score * 100 / total),
        None => (Persona::Unknown, 0),
    };
    let lines = messaging(persona);
    Routing {
        job_title: title.trim().to_string(),
        persona,
        confidence_percent,
        scores,
        pain_points: lines.pain_points.to_vec(),
        value_props: lines.value_props.to_vec(),
        ctas: lines.ctas.to_vec(),
    }
}

fn render(routing: &Routing) -> String {
    let mut out = format!(
        "## {}: {} ({}% confidence)\n",
        routing.job_title,
        routing.persona.label(),
        routing.confidence_percent
    );
    let matched: Vec<&str> = routing
        .scores
        .iter()
        .filter(|s| s.persona == routing.persona)
        .flat_map(|s| s.matched_keywords.iter().copied())
        .collect();
    if matched.is_empty() {
        out.push_str("\nNo persona keyword matched this title.\n");
    } else {
        out.push_str(&format!("\nMatched: {}\n", matched.join(", ")));
    }
    for (heading, lines) in [
        ("Pain points", &routing.pain_points),
        ("Value propositions", &routing.value_props),
        ("Calls to action", &routing.ctas),
    ] {
        out.push_str(&format!("\n### {heading}\n"));
        for line in lines {
            out.push_str(&format!("- {line}\n"));
        }
    }
    out
}

pub async fn run(input: Input, _ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let routing = route(&input.job_title);
    Outcome::report(&routing, render(&routing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_route_to_the_expected_persona() {
        let table = [
            ("Event Marketing Manager", Persona::Events),
            ("Senior Manager, Field Marketing", Persona::Events),
            ("Head of Trade Shows & Sponsorships", Persona::Events),
            ("Demand Generation Manager", Persona::DemandGen),
            ("Growth Marketing Lead", Persona::DemandGen),
            ("VP Demand Gen", Persona::DemandGen),
            ("Vice President, Demand Generation", Persona::DemandGen),
            ("Account Executive", Persona::Sales),
            ("SDR", Persona::Sales),
            ("VP Sales", Persona::Sales),
            ("Marketing Manager", Persona::MarketingGeneral),
            (
                "Director of Brand & Communications",
                Persona::MarketingGeneral,
            ),
            ("Chief Revenue Officer", Persona::Executive),
            ("Chief Marketing Officer", Persona::Executive),
            ("CEO & Co-Founder", Persona::Executive),
            ("CRO", Persona::Executive),
            ("VP", Persona::Executive),
            ("President", Persona::Executive),
            ("Software Engineer", Persona::Unknown),
            ("Microbiology Lead", Persona::Unknown),
        ];
        for (title, expected) in table {
            assert_eq!(route(title).persona, expected, "{title}");
        }
    }

    #[test]
    fn keywords_match_whole_words_not_substrings() {
        // The seed matched "cro" in "micro", "ae" in "aerospace" and "pr" in "product".
        let table = [
            ("Micro Marketing Manager", Persona::Executive, false),
            ("Aerospace Engineer", Persona::Sales, false),
            ("Product Designer", Persona::MarketingGeneral, false),
            ("Eventually Consistent Engineer", Persona::Events, false),
            ("PR Manager", Persona::MarketingGeneral, true),
        ];
        for (title, persona, scores) in table {
            let score = score_title(title)
                .into_iter()
                .find(|s| s.persona == persona)
                .map(|s| s.score)
                .unwrap_or_default();
            assert_eq!(score > 0, scores, "{title} / {persona:?}");
        }
    }

    #[test]
    fn vice_president_reads_as_vp_and_not_as_president() {
        assert_eq!(normalise_title("Vice President, Sales"), "vp sales");
        assert_eq!(
            normalise_title("Senior Vice-President Growth"),
            "svp growth"
        );
        assert_eq!(normalise_title("Executive Vice President"), "evp");
        assert_eq!(normalise_title("President"), "president");
        let exec = score_title("Vice President, Demand Generation")
            .into_iter()
            .find(|s| s.persona == Persona::Executive)
            .map(|s| s.matched_keywords);
        assert_eq!(exec, Some(vec!["vp"]));
    }

    #[test]
    fn a_score_is_the_sum_of_matched_keyword_lengths() {
        let scores = score_title("Demand Generation Manager");
        let demand = &scores[1];
        assert_eq!(demand.persona, Persona::DemandGen);
        assert_eq!(demand.matched_keywords, vec!["demand", "demand generation"]);
        assert_eq!(demand.score, 6 + 17);
    }

    #[test]
    fn ties_go_to_the_earlier_persona_in_the_documented_order() {
        // "events" (6) and "growth" (6) tie: events comes first.
        let routing = route("Events Growth");
        assert_eq!(routing.scores[0].score, routing.scores[1].score);
        assert_eq!(routing.persona, Persona::Events);
        // "sales" (5) and "brand" (5) tie: sales comes before marketing (general).
        assert_eq!(route("Sales Brand").persona, Persona::Sales);
        // "chief" (5) and "sales" (5): sales comes before executive.
        assert_eq!(route("Chief Sales").persona, Persona::Sales);
    }

    #[test]
    fn confidence_is_the_winning_share_of_all_points() {
        let table = [
            ("Events Manager", 100),
            ("Events Growth", 50),
            ("Chief Revenue Officer", 12 * 100 / 19),
            ("Nurse", 0),
        ];
        for (title, expected) in table {
            assert_eq!(route(title).confidence_percent, expected, "{title}");
        }
    }

    #[test]
    fn every_persona_has_three_specific_messages_of_each_kind() {
        for persona in TIE_BREAK_ORDER.iter().copied().chain([Persona::Unknown]) {
            let m = messaging(persona);
            for line in m.pain_points.iter().chain(&m.value_props).chain(&m.ctas) {
                assert!(line.len() > 20, "{persona:?}: {line}");
            }
        }
    }

    #[test]
    fn every_persona_but_unknown_has_keywords() {
        for persona in TIE_BREAK_ORDER {
            assert!(
                KEYWORDS.iter().any(|(p, k)| *p == persona && !k.is_empty()),
                "{persona:?}"
            );
        }
    }

    #[test]
    fn blank_and_overlong_titles_are_refused() {
        let long = "x".repeat(MAX_TITLE_CHARS + 1);
        let table = [("", 1), ("   ", 1), ("CMO", 0), (long.as_str(), 1)];
        for (title, errors) in table {
            let input = Input {
                job_title: title.to_string(),
            };
            assert_eq!(check(&input).len(), errors, "{title:?}");
        }
    }
}
