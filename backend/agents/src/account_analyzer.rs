//! AccountAnalyzer: scores how viable an account is and how much say the contact has, and
//! shows every factor behind both scores.
//!
//! The seed's rules, with two fixes: titles and industries match whole words (the seed's
//! substring test found "cro" in "micro" and "vp" in "mvp"), and an input that was not
//! given is listed as a "not provided" factor worth 0 points rather than silently treated
//! as a default.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::persona_router::normalise_title;
use crate::schema::{InputSchema, WHITESPACE};
use crate::text_fields::optional_text;
use crate::{field_error, words, AgentError, Ctx, Outcome};

pub const NAME: &str = "AccountAnalyzer";
pub const DOMAIN: AgentDomain = AgentDomain::Sales;
pub const DESCRIPTION: &str =
    "Scores an account's viability and the contact's decision-making power, listing the points each factor adds.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// Scores run from 0 to 100.
pub const MAX_SCORE: i32 = 100;
pub const MIN_SCORE: i32 = 0;

/// Viability starts here.
pub const VIABILITY_BASE: i32 = 50;
/// Company size: at least this many employees earns the points, below `SMALL_EMPLOYEES`
/// costs them.
pub const LARGE_EMPLOYEES: u32 = 100;
pub const LARGE_POINTS: i32 = 20;
pub const MID_EMPLOYEES: u32 = 50;
pub const MID_POINTS: i32 = 10;
pub const SMALL_EMPLOYEES: u32 = 20;
pub const SMALL_POINTS: i32 = -10;
/// Industries we sell best into.
pub const TARGET_INDUSTRIES: &[&str] = &[
    "tech",
    "technology",
    "saas",
    "software",
    "fintech",
    "financial",
];
pub const INDUSTRY_POINTS: i32 = 15;
/// Senior titles and the points they add to viability.
pub const SENIOR_TITLES: &[&str] = &[
    "vp", "svp", "evp", "director", "head", "chief", "cmo", "cro",
];
pub const SENIOR_TITLE_POINTS: i32 = 20;
pub const MANAGER_TITLES: &[&str] = &["manager"];
pub const MANAGER_TITLE_POINTS: i32 = 10;
/// Titles in the functions we serve.
pub const FUNCTION_KEYWORDS: &[&str] = &["demand", "field", "event", "events", "growth"];
pub const FUNCTION_POINTS: i32 = 15;
pub const WEBSITE_POINTS: i32 = 5;
pub const PAGE_VIEW_POINTS: i32 = 10;

/// Decision-maker seniority levels, highest first; the highest match wins.
pub const SENIORITY_LEVELS: &[(&str, &[&str], i32)] = &[
    (
        "C-level",
        &[
            "chief",
            "ceo",
            "cmo",
            "cro",
            "coo",
            "cfo",
            "cto",
            "president",
            "founder",
        ],
        100,
    ),
    ("VP", &["vp", "svp", "evp"], 80),
    ("director", &["director", "head"], 60),
    ("senior or lead", &["senior", "sr", "lead", "principal"], 40),
    ("manager", &["manager"], 30),
];
pub const MARKETING_KEYWORDS: &[&str] = &["marketing", "cmo", "demand", "growth", "brand"];
pub const MARKETING_POINTS: i32 = 30;
pub const SALES_KEYWORDS: &[&str] = &["sales", "cro", "revenue", "business development"];
pub const SALES_POINTS: i32 = 20;
pub const EMAIL_OPEN_POINTS: i32 = 10;
pub const DM_PAGE_VIEW_POINTS: i32 = 10;

/// Tiers, by score.
pub const HIGH_TIER_MIN: i32 = 80;
pub const MEDIUM_TIER_MIN: i32 = 60;

/// Upper bounds for sanity checks.
pub const MAX_EMPLOYEES: u32 = 10_000_000;
pub const MAX_TEXT_CHARS: usize = 200;

