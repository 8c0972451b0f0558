//! Pushing a merge to the CRM (HubSpot), exactly once: one aggregate per merge, keyed by the
//! merge id, with two calls it may make — the merge itself, and (after an unmerge, only
//! when a person asks) re-creating the absorbed contact there.
//!
//! Each call is `requested → started(attempt)* → succeeded | failed | skipped`. A call is
//! recorded as started *before* it is made; a start without an outcome (a crash, a kill -9
//! between the call and its record) is reconciled with the CRM before any new attempt,
//! never simply sent again. HubSpot merges are permanent: an unmerge in CaseyOS never
//! undoes one there.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, RejectionKind};
use crate::kernel::{Actor, CrmId};

#[cfg(test)]
mod tests;

/// The version every CRM merge event is written with.
pub const CRM_MERGE_EVENT_VERSION: &str = "1";

/// The most attempts of one call; past them it is failed for good.
pub const MAX_CRM_ATTEMPTS: u32 = 5;

/// Which call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CrmCallKind {
    /// Merge the secondary's CRM record into the primary's.
    Merge,
    /// Create the absorbed contact in the CRM again (after an unmerge, when asked).
    Recreate,
}

/// Where a call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CrmCallStatus {
    Requested,
    /// An attempt was recorded as started and has no outcome yet.
    Started,
    Succeeded,
    /// The last attempt failed; `retryable` failures are attempted again (up to
    /// [`MAX_CRM_ATTEMPTS`]).
    Failed,
    /// Not made: the CRM is not connected, or a contact has no CRM id, or the merge was
    /// undone before it was pushed.
    Skipped,
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CrmFailure {
    /// The connector's stable code (`hubspot.server_error`, …).
    pub code: String,
    pub message: String,
    pub retryable: bool,
}

/// One call and its attempts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CrmCall {
    pub kind: CrmCallKind,
    pub status: CrmCallStatus,
    /// The CRM ids the call names: for a merge the primary's and the secondary's; for a
    /// re-creation none.
    pub primary_crm_id: Option<String>,
    pub secondary_crm_id: Option<String>,
    /// Attempts started so far.
    pub attempts: u32,
    /// The CRM record that resulted (the merged record, or the re-created one).
    pub result_crm_id: Option<String>,
    /// The outcome was found by reading the CRM after a start without an outcome.
    pub reconciled: bool,
    pub failure: Option<CrmFailure>,
    /// Why it was skipped: `connector.not_connected`, `crm.no_crm_id`, `merge.undone`,
    /// `crm.not_merged_there`.
    pub skipped: Option<String>,
    pub requested_by: Actor,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CrmCall {
    /// Whether nothing more will happen to it.
    pub fn finished(&self) -> bool {
        match self.status {
            CrmCallStatus::Succeeded | CrmCallStatus::Skipped => true,
            CrmCallStatus::Failed => !self.failure.as_ref().is_some_and(|f| f.retryable),
            CrmCallStatus::Requested | CrmCallStatus::Started => false,
        }
    }
}

/// A merge's CRM side, as the API shows it and audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CrmMergeView {
    pub merge_id: Uuid,
    /// The contact that stayed.
    pub primary: Uuid,
    /// The contact it absorbed.
    pub secondary: Uuid,
    pub merge: Option<CrmCall>,
    pub recreate: Option<CrmCall>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

impl CrmMergeView {
    pub fn call(&self, kind: CrmCallKind) -> Option<&CrmCall> {
        match kind {
            CrmCallKind::Merge => self.merge.as_ref(),
            CrmCallKind::Recreate => self.recreate.as_ref(),
        }
    }
}

