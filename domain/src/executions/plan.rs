//! What executing a move does in the world: each action type's handler, and the plan — the
//! exact thing to do, built from the approved move when the execution is requested and
//! recorded with it, so a retry, a rollback or an audit reads what was meant, not what the
//! move says later.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::kernel::EmailAddress;
use crate::queue::ActionType;

/// The longest subject an email plan takes.
pub const MAX_SUBJECT_CHARS: usize = 300;
/// The longest body (an email's, a task's).
pub const MAX_BODY_CHARS: usize = 50_000;
/// The default meeting length.
pub const DEFAULT_MEETING_MINUTES: u32 = 30;

/// How a move of a type is carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Handler {
    /// An email to the move's contact: sent through Gmail, or a Gmail draft while send mode
    /// is `draft_only`.
    Email,
    /// A Gmail draft, never sent.
    Draft,
    /// A Google Calendar event with the contact as attendee.
    Meeting,
    /// A HubSpot task associated with the move's contact and deal, its context attached.
    CrmTask,
    /// A HubSpot task marked completed.
    CompleteTask,
    /// The deal moved to a stage, in CaseyOS (the deal aggregate) and in HubSpot.
    DealStage,
    /// Nothing CaseyOS can do for you: it completes when the operator marks it done.
    ByHand,
}

impl Handler {
    pub const ALL: &'static [Handler] = &[
        Handler::Email,
        Handler::Draft,
        Handler::Meeting,
        Handler::CrmTask,
        Handler::CompleteTask,
        Handler::DealStage,
        Handler::ByHand,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Handler::Email => "email",
            Handler::Draft => "draft",
            Handler::Meeting => "meeting",
            Handler::CrmTask => "crm_task",
            Handler::CompleteTask => "complete_task",
            Handler::DealStage => "deal_stage",
            Handler::ByHand => "by_hand",
        }
    }

    /// The connector it needs (`None`: none, or CaseyOS alone for the deal's stage, which
    /// also reaches HubSpot when the deal came from there).
    pub const fn connector(self) -> Option<&'static str> {
        match self {
            Handler::Email | Handler::Draft => Some("gmail"),
            Handler::Meeting => Some("google_calendar"),
            Handler::CrmTask | Handler::CompleteTask => Some("hubspot"),
            Handler::DealStage | Handler::ByHand => None,
        }
    }

    /// What undoing it means, when it can be undone.
    pub const fn rollback(self) -> Option<&'static str> {
        match self {
            Handler::Draft => Some("the draft is deleted"),
            Handler::Meeting => Some("the calendar event is cancelled (attendees are told)"),
            Handler::CrmTask => Some("the task is deleted"),
            Handler::Email => Some("a draft is deleted; a sent email cannot be unsent"),
            Handler::CompleteTask | Handler::DealStage | Handler::ByHand => None,
        }
    }
}

impl ActionType {
    /// How a move of this type is executed. Emails, drafts, meetings, CRM tasks and deal
    /// stages have handlers; everything else is done by hand.
    pub const fn handler(self) -> Handler {
        match self {
            ActionType::SendEmail
            | ActionType::FollowUp
            | ActionType::CheckIn
            | ActionType::SendProposal
            | ActionType::EmailFollowUp
            | ActionType::ThreadBump
            | ActionType::ThreadReply
            | ActionType::ReplyResponse
            | ActionType::MeetingFollowUp
            | ActionType::ContractFollowUp => Handler::Email,
            ActionType::CreateDraft => Handler::Draft,
            ActionType::BookMeeting => Handler::Meeting,
            ActionType::CreateTask | ActionType::PrepMeeting | ActionType::ReviewDeal => {
                Handler::CrmTask
            }
            ActionType::CompleteTask => Handler::CompleteTask,
            ActionType::UpdateDealStage => Handler::DealStage,
            _ => Handler::ByHand,
        }
    }

