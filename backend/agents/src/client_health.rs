//! ClientHealth: a weighted health score for a client from the signals we have, the status
//! it implies, and what to do about the weakest signals.
//!
//! The seed filled missing signals with defaults, so a client nobody had measured looked
//! "healthy". Here a missing signal is never guessed: the score is the weighted mean of the
//! signals supplied (weights renormalised), the output reports how much of the total weight
//! was supplied (`coverage`) and which signals are missing, and below
//! [`MIN_COVERAGE_PERCENT`] the status is `insufficient_data`.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::schema::InputSchema;
use crate::text_fields::required_text;
use crate::{field_error, AgentError, Ctx, Outcome};

pub const NAME: &str = "ClientHealth";
pub const DOMAIN: AgentDomain = AgentDomain::Fulfillment;
pub const DESCRIPTION: &str =
    "Scores a client's health from the signals supplied, reports which are missing, and recommends actions for the weakest.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// Each signal's weight, in percent of the whole. They sum to 100.
pub const WEIGHTS: [(Signal, u32); 7] = [
    (Signal::Engagement, 20),
    (Signal::ResponseTime, 15),
    (Signal::MeetingAttendance, 15),
    (Signal::DeliverableFeedback, 20),
    (Signal::Payment, 10),
    (Signal::Expansion, 10),
    (Signal::RelationshipDepth, 10),
];
/// Signals are scored 0 to 100.
pub const MAX_SIGNAL: u32 = 100;
/// Status thresholds: a score at or above each is that status.
pub const THRIVING_MIN: u32 = 85;
pub const HEALTHY_MIN: u32 = 70;
pub const NEUTRAL_MIN: u32 = 50;
pub const AT_RISK_MIN: u32 = 30;
/// Below this share of the total weight the status is `insufficient_data`.
pub const MIN_COVERAGE_PERCENT: u32 = 50;
/// How many of the weakest signals get a recommended action.
pub const WEAKEST_COUNT: usize = 3;
pub const MAX_NAME_CHARS: usize = 200;

/// One health signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Engagement,
    ResponseTime,
    MeetingAttendance,
    DeliverableFeedback,
    Payment,
    Expansion,
    RelationshipDepth,
}

impl Signal {
    pub const fn name(self) -> &'static str {
        match self {
            Signal::Engagement => "engagement",
            Signal::ResponseTime => "response_time",
            Signal::MeetingAttendance => "meeting_attendance",
            Signal::DeliverableFeedback => "deliverable_feedback",
            Signal::Payment => "payment",
            Signal::Expansion => "expansion",
            Signal::RelationshipDepth => "relationship_depth",
        }
    }

    const fn label(self) -> &'static str {
        match self {
            Signal::Engagement => "Engagement",
            Signal::ResponseTime => "Response time",
            Signal::MeetingAttendance => "Meeting attendance",
            Signal::DeliverableFeedback => "Deliverable feedback",
            Signal::Payment => "Payment",
            Signal::Expansion => "Expansion",
            Signal::RelationshipDepth => "Relationship depth",
        }
    }

    /// What to do when this signal is weak.
    const fn action(self) -> &'static str {
        match self {
            Signal::Engagement => "Book a working session on their top priority and agree one shared goal for the next 30 days.",
            Signal::ResponseTime => "Agree a response-time expectation with the client and name a backup contact on each side.",
            Signal::MeetingAttendance => "Shorten the recurring meeting, send the agenda a day ahead, and ask the sponsor whether the cadence still fits.",
            Signal::DeliverableFeedback => "Walk through the last deliverable with the client and agree in writing what done looks like for the next one.",
            Signal::Payment => "Reconcile open invoices with their finance contact and confirm PO and billing details before the next invoice.",
            Signal::Expansion => "Share a short results review and propose one adjacent project tied to an outcome they already value.",
            Signal::RelationshipDepth => "Meet a second stakeholder this month, ideally the budget owner or their manager.",
        }
    }
}

