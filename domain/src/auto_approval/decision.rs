//! The decision on one proposed move (aggregate `auto_approval_decision`, id
//! [`decision_id`] of the move's id): approved by which rule, or needs review, with every
//! rule's check and why. The evaluation is pure ([`evaluate`]); the auto-approval reactor
//! gathers its facts from the read models. It never rejects.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::icp::{email_domain, IcpScore};
use super::rule::{RuleCondition, RuleView};
use crate::aggregate::{Aggregate, DomainError, RejectionKind};
use crate::kernel::Actor;
use crate::queue::ActionType;

pub const DECISION_EVENT_VERSION: &str = "1";

const DECISION_NAMESPACE: Uuid = Uuid::from_u128(0x3f0a_91c2_5d7e_4b18_a6c4_0e2b_9d53_71f8);

/// The reason of every decision taken while the emergency stop is on.
pub const STOPPED: &str = "auto-approval is stopped";

/// The decision aggregate's id for a move.
pub fn decision_id(item_id: Uuid) -> Uuid {
    Uuid::new_v5(&DECISION_NAMESPACE, item_id.as_bytes())
}

/// What was decided.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AutoDecision {
    /// Approved by the first rule (in priority order) that matched.
    Approved {
        rule_id: Uuid,
        rule_name: String,
        /// The rule's confidence, in percent.
        confidence: u8,
    },
    /// Left for a person: why.
    NeedsReview { reason: String },
}

/// One rule's check of the move.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RuleCheck {
    pub rule_id: Uuid,
    pub rule_name: String,
    /// `replied_before`, `known_good_recipient`, `high_icp_score`.
    pub kind: String,
    pub priority: u32,
    pub matched: bool,
    /// Why it matched or not ("dana@acme.io replied 3 days ago").
    pub reason: String,
}

/// What CaseyOS knows of one recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientFacts {
    pub email: String,
    /// Their last `email_replied` outcome.
    pub last_reply_at: Option<DateTime<Utc>>,
    /// Executions that sent them an email.
    pub sends: u32,
    /// A bounce or unsubscribe recorded for them (its outcome type).
    pub bad_outcome: Option<String>,
}

/// The move's contact as the ICP rule reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactFacts {
    pub icp: IcpScore,
    pub company_domain: Option<String>,
}

/// Everything an evaluation reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    pub action_type: ActionType,
    /// Why the move needs a person whatever the rules say (the stop, no recipient, an open
    /// duplicate, an archived contact); the first is the decision's reason.
    pub blockers: Vec<String>,
    pub recipients: Vec<RecipientFacts>,
    pub contact: Option<ContactFacts>,
    pub now: DateTime<Utc>,
}

fn ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    match (now - at).num_days() {
        d if d <= 0 => "today".into(),
        1 => "1 day ago".into(),
        d => format!("{d} days ago"),
    }
}

fn check(rule: &RuleView, facts: &Facts) -> (bool, String) {
    if !rule.action_types.contains(&facts.action_type) {
        return (
            false,
            format!("it does not approve {} moves", facts.action_type.as_str()),
        );
    }
    let all = |test: &dyn Fn(&RecipientFacts) -> Result<String, String>| {
        let mut yes = Vec::new();
        for r in &facts.recipients {
            match test(r) {
                Ok(why) => yes.push(why),
                Err(why) => return (false, why),
            }
        }
        (true, yes.join("; "))
    };
    match rule.condition {
        RuleCondition::RepliedBefore { days_lookback } => {
            let since = facts.now - Duration::days(i64::from(days_lookback));
            all(&|r| match r.last_reply_at {
                Some(at) if at >= since => {
                    Ok(format!("{} replied {}", r.email, ago(facts.now, at)))
                }
                Some(at) => Err(format!(
                    "{} last replied {}, before the {days_lookback}-day lookback",
                    r.email,
                    ago(facts.now, at)
                )),
                None => Err(format!("{} never replied", r.email)),
            })
        }
        RuleCondition::KnownGoodRecipient { min_sends } => all(&|r| {
            if let Some(bad) = &r.bad_outcome {
                return Err(format!("{} has an {bad} outcome", r.email));
            }
            if r.sends >= min_sends {
                Ok(format!(
                    "{} was sent {} emails, none bounced",
                    r.email, r.sends
                ))
            } else {
                Err(format!(
                    "{} was sent {} emails, fewer than {min_sends}",
                    r.email, r.sends
                ))
            }
        }),
        RuleCondition::HighIcpScore {
            min_score,
            require_domain_match,
        } => {
            let Some(contact) = &facts.contact else {
                return (false, "the move names no CaseyOS contact".into());
            };
            let parts: Vec<String> = contact
                .icp
                .parts
                .iter()
                .filter(|p| p.points > 0)
                .map(|p| format!("+{} {}", p.points, p.reason))
                .collect();
            let score = contact.icp.score;
            let breakdown = if parts.is_empty() {
                "nothing scores".to_string()
            } else {
                parts.join(", ")
            };
            if score < min_score {
                return (
                    false,
                    format!("ICP score {score} is below {min_score} ({breakdown})"),
                );
            }
            if require_domain_match {
                let company = contact
                    .company_domain
                    .as_deref()
                    .map(|d| d.trim().to_lowercase());
                let Some(company) = company.filter(|d| !d.is_empty()) else {
                    return (
                        false,
                        format!("ICP score {score}, but the contact has no company domain"),
                    );
                };
                if let Some(other) = facts
                    .recipients
                    .iter()
                    .find(|r| email_domain(&r.email).as_deref() != Some(company.as_str()))
                {
                    return (
                        false,
                        format!("ICP score {score}, but {} is not at {company}", other.email),
                    );
                }
            }
            (
                true,
                format!("ICP score {score} ≥ {min_score} ({breakdown})"),
            )
        }
    }
}

