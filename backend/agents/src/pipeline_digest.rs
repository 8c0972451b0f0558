//! PipelineDigest: the week's pipeline in one page — new deals, won and lost, the deals at
//! risk, the quarter's forecast against quota and how it moved over the week (the change
//! waterfall). Its stored schedule runs it on Sunday at 20:00 (`pipeline-digest-weekly`),
//! once across instances and once after a downtime; each digest is its run, stored and
//! listed with the agent's runs. It would be emailed by an email connector; none exists yet,
//! and the digest says so.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use caseyos_domain::deals::{risk_flags, DealView};
use caseyos_domain::kernel::Money;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::deals::read_failed;
use crate::schema::InputSchema;
use crate::{AgentError, Ctx, Outcome};

pub const NAME: &str = "PipelineDigest";
pub const DOMAIN: AgentDomain = AgentDomain::Sales;
pub const DESCRIPTION: &str = "The week's pipeline digest: new deals, won and lost, deals at risk, the quarter's forecast against quota and the week's change waterfall.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// Days a digest looks back by default (a week), and at most.
pub const DEFAULT_DAYS: u32 = 7;
pub const MAX_DAYS: u32 = 92;
/// Deals a list names (the largest first).
const LISTED: usize = 10;

/// The window: the `days` up to the run (default a week).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    #[serde(default)]
    pub days: Option<u32>,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({})
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .integer("days", 1, MAX_DAYS.into())
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    match input.days {
        Some(days) if !(1..=MAX_DAYS).contains(&days) => {
            vec![crate::field_error(
                "days",
                format!("must be 1 to {MAX_DAYS}"),
            )]
        }
        _ => Vec::new(),
    }
}

#[derive(Debug, Serialize)]
struct Listed {
    id: Uuid,
    name: String,
    owner: String,
    amount: Option<Money>,
}

#[derive(Debug, Serialize)]
struct Group {
    count: usize,
    /// Σ amounts (reporting currency; deals without an amount count 0).
    total: Money,
    deals: Vec<Listed>,
}

fn group(deals: &[&DealView], currency: caseyos_domain::kernel::Currency) -> Group {
    let mut sorted: Vec<&&DealView> = deals.iter().collect();
    sorted.sort_by_key(|d| std::cmp::Reverse(d.amount.map_or(i64::MIN, |m| m.minor)));
    Group {
        count: deals.len(),
        total: Money::new(
            Money::total_minor(
                deals
                    .iter()
                    .filter_map(|d| d.amount.filter(|m| m.currency == currency))
                    .map(|m| m.minor),
            ),
            currency,
        ),
        deals: sorted
            .into_iter()
            .take(LISTED)
            .map(|d| Listed {
                id: d.id,
                name: d.name.clone(),
                owner: d.owner.clone(),
                amount: d.amount,
            })
            .collect(),
    }
}

#[derive(Debug, Serialize)]
struct Delivery {
    emailed: bool,
    reason: &'static str,
}

fn lines(title: &str, group: &Group) -> String {
    let mut text = format!("**{title}: {} ({})**\n", group.count, group.total);
    for deal in &group.deals {
        let amount = deal.amount.map_or("no amount".into(), |m| m.to_string());
        text.push_str(&format!("- {} — {amount}, {}\n", deal.name, deal.owner));
    }
    text.push('\n');
    text
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let days = input.days.unwrap_or(DEFAULT_DAYS);
    let from = ctx.now - Duration::days(i64::from(days));
    let week = ctx.deals.week(from, ctx.now).await.map_err(read_failed)?;
    let currency = week.forecast.config.currency;
    let at_risk: Vec<&DealView> = week
        .open
        .iter()
        .filter(|d| !risk_flags(d, ctx.now, ctx.deals.risk()).is_empty())
        .collect();
    let created = group(&week.created.iter().collect::<Vec<_>>(), currency);
    let won = group(&week.won.iter().collect::<Vec<_>>(), currency);
    let lost = group(&week.lost.iter().collect::<Vec<_>>(), currency);
    let risky = group(&at_risk, currency);
    let total = &week.forecast.total;
    let quota = match (total.quota, total.attainment, total.coverage) {
        (Some(quota), Some(attainment), coverage) => format!(
            "quota {quota}: attainment {}.{:02}%, coverage {}",
            attainment.basis_points / 100,
            attainment.basis_points % 100,
            coverage
                .and_then(|c| c.basis_points)
                .map_or("— (met)".into(), |bp| format!(
                    "{}.{:02}×",
                    bp / 10_000,
                    bp % 10_000 / 100
                ))
        ),
        _ => "no quota set for the quarter".into(),
    };
    let mut text = format!(
        "# Pipeline digest, {} to {}\n\n",
        from.date_naive(),
        ctx.now.date_naive()
    );
    text.push_str(&lines("New deals", &created));
    text.push_str(&lines("Won", &won));
    text.push_str(&lines("Lost", &lost));
    text.push_str(&lines("At risk now", &risky));
    text.push_str(&format!(
        "**Forecast {}**: closed won {}, commit {}, best case {}, pipeline {}, weighted {}; {quota}\n\n",
        week.forecast.period,
        total.closed_won.total,
        total.commit.total,
        total.best_case.total,
        total.pipeline.total,
        total.weighted.total,
    ));
    text.push_str(&format!(
        "**This week's changes**: {} → {}\n",
        week.changes.start.total, week.changes.end.total
    ));
    for row in &week.changes.movements {
        text.push_str(&format!(
            "- {:?}: {} ({} deals)\n",
            row.kind,
            row.change,
            row.deals.len()
        ));
    }
    let delivery = Delivery {
        emailed: false,
        reason: "connector.not_connected",
    };
    text.push_str(
        "\nNot emailed: no email connector is configured yet (it comes with action execution); the digest is stored with this run.\n",
    );
    Outcome::report(
        &serde_json::json!({
            "from": from,
            "to": ctx.now,
            "created": created,
            "won": won,
            "lost": lost,
            "at_risk": risky,
            "forecast": {
                "period": week.forecast.period,
                "position": week.forecast.position,
                "closed_won": total.closed_won.total,
                "commit": total.commit.total,
                "best_case": total.best_case.total,
                "pipeline": total.pipeline.total,
                "weighted": total.weighted.total,
                "quota": total.quota,
                "attainment_basis_points": total.attainment.map(|a| a.basis_points),
                "coverage_basis_points": total.coverage.and_then(|c| c.basis_points),
            },
            "changes": {
                "start": week.changes.start.total,
                "end": week.changes.end.total,
                "movements": week.changes.movements.iter().map(|m| serde_json::json!({
                    "kind": m.kind, "change": m.change, "deals": m.deals.len(),
                })).collect::<Vec<_>>(),
            },
            "delivery": delivery,
        }),
        text,
    )
}