/// A client and whichever health signals are known (each 0–100; leave out what you don't
/// know rather than guessing, but give at least one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The client's name.
    pub client_name: String,
    /// How actively the client works with us (0–100). Weight 20%.
    #[serde(default)]
    pub engagement: Option<u32>,
    /// How quickly the client responds (0–100, higher is faster). Weight 15%.
    #[serde(default)]
    pub response_time: Option<u32>,
    /// Share of scheduled meetings the client attends (0–100). Weight 15%.
    #[serde(default)]
    pub meeting_attendance: Option<u32>,
    /// How the client rates our deliverables (0–100). Weight 20%.
    #[serde(default)]
    pub deliverable_feedback: Option<u32>,
    /// How reliably the client pays on time (0–100). Weight 10%.
    #[serde(default)]
    pub payment: Option<u32>,
    /// Signs of expanding the engagement (0–100). Weight 10%.
    #[serde(default)]
    pub expansion: Option<u32>,
    /// How many people and levels we know at the client (0–100). Weight 10%.
    #[serde(default)]
    pub relationship_depth: Option<u32>,
}

impl Input {
    /// Every signal with its value, in [`WEIGHTS`] order.
    fn readings(&self) -> [(Signal, Option<u32>); 7] {
        [
            (Signal::Engagement, self.engagement),
            (Signal::ResponseTime, self.response_time),
            (Signal::MeetingAttendance, self.meeting_attendance),
            (Signal::DeliverableFeedback, self.deliverable_feedback),
            (Signal::Payment, self.payment),
            (Signal::Expansion, self.expansion),
            (Signal::RelationshipDepth, self.relationship_depth),
        ]
    }
}

pub fn example() -> serde_json::Value {
    serde_json::json!({
        "client_name": "Harbor Freight Events",
        "engagement": 72,
        "response_time": 55,
        "meeting_attendance": 80,
        "deliverable_feedback": 64,
        "payment": 95,
        "relationship_depth": 35
    })
}

pub fn schema() -> serde_json::Value {
    let mut schema = InputSchema::of::<Input>().non_blank_text("client_name", MAX_NAME_CHARS);
    for (signal, _) in WEIGHTS {
        schema = schema.integer(signal.name(), 0, MAX_SIGNAL.into());
    }
    // At least one signal, given as a number (`null` is the same as leaving it out).
    let one_of_the_signals: Vec<serde_json::Value> = WEIGHTS
        .iter()
        .map(|(signal, _)| {
            serde_json::json!({
                "required": [signal.name()],
                "properties": {signal.name(): {"type": "integer"}},
            })
        })
        .collect();
    schema
        .keyword("anyOf", serde_json::Value::Array(one_of_the_signals))
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    let mut errors = Vec::new();
    required_text(
        &mut errors,
        "client_name",
        &input.client_name,
        MAX_NAME_CHARS,
    );
    let readings = input.readings();
    for (signal, value) in readings {
        if value.is_some_and(|v| v > MAX_SIGNAL) {
            errors.push(field_error(
                signal.name(),
                format!("must be between 0 and {MAX_SIGNAL}"),
            ));
        }
    }
    if readings.iter().all(|(_, value)| value.is_none()) {
        // The whole input is at fault, not one field.
        errors.push(FieldError {
            field: "input".into(),
            message: "give at least one signal: engagement, response_time, meeting_attendance, deliverable_feedback, payment, expansion or relationship_depth".into(),
        });
    }
    errors
}

/// A client's health.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Thriving,
    Healthy,
    Neutral,
    AtRisk,
    Critical,
    /// Less than [`MIN_COVERAGE_PERCENT`] of the weight was supplied.
    InsufficientData,
}

impl Status {
    /// The status a score earns, ignoring coverage.
    pub fn of_score(score: u32) -> Self {
        if score >= THRIVING_MIN {
            Status::Thriving
        } else if score >= HEALTHY_MIN {
            Status::Healthy
        } else if score >= NEUTRAL_MIN {
            Status::Neutral
        } else if score >= AT_RISK_MIN {
            Status::AtRisk
        } else {
            Status::Critical
        }
    }

