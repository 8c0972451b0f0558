//! The executor's providers as connected now: Gmail and Google Calendar with the stored
//! Google tokens, HubSpot with its credentials. A connector that is not connected answers
//! `connector.not_connected` — never a silent fake — and a dry run shows the exact request
//! each client would send.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use caseyos_domain::connectors::ConnectorName;
use caseyos_domain::executions::plan::{EmailPlan, MeetingPlan, Plan, TaskPlan};
use caseyos_domain::executions::{Effect, ExecutionFailure, RequestPreview};
use caseyos_domain::kernel::CrmId;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::executions::{Calendar, CrmWork, Mailer, ProviderIds, Providers};
use crate::config::GoogleConfig;
use crate::connectors::calendar::{self, CalendarClient, NewEvent, SendUpdates, WorkingHours};
use crate::connectors::credentials::Credentials;
use crate::connectors::gmail::{self, GmailClient};
use crate::connectors::hubspot::{self, HubSpotClient, NewTask, TaskPriority};
use crate::connectors::mime::{Attachment, Mailbox, OutgoingMessage};
use crate::connectors::ConnectorError;

/// The calendar meetings are booked in.
pub const CALENDAR_ID: &str = "primary";
/// How far ahead the first free slot is looked for (from an hour from now).
pub const SLOT_LEAD: Duration = Duration::hours(1);

impl From<ConnectorError> for ExecutionFailure {
    fn from(error: ConnectorError) -> Self {
        ExecutionFailure {
            code: error.code().to_string(),
            message: error.to_string(),
            retryable: error.retryable(),
        }
    }
}

/// The live providers.
pub struct LiveProviders {
    pub credentials: Credentials,
    pub google: GoogleConfig,
    pub hubspot: HubSpotClient,
    /// Whether the task property `caseyos_execution_id` is known to exist in HubSpot.
    task_property: Arc<AtomicBool>,
}

