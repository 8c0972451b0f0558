//! The merge reactor: follows the event log from its checkpoint (`reactor_checkpoints`) and
//! does what follows from merges and unmerges (DESIGN §4).
//!
//! - `ContactMergedInto` whose primary never absorbed it (a crash between the halves): the
//!   primary absorbs it now (or, when it cannot any more, the first half is undone).
//! - `ContactAbsorbed`: the pair records the merge; the merge is pushed to the CRM
//!   (HubSpot) **exactly once**: the `crm_merge` aggregate (id: the merge id) records each
//!   attempt as started *before* the call and its outcome after; an attempt started without
//!   an outcome (a crash, a kill -9 between the call and its record) or failed in a way
//!   HubSpot may have acted on is reconciled first — the primary is read with
//!   `hs_merged_object_ids`, and the secondary's id there is success — and only a merge
//!   HubSpot did not make is sent again. Not connected, or a contact without a CRM id: the
//!   call is recorded as skipped with its reason.
//! - `ContactUnmerged` whose primary or pair did not record it: completed. When the absorbed
//!   contact's re-creation in the CRM was asked for, it is created there once (same
//!   discipline: started first, reconciled by email before any second attempt).
//!
//! One instance runs it at a time (an advisory lock). Everything it does is a command that
//! decides nothing when repeated, so its checkpoint advances after the work: a crash
//! repeats some work, never loses any. A retryable CRM failure holds the checkpoint and is
//! tried again on a later pass, up to `MAX_CRM_ATTEMPTS` attempts.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::contacts::{
    ChangeSource, Contact, ContactCommand, ContactEvent, ContactFields, ContactStatus, ContactView,
    EditContact, FieldEdit,
};
use caseyos_domain::crm_merges::{
    CrmCall, CrmCallKind, CrmCallStatus, CrmFailure, CrmMerge, CrmMergeCommand, CrmMergeEvent,
    CrmMergeView, MAX_CRM_ATTEMPTS,
};
use caseyos_domain::kernel::{Actor, CrmId};
use caseyos_store::event::StoredEvent;
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandBus, CommandMeta};
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::commands::contacts::{complete_absorb, complete_unmerge, record_merge};
use crate::connectors::hubspot::HubSpotClient;
use crate::connectors::ConnectorError;
use crate::workers::reactor::{self, failed, Reactor, Stop};

/// The reactor's name (its checkpoint row and lock).
pub const NAME: &str = "contact_merges";
/// How often it looks for new events.
pub const TICK: Duration = Duration::from_secs(2);

/// A CRM call's failure, as the reactor records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrmCallError {
    pub code: String,
    pub message: String,
    pub retryable: bool,
}

impl From<ConnectorError> for CrmCallError {
    fn from(error: ConnectorError) -> Self {
        CrmCallError {
            code: error.code().to_string(),
            message: error.to_string(),
            retryable: error.retryable(),
        }
    }
}

/// What the reactor needs of a CRM: merge, find out whether a merge happened, create, and
/// find a contact by email.
#[async_trait]
pub trait CrmContacts: Send + Sync {
    /// The id of the record `secondary` was merged into, when it was merged into
    /// `primary`'s record; `None` when it was not.
    async fn merged_into(
        &self,
        primary: &CrmId,
        secondary: &CrmId,
    ) -> Result<Option<CrmId>, CrmCallError>;
    /// Merges and answers the merged record's id.
    async fn merge(&self, primary: &CrmId, secondary: &CrmId) -> Result<CrmId, CrmCallError>;
    /// The id of the contact with this email, if any.
    async fn find_by_email(&self, email: &str) -> Result<Option<CrmId>, CrmCallError>;
    /// Creates a contact with these fields and answers its id.
    async fn create(&self, fields: &ContactFields) -> Result<CrmId, CrmCallError>;
    /// Whether calls can be made now (a token is stored or configured).
    async fn connected(&self) -> bool {
        true
    }
}

#[async_trait]
impl CrmContacts for HubSpotClient {
    async fn merged_into(
        &self,
        primary: &CrmId,
        secondary: &CrmId,
    ) -> Result<Option<CrmId>, CrmCallError> {
        Ok(match self.merged_object_ids(primary).await? {
            Some((id, merged)) if merged.iter().any(|m| m == secondary.as_str()) => Some(id),
            _ => None,
        })
    }