    const fn label(self) -> &'static str {
        match self {
            Status::Thriving => "thriving",
            Status::Healthy => "healthy",
            Status::Neutral => "neutral",
            Status::AtRisk => "at risk",
            Status::Critical => "critical",
            Status::InsufficientData => "insufficient data",
        }
    }
}

/// One signal's part in the score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contribution {
    pub signal: Signal,
    /// The value supplied, or `null` when missing.
    pub value: Option<u32>,
    /// Its weight, in percent of the whole.
    pub weight_percent: u32,
    /// Points it adds to the score after renormalising over supplied signals (rounded);
    /// `null` when missing.
    pub points: Option<u32>,
}

/// A weak signal and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Weakness {
    pub signal: Signal,
    pub value: u32,
    /// The status this signal alone would earn.
    pub status: Status,
    pub action: &'static str,
}

/// The assessment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Health {
    pub client_name: String,
    /// Weighted mean of the supplied signals, 0–100 (`null` when none was supplied).
    pub score: Option<u32>,
    pub status: Status,
    /// Share of the total weight supplied, in percent.
    pub coverage: u32,
    pub missing_signals: Vec<Signal>,
    pub contributions: Vec<Contribution>,
    pub weakest: Vec<Weakness>,
}

/// `numerator / denominator`, rounded half up.
fn div_round(numerator: u32, denominator: u32) -> u32 {
    (numerator + denominator / 2) / denominator
}

/// Scores the readings (a signal absent from `readings` counts as missing).
pub fn assess(client_name: &str, readings: &[(Signal, Option<u32>)]) -> Health {
    let value_of = |signal: Signal| {
        readings
            .iter()
            .find(|(s, _)| *s == signal)
            .and_then(|(_, v)| *v)
            .map(|v| v.min(MAX_SIGNAL))
    };
    let supplied: Vec<(Signal, u32, u32)> = WEIGHTS
        .iter()
        .filter_map(|&(signal, weight)| value_of(signal).map(|v| (signal, v, weight)))
        .collect();
    let coverage: u32 = supplied.iter().map(|(_, _, w)| w).sum();
    let weighted: u32 = supplied.iter().map(|(_, v, w)| v * w).sum();
    let score = (coverage > 0).then(|| div_round(weighted, coverage));
    let status = match score {
        Some(score) if coverage >= MIN_COVERAGE_PERCENT => Status::of_score(score),
        _ => Status::InsufficientData,
    };
    let contributions = WEIGHTS
        .iter()
        .map(|&(signal, weight)| {
            let value = value_of(signal);
            Contribution {
                signal,
                value,
                weight_percent: weight,
                points: value.map(|v| div_round(v * weight, coverage)),
            }
        })
        .collect();
    let missing_signals = WEIGHTS
        .iter()
        .map(|&(signal, _)| signal)
        .filter(|&signal| value_of(signal).is_none())
        .collect();
    let mut weak: Vec<&(Signal, u32, u32)> = supplied
        .iter()
        .filter(|(_, value, _)| *value < THRIVING_MIN)
        .collect();
    // Lowest value first; between equal values the heavier weight matters more. The sort is
    // stable, so remaining ties keep the order of `WEIGHTS`.
    weak.sort_by_key(|(_, value, weight)| (*value, std::cmp::Reverse(*weight)));
    let weakest = weak
        .into_iter()
        .take(WEAKEST_COUNT)
        .map(|&(signal, value, _)| Weakness {
            signal,
            value,
            status: Status::of_score(value),
            action: signal.action(),
        })
        .collect();
    Health {
        client_name: client_name.trim().to_string(),
        score,
        status,
        coverage,
        missing_signals,
        contributions,
        weakest,
    }
}

