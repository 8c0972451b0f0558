//! Duplicate review: a pair of contacts a matcher found, and what a person decided.
//!
//! `detected → (rescored)* → merged | not_duplicate | ignored`; `merged → unmerged`. A pair
//! a person closed (not a duplicate, ignored, unmerged) is proposed again only when one of
//! the two records changed in a field the matching criteria use (its fingerprint).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::aggregate::{Aggregate, DomainError, RejectionKind};
use crate::kernel::Actor;

#[cfg(test)]
mod tests;

/// The version every duplicate pair event is written with.
pub const DUPLICATE_EVENT_VERSION: &str = "1";

/// The namespace of pair ids: a pair's id is `Uuid::new_v5` of the two contact ids in
/// order, so every detection of the same two contacts names the same pair.
const PAIR_NAMESPACE: Uuid = Uuid::from_u128(0x6a1b_5e7f_0c2d_4e89_9b3a_1f2e_3d4c_5b6a);

/// The pair of two contacts, whichever order they come in.
pub fn pair_id(a: Uuid, b: Uuid) -> Uuid {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let mut name = [0u8; 32];
    name[..16].copy_from_slice(low.as_bytes());
    name[16..].copy_from_slice(high.as_bytes());
    Uuid::new_v5(&PAIR_NAMESPACE, &name)
}

/// Why a matcher thinks two contacts are one person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct MatchReason {
    /// Stable code, e.g. `email.same`, `phone.same`, `name.nickname`.
    pub code: String,
    /// For people: what matched.
    pub detail: String,
}

/// Where a pair stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PairStatus {
    Open,
    Merged,
    NotDuplicate,
    Ignored,
    /// Merged, then the merge was undone.
    Unmerged,
}

impl PairStatus {
    pub const ALL: &'static [PairStatus] = &[
        PairStatus::Open,
        PairStatus::Merged,
        PairStatus::NotDuplicate,
        PairStatus::Ignored,
        PairStatus::Unmerged,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            PairStatus::Open => "open",
            PairStatus::Merged => "merged",
            PairStatus::NotDuplicate => "not_duplicate",
            PairStatus::Ignored => "ignored",
            PairStatus::Unmerged => "unmerged",
        }
    }

    pub fn parse(raw: &str) -> Option<PairStatus> {
        PairStatus::ALL.iter().copied().find(|s| s.as_str() == raw)
    }
}

/// A matcher's finding about two contacts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Finding {
    /// The contact with the lower id.
    pub a: Uuid,
    pub b: Uuid,
    /// 0–1.
    pub score: f64,
    pub reasons: Vec<MatchReason>,
    pub criteria_version: u32,
    /// The criteria fingerprints of `a` and `b` when found.
    pub fingerprints: [String; 2],
}

#[derive(Clone, Debug, PartialEq)]
pub enum DuplicatePairCommand {
    /// A matcher found (or found again) the pair; `run_id` is the agent run that did.
    Detect {
        finding: Finding,
        run_id: Option<Uuid>,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// The two contacts were merged (`secondary` into `primary`) under `merge_id`.
    RecordMerge {
        merge_id: Uuid,
        primary: Uuid,
        by: Actor,
        at: DateTime<Utc>,
    },
    MarkNotDuplicate {
        by: Actor,
        at: DateTime<Utc>,
    },
    Ignore {
        by: Actor,
        at: DateTime<Utc>,
    },
    /// The merge was undone.
    RecordUnmerge {
        merge_id: Uuid,
        by: Actor,
        at: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DuplicatePairEvent {
    DuplicatePairDetected(Box<DuplicatePairDetected>),
    DuplicatePairRescored(Box<DuplicatePairDetected>),
    DuplicatePairReopened(Box<DuplicatePairDetected>),
    DuplicatePairMerged(DuplicatePairMerged),
    DuplicatePairMarkedNotDuplicate(DuplicatePairDecided),
    DuplicatePairIgnored(DuplicatePairDecided),
    DuplicatePairUnmerged(DuplicatePairMerged),
}

/// A finding recorded: first detected, scored anew while open, or reopened after a person
/// closed it and one of the records changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DuplicatePairDetected {
    pub pair_id: Uuid,
    pub finding: Finding,
    pub run_id: Option<Uuid>,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DuplicatePairMerged {
    pub merge_id: Uuid,
    pub primary: Uuid,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DuplicatePairDecided {
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// A person's decision on a pair.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct PairDecision {
    pub status: PairStatus,
    pub by: Actor,
    pub at: DateTime<Utc>,
    /// The merge, for `merged` and `unmerged`.
    pub merge_id: Option<Uuid>,
    pub primary: Option<Uuid>,
}

/// One pair, as the API shows it and audit replay reconstructs it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DuplicatePairView {
    pub id: Uuid,
    pub status: PairStatus,
    pub finding: Finding,
    /// The run that last found it.
    pub run_id: Option<Uuid>,
    pub detected_at: DateTime<Utc>,
    /// When a matcher last recorded a finding (detected, rescored or reopened).
    pub found_at: DateTime<Utc>,
    /// The last decision, if any.
    pub decision: Option<PairDecision>,
    /// The fingerprints when a person closed it (not a duplicate, ignored, unmerged).
    pub closed_fingerprints: Option<[String; 2]>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
}

/// The duplicate pair aggregate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DuplicatePair {
    pub pair: Option<DuplicatePairView>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DuplicateError {
    #[error("duplicate pair not found")]
    NotFound,
    #[error("this pair was already merged")]
    AlreadyMerged,
    #[error("this pair was not merged under that merge")]
    NotMerged,
    #[error("a pair names two different contacts, the lower id first")]
    InvalidPair,
}

impl DuplicateError {
    pub const fn code(&self) -> &'static str {
        match self {
            DuplicateError::NotFound => "duplicate.not_found",
            DuplicateError::AlreadyMerged => "duplicate.already_merged",
            DuplicateError::NotMerged => "duplicate.not_merged",
            DuplicateError::InvalidPair => "request.validation",
        }
    }
}

impl DomainError for DuplicateError {
    fn code(&self) -> &'static str {
        self.code()
    }

    fn kind(&self) -> RejectionKind {
        match self {
            DuplicateError::NotFound => RejectionKind::NotFound,
            DuplicateError::AlreadyMerged | DuplicateError::NotMerged => RejectionKind::Conflict,
            DuplicateError::InvalidPair => RejectionKind::Invalid {
                field: "pair",
                message: self.to_string(),
            },
        }
    }
}

impl Aggregate for DuplicatePair {
    const TYPE: &'static str = "duplicate_pair";
    const EVENT_VERSION: &'static str = DUPLICATE_EVENT_VERSION;
    type Command = DuplicatePairCommand;
    type Event = DuplicatePairEvent;
    type Error = DuplicateError;
    type View = DuplicatePairView;

