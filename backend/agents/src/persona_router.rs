//! PersonaRouter: reads a job title and names the buyer persona to speak to, with the pain
//! points, value propositions and calls to action for that persona.
//!
//! The seed scored titles by substring, so "cro" matched "micro" and a tie went to
//! whichever persona its dictionary happened to list first. Here keywords match whole
//! words ([`crate::words`]), "Vice President" reads as "VP", a score is the sum of the
//! matched keywords' lengths (integers), and ties follow [`TIE_BREAK_ORDER`]. It claims no
//! confidence (one keyword is not certainty): it reports which keywords matched, the words
//! of the title they matched and where, and how that decided the persona.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::InputSchema;
use crate::text_fields::required_text;
use crate::words::{self, Word};
use crate::{AgentError, Ctx, Outcome};

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

/// A keyword found in the title: which, the words of the title it matched as written
/// ("Vice President" for `vp`), and where they start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeywordMatch {
    /// The keyword or phrase, as the persona lists it.
    pub keyword: &'static str,
    /// The title's words it matched, as written.
    pub text: String,
    /// Where they start in the title, in characters from 0.
    pub start: usize,
}

/// One persona's score and the keywords that earned it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PersonaScore {
    pub persona: Persona,
    /// Sum of the matched keywords' lengths in characters: longer, more specific phrases
    /// count for more. A ranking, not a probability.
    pub score: u32,
    pub matches: Vec<KeywordMatch>,
}

/// How the persona was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// No persona's keyword is in the title.
    NoMatch,
    /// Only this persona's keywords are in the title.
    OnlyMatch,
    /// Several personas' keywords are; this one's score is the highest.
    HighestScore,
    /// Several personas share the highest score; [`TIE_BREAK_ORDER`] chose.
    TieBreak,
}

/// The routing of one title. No confidence is claimed: it says what matched, where, and
/// how that decided the persona.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Routing {
    pub job_title: String,
    pub persona: Persona,
    /// The chosen persona's keywords found in the title (none when unknown).
    pub matched: Vec<KeywordMatch>,
    pub decided_by: Decision,
    /// Every persona's score and matches, in tie-break order.
    pub scores: Vec<PersonaScore>,
    pub pain_points: Vec<&'static str>,
    pub value_props: Vec<&'static str>,
    pub ctas: Vec<&'static str>,
}

/// The title's words, spelled-out titles merged into their abbreviation ("Vice President"
/// reads as one word `vp`), each still knowing where it stands in the title.
fn title_words(title: &str) -> Vec<Word> {
    let found = words::words(title);
    let mut merged = Vec::with_capacity(found.len());
    let mut i = 0;
    while i < found.len() {
        let alias = TITLE_ALIASES.iter().find_map(|(long, short)| {
            let n = words::tokens(long).len();
            (words::position(&found[i..(i + n).min(found.len())], long) == Some(0))
                .then_some((n, *short))
        });
        match alias {
            Some((n, short)) => {
                merged.push(Word {
                    text: short.to_string(),
                    start: found[i].start,
                    end: found[i + n - 1].end,
                });
                i += n;
            }
            None => {
                merged.push(found[i].clone());
                i += 1;
            }
        }
    }
    merged
}