impl LiveProviders {
    pub fn new(credentials: Credentials, google: GoogleConfig, hubspot: HubSpotClient) -> Self {
        LiveProviders {
            credentials,
            google,
            hubspot,
            task_property: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// The `Message-ID` of an execution's draft: not the send's, since Gmail's
/// `rfc822msgid:` search finds drafts too.
pub fn draft_message_id(message_id: &str) -> String {
    match message_id.trim().rsplit_once('@') {
        Some((local, domain)) => format!("{local}.draft@{domain}"),
        None => format!("{message_id}.draft"),
    }
}

/// The RFC 2822 message of an email plan, from `from`.
pub fn message(
    email: &EmailPlan,
    from: &str,
    message_id: &str,
    date: DateTime<Utc>,
) -> OutgoingMessage {
    let in_reply_to = email.in_reply_to.clone();
    OutgoingMessage {
        from: Mailbox::new(from),
        to: email.to.iter().map(|a| Mailbox::new(a.as_str())).collect(),
        cc: email.cc.iter().map(|a| Mailbox::new(a.as_str())).collect(),
        subject: email.subject.clone(),
        date,
        message_id: message_id.to_string(),
        references: in_reply_to.iter().cloned().collect(),
        in_reply_to,
        text: email.body.clone(),
        html: None,
        attachments: email
            .attachment
            .iter()
            .map(|a| Attachment {
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                data: a.text.as_bytes().to_vec(),
            })
            .collect(),
    }
}

fn mime_failure(error: crate::connectors::mime::MimeError) -> ExecutionFailure {
    ExecutionFailure {
        code: error.code().to_string(),
        message: error.to_string(),
        retryable: false,
    }
}

fn task(plan: &TaskPlan, key: &str) -> Result<NewTask, ExecutionFailure> {
    let ids = |raw: &[String]| {
        raw.iter()
            .map(|id| CrmId::parse(id))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| ExecutionFailure {
                code: "execution.incomplete_move".into(),
                message: format!("a HubSpot id of the move is not valid: {m}"),
                retryable: false,
            })
    };
    Ok(NewTask {
        subject: plan.subject.clone(),
        body: Some(plan.body.clone()),
        priority: TaskPriority::Medium,
        due: plan.due,
        owner_id: None,
        external_id: key.to_string(),
        contact_ids: ids(&plan.contact_crm_ids)?,
        deal_ids: ids(&plan.deal_crm_ids)?,
    })
}

fn event(meeting: &MeetingPlan, key: &str, start: DateTime<Utc>) -> NewEvent {
    NewEvent {
        // Our id: a second insert is a conflict, never a second booking.
        id: uuid::Uuid::parse_str(key)
            .ok()
            .map(|id| id.simple().to_string()),
        summary: meeting.summary.clone(),
        description: Some(meeting.description.clone()),
        start,
        end: start + Duration::minutes(i64::from(meeting.duration_minutes)),
        time_zone: meeting.time_zone.clone(),
        attendees: meeting
            .attendees
            .iter()
            .map(|a| a.as_str().to_string())
            .collect(),
        execution_id: key.to_string(),
    }
}

#[async_trait]
impl Providers for LiveProviders {
    async fn mailer(&self) -> Result<Box<dyn Mailer>, ExecutionFailure> {
        let token = self.credentials.access_token(ConnectorName::Gmail).await?;
        let from = token.account.clone().ok_or_else(|| ExecutionFailure {
            code: "gmail.no_account".into(),
            message: "the connected Gmail account's address is not known; connect Gmail again"
                .into(),
            retryable: false,
        })?;
        Ok(Box::new(GmailMailer {
            client: GmailClient::new(&self.google, token.secret)?,
            from,
            credentials: self.credentials.clone(),
        }))
    }

    async fn calendar(&self) -> Result<Box<dyn Calendar>, ExecutionFailure> {
        let token = self
            .credentials
            .access_token(ConnectorName::GoogleCalendar)
            .await?;
        Ok(Box::new(GoogleCalendar {
            client: CalendarClient::new(&self.google, token.secret)?,
            credentials: self.credentials.clone(),
        }))
    }

    async fn crm(&self) -> Result<Box<dyn CrmWork>, ExecutionFailure> {
        if !self.hubspot.is_connected().await {
            return Err(ConnectorError::NotConnected {
                connector: "HubSpot",
            }
            .into());
        }
        Ok(Box::new(HubSpotWork {
            client: self.hubspot.clone(),
            task_property: self.task_property.clone(),
        }))
    }

    async fn preview(&self, plan: &Plan, effect: Effect, key: &str) -> RequestPreview {
        let gmail = |path: &str| {
            format!(
                "{}/gmail/v1/users/me/{path}",
                self.google.gmail_base_url.trim_end_matches('/')
            )
        };
        let preview = |method: &str, url: String, body| RequestPreview {
            method: method.into(),
            url,
            body,
        };
        match plan {
            Plan::Email(email) | Plan::Draft(email) => {
                let from = match self.credentials.access_token(ConnectorName::Gmail).await {
                    Ok(token) => token.account.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                let from = if from.is_empty() {
                    "unknown@not-connected.invalid".to_string()
                } else {
                    from
                };
                let draft = effect == Effect::DraftCreated;
                let id = if draft {
                    draft_message_id(&email.message_id)
                } else {
                    email.message_id.clone()
                };
                let raw = message(email, &from, &id, caseyos_store::now())
                    .to_bytes()
                    .unwrap_or_default();
                let body = gmail::raw_message(&raw, email.thread_id.as_deref());
                if draft {
                    preview("POST", gmail("drafts"), json!({ "message": body }))
                } else {
                    preview("POST", gmail("messages/send"), body)
                }
            }
            Plan::Meeting(meeting) => {
                let start = meeting
                    .start
                    .unwrap_or_else(|| caseyos_store::now() + SLOT_LEAD);
                preview(
                    "POST",
                    format!(
                        "{}/calendars/{CALENDAR_ID}/events?sendUpdates={}",
                        self.google.calendar_base_url.trim_end_matches('/'),
                        SendUpdates::All.as_str()
                    ),
                    calendar::event_body(&event(meeting, key, start)),
                )
            }
            Plan::CrmTask(plan) => preview(
                "POST",
                format!(
                    "{}{}",
                    self.hubspot.config().base_url.trim_end_matches('/'),
                    HubSpotClient::tasks_path()
                ),
                task(plan, key)
                    .map(|t| hubspot::task_body(&t))
                    .unwrap_or_else(|f| json!({ "error": f.message })),
            ),
            Plan::CompleteTask { task_id } => preview(
                "PATCH",
                format!(
                    "{}{}/{task_id}",
                    self.hubspot.config().base_url.trim_end_matches('/'),
                    HubSpotClient::tasks_path()
                ),
                json!({"properties": {"hs_task_status": "COMPLETED"}}),
            ),
            Plan::DealStage {
                stage,
                crm_deal_id,
                deal_id,
            } => preview(
                "PATCH",
                match crm_deal_id {
                    Some(id) => format!(
                        "{}/crm/objects/{}/deals/{id}",
                        self.hubspot.config().base_url.trim_end_matches('/'),
                        hubspot::CRM_API_VERSION
                    ),
                    None => format!("caseyos:/api/deals/{deal_id}/stage"),
                },
                json!({"properties": {"dealstage": stage}}),
            ),
            Plan::ByHand { instructions } => preview(
                "NONE",
                String::new(),
                json!({ "instructions": instructions }),
            ),
        }
    }
}

struct GmailMailer {
    client: GmailClient,
    from: String,
    credentials: Credentials,
}

impl GmailMailer {
    async fn recorded<T>(&self, result: Result<T, ConnectorError>) -> Result<T, ExecutionFailure> {
        self.credentials
            .record_call(ConnectorName::Gmail, result.as_ref().map(|_| ()))
            .await;
        Ok(result?)
    }
}

#[async_trait]
impl Mailer for GmailMailer {
    async fn send(&self, email: &EmailPlan) -> Result<ProviderIds, ExecutionFailure> {
        let raw = message(email, &self.from, &email.message_id, caseyos_store::now())
            .to_bytes()
            .map_err(mime_failure)?;
        let sent = self
            .recorded(self.client.send(&raw, email.thread_id.as_deref()).await)
            .await?;
        Ok(ProviderIds::from([
            ("gmail_message_id".into(), sent.id),
            ("gmail_thread_id".into(), sent.thread_id),
            ("message_id".into(), email.message_id.clone()),
        ]))
    }

    async fn draft(&self, email: &EmailPlan) -> Result<ProviderIds, ExecutionFailure> {
        let id = draft_message_id(&email.message_id);
        let raw = message(email, &self.from, &id, caseyos_store::now())
            .to_bytes()
            .map_err(mime_failure)?;
        let draft = self
            .recorded(
                self.client
                    .create_draft(&raw, email.thread_id.as_deref())
                    .await,
            )
            .await?;
        Ok(ProviderIds::from([
            ("gmail_draft_id".into(), draft.id),
            ("gmail_message_id".into(), draft.message.id),
            ("gmail_thread_id".into(), draft.message.thread_id),
            ("message_id".into(), id),
        ]))
    }

    async fn delete_draft(&self, draft_id: &str) -> Result<(), ExecutionFailure> {
        match self.client.delete_draft(draft_id).await {
            // Gone either way (deleted in Gmail, or an earlier answer was lost).
            Ok(()) | Err(ConnectorError::NotFound { .. }) => Ok(()),
            Err(other) => self.recorded(Err(other)).await,
        }
    }

    async fn find_sent(&self, message_id: &str) -> Result<Option<ProviderIds>, ExecutionFailure> {
        let found = self
            .recorded(self.client.find_message_by_message_id(message_id).await)
            .await?;
        Ok(found.map(|m| {
            ProviderIds::from([
                ("gmail_message_id".into(), m.id),
                ("gmail_thread_id".into(), m.thread_id),
                ("message_id".into(), message_id.to_string()),
            ])
        }))
    }

    async fn find_draft(&self, message_id: &str) -> Result<Option<ProviderIds>, ExecutionFailure> {
        let id = draft_message_id(message_id);
        let found = self
            .recorded(self.client.find_draft_by_message_id(&id).await)
            .await?;
        Ok(found.map(|d| {
            ProviderIds::from([
                ("gmail_draft_id".into(), d.id),
                ("gmail_message_id".into(), d.message.id),
                ("gmail_thread_id".into(), d.message.thread_id),
                ("message_id".into(), id.clone()),
            ])
        }))
    }
}

struct GoogleCalendar {
    client: CalendarClient,
    credentials: Credentials,
}

impl GoogleCalendar {
    async fn recorded<T>(&self, result: Result<T, ConnectorError>) -> Result<T, ExecutionFailure> {
        self.credentials
            .record_call(ConnectorName::GoogleCalendar, result.as_ref().map(|_| ()))
            .await;
        Ok(result?)
    }

    fn ids(event: calendar::CalendarEvent, start: Option<DateTime<Utc>>) -> ProviderIds {
        let mut ids = ProviderIds::from([("calendar_event_id".into(), event.id)]);
        if let Some(link) = event.html_link {
            ids.insert("calendar_html_link".into(), link);
        }
        if let Some(start) = start {
            ids.insert("start".into(), start.to_rfc3339());
        }
        ids
    }
}

#[async_trait]
impl Calendar for GoogleCalendar {
    async fn book(
        &self,
        meeting: &MeetingPlan,
        key: &str,
        invite: bool,
    ) -> Result<ProviderIds, ExecutionFailure> {
        let start = match meeting.start {
            Some(start) => start,
            None => {
                let tz = crate::config::parse_tz(&meeting.time_zone).unwrap_or(chrono_tz::UTC);
                let from = caseyos_store::now() + SLOT_LEAD;
                let busy = self
                    .recorded(
                        self.client
                            .free_busy(from, from + Duration::days(28), &[CALENDAR_ID])
                            .await,
                    )
                    .await?;
                let intervals: Vec<_> = busy.values().flat_map(|b| b.busy.clone()).collect();
                calendar::first_free_slot(
                    &intervals,
                    from,
                    Duration::minutes(i64::from(meeting.duration_minutes)),
                    &WorkingHours::nine_to_five(tz),
                )
                .ok_or_else(|| ExecutionFailure {
                    code: "google_calendar.no_free_slot".into(),
                    message: "no free slot in working hours in the next 28 days".into(),
                    retryable: false,
                })?
            }
        };
        let updates = if invite {
            SendUpdates::All
        } else {
            SendUpdates::None
        };
        match self
            .client
            .insert_event(CALENDAR_ID, &event(meeting, key, start), updates)
            .await
        {
            Ok(created) => {
                self.recorded::<()>(Ok(())).await?;
                Ok(Self::ids(created, Some(start)))
            }
            // Our id is taken: an earlier attempt booked it.
            Err(ConnectorError::Conflict { .. }) => match self.find(key).await? {
                Some(ids) => Ok(ids),
                None => Err(ExecutionFailure {
                    code: "google_calendar.conflict".into(),
                    message: "the event id is taken but no event carries this execution".into(),
                    retryable: false,
                }),
            },
            Err(other) => self.recorded(Err(other)).await,
        }
    }

    async fn find(&self, key: &str) -> Result<Option<ProviderIds>, ExecutionFailure> {
        let found = self
            .recorded(
                self.client
                    .find_event_by_private_property(
                        CALENDAR_ID,
                        calendar::EXECUTION_ID_PROPERTY,
                        key,
                    )
                    .await,
            )
            .await?;
        Ok(found.map(|e| Self::ids(e, None)))
    }

    async fn cancel(&self, event_id: &str, invite: bool) -> Result<(), ExecutionFailure> {
        let updates = if invite {
            SendUpdates::All
        } else {
            SendUpdates::None
        };
        match self
            .client
            .cancel_event(CALENDAR_ID, event_id, updates)
            .await
        {
            Ok(()) | Err(ConnectorError::Gone { .. }) => Ok(()),
            Err(other) => self.recorded(Err(other)).await,
        }
    }
}

struct HubSpotWork {
    client: HubSpotClient,
    task_property: Arc<AtomicBool>,
}

#[async_trait]
impl CrmWork for HubSpotWork {
    async fn create_task(
        &self,
        plan: &TaskPlan,
        key: &str,
    ) -> Result<ProviderIds, ExecutionFailure> {
        if !self.task_property.load(Ordering::Relaxed) {
            self.client.ensure_task_external_id_property().await?;
            self.task_property.store(true, Ordering::Relaxed);
        }
        let created = self.client.create_task(&task(plan, key)?).await?;
        Ok(ProviderIds::from([(
            "hubspot_task_id".into(),
            created.id.as_str().to_string(),
        )]))
    }

    async fn find_task(&self, key: &str) -> Result<Option<ProviderIds>, ExecutionFailure> {
        Ok(self
            .client
            .find_task_by_external_id(key)
            .await?
            .map(|t| ProviderIds::from([("hubspot_task_id".into(), t.id.as_str().to_string())])))
    }

    async fn complete_task(&self, task_id: &str) -> Result<ProviderIds, ExecutionFailure> {
        let id = CrmId::parse(task_id).map_err(|m| ExecutionFailure {
            code: "execution.incomplete_move".into(),
            message: format!("`task_id` is not a HubSpot id: {m}"),
            retryable: false,
        })?;
        let done = self.client.complete_task(&id).await?;
        Ok(ProviderIds::from([(
            "hubspot_task_id".into(),
            done.id.as_str().to_string(),
        )]))
    }

    async fn delete_task(&self, task_id: &str) -> Result<(), ExecutionFailure> {
        let Ok(id) = CrmId::parse(task_id) else {
            return Ok(());
        };
        match self.client.delete_task(&id).await {
            Ok(()) | Err(ConnectorError::NotFound { .. }) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

    async fn update_deal_stage(&self, deal_id: &str, stage: &str) -> Result<(), ExecutionFailure> {
        let id = CrmId::parse(deal_id).map_err(|m| ExecutionFailure {
            code: "execution.incomplete_move".into(),
            message: format!("the deal's HubSpot id is not valid: {m}"),
            retryable: false,
        })?;
        self.client.update_deal_stage(&id, stage).await?;
        Ok(())
    }
}