/// One account and contact to score.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The company's name.
    pub company_name: String,
    /// Number of employees, if known.
    #[serde(default)]
    pub employee_count: Option<u32>,
    /// The company's industry, e.g. "B2B SaaS".
    #[serde(default)]
    pub industry: Option<String>,
    /// The company's website, e.g. "acme.io": a domain or URL without spaces (padding is
    /// trimmed); blank counts as not given.
    #[serde(default)]
    pub website: Option<String>,
    /// The contact's job title.
    #[serde(default)]
    pub contact_title: Option<String>,
    /// How many of our emails the contact has opened.
    #[serde(default)]
    pub email_opens: Option<u32>,
    /// How many of our web pages the account has viewed.
    #[serde(default)]
    pub page_views: Option<u32>,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({
        "company_name": "Northwind Analytics",
        "employee_count": 240,
        "industry": "B2B SaaS",
        "website": "northwind-analytics.com",
        "contact_title": "Director of Field Marketing",
        "email_opens": 3,
        "page_views": 0
    })
}

pub fn schema() -> serde_json::Value {
    let counts = i64::from(u32::MAX);
    InputSchema::of::<Input>()
        .non_blank_text("company_name", MAX_TEXT_CHARS)
        .text("industry", MAX_TEXT_CHARS)
        .text("contact_title", MAX_TEXT_CHARS)
        .field_rules(
            "website",
            serde_json::json!({
                "type": "string",
                "maxLength": MAX_TEXT_CHARS,
                // Blank, or no whitespace inside and at least one dot.
                "pattern": format!(
                    r"^[{WHITESPACE}]*([^\u0000{WHITESPACE}]*\.[^\u0000{WHITESPACE}]*[{WHITESPACE}]*)?$"
                ),
            }),
        )
        .integer("employee_count", 0, i64::from(MAX_EMPLOYEES))
        .integer("email_opens", 0, counts)
        .integer("page_views", 0, counts)
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input.company_name.trim().is_empty() {
        errors.push(field_error("company_name", "must not be empty"));
    }
    for (field, value) in [
        ("company_name", Some(input.company_name.as_str())),
        ("industry", input.industry.as_deref()),
        ("website", input.website.as_deref()),
        ("contact_title", input.contact_title.as_deref()),
    ] {
        optional_text(&mut errors, field, value, MAX_TEXT_CHARS);
    }
    if let Some(site) = provided(&input.website) {
        if site.contains(char::is_whitespace) || !site.contains('.') {
            errors.push(field_error(
                "website",
                "must be a domain or URL, e.g. acme.io",
            ));
        }
    }
    if input.employee_count.is_some_and(|n| n > MAX_EMPLOYEES) {
        errors.push(field_error(
            "employee_count",
            format!("must be at most {MAX_EMPLOYEES}"),
        ));
    }
    errors
}

/// One reason a score moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Factor {
    pub factor: String,
    pub points: i32,
}

fn factor(text: impl Into<String>, points: i32) -> Factor {
    Factor {
        factor: text.into(),
        points,
    }
}

/// A score and the factors that sum to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scored {
    pub score: i32,
    pub tier: Tier,
    pub factors: Vec<Factor>,
}

/// How promising a score is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    High,
    Medium,
    Low,
}

pub fn tier(score: i32) -> Tier {
    if score >= HIGH_TIER_MIN {
        Tier::High
    } else if score >= MEDIUM_TIER_MIN {
        Tier::Medium
    } else {
        Tier::Low
    }
}

/// The analysis shown to the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Analysis {
    pub company_name: String,
    pub viability_score: i32,
    pub viability_tier: Tier,
    pub viability_factors: Vec<Factor>,
    pub decision_maker_score: i32,
    pub decision_maker_tier: Tier,
    pub decision_maker_factors: Vec<Factor>,
}