/// The aggregate (type `crm_merge`, id: the merge id).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CrmMerge {
    pub merge: Option<CrmMergeView>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CrmMergeCommand {
    /// Ask for a call (no-op when it was asked for already).
    Request {
        kind: CrmCallKind,
        merge_id: Uuid,
        primary: Uuid,
        secondary: Uuid,
        primary_crm_id: Option<CrmId>,
        secondary_crm_id: Option<CrmId>,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// Attempt number `attempt` is about to be made (no-op when that attempt was started
    /// already: whoever sees no events written must not make the call).
    Start {
        kind: CrmCallKind,
        attempt: u32,
        by: Actor,
        at: DateTime<Utc>,
    },
    Succeed {
        kind: CrmCallKind,
        result_crm_id: CrmId,
        reconciled: bool,
        by: Actor,
        at: DateTime<Utc>,
    },
    Fail {
        kind: CrmCallKind,
        failure: CrmFailure,
        by: Actor,
        at: DateTime<Utc>,
    },
    Skip {
        kind: CrmCallKind,
        reason: String,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CrmMergeEvent {
    CrmMergeRequested(CrmCallRequested),
    CrmMergeStarted(CrmCallStarted),
    CrmMergeSucceeded(CrmCallSucceeded),
    CrmMergeFailed(CrmCallFailed),
    CrmMergeSkipped(CrmCallSkipped),
    CrmRecreateRequested(CrmCallRequested),
    CrmRecreateStarted(CrmCallStarted),
    CrmRecreated(CrmCallSucceeded),
    CrmRecreateFailed(CrmCallFailed),
    CrmRecreateSkipped(CrmCallSkipped),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrmCallRequested {
    pub merge_id: Uuid,
    pub primary: Uuid,
    pub secondary: Uuid,
    pub primary_crm_id: Option<String>,
    pub secondary_crm_id: Option<String>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrmCallStarted {
    pub attempt: u32,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrmCallSucceeded {
    pub result_crm_id: String,
    /// Found by reading the CRM, not from the call's answer.
    pub reconciled: bool,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrmCallFailed {
    pub attempt: u32,
    pub failure: CrmFailure,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrmCallSkipped {
    pub reason: String,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CrmMergeError {
    #[error("no CRM call of this merge was requested")]
    NotRequested,
    #[error("this CRM call is finished")]
    Finished,
    #[error("this CRM call has no attempt in progress")]
    NotStarted,
    #[error("attempt {0} is not the next one")]
    OutOfOrder(u32),
    #[error("this merge's CRM record names other contacts")]
    OtherContacts,
}

impl CrmMergeError {
    pub const fn code(&self) -> &'static str {
        match self {
            CrmMergeError::NotRequested => "crm_merge.not_requested",
            CrmMergeError::Finished => "crm_merge.finished",
            CrmMergeError::NotStarted => "crm_merge.not_started",
            CrmMergeError::OutOfOrder(_) => "crm_merge.out_of_order",
            CrmMergeError::OtherContacts => "crm_merge.other_contacts",
        }
    }
}

impl DomainError for CrmMergeError {
    fn code(&self) -> &'static str {
        self.code()
    }

    fn kind(&self) -> RejectionKind {
        match self {
            CrmMergeError::NotRequested => RejectionKind::NotFound,
            _ => RejectionKind::Conflict,
        }
    }
}

impl CrmMergeEvent {
    fn kind(&self) -> CrmCallKind {
        use CrmMergeEvent as E;
        match self {
            E::CrmMergeRequested(_)
            | E::CrmMergeStarted(_)
            | E::CrmMergeSucceeded(_)
            | E::CrmMergeFailed(_)
            | E::CrmMergeSkipped(_) => CrmCallKind::Merge,
            _ => CrmCallKind::Recreate,
        }
    }
}

impl CrmMerge {
    fn call(&self, kind: CrmCallKind) -> Option<&CrmCall> {
        self.merge.as_ref().and_then(|m| m.call(kind))
    }

    /// The call, when it may still change.
    fn open(&self, kind: CrmCallKind) -> Result<&CrmCall, CrmMergeError> {
        let call = self.call(kind).ok_or(CrmMergeError::NotRequested)?;
        if call.finished() {
            return Err(CrmMergeError::Finished);
        }
        Ok(call)
    }
}

impl Aggregate for CrmMerge {
    const TYPE: &'static str = "crm_merge";
    const EVENT_VERSION: &'static str = CRM_MERGE_EVENT_VERSION;
    type Command = CrmMergeCommand;
    type Event = CrmMergeEvent;
    type Error = CrmMergeError;
    type View = CrmMergeView;

    fn command_name(command: &CrmMergeCommand) -> &'static str {
        match command {
            CrmMergeCommand::Request { .. } => "request",
            CrmMergeCommand::Start { .. } => "start",
            CrmMergeCommand::Succeed { .. } => "succeed",
            CrmMergeCommand::Fail { .. } => "fail",
            CrmMergeCommand::Skip { .. } => "skip",
        }
    }

    fn event_name(event: &CrmMergeEvent) -> &'static str {
        use CrmMergeEvent as E;
        match event {
            E::CrmMergeRequested(_) => "CrmMergeRequested",
            E::CrmMergeStarted(_) => "CrmMergeStarted",
            E::CrmMergeSucceeded(_) => "CrmMergeSucceeded",
            E::CrmMergeFailed(_) => "CrmMergeFailed",
            E::CrmMergeSkipped(_) => "CrmMergeSkipped",
            E::CrmRecreateRequested(_) => "CrmRecreateRequested",
            E::CrmRecreateStarted(_) => "CrmRecreateStarted",
            E::CrmRecreated(_) => "CrmRecreated",
            E::CrmRecreateFailed(_) => "CrmRecreateFailed",
            E::CrmRecreateSkipped(_) => "CrmRecreateSkipped",
        }
    }

    fn view(&self) -> Option<&CrmMergeView> {
        self.merge.as_ref()
    }

    fn into_view(self) -> Option<CrmMergeView> {
        self.merge
    }

    fn decide(&self, command: CrmMergeCommand) -> Result<Vec<CrmMergeEvent>, CrmMergeError> {
        use CrmCallKind as K;
        use CrmMergeEvent as E;
        let event = match command {
            CrmMergeCommand::Request {
                kind,
                merge_id,
                primary,
                secondary,
                primary_crm_id,
                secondary_crm_id,
                by,
                at,
            } => {
                if let Some(merge) = &self.merge {
                    if merge.primary != primary || merge.secondary != secondary {
                        return Err(CrmMergeError::OtherContacts);
                    }
                }
                if self.call(kind).is_some() {
                    return Ok(Vec::new());
                }
                let requested = CrmCallRequested {
                    merge_id,
                    primary,
                    secondary,
                    primary_crm_id: primary_crm_id.map(|id| id.as_str().to_string()),
                    secondary_crm_id: secondary_crm_id.map(|id| id.as_str().to_string()),
                    by,
                    at,
                };
                match kind {
                    K::Merge => E::CrmMergeRequested(requested),
                    K::Recreate => E::CrmRecreateRequested(requested),
                }
            }
            CrmMergeCommand::Start {
                kind,
                attempt,
                by,
                at,
            } => {
                let Some(call) = self.call(kind) else {
                    return Err(CrmMergeError::NotRequested);
                };
                if attempt <= call.attempts {
                    // Started already (by this caller earlier, or by another): nothing new.
                    return Ok(Vec::new());
                }
                if call.finished() {
                    return Err(CrmMergeError::Finished);
                }
                if attempt != call.attempts + 1 || attempt > MAX_CRM_ATTEMPTS {
                    return Err(CrmMergeError::OutOfOrder(attempt));
                }
                let started = CrmCallStarted { attempt, by, at };
                match kind {
                    K::Merge => E::CrmMergeStarted(started),
                    K::Recreate => E::CrmRecreateStarted(started),
                }
            }
            CrmMergeCommand::Succeed {
                kind,
                result_crm_id,
                reconciled,
                by,
                at,
            } => {
                if self
                    .call(kind)
                    .is_some_and(|c| c.status == CrmCallStatus::Succeeded)
                {
                    return Ok(Vec::new());
                }
                let call = self.open(kind)?;
                if call.attempts == 0 {
                    return Err(CrmMergeError::NotStarted);
                }
                let succeeded = CrmCallSucceeded {
                    result_crm_id: result_crm_id.as_str().to_string(),
                    reconciled,
                    by,
                    at,
                };
                match kind {
                    K::Merge => E::CrmMergeSucceeded(succeeded),
                    K::Recreate => E::CrmRecreated(succeeded),
                }
            }
            CrmMergeCommand::Fail {
                kind,
                failure,
                by,
                at,
            } => {
                let call = self.open(kind)?;
                if call.status != CrmCallStatus::Started {
                    return if call.status == CrmCallStatus::Failed {
                        Ok(Vec::new())
                    } else {
                        Err(CrmMergeError::NotStarted)
                    };
                }
                let mut failure = failure;
                if call.attempts >= MAX_CRM_ATTEMPTS {
                    // The last attempt: failed for good.
                    failure.retryable = false;
                }
                let failed = CrmCallFailed {
                    attempt: call.attempts,
                    failure,
                    by,
                    at,
                };
                match kind {
                    K::Merge => E::CrmMergeFailed(failed),
                    K::Recreate => E::CrmRecreateFailed(failed),
                }
            }
            CrmMergeCommand::Skip {
                kind,
                reason,
                by,
                at,
            } => {
                if self
                    .call(kind)
                    .is_some_and(|c| c.status == CrmCallStatus::Skipped)
                {
                    return Ok(Vec::new());
                }
                let call = self.open(kind)?;
                if call.status == CrmCallStatus::Started {
                    // An attempt may have reached the CRM: reconcile, never skip.
                    return Err(CrmMergeError::OutOfOrder(call.attempts));
                }
                let skipped = CrmCallSkipped { reason, by, at };
                match kind {
                    K::Merge => E::CrmMergeSkipped(skipped),
                    K::Recreate => E::CrmRecreateSkipped(skipped),
                }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: CrmMergeEvent) {
        use CrmMergeEvent as E;
        let kind = event.kind();
        if let E::CrmMergeRequested(r) | E::CrmRecreateRequested(r) = &event {
            let call = CrmCall {
                kind,
                status: CrmCallStatus::Requested,
                primary_crm_id: r.primary_crm_id.clone(),
                secondary_crm_id: r.secondary_crm_id.clone(),
                attempts: 0,
                result_crm_id: None,
                reconciled: false,
                failure: None,
                skipped: None,
                requested_by: r.by.clone(),
                requested_at: r.at,
                updated_at: r.at,
            };
            let merge = self.merge.get_or_insert(CrmMergeView {
                merge_id: r.merge_id,
                primary: r.primary,
                secondary: r.secondary,
                merge: None,
                recreate: None,
                updated_at: r.at,
                version: 0,
            });
            merge.version += 1;
            merge.updated_at = r.at;
            match kind {
                CrmCallKind::Merge => merge.merge = Some(call),
                CrmCallKind::Recreate => merge.recreate = Some(call),
            }
            return;
        }
        let Some(merge) = self.merge.as_mut() else {
            return;
        };
        merge.version += 1;
        let slot = match kind {
            CrmCallKind::Merge => &mut merge.merge,
            CrmCallKind::Recreate => &mut merge.recreate,
        };
        let Some(call) = slot.as_mut() else {
            return;
        };
        let at = match event {
            E::CrmMergeRequested(_) | E::CrmRecreateRequested(_) => return,
            E::CrmMergeStarted(e) | E::CrmRecreateStarted(e) => {
                call.status = CrmCallStatus::Started;
                call.attempts = e.attempt;
                e.at
            }
            E::CrmMergeSucceeded(e) | E::CrmRecreated(e) => {
                call.status = CrmCallStatus::Succeeded;
                call.result_crm_id = Some(e.result_crm_id);
                call.reconciled = e.reconciled;
                call.failure = None;
                e.at
            }
            E::CrmMergeFailed(e) | E::CrmRecreateFailed(e) => {
                call.status = CrmCallStatus::Failed;
                call.failure = Some(e.failure);
                e.at
            }
            E::CrmMergeSkipped(e) | E::CrmRecreateSkipped(e) => {
                call.status = CrmCallStatus::Skipped;
                call.skipped = Some(e.reason);
                e.at
            }
        };
        call.updated_at = at;
        merge.updated_at = at;
    }
}
