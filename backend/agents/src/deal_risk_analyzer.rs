//! DealRiskAnalyzer: flags a deal — or every open deal of the pipeline — with the risk
//! rules (no activity, past close date, stalled in stage, close date pushed, single-
//! threaded, amount dropped, no next step), each flag with the facts and events that
//! raised it, and the deal's health score with its factors.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use caseyos_domain::deals::{deal_health, risk_flags, DealView, RiskFlag, RiskKind};
use caseyos_domain::kernel::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::deals::{
    check_deal_id, check_pipeline, deal_id, deal_id_schema, one, pipeline_schema, read_failed,
};
use crate::schema::InputSchema;
use crate::{AgentError, Ctx, Outcome};

pub const NAME: &str = "DealRiskAnalyzer";
pub const DOMAIN: AgentDomain = AgentDomain::Sales;
pub const DESCRIPTION: &str = "Flags a deal, or every open deal of a pipeline, with the risk rules (no activity, past close date, stalled, pushed, single-threaded, amount dropped, no next step), each flag with its evidence, and scores its health.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// The at-risk deals a pipeline report lists (the largest first).
pub const LISTED: usize = 50;

/// One deal (`deal_id`), or the open deals of a pipeline (`pipeline`, default every one).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    #[serde(default)]
    pub deal_id: Option<String>,
    #[serde(default)]
    pub pipeline: Option<String>,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({"pipeline": "default"})
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .field_rules("pipeline", pipeline_schema())
        .field_rules("deal_id", deal_id_schema())
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    let mut errors = check_pipeline(&input.pipeline);
    errors.extend(check_deal_id(input.deal_id.as_deref()));
    errors
}

/// A deal with its flags.
#[derive(Debug, Serialize)]
struct Flagged {
    id: Uuid,
    name: String,
    owner: String,
    amount: Option<Money>,
    /// Its health score now (absent for a closed deal).
    score: Option<u8>,
    flags: Vec<RiskFlag>,
}

#[derive(Debug, Serialize)]
struct Report {
    /// The deals looked at.
    scanned: usize,
    /// Of them, with at least one flag.
    at_risk: usize,
    /// How many deals carry each flag.
    by_flag: Vec<(RiskKind, usize)>,
    /// The flagged deals, largest first (at most [`LISTED`] for a pipeline).
    deals: Vec<Flagged>,
}

fn flagged(deal: &DealView, ctx: &Ctx<'_>) -> Flagged {
    Flagged {
        id: deal.id,
        name: deal.name.clone(),
        owner: deal.owner.clone(),
        amount: deal.amount,
        score: deal_health(deal, ctx.now, ctx.deals.health())
            .score()
            .map(|s| s.total),
        flags: risk_flags(deal, ctx.now, ctx.deals.risk()),
    }
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let single = input.deal_id.as_deref().and_then(deal_id);
    let deals = match single {
        Some(id) => vec![one(ctx.deals, id).await?],
        None => ctx
            .deals
            .open_deals(input.pipeline.as_deref())
            .await
            .map_err(read_failed)?,
    };
    let scanned = deals.len();
    let mut all: Vec<Flagged> = deals.iter().map(|d| flagged(d, ctx)).collect();
    let mut by_flag: Vec<(RiskKind, usize)> = Vec::new();
    for flag in all.iter().flat_map(|d| &d.flags) {
        match by_flag.iter_mut().find(|(kind, _)| *kind == flag.kind) {
            Some((_, n)) => *n += 1,
            None => by_flag.push((flag.kind, 1)),
        }
    }
    by_flag.sort();
    if single.is_none() {
        all.retain(|d| !d.flags.is_empty());
    }
    let at_risk = all.iter().filter(|d| !d.flags.is_empty()).count();
    all.truncate(LISTED);
    let mut text = match single {
        Some(_) => String::new(),
        None => format!("**{at_risk} of {scanned} open deals are at risk.**\n\n"),
    };
    for deal in &all {
        let amount = deal
            .amount
            .map_or("no amount".to_string(), |m| m.to_string());
        let score = deal
            .score
            .map_or("not scored".to_string(), |s| format!("health {s}/100"));
        text.push_str(&format!("### {} ({amount}, {score})\n", deal.name));
        if deal.flags.is_empty() {
            text.push_str("No risk flags.\n");
        }
        for flag in &deal.flags {
            let facts: Vec<&str> = flag.evidence.iter().map(|e| e.fact.as_str()).collect();
            text.push_str(&format!(
                "- **{}** — {}: {}\n",
                flag.kind.as_str(),
                flag.rule,
                facts.join("; ")
            ));
        }
        text.push('\n');
    }
    Outcome::report(
        &Report {
            scanned,
            at_risk,
            by_flag,
            deals: all,
        },
        text,
    )
}