    /// The subject an email of this type gets when the move names none.
    pub const fn default_subject(self) -> Option<&'static str> {
        match self {
            ActionType::FollowUp | ActionType::EmailFollowUp | ActionType::ThreadBump => {
                Some("Following up")
            }
            ActionType::CheckIn => Some("Quick check-in"),
            ActionType::SendProposal => Some("Our proposal"),
            ActionType::MeetingFollowUp => Some("Following up on our meeting"),
            _ => None,
        }
    }
}

/// A file attached to an email (a proposal's document), as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub text: String,
}

/// An email to write: sent or kept as a draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct EmailPlan {
    pub to: Vec<EmailAddress>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<EmailAddress>,
    pub subject: String,
    pub body: String,
    /// The Gmail thread it answers, when it answers one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// The `Message-ID` it answers (`In-Reply-To`, `References`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// The `Message-ID` CaseyOS gives it: searched for before any second attempt, so it is
    /// never sent twice.
    pub message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

/// A meeting to put in the calendar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MeetingPlan {
    pub summary: String,
    pub description: String,
    pub attendees: Vec<EmailAddress>,
    /// When the move named a start; otherwise the first free slot in working hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    pub duration_minutes: u32,
    /// The owner's time zone (working hours, the event's zone).
    pub time_zone: String,
}

/// A CRM task to create, with what it is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct TaskPlan {
    pub subject: String,
    /// The context: the move's rationale, its payload's notes, the deal's summary.
    pub body: String,
    pub due: DateTime<Utc>,
    /// HubSpot ids of the contacts and deals it is associated with.
    #[serde(default)]
    pub contact_crm_ids: Vec<String>,
    #[serde(default)]
    pub deal_crm_ids: Vec<String>,
}

/// The exact thing an execution does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(tag = "handler", rename_all = "snake_case")]
pub enum Plan {
    Email(EmailPlan),
    Draft(EmailPlan),
    Meeting(MeetingPlan),
    CrmTask(TaskPlan),
    CompleteTask {
        task_id: String,
    },
    DealStage {
        deal_id: Uuid,
        /// The stage id within the deal's pipeline.
        stage: String,
        /// The deal's HubSpot id, when it came from HubSpot.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        crm_deal_id: Option<String>,
    },
    ByHand {
        instructions: String,
    },
}

impl Plan {
    pub const fn handler(&self) -> Handler {
        match self {
            Plan::Email(_) => Handler::Email,
            Plan::Draft(_) => Handler::Draft,
            Plan::Meeting(_) => Handler::Meeting,
            Plan::CrmTask(_) => Handler::CrmTask,
            Plan::CompleteTask { .. } => Handler::CompleteTask,
            Plan::DealStage { .. } => Handler::DealStage,
            Plan::ByHand { .. } => Handler::ByHand,
        }
    }

    /// The people it reaches (an email's To and Cc, a meeting's attendees).
    pub fn recipients(&self) -> Vec<String> {
        match self {
            Plan::Email(e) | Plan::Draft(e) => {
                e.to.iter()
                    .chain(&e.cc)
                    .map(|a| a.as_str().to_string())
                    .collect()
            }
            Plan::Meeting(m) => m.attendees.iter().map(|a| a.as_str().to_string()).collect(),
            _ => Vec::new(),
        }
    }
}