/// A trimmed, non-blank optional string; a blank one counts as not provided.
fn provided(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Sums factors and clamps to `0..=100`, recording the clamp as its own factor so the
/// factors always add up to the score.
fn total(mut factors: Vec<Factor>) -> Scored {
    let sum: i32 = factors.iter().map(|f| f.points).sum();
    let score = sum.clamp(MIN_SCORE, MAX_SCORE);
    if score != sum {
        factors.push(factor(
            format!("capped to the {MIN_SCORE}–{MAX_SCORE} range"),
            score - sum,
        ));
    }
    Scored {
        score,
        tier: tier(score),
        factors,
    }
}

/// Viability: base 50, size, industry, title seniority and function, website, page views.
pub fn viability(input: &Input) -> Scored {
    let mut factors = vec![factor("base score", VIABILITY_BASE)];
    factors.push(match input.employee_count {
        None => factor("employee count not provided", 0),
        Some(n) if n >= LARGE_EMPLOYEES => factor(
            format!("{n} employees ({LARGE_EMPLOYEES} or more)"),
            LARGE_POINTS,
        ),
        Some(n) if n >= MID_EMPLOYEES => factor(
            format!("{n} employees ({MID_EMPLOYEES} or more)"),
            MID_POINTS,
        ),
        Some(n) if n < SMALL_EMPLOYEES => factor(
            format!("{n} employees (fewer than {SMALL_EMPLOYEES})"),
            SMALL_POINTS,
        ),
        Some(n) => factor(format!("{n} employees"), 0),
    });
    factors.push(match provided(&input.industry) {
        None => factor("industry not provided", 0),
        Some(industry) => match words::found(industry, TARGET_INDUSTRIES).first() {
            Some(hit) => factor(format!("target industry ({hit})"), INDUSTRY_POINTS),
            None => factor(
                format!("industry \"{industry}\" is not a target industry"),
                0,
            ),
        },
    });
    match provided(&input.contact_title) {
        None => factors.push(factor("contact title not provided", 0)),
        Some(title) => {
            let normal = normalise_title(title);
            let senior = words::found(&normal, SENIOR_TITLES);
            let manager = words::found(&normal, MANAGER_TITLES);
            factors.push(match (senior.first(), manager.first()) {
                (Some(hit), _) => factor(format!("senior title ({hit})"), SENIOR_TITLE_POINTS),
                (None, Some(hit)) => factor(format!("manager title ({hit})"), MANAGER_TITLE_POINTS),
                (None, None) => factor("title shows no seniority", 0),
            });
            factors.push(match words::found(&normal, FUNCTION_KEYWORDS).first() {
                Some(hit) => factor(
                    format!("title in a function we serve ({hit})"),
                    FUNCTION_POINTS,
                ),
                None => factor("title outside demand, field, event and growth", 0),
            });
        }
    }
    factors.push(match provided(&input.website) {
        Some(site) => factor(format!("has a website ({site})"), WEBSITE_POINTS),
        None => factor("website not provided", 0),
    });
    factors.push(match input.page_views {
        None => factor("page views not provided", 0),
        Some(0) => factor("no page views", 0),
        Some(n) => factor(format!("{n} page views"), PAGE_VIEW_POINTS),
    });
    total(factors)
}

/// Decision-maker: the highest seniority level in the title, the function, engagement.
pub fn decision_maker(input: &Input) -> Scored {
    let mut factors = Vec::new();
    match provided(&input.contact_title) {
        None => factors.push(factor("contact title not provided", 0)),
        Some(title) => {
            let normal = normalise_title(title);
            let level = SENIORITY_LEVELS
                .iter()
                .find_map(|(label, keywords, points)| {
                    words::found(&normal, keywords)
                        .first()
                        .map(|hit| factor(format!("{label} title ({hit})"), *points))
                });
            factors.push(level.unwrap_or_else(|| factor("title shows no seniority", 0)));
            if let Some(hit) = words::found(&normal, MARKETING_KEYWORDS).first() {
                factors.push(factor(format!("marketing role ({hit})"), MARKETING_POINTS));
            }
            if let Some(hit) = words::found(&normal, SALES_KEYWORDS).first() {
                factors.push(factor(format!("sales role ({hit})"), SALES_POINTS));
            }
        }
    }
    factors.push(match input.email_opens {
        None => factor("email opens not provided", 0),
        Some(0) => factor("no email opens", 0),
        Some(n) => factor(format!("{n} email opens"), EMAIL_OPEN_POINTS),
    });
    factors.push(match input.page_views {
        None => factor("page views not provided", 0),
        Some(0) => factor("no page views", 0),
        Some(n) => factor(format!("{n} page views"), DM_PAGE_VIEW_POINTS),
    });
    total(factors)
}

pub fn analyze(input: &Input) -> Analysis {
    let viability = viability(input);
    let decision = decision_maker(input);
    Analysis {
        company_name: input.company_name.trim().to_string(),
        viability_score: viability.score,
        viability_tier: viability.tier,
        viability_factors: viability.factors,
        decision_maker_score: decision.score,
        decision_maker_tier: decision.tier,
        decision_maker_factors: decision.factors,
    }
}

fn tier_label(tier: Tier) -> &'static str {
    match tier {
        Tier::High => "high",
        Tier::Medium => "medium",
        Tier::Low => "low",
    }
}