    async fn merge(&self, primary: &CrmId, secondary: &CrmId) -> Result<CrmId, CrmCallError> {
        Ok(self.merge_contacts(primary, secondary).await?.id)
    }

    async fn find_by_email(&self, email: &str) -> Result<Option<CrmId>, CrmCallError> {
        Ok(self.find_contact_by_email(email).await?.map(|c| c.id))
    }

    async fn connected(&self) -> bool {
        self.is_connected().await
    }

    async fn create(&self, fields: &ContactFields) -> Result<CrmId, CrmCallError> {
        let mut properties = BTreeMap::new();
        let mut put = |name: &str, value: Option<&str>| {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                properties.insert(name.to_string(), value.to_string());
            }
        };
        put("email", fields.primary_email());
        put("firstname", fields.first_name.as_deref());
        put("lastname", fields.last_name.as_deref());
        put(
            "phone",
            fields
                .phones
                .first()
                .map(|p| p.e164.as_deref().unwrap_or(&p.raw)),
        );
        put("jobtitle", fields.job_title.as_deref());
        put("company", fields.company_name.as_deref());
        put("lifecyclestage", fields.lifecycle_stage.map(|s| s.as_str()));
        Ok(self.create_contact(&properties).await?.id)
    }
}

/// The reactor over borrowed parts (tests' `run_once`), and owned for the spawned loop.
struct Merges<'a> {
    bus: &'a CommandBus,
    crm: Option<&'a dyn CrmContacts>,
}

#[async_trait]
impl Reactor for Merges<'_> {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn handle(&self, stored: &StoredEvent) -> Result<(), Stop> {
        handle(self.bus, self.crm, stored).await
    }
}

struct OwnedMerges {
    bus: Arc<CommandBus>,
    crm: Option<Arc<dyn CrmContacts>>,
    /// Whether the CRM could be called when this pass began: while it is not connected, a
    /// pass runs as without a client.
    connected: AtomicBool,
}

#[async_trait]
impl Reactor for OwnedMerges {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn prepare(&self) -> anyhow::Result<()> {
        let connected = match &self.crm {
            Some(client) => client.connected().await,
            None => false,
        };
        self.connected.store(connected, Ordering::Relaxed);
        Ok(())
    }

    async fn handle(&self, stored: &StoredEvent) -> Result<(), Stop> {
        let crm = self
            .crm
            .as_deref()
            .filter(|_| self.connected.load(Ordering::Relaxed));
        handle(&self.bus, crm, stored).await
    }
}

/// Runs the reactor until shutdown: a pass every [`TICK`] on whichever instance holds its
/// lock.
pub fn spawn(
    pool: PgPool,
    bus: Arc<CommandBus>,
    crm: Option<Arc<dyn CrmContacts>>,
    wake: reactor::Wake,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    let merges = OwnedMerges {
        bus,
        crm,
        connected: AtomicBool::new(false),
    };
    reactor::spawn(pool, Arc::new(merges), TICK, wake, shutdown)
}

/// Passes until every committed event is handled, its own writes included (or a retryable
/// CRM failure holds the checkpoint back); see [`reactor::run_once`]. Tests and the CLI call
/// this; the spawned loop makes single passes without waiting.
pub async fn run_once(
    pool: &PgPool,
    bus: &CommandBus,
    crm: Option<&dyn CrmContacts>,
) -> anyhow::Result<usize> {
    reactor::run_once(pool, &Merges { bus, crm }).await
}

fn meta() -> CommandMeta {
    CommandMeta::system(NAME)
}

fn actor() -> Actor {
    Actor::system(NAME)
}

async fn contact(bus: &CommandBus, id: Uuid) -> Result<Option<ContactView>, Stop> {
    let state: Contact = state_at(bus.pool(), &id.to_string(), i64::MAX)
        .await
        .map_err(failed)?;
    Ok(state.into_view())
}

async fn crm_merge(bus: &CommandBus, merge_id: Uuid) -> Result<Option<CrmMergeView>, Stop> {
    let state: CrmMerge = state_at(bus.pool(), &merge_id.to_string(), i64::MAX)
        .await
        .map_err(failed)?;
    Ok(state.into_view())
}

async fn crm(bus: &CommandBus, merge_id: Uuid, command: CrmMergeCommand) -> Result<usize, Stop> {
    Ok(bus
        .execute::<CrmMerge>(merge_id, command, &meta())
        .await
        .map_err(failed)?
        .events)
}

