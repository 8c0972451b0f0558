//! DealAdvisor: two or three recommended moves for one open deal, into Today's Moves —
//! each caused by the deal's state (its risk flags first, then its stage) and linked to the
//! deal, with APS inputs from the deal's own data (amount tier, stage, close date) and the
//! reasons in its rationale.

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use caseyos_domain::deals::{deal_aps, risk_flags, DealView, RiskFlag, RiskKind};
use caseyos_domain::kernel::CrmId;
use caseyos_domain::queue::{ActionType, RecordRef, Target};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::deals::{check_deal_id, deal_id, deal_id_schema, one, read_failed};
use crate::schema::InputSchema;
use crate::{AgentError, Ctx, Outcome, Proposal};

pub const NAME: &str = "DealAdvisor";
pub const DOMAIN: AgentDomain = AgentDomain::Sales;
pub const DESCRIPTION: &str = "Recommends two or three moves for an open deal from its risk flags and stage, each linked to the deal and scored from the deal's amount, stage and close date.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = true;

/// Most moves one run recommends, and fewest (for an open deal: its stage always has two).
pub const MAX_MOVES: usize = 3;
#[cfg(test)]
const MIN_MOVES: usize = 2;
/// A move due within hours when its urgency is at least this (thousandths), else in a day.
const URGENT: u16 = 900;

/// The deal to advise on; without one, the open deal that needs it most (the largest with
/// a risk flag, else the largest).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    #[serde(default)]
    pub deal_id: Option<String>,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({})
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .field_rules("deal_id", deal_id_schema())
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    check_deal_id(input.deal_id.as_deref())
}

/// The open deal that needs advice most: the largest with a risk flag, else the largest.
async fn most_in_need(ctx: &Ctx<'_>) -> Result<Option<DealView>, AgentError> {
    // Largest first.
    let open = ctx.deals.open_deals(None).await.map_err(read_failed)?;
    let flagged = open
        .iter()
        .position(|d| !risk_flags(d, ctx.now, ctx.deals.risk()).is_empty());
    Ok(match flagged {
        Some(i) => open.into_iter().nth(i),
        None => open.into_iter().next(),
    })
}

/// A recommended move, before it becomes a proposal.
#[derive(Clone, Debug, PartialEq, Serialize)]
struct Recommendation {
    action_type: ActionType,
    title: String,
    /// What in the deal caused it.
    because: String,
}

/// The move a flag calls for.
fn for_flag(deal: &DealView, flag: &RiskFlag) -> Recommendation {
    let name = &deal.name;
    let facts: Vec<&str> = flag.evidence.iter().map(|e| e.fact.as_str()).collect();
    let because = format!("{} ({})", flag.rule, facts.join("; "));
    let (action_type, title) = match flag.kind {
        RiskKind::NoActivity => (ActionType::CheckIn, format!("Check in on {name}")),
        RiskKind::PastCloseDate => (
            ActionType::ReviewDeal,
            format!("Confirm {name}'s close date with the buyer"),
        ),
        RiskKind::StalledInStage => (
            ActionType::BookMeeting,
            format!(
                "Book the meeting that moves {name} past {}",
                deal.stage.label
            ),
        ),
        RiskKind::CloseDatePushed => (
            ActionType::ReviewDeal,
            format!("Review {name}: its close date keeps moving"),
        ),
        RiskKind::SingleThreaded => (
            ActionType::BookMeeting,
            format!("Bring a second stakeholder into {name}"),
        ),
        RiskKind::AmountDropped => (
            ActionType::ReviewDeal,
            format!("Review why {name}'s amount dropped"),
        ),
        RiskKind::NoNextStep => (
            ActionType::ManualTask,
            format!("Agree the next step for {name}"),
        ),
    };
    Recommendation {
        action_type,
        title,
        because,
    }
}

/// The moves a deal's stage calls for, whatever its flags (later stages are closer to
/// signature).
fn for_stage(deal: &DealView) -> Vec<Recommendation> {
    let name = &deal.name;
    let stage = &deal.stage.label;
    let because = format!("it is in {stage} ({}%)", deal.probability());
    let moves = if deal.probability() >= 80 {
        vec![
            (
                ActionType::FollowUp,
                format!("Follow up on {name}'s paperwork"),
            ),
            (
                ActionType::PrepMeeting,
                format!("Prepare the close plan for {name}"),
            ),
        ]
    } else if deal.probability() >= 50 {
        vec![
            (
                ActionType::SendProposal,
                format!("Send {name} the proposal"),
            ),
            (
                ActionType::FollowUp,
                format!("Follow up with {name}'s champion"),
            ),
        ]
    } else {
        vec![
            (
                ActionType::BookMeeting,
                format!("Book a discovery meeting for {name}"),
            ),
            (ActionType::FollowUp, format!("Follow up with {name}")),
        ]
    };
    moves
        .into_iter()
        .map(|(action_type, title)| Recommendation {
            action_type,
            title,
            because: because.clone(),
        })
        .collect()
}

/// Two or three moves: one per flag (in the flags' order), then the stage's, never two of
/// the same action type.
fn recommend(deal: &DealView, flags: &[RiskFlag]) -> Vec<Recommendation> {
    let mut moves: Vec<Recommendation> = Vec::new();
    let candidates = flags
        .iter()
        .map(|flag| for_flag(deal, flag))
        .chain(for_stage(deal));
    for candidate in candidates {
        if moves.len() == MAX_MOVES {
            break;
        }
        if moves.iter().all(|m| m.action_type != candidate.action_type) {
            moves.push(candidate);
        }
    }
    moves
}