/// The decision on a move: the blockers first, then the enabled rules in priority order
/// (then by id); the first that matches approves. Every enabled rule's check is returned.
pub fn evaluate(rules: &[RuleView], facts: &Facts) -> (AutoDecision, Vec<RuleCheck>) {
    let mut rules: Vec<&RuleView> = rules.iter().filter(|r| r.enabled && !r.archived).collect();
    rules.sort_by_key(|r| (r.priority, r.id));
    if let Some(blocker) = facts.blockers.first() {
        return (
            AutoDecision::NeedsReview {
                reason: blocker.clone(),
            },
            Vec::new(),
        );
    }
    let checks: Vec<RuleCheck> = rules
        .iter()
        .map(|rule| {
            let (matched, reason) = check(rule, facts);
            RuleCheck {
                rule_id: rule.id,
                rule_name: rule.name.clone(),
                kind: rule.condition.kind().to_string(),
                priority: rule.priority,
                matched,
                reason,
            }
        })
        .collect();
    let decision = match checks.iter().zip(&rules).find(|(c, _)| c.matched) {
        Some((c, rule)) => AutoDecision::Approved {
            rule_id: c.rule_id,
            rule_name: c.rule_name.clone(),
            confidence: rule.confidence,
        },
        None if rules.is_empty() => AutoDecision::NeedsReview {
            reason: "no auto-approval rule is enabled".into(),
        },
        None => AutoDecision::NeedsReview {
            reason: "no rule matched".into(),
        },
    };
    (decision, checks)
}

/// Record the decision on a move (once: a second is a no-op).
#[derive(Clone, Debug, PartialEq)]
pub struct Decide {
    pub item_id: Uuid,
    pub decision: AutoDecision,
    pub checks: Vec<RuleCheck>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DecisionEvent {
    AutoApprovalDecided(AutoApprovalDecided),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AutoApprovalDecided {
    pub item_id: Uuid,
    pub decision: AutoDecision,
    pub checks: Vec<RuleCheck>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// A decision as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DecisionView {
    pub id: Uuid,
    pub item_id: Uuid,
    pub decision: AutoDecision,
    /// Every enabled rule's check, in the order they ran.
    pub checks: Vec<RuleCheck>,
    pub decided_by: Actor,
    pub decided_at: DateTime<Utc>,
    pub version: u64,
}

/// The decision aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AutoApprovalDecision {
    pub decision: Option<DecisionView>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("a decision's id is derived from its move's id; this id names another move")]
    WrongItem,
}

impl DomainError for DecisionError {
    fn code(&self) -> &'static str {
        "request.validation"
    }

    fn kind(&self) -> RejectionKind {
        RejectionKind::Invalid {
            field: "item_id",
            message: self.to_string(),
        }
    }
}

impl Aggregate for AutoApprovalDecision {
    const TYPE: &'static str = "auto_approval_decision";
    const EVENT_VERSION: &'static str = DECISION_EVENT_VERSION;
    type Command = Decide;
    type Event = DecisionEvent;
    type Error = DecisionError;
    type View = DecisionView;

    fn command_name(_: &Decide) -> &'static str {
        "decide"
    }

    fn event_name(_: &DecisionEvent) -> &'static str {
        "AutoApprovalDecided"
    }

    fn view(&self) -> Option<&DecisionView> {
        self.decision.as_ref()
    }

    fn into_view(self) -> Option<DecisionView> {
        self.decision
    }

    fn decide(&self, command: Decide) -> Result<Vec<DecisionEvent>, DecisionError> {
        if let Some(existing) = &self.decision {
            return if existing.item_id == command.item_id {
                Ok(Vec::new())
            } else {
                Err(DecisionError::WrongItem)
            };
        }
        Ok(vec![DecisionEvent::AutoApprovalDecided(
            AutoApprovalDecided {
                item_id: command.item_id,
                decision: command.decision,
                checks: command.checks,
                by: command.by,
                at: command.at,
            },
        )])
    }

    fn apply(&mut self, event: DecisionEvent) {
        let DecisionEvent::AutoApprovalDecided(e) = event;
        self.decision = Some(DecisionView {
            id: decision_id(e.item_id),
            item_id: e.item_id,
            decision: e.decision,
            checks: e.checks,
            decided_by: e.by,
            decided_at: e.at,
            version: 1,
        });
    }
}