async fn handle(
    bus: &CommandBus,
    crm_client: Option<&dyn CrmContacts>,
    stored: &StoredEvent,
) -> Result<(), Stop> {
    if stored.aggregate_type == Contact::TYPE {
        let Ok(id) = stored.aggregate_id.parse::<Uuid>() else {
            return Ok(());
        };
        match Contact::decode(stored.recorded()).map_err(failed)? {
            ContactEvent::ContactMergedInto(e) => {
                let Some(secondary) = contact(bus, id).await? else {
                    return Ok(());
                };
                let half_done = secondary
                    .merged_into
                    .as_ref()
                    .is_some_and(|m| m.merge_id == e.merge_id);
                let absorbed = match contact(bus, e.primary).await? {
                    Some(primary) => primary.absorbed.iter().any(|a| a.merge_id == e.merge_id),
                    None => false,
                };
                if half_done && !absorbed {
                    tracing::info!(merge_id = %e.merge_id, "completing a merge a crash left half done");
                    match complete_absorb(bus, &secondary, &meta()).await {
                        Ok(_) | Err(caseyos_store::CommandError::Rejected(_)) => {}
                        Err(other) => return Err(failed(other)),
                    }
                }
            }
            ContactEvent::ContactAbsorbed(e) => {
                if let Some(pair) = e.pair_id {
                    match record_merge(bus, pair, e.merge_id, id, &e.by, &meta()).await {
                        Ok(_) => {}
                        Err(caseyos_store::CommandError::Rejected(refusal)) => {
                            tracing::warn!(merge_id = %e.merge_id, code = %caseyos_domain::aggregate::DomainError::code(&refusal), "the pair did not record the merge");
                        }
                        Err(other) => return Err(failed(other)),
                    }
                }
                let primary = contact(bus, id).await?;
                let secondary = contact(bus, e.absorbed).await?;
                let crm_id = |c: &Option<ContactView>| {
                    c.as_ref()
                        .and_then(|c| c.fields.crm_id.as_deref())
                        .and_then(|id| CrmId::parse(id).ok())
                };
                crm(
                    bus,
                    e.merge_id,
                    CrmMergeCommand::Request {
                        kind: CrmCallKind::Merge,
                        merge_id: e.merge_id,
                        primary: id,
                        secondary: e.absorbed,
                        primary_crm_id: crm_id(&primary),
                        secondary_crm_id: crm_id(&secondary),
                        by: actor(),
                        at: now(),
                    },
                )
                .await?;
                push_merge(bus, crm_client, e.merge_id).await?;
            }
            ContactEvent::ContactUnmerged(e) => {
                let pair = contact(bus, e.primary).await?.and_then(|p| {
                    p.absorbed
                        .iter()
                        .find(|a| a.merge_id == e.merge_id)
                        .and_then(|a| a.pair_id)
                });
                match complete_unmerge(bus, e.primary, e.merge_id, pair, &meta()).await {
                    Ok(_) | Err(caseyos_store::CommandError::Rejected(_)) => {}
                    Err(other) => return Err(failed(other)),
                }
                recreate(bus, crm_client, e.merge_id).await?;
            }
            _ => {}
        }
    } else if stored.aggregate_type == CrmMerge::TYPE {
        let Ok(merge_id) = stored.aggregate_id.parse::<Uuid>() else {
            return Ok(());
        };
        match CrmMerge::decode(stored.recorded()).map_err(failed)? {
            CrmMergeEvent::CrmRecreateRequested(_) | CrmMergeEvent::CrmMergeSucceeded(_) => {
                recreate(bus, crm_client, merge_id).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn skip(
    bus: &CommandBus,
    merge_id: Uuid,
    kind: CrmCallKind,
    reason: &str,
) -> Result<(), Stop> {
    crm(
        bus,
        merge_id,
        CrmMergeCommand::Skip {
            kind,
            reason: reason.to_string(),
            by: actor(),
            at: now(),
        },
    )
    .await?;
    Ok(())
}

async fn succeed(
    bus: &CommandBus,
    merge_id: Uuid,
    kind: CrmCallKind,
    result: CrmId,
    reconciled: bool,
) -> Result<(), Stop> {
    crm(
        bus,
        merge_id,
        CrmMergeCommand::Succeed {
            kind,
            result_crm_id: result,
            reconciled,
            by: actor(),
            at: now(),
        },
    )
    .await?;
    Ok(())
}

/// Records a failed attempt; a retryable one with attempts left holds the reactor back.
async fn fail(
    bus: &CommandBus,
    merge_id: Uuid,
    kind: CrmCallKind,
    call: &CrmCall,
    error: CrmCallError,
) -> Result<(), Stop> {
    let retry = error.retryable && call.attempts < MAX_CRM_ATTEMPTS;
    crm(
        bus,
        merge_id,
        CrmMergeCommand::Fail {
            kind,
            failure: CrmFailure {
                code: error.code.clone(),
                message: error.message.clone(),
                retryable: error.retryable,
            },
            by: actor(),
            at: now(),
        },
    )
    .await?;
    if retry {
        return Err(Stop::Hold(format!(
            "{kind:?} of merge {merge_id}: {}",
            error.code
        )));
    }
    Ok(())
}

/// Starts the next attempt; `None` when another pass started it (that pass makes the call).
async fn start(
    bus: &CommandBus,
    merge_id: Uuid,
    kind: CrmCallKind,
) -> Result<Option<CrmCall>, Stop> {
    let Some(view) = crm_merge(bus, merge_id).await? else {
        return Ok(None);
    };
    let Some(call) = view.call(kind) else {
        return Ok(None);
    };
    let written = crm(
        bus,
        merge_id,
        CrmMergeCommand::Start {
            kind,
            attempt: call.attempts + 1,
            by: actor(),
            at: now(),
        },
    )
    .await?;
    if written == 0 {
        return Ok(None);
    }
    Ok(crm_merge(bus, merge_id)
        .await?
        .and_then(|v| v.call(kind).cloned()))
}

/// Pushes a merge to the CRM, exactly once.
async fn push_merge(
    bus: &CommandBus,
    client: Option<&dyn CrmContacts>,
    merge_id: Uuid,
) -> Result<(), Stop> {
    let kind = CrmCallKind::Merge;
    let Some(view) = crm_merge(bus, merge_id).await? else {
        return Ok(());
    };
    let Some(call) = view.merge.clone() else {
        return Ok(());
    };
    if call.finished() {
        return Ok(());
    }
    let uncertain = matches!(call.status, CrmCallStatus::Started | CrmCallStatus::Failed);
    if !uncertain {
        let undone = contact(bus, view.primary).await?.is_some_and(|p| {
            p.absorbed
                .iter()
                .any(|a| a.merge_id == merge_id && a.unmerged_at.is_some())
        });
        if undone {
            return skip(bus, merge_id, kind, "merge.undone").await;
        }
    }
    let Some(client) = client else {
        if !uncertain {
            skip(bus, merge_id, kind, "connector.not_connected").await?;
        }
        return Ok(());
    };
    let (Some(primary), Some(secondary)) = (
        call.primary_crm_id
            .as_deref()
            .and_then(|id| CrmId::parse(id).ok()),
        call.secondary_crm_id
            .as_deref()
            .and_then(|id| CrmId::parse(id).ok()),
    ) else {
        return skip(bus, merge_id, kind, "crm.no_crm_id").await;
    };
    if uncertain {
        // An attempt may have reached HubSpot: find out before sending anything.
        match client.merged_into(&primary, &secondary).await {
            Ok(Some(result)) => {
                succeed(bus, merge_id, kind, result.clone(), true).await?;
                return follow_crm_id(bus, view.primary, &primary, result).await;
            }
            Ok(None) => {}
            Err(error) if error.retryable => {
                return Err(Stop::Hold(format!(
                    "reconciling merge {merge_id}: {}",
                    error.code
                )));
            }
            Err(error) => {
                if call.status == CrmCallStatus::Started {
                    return fail(bus, merge_id, kind, &call, error).await;
                }
                return Ok(());
            }
        }
        if call.attempts >= MAX_CRM_ATTEMPTS {
            if call.status == CrmCallStatus::Started {
                let error = CrmCallError {
                    code: "crm.not_merged".into(),
                    message: format!("HubSpot did not merge after {} attempts", call.attempts),
                    retryable: false,
                };
                return fail(bus, merge_id, kind, &call, error).await;
            }
            return Ok(());
        }
    }
    let Some(call) = start(bus, merge_id, kind).await? else {
        return Ok(());
    };
    match client.merge(&primary, &secondary).await {
        Ok(result) => {
            succeed(bus, merge_id, kind, result.clone(), false).await?;
            follow_crm_id(bus, view.primary, &primary, result).await
        }
        Err(error) => fail(bus, merge_id, kind, &call, error).await,
    }
}

/// HubSpot may give the merged record a new id: the primary follows it.
async fn follow_crm_id(
    bus: &CommandBus,
    contact_id: Uuid,
    before: &CrmId,
    now_id: CrmId,
) -> Result<(), Stop> {
    if now_id.as_str() == before.as_str() {
        return Ok(());
    }
    set_crm_id(bus, contact_id, now_id).await
}

async fn set_crm_id(bus: &CommandBus, contact_id: Uuid, crm_id: CrmId) -> Result<(), Stop> {
    let edited = bus
        .execute::<Contact>(
            contact_id,
            ContactCommand::Edit(EditContact {
                fields: vec![FieldEdit::CrmId(Some(crm_id))],
                source: ChangeSource::Hubspot,
                by: actor(),
                at: now(),
            }),
            &meta(),
        )
        .await;
    match edited {
        // A contact merged away or archived since keeps its old id.
        Ok(_) | Err(caseyos_store::CommandError::Rejected(_)) => Ok(()),
        Err(other) => Err(failed(other)),
    }
}

/// Re-creates the absorbed contact in the CRM, once, when that was asked for, the unmerge
/// happened, and HubSpot merged it (otherwise HubSpot still has it, or never had it).
async fn recreate(
    bus: &CommandBus,
    client: Option<&dyn CrmContacts>,
    merge_id: Uuid,
) -> Result<(), Stop> {
    let kind = CrmCallKind::Recreate;
    let Some(view) = crm_merge(bus, merge_id).await? else {
        return Ok(());
    };
    let Some(call) = view.recreate.clone() else {
        return Ok(());
    };
    if call.finished() {
        return Ok(());
    }
    let Some(absorbed) = contact(bus, view.secondary).await? else {
        return Ok(());
    };
    if !absorbed.unmerged.contains(&merge_id) || absorbed.status == ContactStatus::Merged {
        // Not unmerged (yet): the unmerge's own event brings it back here.
        return Ok(());
    }
    let uncertain = matches!(call.status, CrmCallStatus::Started | CrmCallStatus::Failed);
    if !uncertain {
        match view.merge.as_ref() {
            Some(merge) if merge.status == CrmCallStatus::Succeeded => {}
            Some(merge) if !merge.finished() => return Ok(()), // waits for the merge's outcome
            Some(merge) if merge.skipped.as_deref() == Some("connector.not_connected") => {
                return skip(bus, merge_id, kind, "connector.not_connected").await;
            }
            _ => return skip(bus, merge_id, kind, "crm.not_merged_there").await,
        }
    }
    let Some(client) = client else {
        if !uncertain {
            skip(bus, merge_id, kind, "connector.not_connected").await?;
        }
        return Ok(());
    };
    let merged_record = view.merge.as_ref().and_then(|m| m.result_crm_id.clone());
    if uncertain {
        let Some(email) = absorbed.fields.primary_email() else {
            if call.status == CrmCallStatus::Started {
                let error = CrmCallError {
                    code: "crm.unverifiable".into(),
                    message: "the contact has no email to look it up by; not created again \
                              to avoid a second record"
                        .into(),
                    retryable: false,
                };
                return fail(bus, merge_id, kind, &call, error).await;
            }
            return Ok(());
        };
        match client.find_by_email(email).await {
            // The merged record holds the address too: only another record is ours.
            Ok(Some(found)) if Some(found.as_str()) != merged_record.as_deref() => {
                succeed(bus, merge_id, kind, found.clone(), true).await?;
                return set_crm_id(bus, absorbed.id, found).await;
            }
            Ok(_) => {}
            Err(error) if error.retryable => {
                return Err(Stop::Hold(format!(
                    "reconciling re-creation {merge_id}: {}",
                    error.code
                )));
            }
            Err(error) => {
                if call.status == CrmCallStatus::Started {
                    return fail(bus, merge_id, kind, &call, error).await;
                }
                return Ok(());
            }
        }
        if call.attempts >= MAX_CRM_ATTEMPTS {
            return Ok(());
        }
    }
    let Some(call) = start(bus, merge_id, kind).await? else {
        return Ok(());
    };
    let mut fields = absorbed.fields.clone();
    fields.crm_id = None;
    match client.create(&fields).await {
        Ok(created) => {
            succeed(bus, merge_id, kind, created.clone(), false).await?;
            set_crm_id(bus, absorbed.id, created).await
        }
        Err(error) => fail(bus, merge_id, kind, &call, error).await,
    }
}