fn render(health: &Health) -> String {
    let score = health
        .score
        .map_or_else(|| "no score".to_string(), |s| format!("{s}/100"));
    let mut out = format!(
        "## {}: {} ({})\n\nCoverage: {}% of the signal weight was supplied.\n",
        health.client_name,
        health.status.label(),
        score,
        health.coverage
    );
    if health.status == Status::InsufficientData {
        out.push_str(&format!(
            "\nLess than {MIN_COVERAGE_PERCENT}% of the weight was supplied, so the score is partial and no status is given.\n"
        ));
    }
    if !health.missing_signals.is_empty() {
        let missing: Vec<&str> = health.missing_signals.iter().map(|s| s.label()).collect();
        out.push_str(&format!(
            "\nMissing (not guessed): {}.\n",
            missing.join(", ")
        ));
    }
    out.push_str("\n| Signal | Value | Weight | Points |\n|---|---:|---:|---:|\n");
    for c in &health.contributions {
        let show = |v: Option<u32>| v.map_or_else(|| "—".to_string(), |v| v.to_string());
        out.push_str(&format!(
            "| {} | {} | {}% | {} |\n",
            c.signal.label(),
            show(c.value),
            c.weight_percent,
            show(c.points)
        ));
    }
    if health.weakest.is_empty() {
        out.push_str("\nEvery supplied signal is thriving; no action needed.\n");
    } else {
        out.push_str("\n### What to do next\n");
        for w in &health.weakest {
            out.push_str(&format!(
                "- **{}** ({}, {}): {}\n",
                w.signal.label(),
                w.value,
                w.status.label(),
                w.action
            ));
        }
    }
    out
}