fn render(analysis: &Analysis) -> String {
    let mut out = format!("## {}\n", analysis.company_name);
    for (heading, score, tier, factors) in [
        (
            "Viability",
            analysis.viability_score,
            analysis.viability_tier,
            &analysis.viability_factors,
        ),
        (
            "Decision-maker",
            analysis.decision_maker_score,
            analysis.decision_maker_tier,
            &analysis.decision_maker_factors,
        ),
    ] {
        out.push_str(&format!(
            "\n### {heading}: {score}/100 ({})\n\n| Factor | Points |\n|---|---:|\n",
            tier_label(tier)
        ));
        for f in factors {
            out.push_str(&format!("| {} | {:+} |\n", f.factor, f.points));
        }
    }
    out
}

pub async fn run(input: Input, _ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let analysis = analyze(&input);
    Outcome::report(&analysis, render(&analysis))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Input {
        Input {
            company_name: "Acme".into(),
            employee_count: None,
            industry: None,
            website: None,
            contact_title: None,
            email_opens: None,
            page_views: None,
        }
    }

    fn points(scored: &Scored, starts_with: &str) -> Option<i32> {
        scored
            .factors
            .iter()
            .find(|f| f.factor.starts_with(starts_with))
            .map(|f| f.points)
    }

    #[test]
    fn company_size_adds_or_removes_points_at_each_threshold() {
        let table = [
            (None, 0),
            (Some(0), SMALL_POINTS),
            (Some(19), SMALL_POINTS),
            (Some(20), 0),
            (Some(49), 0),
            (Some(50), MID_POINTS),
            (Some(99), MID_POINTS),
            (Some(100), LARGE_POINTS),
            (Some(5000), LARGE_POINTS),
        ];
        for (employees, expected) in table {
            let scored = viability(&Input {
                employee_count: employees,
                ..input()
            });
            assert_eq!(scored.score, VIABILITY_BASE + expected, "{employees:?}");
        }
    }

    #[test]
    fn target_industries_match_whole_words() {
        let table = [
            ("B2B SaaS", INDUSTRY_POINTS),
            ("Information Technology", INDUSTRY_POINTS),
            ("Financial Services", INDUSTRY_POINTS),
            ("Enterprise software", INDUSTRY_POINTS),
            ("Biotechnical research", 0),
            ("Healthcare", 0),
            ("   ", 0),
        ];
        for (industry, expected) in table {
            let scored = viability(&Input {
                industry: Some(industry.into()),
                ..input()
            });
            assert_eq!(scored.score, VIABILITY_BASE + expected, "{industry}");
        }
    }

    #[test]
    fn viability_title_points_take_the_best_seniority_plus_function() {
        let table = [
            ("VP Marketing", SENIOR_TITLE_POINTS),
            ("Vice President, Marketing", SENIOR_TITLE_POINTS),
            ("Head of Brand", SENIOR_TITLE_POINTS),
            ("CMO", SENIOR_TITLE_POINTS),
            (
                "Director, Field Marketing",
                SENIOR_TITLE_POINTS + FUNCTION_POINTS,
            ),
            ("Events Manager", MANAGER_TITLE_POINTS + FUNCTION_POINTS),
            (
                "Director and Manager of Growth",
                SENIOR_TITLE_POINTS + FUNCTION_POINTS,
            ),
            ("Demand Generation Specialist", FUNCTION_POINTS),
            ("Microbiologist", 0),
            ("MVP Program Coordinator", 0),
        ];
        for (title, expected) in table {
            let scored = viability(&Input {
                contact_title: Some(title.into()),
                ..input()
            });
            assert_eq!(scored.score, VIABILITY_BASE + expected, "{title}");
        }
    }

    #[test]
    fn website_and_page_views_add_points_only_when_present() {
        let table = [
            (None, None, 0),
            (Some("acme.io"), None, WEBSITE_POINTS),
            (Some(" "), None, 0),
            (None, Some(0), 0),
            (None, Some(1), PAGE_VIEW_POINTS),
            (Some("acme.io"), Some(7), WEBSITE_POINTS + PAGE_VIEW_POINTS),
        ];
        for (website, views, expected) in table {
            let scored = viability(&Input {
                website: website.map(String::from),
                page_views: views,
                ..input()
            });
            assert_eq!(
                scored.score,
                VIABILITY_BASE + expected,
                "{website:?} {views:?}"
            );
        }
    }

    #[test]
    fn viability_is_capped_at_100_and_the_cap_is_a_visible_factor() {
        let scored = viability(&Input {
            employee_count: Some(500),
            industry: Some("SaaS".into()),
            website: Some("acme.io".into()),
            contact_title: Some("VP Demand Generation".into()),
            page_views: Some(12),
            ..input()
        });
        assert_eq!(scored.score, MAX_SCORE);
        assert_eq!(scored.tier, Tier::High);
        // 50 + 20 + 15 + 20 + 15 + 5 + 10 = 135, capped by -35.
        assert_eq!(points(&scored, "capped"), Some(-35));
        assert_eq!(scored.factors.iter().map(|f| f.points).sum::<i32>(), 100);
    }

    #[test]
    fn missing_inputs_are_reported_as_not_provided_factors_worth_nothing() {
        let scored = viability(&input());
        assert_eq!(scored.score, VIABILITY_BASE);
        let not_provided: Vec<_> = scored
            .factors
            .iter()
            .filter(|f| f.factor.ends_with("not provided"))
            .collect();
        assert_eq!(not_provided.len(), 5);
        assert!(not_provided.iter().all(|f| f.points == 0));
        let dm = decision_maker(&input());
        assert_eq!(dm.score, 0);
        assert_eq!(dm.factors.len(), 3);
        assert!(dm
            .factors
            .iter()
            .all(|f| f.factor.ends_with("not provided")));
    }

    #[test]
    fn decision_maker_seniority_takes_the_highest_level_only() {
        let table = [
            ("Chief Executive Officer", 100),
            ("CEO", 100),
            ("Founder", 100),
            ("President", 100),
            ("Vice President, Operations", 80),
            ("SVP Operations", 80),
            ("Director of Operations", 60),
            ("Head of Operations", 60),
            ("Senior Operations Director", 60),
            ("Senior Analyst", 40),
            ("Team Lead", 40),
            ("Operations Manager", 30),
            ("Analyst", 0),
            ("Microbiologist", 0),
        ];
        for (title, expected) in table {
            let scored = decision_maker(&Input {
                contact_title: Some(title.into()),
                ..input()
            });
            assert_eq!(scored.score, expected, "{title}");
        }
    }

    #[test]
    fn decision_maker_adds_function_and_engagement_and_caps_at_100() {
        let table = [
            ("Marketing Manager", None, None, 30 + MARKETING_POINTS),
            ("Sales Manager", None, None, 30 + SALES_POINTS),
            ("Sales and Marketing Manager", None, None, 30 + 30 + 20),
            ("Analyst", Some(2), None, EMAIL_OPEN_POINTS),
            ("Analyst", Some(0), Some(0), 0),
            ("Analyst", Some(1), Some(1), 20),
            ("Director of Demand Generation", Some(1), Some(1), 100),
            ("CMO", None, None, 100),
        ];
        for (title, opens, views, expected) in table {
            let scored = decision_maker(&Input {
                contact_title: Some(title.into()),
                email_opens: opens,
                page_views: views,
                ..input()
            });
            assert_eq!(scored.score, expected, "{title} {opens:?} {views:?}");
            assert_eq!(
                scored.factors.iter().map(|f| f.points).sum::<i32>(),
                expected
            );
        }
    }

    #[test]
    fn tiers_follow_the_named_thresholds() {
        let table = [
            (100, Tier::High),
            (80, Tier::High),
            (79, Tier::Medium),
            (60, Tier::Medium),
            (59, Tier::Low),
            (0, Tier::Low),
        ];
        for (score, expected) in table {
            assert_eq!(tier(score), expected, "{score}");
        }
    }

    #[test]
    fn check_names_each_bad_field() {
        let table = [
            (input(), vec![]),
            (
                Input {
                    company_name: " ".into(),
                    ..input()
                },
                vec!["input.company_name"],
            ),
            (
                Input {
                    website: Some("not a site".into()),
                    ..input()
                },
                vec!["input.website"],
            ),
            (
                Input {
                    employee_count: Some(MAX_EMPLOYEES + 1),
                    ..input()
                },
                vec!["input.employee_count"],
            ),
            (
                Input {
                    contact_title: Some("x".repeat(MAX_TEXT_CHARS + 1)),
                    ..input()
                },
                vec!["input.contact_title"],
            ),
        ];
        for (input, fields) in table {
            let errors: Vec<String> = check(&input).into_iter().map(|e| e.field).collect();
            assert_eq!(errors, fields, "{input:?}");
        }
    }
}