/// Why a move could not be turned into a plan. Each is a non-retryable failure of the
/// execution with code `execution.incomplete_move`: approving the move again will not
/// change it; a new move with what is missing will.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanProblem {
    #[error("the move names no recipient: neither its payload's `to` nor its contact has an email address")]
    NoRecipient,
    #[error("`{field}` in the move's payload is not a valid email address")]
    BadAddress { field: &'static str },
    #[error("the move has no `{field}` to send")]
    Missing { field: &'static str },
    #[error("`{field}` in the move's payload is too long (at most {max} characters)")]
    TooLong { field: &'static str, max: usize },
    #[error("`{field}` in the move's payload is not a valid time (RFC 3339 expected)")]
    BadTime { field: &'static str },
    #[error("`task_id` is missing: the move does not say which HubSpot task to complete")]
    NoTask,
    #[error("the move names no deal")]
    NoDeal,
}

/// What the plan builder needs besides the move: resolved by the worker from the read
/// models (HubSpot ids of the move's contact and deal), the clock and the owner's zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanContext {
    pub execution_id: Uuid,
    /// The domain of the `Message-ID`s CaseyOS writes (`caseyos.local` by default).
    pub message_domain: String,
    pub contact_crm_id: Option<String>,
    pub deal_id: Option<Uuid>,
    pub deal_crm_id: Option<String>,
    pub deal_summary: Option<String>,
    pub owner_time_zone: String,
    pub now: DateTime<Utc>,
}

/// The parts of a move a plan reads.
pub struct MoveParts<'a> {
    pub action_type: ActionType,
    pub title: &'a str,
    pub payload: &'a Value,
    pub contact_email: Option<&'a EmailAddress>,
    pub rationale: Option<&'a str>,
    pub due_by: Option<DateTime<Utc>>,
}

fn text<'a>(payload: &'a Value, field: &str) -> Option<&'a str> {
    payload
        .get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn bounded(value: &str, field: &'static str, max: usize) -> Result<String, PlanProblem> {
    if value.chars().count() > max {
        return Err(PlanProblem::TooLong { field, max });
    }
    Ok(value.to_string())
}

fn addresses(payload: &Value, field: &'static str) -> Result<Vec<EmailAddress>, PlanProblem> {
    let raw: Vec<&str> = match payload.get(field) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.split(',').collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(_) => return Err(PlanProblem::BadAddress { field }),
    };
    raw.into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| EmailAddress::parse(s).map_err(|_| PlanProblem::BadAddress { field }))
        .collect()
}

fn time(payload: &Value, field: &'static str) -> Result<Option<DateTime<Utc>>, PlanProblem> {
    match text(payload, field) {
        None => Ok(None),
        Some(raw) => DateTime::parse_from_rfc3339(raw)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| PlanProblem::BadTime { field }),
    }
}

/// The people a move would reach, as its plan names them (an email's or draft's To — the
/// contact when the payload names none — and Cc; a meeting's attendees), without building
/// the rest of the plan; empty for the other handlers.
pub fn move_recipients(
    action_type: ActionType,
    payload: &Value,
    contact_email: Option<&EmailAddress>,
) -> Result<Vec<EmailAddress>, PlanProblem> {
    let mut people = match action_type.handler() {
        Handler::Email | Handler::Draft => addresses(payload, "to")?,
        Handler::Meeting => {
            let attendees = addresses(payload, "attendees")?;
            if attendees.is_empty() {
                addresses(payload, "to")?
            } else {
                attendees
            }
        }
        _ => return Ok(Vec::new()),
    };
    if people.is_empty() {
        people.extend(contact_email.cloned());
    }
    if action_type.handler() != Handler::Meeting {
        people.extend(addresses(payload, "cc")?);
    }
    Ok(people)
}

/// The `Message-ID` of an execution's email: stable across attempts, so a retry can find
/// what an earlier attempt sent.
pub fn message_id(execution_id: Uuid, domain: &str) -> String {
    format!("<{}@{}>", execution_id.simple(), domain)
}

