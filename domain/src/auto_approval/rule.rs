//! The auto-approval rule (aggregate `auto_approval_rule`): a condition of one of three
//! kinds, a confidence, a priority (lower runs first), on or off, and the action types it
//! may approve. Every change is an event with who made it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, RejectionKind};
use crate::executions::plan::Handler;
use crate::kernel::Actor;
use crate::queue::ActionType;

pub const RULE_EVENT_VERSION: &str = "1";

/// The longest rule name.
pub const MAX_RULE_NAME_CHARS: usize = 200;
/// The largest priority (lower runs first).
pub const MAX_PRIORITY: u32 = 10_000;
/// The longest lookback of `replied_before`, in days.
pub const MAX_DAYS_LOOKBACK: u32 = 3650;
/// The largest `min_sends` of `known_good_recipient`.
pub const MAX_MIN_SENDS: u32 = 1000;

pub const DEFAULT_DAYS_LOOKBACK: u32 = 90;
pub const DEFAULT_MIN_SENDS: u32 = 1;
pub const DEFAULT_MIN_SCORE: u8 = 90;

fn default_days_lookback() -> u32 {
    DEFAULT_DAYS_LOOKBACK
}
fn default_min_sends() -> u32 {
    DEFAULT_MIN_SENDS
}
fn default_min_score() -> u8 {
    DEFAULT_MIN_SCORE
}
fn yes() -> bool {
    true
}

/// What a rule checks, by kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleCondition {
    /// Every recipient replied (an `email_replied` outcome) within the last `days_lookback`
    /// days.
    RepliedBefore {
        #[serde(
            default = "default_days_lookback",
            deserialize_with = "crate::kernel::whole"
        )]
        #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 3650, default = 90))]
        days_lookback: u32,
    },
    /// Every recipient was sent at least `min_sends` emails by CaseyOS and none bounced or
    /// unsubscribed.
    KnownGoodRecipient {
        #[serde(
            default = "default_min_sends",
            deserialize_with = "crate::kernel::whole"
        )]
        #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 1000, default = 1))]
        min_sends: u32,
    },
    /// The move's contact has an ICP score (computed by CaseyOS) of at least `min_score`
    /// and, when `require_domain_match`, every recipient's domain is the contact's company
    /// domain.
    HighIcpScore {
        #[serde(
            default = "default_min_score",
            deserialize_with = "crate::kernel::whole"
        )]
        #[cfg_attr(feature = "server", schema(minimum = 0, maximum = 100, default = 90))]
        min_score: u8,
        #[serde(default = "yes")]
        #[cfg_attr(feature = "server", schema(default = true))]
        require_domain_match: bool,
    },
}

impl RuleCondition {
    pub const fn kind(&self) -> &'static str {
        match self {
            RuleCondition::RepliedBefore { .. } => "replied_before",
            RuleCondition::KnownGoodRecipient { .. } => "known_good_recipient",
            RuleCondition::HighIcpScore { .. } => "high_icp_score",
        }
    }

    /// What is wrong with it: the field and why.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        match *self {
            RuleCondition::RepliedBefore { days_lookback }
                if !(1..=MAX_DAYS_LOOKBACK).contains(&days_lookback) =>
            {
                Some((
                    "condition.days_lookback",
                    format!("1 to {MAX_DAYS_LOOKBACK} days"),
                ))
            }
            RuleCondition::KnownGoodRecipient { min_sends }
                if !(1..=MAX_MIN_SENDS).contains(&min_sends) =>
            {
                Some(("condition.min_sends", format!("1 to {MAX_MIN_SENDS}")))
            }
            RuleCondition::HighIcpScore { min_score, .. } if min_score > 100 => {
                Some(("condition.min_score", "0 to 100".into()))
            }
            _ => None,
        }
    }
}

/// The action types a rule approves when none are named: those executed as an email.
pub fn default_action_types() -> Vec<ActionType> {
    ActionType::ALL
        .iter()
        .copied()
        .filter(|t| t.handler() == Handler::Email)
        .collect()
}