pub async fn run(input: Input, _ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let health = assess(&input.client_name, &input.readings());
    Outcome::report(&health, render(&health))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A set of readings in a test table.
    type Readings = &'static [(Signal, Option<u32>)];

    fn all(value: u32) -> Vec<(Signal, Option<u32>)> {
        WEIGHTS.iter().map(|&(s, _)| (s, Some(value))).collect()
    }

    fn empty_input() -> Input {
        Input {
            client_name: "Acme".into(),
            engagement: None,
            response_time: None,
            meeting_attendance: None,
            deliverable_feedback: None,
            payment: None,
            expansion: None,
            relationship_depth: None,
        }
    }

    #[test]
    fn the_weights_sum_to_one_hundred_percent() {
        assert_eq!(WEIGHTS.iter().map(|(_, w)| w).sum::<u32>(), 100);
    }

    #[test]
    fn status_follows_each_threshold() {
        let table = [
            (100, Status::Thriving),
            (85, Status::Thriving),
            (84, Status::Healthy),
            (70, Status::Healthy),
            (69, Status::Neutral),
            (50, Status::Neutral),
            (49, Status::AtRisk),
            (30, Status::AtRisk),
            (29, Status::Critical),
            (0, Status::Critical),
        ];
        for (value, expected) in table {
            let health = assess("Acme", &all(value));
            assert_eq!(health.score, Some(value));
            assert_eq!(health.status, expected, "{value}");
            assert_eq!(health.coverage, 100);
        }
    }

    #[test]
    fn the_score_is_the_weighted_mean_rounded_half_up() {
        let table: [(Readings, u32); 4] = [
            // (100·20 + 0·20) / 40 = 50.
            (
                &[
                    (Signal::Engagement, Some(100)),
                    (Signal::DeliverableFeedback, Some(0)),
                ],
                50,
            ),
            // (90·20 + 60·15) / 35 = 77.14 → 77.
            (
                &[
                    (Signal::Engagement, Some(90)),
                    (Signal::ResponseTime, Some(60)),
                ],
                77,
            ),
            // (1·10 + 0·10) / 20 = 0.5 → 1.
            (
                &[(Signal::Payment, Some(1)), (Signal::Expansion, Some(0))],
                1,
            ),
            // The example: (72·20 + 55·15 + 80·15 + 64·20 + 95·10 + 35·10) / 90 = 67.
            (
                &[
                    (Signal::Engagement, Some(72)),
                    (Signal::ResponseTime, Some(55)),
                    (Signal::MeetingAttendance, Some(80)),
                    (Signal::DeliverableFeedback, Some(64)),
                    (Signal::Payment, Some(95)),
                    (Signal::RelationshipDepth, Some(35)),
                ],
                67,
            ),
        ];
        for (readings, expected) in table {
            assert_eq!(
                assess("Acme", readings).score,
                Some(expected),
                "{readings:?}"
            );
        }
    }

    #[test]
    fn missing_signals_are_not_defaulted_to_look_healthy() {
        // The seed filled six missing signals with defaults and called this client healthy.
        let health = assess("Acme", &[(Signal::Payment, Some(100))]);
        assert_eq!(health.score, Some(100));
        assert_eq!(health.coverage, 10);
        assert_eq!(health.status, Status::InsufficientData);
        assert_eq!(health.missing_signals.len(), 6);
        assert!(!health.missing_signals.contains(&Signal::Payment));
        let missing = health
            .contributions
            .iter()
            .filter(|c| c.value.is_none() && c.points.is_none())
            .count();
        assert_eq!(missing, 6);
    }

    #[test]
    fn coverage_of_exactly_half_is_enough_for_a_status() {
        let table: [(Readings, u32, Status); 3] = [
            // 20 + 15 + 10 = 45%.
            (
                &[
                    (Signal::Engagement, Some(90)),
                    (Signal::ResponseTime, Some(90)),
                    (Signal::Payment, Some(90)),
                ],
                45,
                Status::InsufficientData,
            ),
            // 20 + 20 + 10 = 50%.
            (
                &[
                    (Signal::Engagement, Some(90)),
                    (Signal::DeliverableFeedback, Some(90)),
                    (Signal::Payment, Some(90)),
                ],
                50,
                Status::Thriving,
            ),
            (&[], 0, Status::InsufficientData),
        ];
        for (readings, coverage, status) in table {
            let health = assess("Acme", readings);
            assert_eq!(health.coverage, coverage, "{readings:?}");
            assert_eq!(health.status, status, "{readings:?}");
        }
        assert_eq!(assess("Acme", &[]).score, None);
    }

    #[test]
    fn contributions_are_renormalised_over_supplied_weight() {
        let health = assess(
            "Acme",
            &[
                (Signal::Engagement, Some(80)),
                (Signal::DeliverableFeedback, Some(40)),
                (Signal::Payment, Some(100)),
            ],
        );
        let points: Vec<Option<u32>> = health.contributions.iter().map(|c| c.points).collect();
        // 80·20/50 = 32, 40·20/50 = 16, 100·10/50 = 20; total 68.
        assert_eq!(
            points,
            vec![Some(32), None, None, Some(16), Some(20), None, None]
        );
        assert_eq!(health.score, Some(68));
    }

    #[test]
    fn the_weakest_signals_below_thriving_get_an_action_lowest_first() {
        let health = assess(
            "Acme",
            &[
                (Signal::Engagement, Some(40)),
                (Signal::ResponseTime, Some(90)),
                (Signal::MeetingAttendance, Some(40)),
                (Signal::DeliverableFeedback, Some(60)),
                (Signal::Payment, Some(20)),
                (Signal::Expansion, Some(84)),
            ],
        );
        let weakest: Vec<(Signal, Status)> = health
            .weakest
            .iter()
            .map(|w| (w.signal, w.status))
            .collect();
        // Equal values: engagement (20%) before meeting attendance (15%).
        assert_eq!(
            weakest,
            vec![
                (Signal::Payment, Status::Critical),
                (Signal::Engagement, Status::AtRisk),
                (Signal::MeetingAttendance, Status::AtRisk),
            ]
        );
        assert!(health.weakest.iter().all(|w| !w.action.is_empty()));
        let thriving = assess("Acme", &all(THRIVING_MIN));
        assert!(thriving.weakest.is_empty());
    }

    #[test]
    fn check_requires_a_name_one_signal_and_values_in_range() {
        let table = [
            (
                Input {
                    engagement: Some(50),
                    ..empty_input()
                },
                vec![],
            ),
            (empty_input(), vec!["input"]),
            (
                Input {
                    client_name: "  ".into(),
                    payment: Some(100),
                    ..empty_input()
                },
                vec!["input.client_name"],
            ),
            (
                Input {
                    payment: Some(101),
                    expansion: Some(0),
                    ..empty_input()
                },
                vec!["input.payment"],
            ),
        ];
        for (input, fields) in table {
            let errors: Vec<String> = check(&input).into_iter().map(|e| e.field).collect();
            assert_eq!(errors, fields, "{input:?}");
        }
    }
}