#[derive(Debug, Serialize)]
struct Report {
    deal: Uuid,
    name: String,
    recommendations: Vec<Recommendation>,
    /// Where the moves' APS inputs came from.
    aps: Vec<String>,
    /// Why there are none (a closed deal).
    skipped: Option<String>,
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let deal = match input.deal_id.as_deref() {
        Some(raw) => {
            let id = deal_id(raw).ok_or_else(|| {
                AgentError::new(
                    "request.validation",
                    "input.deal_id: must be a deal id",
                    false,
                )
            })?;
            one(ctx.deals, id).await?
        }
        None => match most_in_need(ctx).await? {
            Some(deal) => deal,
            None => {
                let why = "there are no open deals to advise on".to_string();
                return Outcome::report(
                    &serde_json::json!({"recommendations": [], "skipped": why}),
                    why,
                );
            }
        },
    };
    if !deal.status.is_open() {
        let why = format!(
            "{} is {}: nothing to advance",
            deal.name,
            deal.status.as_str()
        );
        return Outcome::report(
            &Report {
                deal: deal.id,
                name: deal.name.clone(),
                recommendations: Vec::new(),
                aps: Vec::new(),
                skipped: Some(why.clone()),
            },
            why,
        );
    }
    let flags = risk_flags(&deal, ctx.now, ctx.deals.risk());
    let recommendations = recommend(&deal, &flags);
    let aps = deal_aps(&deal, ctx.now);
    let urgent = aps
        .overrides
        .urgency
        .is_some_and(|u| u.thousandths() >= URGENT);
    let due = ctx.now
        + if urgent {
            Duration::hours(4)
        } else {
            Duration::days(1)
        };
    let target = Target {
        deal: CrmId::parse(&deal.id.to_string()).ok().map(|id| RecordRef {
            id,
            name: Some(deal.name.clone()),
        }),
        ..Target::default()
    };
    let proposals = recommendations
        .iter()
        .map(|r| Proposal {
            action_type: r.action_type,
            title: Some(r.title.clone()),
            target: target.clone(),
            payload: serde_json::json!({"deal_id": deal.id, "deal_name": deal.name}),
            due_by: Some(due),
            aps: aps.overrides,
            rationale: Some(format!(
                "Because {}. APS from the deal: {}.",
                r.because,
                aps.explained()
            )),
            draft: None,
        })
        .collect();
    let mut text = format!("**{} moves for {}**\n\n", recommendations.len(), deal.name);
    for r in &recommendations {
        text.push_str(&format!("- {} — because {}\n", r.title, r.because));
    }
    text.push_str(&format!("\nAPS from the deal: {}.\n", aps.explained()));
    let mut outcome = Outcome::report(
        &Report {
            deal: deal.id,
            name: deal.name.clone(),
            recommendations,
            aps: aps.reasons.clone(),
            skipped: None,
        },
        text,
    )?;
    outcome.proposals = proposals;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use caseyos_domain::deals::{Evidence, RiskFlag};

    fn flag(kind: RiskKind) -> RiskFlag {
        RiskFlag {
            kind,
            rule: format!("{} rule", kind.as_str()),
            default_threshold: Some(true),
            evidence: vec![Evidence {
                fact: "a fact".into(),
                event: None,
                at: None,
            }],
        }
    }

    fn deal(probability: u8) -> DealView {
        let mut deal: DealView = serde_json::from_value(serde_json::json!({
            "id": "0193a8c0-0000-7000-8000-0000000000d1", "name": "Acme",
            "pipeline": "default",
            "stage": {"id": "qualifiedtobuy", "label": "Qualified", "probability": 40, "kind": "open"},
            "stage_entered_at": "2026-11-01T00:00:00Z", "last_open_stage": "qualifiedtobuy",
            "status": "open", "amount": null, "close_date": null, "close_date_pushes": 0,
            "owner": "casey", "contacts": [], "activity_counts": {"email": 0, "call": 0, "meeting": 0, "note": 0},
            "last_activity_at": null, "next_step": null, "next_step_set_at": null,
            "forecast_category": "pipeline", "forecast_choice": "auto",
            "forecast_category_explicit": false, "lost_reason": null, "closed_at": null,
            "source": "manual", "crm_id": null, "created_by": {"kind": "user", "id": "casey"},
            "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z", "version": 1
        }))
        .unwrap();
        deal.stage.probability = probability;
        deal
    }

    #[test]
    fn flags_come_first_then_the_stage_and_never_two_moves_of_one_type() {
        let table: [(Vec<RiskKind>, u8, Vec<ActionType>); 4] = [
            (
                vec![],
                20,
                vec![ActionType::BookMeeting, ActionType::FollowUp],
            ),
            (
                vec![],
                90,
                vec![ActionType::FollowUp, ActionType::PrepMeeting],
            ),
            (
                vec![RiskKind::NoActivity, RiskKind::NoNextStep],
                60,
                vec![
                    ActionType::CheckIn,
                    ActionType::ManualTask,
                    ActionType::SendProposal,
                ],
            ),
            (
                vec![
                    RiskKind::StalledInStage,
                    RiskKind::SingleThreaded,
                    RiskKind::PastCloseDate,
                    RiskKind::NoNextStep,
                ],
                20,
                vec![
                    ActionType::BookMeeting,
                    ActionType::ReviewDeal,
                    ActionType::ManualTask,
                ],
            ),
        ];
        for (kinds, probability, expected) in table {
            let flags: Vec<RiskFlag> = kinds.iter().map(|k| flag(*k)).collect();
            let moves = recommend(&deal(probability), &flags);
            let types: Vec<ActionType> = moves.iter().map(|m| m.action_type).collect();
            assert_eq!(types, expected, "{kinds:?} at {probability}%");
            assert!((MIN_MOVES..=MAX_MOVES).contains(&moves.len()));
        }
    }
}