/// A rule's definition, as created or replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDefinition {
    pub name: String,
    pub condition: RuleCondition,
    /// How sure an approval by it is, in percent.
    pub confidence: u8,
    /// Lower runs first.
    pub priority: u32,
    pub enabled: bool,
    /// The move types it may approve (sorted, no repeats, at least one).
    pub action_types: Vec<ActionType>,
}

impl RuleDefinition {
    /// What is wrong with it: the field and why.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_RULE_NAME_CHARS {
            return Some((
                "name",
                format!("1 to {MAX_RULE_NAME_CHARS} characters, not only spaces"),
            ));
        }
        if self.confidence > 100 {
            return Some(("confidence", "a percentage, 0 to 100".into()));
        }
        if self.priority > MAX_PRIORITY {
            return Some(("priority", format!("0 to {MAX_PRIORITY}")));
        }
        if self.action_types.is_empty() {
            return Some(("action_types", "at least one action type".into()));
        }
        self.condition.problem()
    }

    /// The same, its name trimmed and its action types sorted without repeats.
    pub fn normalised(mut self) -> Self {
        self.name = self.name.trim().to_string();
        self.action_types.sort();
        self.action_types.dedup();
        self
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum RuleCommand {
    Create {
        rule_id: Uuid,
        definition: RuleDefinition,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// Replaces the definition (its `enabled` included).
    Update {
        definition: RuleDefinition,
        by: Actor,
        at: DateTime<Utc>,
    },
    Enable {
        by: Actor,
        at: DateTime<Utc>,
    },
    Disable {
        by: Actor,
        at: DateTime<Utc>,
    },
    /// Archives it: it no longer runs nor lists.
    Delete {
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RuleEvent {
    RuleCreated(RuleWritten),
    RuleUpdated(RuleWritten),
    RuleEnabled(RuleChanged),
    RuleDisabled(RuleChanged),
    RuleArchived(RuleChanged),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleWritten {
    pub rule_id: Uuid,
    pub definition: RuleDefinition,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleChanged {
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// A rule as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RuleView {
    pub id: Uuid,
    pub name: String,
    pub condition: RuleCondition,
    /// How sure an approval by it is, in percent.
    pub confidence: u8,
    /// Lower runs first.
    pub priority: u32,
    pub enabled: bool,
    pub action_types: Vec<ActionType>,
    pub created_by: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_by: Actor,
    pub updated_at: DateTime<Utc>,
    /// Deleted rules are archived: kept for the decisions that name them.
    pub archived: bool,
    pub version: u64,
}

/// The rule aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AutoApprovalRule {
    pub rule: Option<RuleView>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("auto-approval rule not found")]
    NotFound,
    #[error("this auto-approval rule exists already")]
    AlreadyExists,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl DomainError for RuleError {
    fn code(&self) -> &'static str {
        match self {
            RuleError::NotFound => "auto_approval.rule_not_found",
            RuleError::AlreadyExists => "auto_approval.rule_exists",
            RuleError::Invalid { .. } => "request.validation",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            RuleError::NotFound => RejectionKind::NotFound,
            RuleError::AlreadyExists => RejectionKind::Conflict,
            RuleError::Invalid { field, message } => RejectionKind::Invalid {
                field,
                message: message.clone(),
            },
        }
    }
}

fn checked(definition: RuleDefinition) -> Result<RuleDefinition, RuleError> {
    let definition = definition.normalised();
    match definition.problem() {
        Some((field, message)) => Err(RuleError::Invalid { field, message }),
        None => Ok(definition),
    }
}

impl AutoApprovalRule {
    fn live(&self) -> Result<&RuleView, RuleError> {
        self.rule
            .as_ref()
            .filter(|r| !r.archived)
            .ok_or(RuleError::NotFound)
    }
}

impl Aggregate for AutoApprovalRule {
    const TYPE: &'static str = "auto_approval_rule";
    const EVENT_VERSION: &'static str = RULE_EVENT_VERSION;
    type Command = RuleCommand;
    type Event = RuleEvent;
    type Error = RuleError;
    type View = RuleView;

    fn command_name(command: &RuleCommand) -> &'static str {
        match command {
            RuleCommand::Create { .. } => "create",
            RuleCommand::Update { .. } => "update",
            RuleCommand::Enable { .. } => "enable",
            RuleCommand::Disable { .. } => "disable",
            RuleCommand::Delete { .. } => "delete",
        }
    }

    fn event_name(event: &RuleEvent) -> &'static str {
        match event {
            RuleEvent::RuleCreated(_) => "RuleCreated",
            RuleEvent::RuleUpdated(_) => "RuleUpdated",
            RuleEvent::RuleEnabled(_) => "RuleEnabled",
            RuleEvent::RuleDisabled(_) => "RuleDisabled",
            RuleEvent::RuleArchived(_) => "RuleArchived",
        }
    }

    fn view(&self) -> Option<&RuleView> {
        self.rule.as_ref()
    }

    fn into_view(self) -> Option<RuleView> {
        self.rule
    }

    fn decide(&self, command: RuleCommand) -> Result<Vec<RuleEvent>, RuleError> {
        match command {
            RuleCommand::Create {
                rule_id,
                definition,
                by,
                at,
            } => {
                if self.rule.is_some() {
                    return Err(RuleError::AlreadyExists);
                }
                Ok(vec![RuleEvent::RuleCreated(RuleWritten {
                    rule_id,
                    definition: checked(definition)?,
                    by,
                    at,
                })])
            }
            RuleCommand::Update { definition, by, at } => {
                let rule = self.live()?;
                let definition = checked(definition)?;
                let same = rule.name == definition.name
                    && rule.condition == definition.condition
                    && rule.confidence == definition.confidence
                    && rule.priority == definition.priority
                    && rule.enabled == definition.enabled
                    && rule.action_types == definition.action_types;
                if same {
                    return Ok(Vec::new());
                }
                Ok(vec![RuleEvent::RuleUpdated(RuleWritten {
                    rule_id: rule.id,
                    definition,
                    by,
                    at,
                })])
            }
            RuleCommand::Enable { by, at } => {
                let rule = self.live()?;
                Ok(if rule.enabled {
                    Vec::new()
                } else {
                    vec![RuleEvent::RuleEnabled(RuleChanged { by, at })]
                })
            }
            RuleCommand::Disable { by, at } => {
                let rule = self.live()?;
                Ok(if rule.enabled {
                    vec![RuleEvent::RuleDisabled(RuleChanged { by, at })]
                } else {
                    Vec::new()
                })
            }
            RuleCommand::Delete { by, at } => {
                self.live()?;
                Ok(vec![RuleEvent::RuleArchived(RuleChanged { by, at })])
            }
        }
    }

    fn apply(&mut self, event: RuleEvent) {
        match event {
            RuleEvent::RuleCreated(e) => {
                let d = e.definition;
                self.rule = Some(RuleView {
                    id: e.rule_id,
                    name: d.name,
                    condition: d.condition,
                    confidence: d.confidence,
                    priority: d.priority,
                    enabled: d.enabled,
                    action_types: d.action_types,
                    created_by: e.by.clone(),
                    created_at: e.at,
                    updated_by: e.by,
                    updated_at: e.at,
                    archived: false,
                    version: 1,
                });
            }
            RuleEvent::RuleUpdated(e) => {
                if let Some(rule) = &mut self.rule {
                    let d = e.definition;
                    rule.name = d.name;
                    rule.condition = d.condition;
                    rule.confidence = d.confidence;
                    rule.priority = d.priority;
                    rule.enabled = d.enabled;
                    rule.action_types = d.action_types;
                    rule.updated_by = e.by;
                    rule.updated_at = e.at;
                    rule.version += 1;
                }
            }
            RuleEvent::RuleEnabled(e) => self.changed(e, |r| r.enabled = true),
            RuleEvent::RuleDisabled(e) => self.changed(e, |r| r.enabled = false),
            RuleEvent::RuleArchived(e) => self.changed(e, |r| {
                r.archived = true;
                r.enabled = false;
            }),
        }
    }
}

impl AutoApprovalRule {
    fn changed(&mut self, e: RuleChanged, change: impl FnOnce(&mut RuleView)) {
        if let Some(rule) = &mut self.rule {
            change(rule);
            rule.updated_by = e.by;
            rule.updated_at = e.at;
            rule.version += 1;
        }
    }
}