/// The plan for a move. The handler comes from the action type; the payload's fields
/// (`to`, `cc`, `subject`, `body`, `thread_id`, `in_reply_to`, `document`, `start`,
/// `duration_minutes`, `attendees`, `due`, `task_id`, `stage`, `notes`) and the target fill
/// it in.
pub fn plan(parts: &MoveParts<'_>, context: &PlanContext) -> Result<Plan, PlanProblem> {
    let payload = parts.payload;
    let handler = parts.action_type.handler();
    let context_text = || {
        let mut lines = Vec::new();
        if let Some(notes) = text(payload, "notes").or_else(|| text(payload, "body")) {
            lines.push(notes.to_string());
        }
        if let Some(rationale) = parts.rationale.filter(|r| !r.trim().is_empty()) {
            lines.push(format!("Why: {}", rationale.trim()));
        }
        if let Some(summary) = &context.deal_summary {
            lines.push(summary.clone());
        }
        lines.push(format!(
            "Proposed in CaseyOS as \"{}\" (execution {}).",
            parts.title, context.execution_id
        ));
        lines.join("\n\n")
    };
    Ok(match handler {
        Handler::Email | Handler::Draft => {
            let mut to = addresses(payload, "to")?;
            if to.is_empty() {
                to.extend(parts.contact_email.cloned());
            }
            if to.is_empty() {
                return Err(PlanProblem::NoRecipient);
            }
            let subject = text(payload, "subject")
                .or(parts.action_type.default_subject())
                .ok_or(PlanProblem::Missing { field: "subject" })?;
            let body = text(payload, "body").ok_or(PlanProblem::Missing { field: "body" })?;
            let attachment = match payload.get("document") {
                Some(doc) => text(doc, "text").map(|t| Attachment {
                    filename: format!(
                        "{}.md",
                        text(doc, "title")
                            .unwrap_or("proposal")
                            .chars()
                            .map(|c| if c.is_alphanumeric() || c == '-' {
                                c
                            } else {
                                '_'
                            })
                            .collect::<String>()
                    ),
                    content_type: "text/markdown; charset=utf-8".to_string(),
                    text: t.to_string(),
                }),
                None => None,
            };
            if parts.action_type == ActionType::SendProposal && attachment.is_none() {
                return Err(PlanProblem::Missing { field: "document" });
            }
            let email = EmailPlan {
                to,
                cc: addresses(payload, "cc")?,
                subject: bounded(subject, "subject", MAX_SUBJECT_CHARS)?,
                body: bounded(body, "body", MAX_BODY_CHARS)?,
                thread_id: text(payload, "thread_id").map(str::to_string),
                in_reply_to: text(payload, "in_reply_to").map(str::to_string),
                message_id: message_id(context.execution_id, &context.message_domain),
                attachment,
            };
            if handler == Handler::Draft {
                Plan::Draft(email)
            } else {
                Plan::Email(email)
            }
        }
        Handler::Meeting => {
            let mut attendees = addresses(payload, "attendees")?;
            if attendees.is_empty() {
                attendees = addresses(payload, "to")?;
            }
            if attendees.is_empty() {
                attendees.extend(parts.contact_email.cloned());
            }
            if attendees.is_empty() {
                return Err(PlanProblem::NoRecipient);
            }
            let duration = payload
                .get("duration_minutes")
                .and_then(Value::as_u64)
                .filter(|m| (5..=480).contains(m))
                .map_or(DEFAULT_MEETING_MINUTES, |m| m as u32);
            Plan::Meeting(MeetingPlan {
                summary: bounded(
                    text(payload, "summary").unwrap_or(parts.title),
                    "summary",
                    MAX_SUBJECT_CHARS,
                )?,
                description: bounded(&context_text(), "description", MAX_BODY_CHARS)?,
                attendees,
                start: time(payload, "start")?,
                duration_minutes: duration,
                time_zone: context.owner_time_zone.clone(),
            })
        }
        Handler::CrmTask => Plan::CrmTask(TaskPlan {
            subject: bounded(
                text(payload, "subject").unwrap_or(parts.title),
                "subject",
                MAX_SUBJECT_CHARS,
            )?,
            body: bounded(&context_text(), "body", MAX_BODY_CHARS)?,
            due: time(payload, "due")?
                .or(parts.due_by)
                .unwrap_or(context.now + chrono::Duration::days(1)),
            contact_crm_ids: context.contact_crm_id.iter().cloned().collect(),
            deal_crm_ids: context.deal_crm_id.iter().cloned().collect(),
        }),
        Handler::CompleteTask => Plan::CompleteTask {
            task_id: text(payload, "task_id")
                .ok_or(PlanProblem::NoTask)?
                .to_string(),
        },
        Handler::DealStage => Plan::DealStage {
            deal_id: context.deal_id.ok_or(PlanProblem::NoDeal)?,
            stage: text(payload, "stage")
                .ok_or(PlanProblem::Missing { field: "stage" })?
                .to_string(),
            crm_deal_id: context.deal_crm_id.clone(),
        },
        Handler::ByHand => Plan::ByHand {
            instructions: context_text(),
        },
    })
}