    fn command_name(command: &DuplicatePairCommand) -> &'static str {
        match command {
            DuplicatePairCommand::Detect { .. } => "detect",
            DuplicatePairCommand::RecordMerge { .. } => "record_merge",
            DuplicatePairCommand::MarkNotDuplicate { .. } => "mark_not_duplicate",
            DuplicatePairCommand::Ignore { .. } => "ignore",
            DuplicatePairCommand::RecordUnmerge { .. } => "record_unmerge",
        }
    }

    fn event_name(event: &DuplicatePairEvent) -> &'static str {
        match event {
            DuplicatePairEvent::DuplicatePairDetected(_) => "DuplicatePairDetected",
            DuplicatePairEvent::DuplicatePairRescored(_) => "DuplicatePairRescored",
            DuplicatePairEvent::DuplicatePairReopened(_) => "DuplicatePairReopened",
            DuplicatePairEvent::DuplicatePairMerged(_) => "DuplicatePairMerged",
            DuplicatePairEvent::DuplicatePairMarkedNotDuplicate(_) => {
                "DuplicatePairMarkedNotDuplicate"
            }
            DuplicatePairEvent::DuplicatePairIgnored(_) => "DuplicatePairIgnored",
            DuplicatePairEvent::DuplicatePairUnmerged(_) => "DuplicatePairUnmerged",
        }
    }

    fn view(&self) -> Option<&DuplicatePairView> {
        self.pair.as_ref()
    }

    fn into_view(self) -> Option<DuplicatePairView> {
        self.pair
    }

    fn decide(
        &self,
        command: DuplicatePairCommand,
    ) -> Result<Vec<DuplicatePairEvent>, DuplicateError> {
        use DuplicatePairEvent as E;
        let event = match command {
            DuplicatePairCommand::Detect {
                finding,
                run_id,
                by,
                at,
            } => {
                if finding.a >= finding.b {
                    return Err(DuplicateError::InvalidPair);
                }
                let Some(pair) = &self.pair else {
                    return Ok(vec![E::DuplicatePairDetected(Box::new(
                        DuplicatePairDetected {
                            pair_id: pair_id(finding.a, finding.b),
                            finding,
                            run_id,
                            by,
                            at,
                        },
                    ))]);
                };
                let recorded = Box::new(DuplicatePairDetected {
                    pair_id: pair.id,
                    finding,
                    run_id,
                    by,
                    at,
                });
                match pair.status {
                    PairStatus::Merged => return Ok(Vec::new()),
                    PairStatus::Open => {
                        let old = &pair.finding;
                        let new = &recorded.finding;
                        if old.score == new.score
                            && old.reasons == new.reasons
                            && old.criteria_version == new.criteria_version
                            && old.fingerprints == new.fingerprints
                        {
                            return Ok(Vec::new());
                        }
                        E::DuplicatePairRescored(recorded)
                    }
                    PairStatus::NotDuplicate | PairStatus::Ignored | PairStatus::Unmerged => {
                        if pair.closed_fingerprints.as_ref() == Some(&recorded.finding.fingerprints)
                        {
                            return Ok(Vec::new());
                        }
                        E::DuplicatePairReopened(recorded)
                    }
                }
            }
            DuplicatePairCommand::RecordMerge {
                merge_id,
                primary,
                by,
                at,
            } => {
                let pair = self.pair.as_ref().ok_or(DuplicateError::NotFound)?;
                let same_merge = pair
                    .decision
                    .as_ref()
                    .is_some_and(|d| d.merge_id == Some(merge_id));
                // A merge id is one merge: recorded already — or recorded and undone since
                // (a late repeat, e.g. the merge reactor catching up after an unmerge, must
                // not redo it).
                if same_merge {
                    return Ok(Vec::new());
                }
                if pair.status == PairStatus::Merged {
                    return Err(DuplicateError::AlreadyMerged);
                }
                if primary != pair.finding.a && primary != pair.finding.b {
                    return Err(DuplicateError::InvalidPair);
                }
                E::DuplicatePairMerged(DuplicatePairMerged {
                    merge_id,
                    primary,
                    by,
                    at,
                })
            }
            DuplicatePairCommand::MarkNotDuplicate { by, at } => {
                let pair = self.pair.as_ref().ok_or(DuplicateError::NotFound)?;
                match pair.status {
                    PairStatus::Merged => return Err(DuplicateError::AlreadyMerged),
                    PairStatus::NotDuplicate => return Ok(Vec::new()),
                    _ => E::DuplicatePairMarkedNotDuplicate(DuplicatePairDecided { by, at }),
                }
            }
            DuplicatePairCommand::Ignore { by, at } => {
                let pair = self.pair.as_ref().ok_or(DuplicateError::NotFound)?;
                match pair.status {
                    PairStatus::Merged => return Err(DuplicateError::AlreadyMerged),
                    PairStatus::Open => E::DuplicatePairIgnored(DuplicatePairDecided { by, at }),
                    _ => return Ok(Vec::new()),
                }
            }
            DuplicatePairCommand::RecordUnmerge { merge_id, by, at } => {
                let pair = self.pair.as_ref().ok_or(DuplicateError::NotFound)?;
                let merged_under = pair.decision.as_ref().and_then(|d| d.merge_id);
                match pair.status {
                    PairStatus::Merged if merged_under == Some(merge_id) => {
                        let primary = pair
                            .decision
                            .as_ref()
                            .and_then(|d| d.primary)
                            .unwrap_or(pair.finding.a);
                        E::DuplicatePairUnmerged(DuplicatePairMerged {
                            merge_id,
                            primary,
                            by,
                            at,
                        })
                    }
                    PairStatus::Unmerged if merged_under == Some(merge_id) => return Ok(Vec::new()),
                    _ => return Err(DuplicateError::NotMerged),
                }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: DuplicatePairEvent) {
        use DuplicatePairEvent as E;
        if let E::DuplicatePairDetected(e) = event {
            let e = *e;
            self.pair = Some(DuplicatePairView {
                id: e.pair_id,
                status: PairStatus::Open,
                finding: e.finding,
                run_id: e.run_id,
                detected_at: e.at,
                found_at: e.at,
                decision: None,
                closed_fingerprints: None,
                updated_at: e.at,
                version: 1,
            });
            return;
        }
        let Some(pair) = self.pair.as_mut() else {
            return;
        };
        pair.version += 1;
        let decide = |pair: &mut DuplicatePairView, status, by, at, merge: Option<(Uuid, Uuid)>| {
            pair.status = status;
            pair.updated_at = at;
            pair.decision = Some(PairDecision {
                status,
                by,
                at,
                merge_id: merge.map(|m| m.0),
                primary: merge.map(|m| m.1),
            });
        };
        match event {
            E::DuplicatePairDetected(_) => {}
            E::DuplicatePairRescored(e) | E::DuplicatePairReopened(e) => {
                let e = *e;
                pair.status = PairStatus::Open;
                pair.finding = e.finding;
                pair.run_id = e.run_id;
                pair.found_at = e.at;
                pair.updated_at = e.at;
            }
            E::DuplicatePairMerged(e) => decide(
                pair,
                PairStatus::Merged,
                e.by,
                e.at,
                Some((e.merge_id, e.primary)),
            ),
            E::DuplicatePairMarkedNotDuplicate(e) => {
                pair.closed_fingerprints = Some(pair.finding.fingerprints.clone());
                decide(pair, PairStatus::NotDuplicate, e.by, e.at, None)
            }
            E::DuplicatePairIgnored(e) => {
                pair.closed_fingerprints = Some(pair.finding.fingerprints.clone());
                decide(pair, PairStatus::Ignored, e.by, e.at, None)
            }
            E::DuplicatePairUnmerged(e) => {
                pair.closed_fingerprints = Some(pair.finding.fingerprints.clone());
                decide(
                    pair,
                    PairStatus::Unmerged,
                    e.by,
                    e.at,
                    Some((e.merge_id, e.primary)),
                )
            }
        }
    }
}