/// A title as lower-case words, spelled-out titles replaced by their abbreviation
/// ("Vice President, Sales" → "vp sales"). Shared with the account analyzer.
pub(crate) fn normalise_title(title: &str) -> String {
    title_words(title)
        .into_iter()
        .map(|w| w.text)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Scores a title against every persona, in [`TIE_BREAK_ORDER`].
pub fn score_title(title: &str) -> Vec<PersonaScore> {
    let title = title.trim();
    let found = title_words(title);
    TIE_BREAK_ORDER
        .iter()
        .map(|&persona| {
            let keywords = KEYWORDS
                .iter()
                .find(|(p, _)| *p == persona)
                .map(|(_, k)| *k)
                .unwrap_or(&[]);
            let matches: Vec<KeywordMatch> = keywords
                .iter()
                .filter_map(|&keyword| {
                    let at = words::position(&found, keyword)?;
                    let last = &found[at + words::tokens(keyword).len() - 1];
                    let (start, end) = (found[at].start, last.end);
                    Some(KeywordMatch {
                        keyword,
                        text: title[start..end].to_string(),
                        start: title[..start].chars().count(),
                    })
                })
                .collect();
            let score = matches
                .iter()
                .map(|m| m.keyword.chars().count() as u32)
                .sum();
            PersonaScore {
                persona,
                score,
                matches,
            }
        })
        .collect()
}

/// Routes a title: the highest score wins, ties go to the earlier persona in
/// [`TIE_BREAK_ORDER`], and no match at all is [`Persona::Unknown`].
pub fn route(title: &str) -> Routing {
    let scores = score_title(title);
    // `max_by_key` keeps the last maximum; reversing the order keeps the first.
    let best = scores
        .iter()
        .rev()
        .max_by_key(|s| s.score)
        .filter(|s| s.score > 0);
    let scoring = scores.iter().filter(|s| s.score > 0).count();
    let (persona, matched, decided_by) = match best {
        None => (Persona::Unknown, vec![], Decision::NoMatch),
        Some(best) => {
            let tied = scores.iter().filter(|s| s.score == best.score).count();
            let decided_by = match (scoring, tied) {
                (1, _) => Decision::OnlyMatch,
                (_, 1) => Decision::HighestScore,
                _ => Decision::TieBreak,
            };
            (best.persona, best.matches.clone(), decided_by)
        }
    };
    let lines = messaging(persona);
    Routing {
        job_title: title.trim().to_string(),
        persona,
        matched,
        decided_by,
        scores,
        pain_points: lines.pain_points.to_vec(),
        value_props: lines.value_props.to_vec(),
        ctas: lines.ctas.to_vec(),
    }
}

/// `“demand generation” (“Demand Generation”, from character 6)`.
fn describe(m: &KeywordMatch) -> String {
    format!(
        "“{}” (“{}”, from character {})",
        m.keyword,
        m.text,
        m.start + 1
    )
}

fn render(routing: &Routing) -> String {
    let chosen = routing.persona.label();
    let mut out = format!("## {}: {chosen}\n\n", routing.job_title);
    let best = routing.scores.iter().find(|s| s.persona == routing.persona);
    let others: Vec<&PersonaScore> = routing
        .scores
        .iter()
        .filter(|s| s.score > 0 && s.persona != routing.persona)
        .collect();
    let score = best.map_or(0, |s| s.score);
    out.push_str(&match routing.decided_by {
        Decision::NoMatch => {
            "No persona keyword is in this title, so the messaging below is for a role we \
             could not place.\n"
                .to_string()
        }
        Decision::OnlyMatch => format!("Only {chosen} keywords are in the title.\n"),
        Decision::HighestScore => format!(
            "{chosen} keywords score highest ({score}: the length of the matched keywords in \
             characters).\n"
        ),
        Decision::TieBreak => format!(
            "{chosen} ties with {} at a score of {score}; ties go to the more specific \
             persona, in the order {}.\n",
            others
                .iter()
                .filter(|s| s.score == score)
                .map(|s| s.persona.label())
                .collect::<Vec<_>>()
                .join(" and "),
            TIE_BREAK_ORDER
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    if !routing.matched.is_empty() {
        out.push_str("\nMatched:\n");
        for m in &routing.matched {
            out.push_str(&format!("- {}\n", describe(m)));
        }
    }
    if !others.is_empty() {
        out.push_str("\nAlso matched:\n");
        for other in others {
            let matches: Vec<String> = other.matches.iter().map(describe).collect();
            out.push_str(&format!(
                "- {} (score {}): {}\n",
                other.persona.label(),
                other.score,
                matches.join(", ")
            ));
        }
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
            .map(|s| s.matches);
        assert_eq!(
            exec,
            Some(vec![KeywordMatch {
                keyword: "vp",
                text: "Vice President".into(),
                start: 0
            }])
        );
    }

    #[test]
    fn a_score_is_the_sum_of_matched_keyword_lengths() {
        let scores = score_title("Demand Generation Manager");
        let demand = &scores[1];
        assert_eq!(demand.persona, Persona::DemandGen);
        let keywords: Vec<&str> = demand.matches.iter().map(|m| m.keyword).collect();
        assert_eq!(keywords, vec!["demand", "demand generation"]);
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
    fn a_routing_says_what_matched_where_and_how_it_decided() {
        // A keyword, the title's words it matched, where they start.
        type Found<'a> = (&'a str, &'a str, usize);
        // (title, persona, how, the chosen persona's matches)
        let table: [(&str, Persona, Decision, &[Found]); 5] = [
            // One keyword is all it takes, and all it claims: no "100% confidence".
            (
                "Events Manager",
                Persona::Events,
                Decision::OnlyMatch,
                &[("events", "Events", 0)],
            ),
            (
                "Sr. Manager, Field Marketing",
                Persona::Events,
                Decision::HighestScore,
                &[("field marketing", "Field Marketing", 13)],
            ),
            (
                "Events Growth",
                Persona::Events,
                Decision::TieBreak,
                &[("events", "Events", 0)],
            ),
            (
                "Vice President, Demand Generation",
                Persona::DemandGen,
                Decision::HighestScore,
                &[
                    ("demand", "Demand", 16),
                    ("demand generation", "Demand Generation", 16),
                ],
            ),
            ("Nurse", Persona::Unknown, Decision::NoMatch, &[]),
        ];
        for (title, persona, how, matched) in table {
            let routing = route(title);
            assert_eq!(
                (routing.persona, routing.decided_by),
                (persona, how),
                "{title}"
            );
            let found: Vec<(&str, &str, usize)> = routing
                .matched
                .iter()
                .map(|m| (m.keyword, m.text.as_str(), m.start))
                .collect();
            assert_eq!(found, matched, "{title}");
        }
    }

    #[test]
    fn the_report_names_the_matches_and_claims_no_confidence() {
        let report = render(&route("VP, Field Marketing"));
        assert!(!report.contains('%'), "{report}");
        assert!(!report.to_lowercase().contains("confidence"), "{report}");
        assert!(
            report.starts_with("## VP, Field Marketing: Events\n"),
            "{report}"
        );
        assert!(
            report.contains("- “field marketing” (“Field Marketing”, from character 5)"),
            "{report}"
        );
        assert!(
            report.contains(
                "Also matched:\n\
                 - Marketing (general) (score 9): “marketing” (“Marketing”, from character 11)\n\
                 - Executive (score 2): “vp” (“VP”, from character 1)\n"
            ),
            "{report}"
        );
        let output = serde_json::to_value(route("VP, Field Marketing")).unwrap();
        assert!(output.get("confidence_percent").is_none(), "{output}");
        assert_eq!(output["decided_by"], "highest_score");
        assert_eq!(output["matched"][0]["text"], "Field Marketing");
        let unknown = render(&route("Nurse"));
        assert!(
            unknown.contains("No persona keyword is in this title"),
            "{unknown}"
        );
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
