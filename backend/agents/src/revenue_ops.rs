//! RevenueOps: the pipeline's data quality — open deals without an amount, without a close
//! date, with a close date already past, and stalled longer than their stage's typical time
//! (a stale stage) — counted, each list with its deals, largest first.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use caseyos_domain::deals::{risk_flags, DealView, RiskKind};
use caseyos_domain::kernel::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::deals::{check_pipeline, pipeline_schema, read_failed};
use crate::schema::InputSchema;
use crate::{AgentError, Ctx, Outcome};

pub const NAME: &str = "RevenueOps";
pub const DOMAIN: AgentDomain = AgentDomain::Ops;
pub const DESCRIPTION: &str = "Checks the pipeline's data: open deals missing an amount or a close date, close dates already past, and stages gone stale, each with its deals.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// Deals each list names (the largest first); the counts cover all.
pub const LISTED: usize = 50;

/// The open deals of one pipeline (`pipeline`), or of every one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    #[serde(default)]
    pub pipeline: Option<String>,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({})
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .field_rules("pipeline", pipeline_schema())
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    check_pipeline(&input.pipeline)
}

#[derive(Debug, Serialize)]
struct DealRef {
    id: Uuid,
    name: String,
    owner: String,
    amount: Option<Money>,
}

#[derive(Debug, Default, Serialize)]
struct Problem {
    count: usize,
    deals: Vec<DealRef>,
}

impl Problem {
    fn add(&mut self, deal: &DealView) {
        self.count += 1;
        if self.deals.len() < LISTED {
            self.deals.push(DealRef {
                id: deal.id,
                name: deal.name.clone(),
                owner: deal.owner.clone(),
                amount: deal.amount,
            });
        }
    }
}

#[derive(Debug, Default, Serialize)]
struct Report {
    open_deals: usize,
    /// Open deals with no problem below.
    clean: usize,
    missing_amount: Problem,
    missing_close_date: Problem,
    past_close_date: Problem,
    stale_stage: Problem,
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    // Largest first, so each list names the deals that matter most.
    let deals = ctx
        .deals
        .open_deals(input.pipeline.as_deref())
        .await
        .map_err(read_failed)?;
    let mut report = Report {
        open_deals: deals.len(),
        ..Report::default()
    };
    for deal in &deals {
        let flags = risk_flags(deal, ctx.now, ctx.deals.risk());
        let has = |kind: RiskKind| flags.iter().any(|f| f.kind == kind);
        let mut problem = false;
        if deal.amount.is_none_or(|m| m.minor == 0) {
            report.missing_amount.add(deal);
            problem = true;
        }
        if deal.close_date.is_none() {
            report.missing_close_date.add(deal);
            problem = true;
        }
        if has(RiskKind::PastCloseDate) {
            report.past_close_date.add(deal);
            problem = true;
        }
        if has(RiskKind::StalledInStage) {
            report.stale_stage.add(deal);
            problem = true;
        }
        if !problem {
            report.clean += 1;
        }
    }
    let text = format!(
        "**{} of {} open deals have clean data.**\n\n\
         - Missing amount: {}\n- Missing close date: {}\n- Close date passed: {}\n\
         - Stale stage (longer than its typical time): {}\n",
        report.clean,
        report.open_deals,
        report.missing_amount.count,
        report.missing_close_date.count,
        report.past_close_date.count,
        report.stale_stage.count,
    );
    Outcome::report(&report, text)
}
