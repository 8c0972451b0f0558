//! Merging two contacts and undoing a merge: the one way it is done, from the API, the CLI,
//! the merge reactor and tests.
//!
//! A merge is three commands, in this order: `MergeInto` on the secondary, `Absorb` on the
//! primary (with the secondary's fields as its `MergeInto` left them), `RecordMerge` on the
//! duplicate pair. An unmerge is `Unmerge` on the absorbed contact, `Unabsorb` on the
//! primary, `RecordUnmerge` on the pair. Every step is retry-safe (a repeat decides
//! nothing), the merge id is deterministic (so a retry after a crash reuses it), and the
//! `contact_merges` reactor completes whatever a crash left half done — nothing that matters
//! lives only in process memory.

use std::collections::BTreeMap;

use caseyos_domain::aggregate::{Aggregate, DomainError, RejectionKind};
use caseyos_domain::contacts::{
    diff, merge_fields, Absorb, Contact, ContactCommand, ContactError, ContactField, ContactFields,
    ContactStatus, ContactView, FieldChange, MergeInto, MergeSide,
};
use caseyos_domain::crm_merges::{CrmCallKind, CrmMerge, CrmMergeCommand, CrmMergeError};
use caseyos_domain::duplicates::{
    pair_id, DuplicateError, DuplicatePair, DuplicatePairCommand, DuplicatePairView, PairStatus,
};
use caseyos_domain::kernel::{Actor, Checkpoint, CrmId};
use caseyos_store::history::state_at;
use caseyos_store::{now, CommandBus, CommandError, CommandMeta, StoreError};
use uuid::Uuid;

/// What HubSpot does with merges, said wherever a merge or an unmerge is offered.
pub const HUBSPOT_MERGES_ARE_PERMANENT: &str = "HubSpot merges are permanent: unmerging here \
     restores both contacts in CaseyOS but does not undo the merge in HubSpot. The absorbed \
     contact is re-created in HubSpot only when you ask (recreate_in_crm), as a new record \
     with a new id.";

/// The two contacts to merge: a reviewed duplicate pair, or two contacts named directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeTarget {
    Pair(Uuid),
    Contacts(Uuid, Uuid),
}

/// Why a merge or an unmerge was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum MergeError {
    #[error("duplicate pair not found")]
    PairNotFound,
    #[error("contact {0} not found")]
    ContactNotFound(Uuid),
    #[error("this pair was already merged")]
    AlreadyMerged,
    #[error("contact {0} is merged into another; unmerge it first")]
    ContactMerged(Uuid),
    #[error("contact {0} is archived; restore it first")]
    ContactArchived(Uuid),
    #[error("contact {0} is not merged into another")]
    NotMerged(Uuid),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Contact(ContactError),
    #[error(transparent)]
    Pair(DuplicateError),
    #[error(transparent)]
    Crm(CrmMergeError),
}

impl DomainError for MergeError {
    fn code(&self) -> &'static str {
        match self {
            MergeError::PairNotFound => "duplicate.not_found",
            MergeError::ContactNotFound(_) => "contact.not_found",
            MergeError::AlreadyMerged => "duplicate.already_merged",
            MergeError::ContactMerged(_) => "contact.merged",
            MergeError::ContactArchived(_) => "contact.archived",
            MergeError::NotMerged(_) => "contact.not_merged",
            MergeError::Invalid { .. } => "request.validation",
            MergeError::Contact(e) => e.code(),
            MergeError::Pair(e) => e.code(),
            MergeError::Crm(e) => e.code(),
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            MergeError::PairNotFound | MergeError::ContactNotFound(_) => RejectionKind::NotFound,
            MergeError::AlreadyMerged
            | MergeError::ContactMerged(_)
            | MergeError::ContactArchived(_)
            | MergeError::NotMerged(_) => RejectionKind::Conflict,
            MergeError::Invalid { field, message } => RejectionKind::Invalid {
                field,
                message: message.clone(),
            },
            MergeError::Contact(e) => e.kind(),
            MergeError::Pair(e) => e.kind(),
            MergeError::Crm(e) => e.kind(),
        }
    }
}

type Failed = CommandError<MergeError>;

/// A step's failure as the merge's.
fn step<E: std::error::Error>(
    wrap: impl FnOnce(E) -> MergeError,
) -> impl FnOnce(CommandError<E>) -> Failed {
    move |error| match error {
        CommandError::Rejected(e) => CommandError::Rejected(wrap(e)),
        CommandError::Refused(r) => CommandError::Refused(r),
        CommandError::Conflict => CommandError::Conflict,
        CommandError::Store(e) => CommandError::Store(e),
    }
}

fn store(error: StoreError) -> Failed {
    CommandError::Store(error)
}

/// What a merge did, or — for a dry run — would do.
#[derive(Clone, Debug)]
pub struct MergeOutcome {
    pub dry_run: bool,
    /// `None` for a dry run.
    pub merge_id: Option<Uuid>,
    pub pair_id: Uuid,
    /// After the merge (as they are, for a dry run).
    pub primary: ContactView,
    pub secondary: ContactView,
    /// The primary's fields after the merge.
    pub merged: ContactFields,
    /// What the merge changes on the primary.
    pub changes: Vec<FieldChange>,
    /// The per-field choices it used (fields not named follow the default rule).
    pub choices: BTreeMap<ContactField, MergeSide>,
    /// The pair after the merge, when there is one.
    pub pair: Option<DuplicatePairView>,
    /// The position of the last event written (`None` when nothing was).
    pub token: Option<Checkpoint>,
}

/// What an unmerge did.
#[derive(Clone, Debug)]
pub struct UnmergeOutcome {
    pub merge_id: Uuid,
    pub absorbed: ContactView,
    pub primary: ContactView,
    pub pair: Option<DuplicatePairView>,
    pub recreate_in_crm: bool,
    pub token: Option<Checkpoint>,
}

async fn contact(bus: &CommandBus, id: Uuid) -> Result<ContactView, Failed> {
    let state: Contact = state_at(bus.pool(), &id.to_string(), i64::MAX)
        .await
        .map_err(store)?;
    state
        .into_view()
        .ok_or(CommandError::Rejected(MergeError::ContactNotFound(id)))
}

async fn pair(bus: &CommandBus, id: Uuid) -> Result<Option<DuplicatePairView>, Failed> {
    let state: DuplicatePair = state_at(bus.pool(), &id.to_string(), i64::MAX)
        .await
        .map_err(store)?;
    Ok(state.into_view())
}

/// The per-field choices of a request: `{"job_title": "<id of the contact whose value
/// wins>"}`, each field a contact field (`first_name`, …, `custom.<key>`) and each id one
/// of the two contacts.
pub fn choices_of(
    fields: &BTreeMap<String, Uuid>,
    primary: Uuid,
    secondary: Uuid,
) -> Result<BTreeMap<ContactField, MergeSide>, MergeError> {
    let mut choices = BTreeMap::new();
    for (name, winner) in fields {
        let field = ContactField::parse(name).map_err(|message| MergeError::Invalid {
            field: "fields",
            message,
        })?;
        let side = if *winner == primary {
            MergeSide::Primary
        } else if *winner == secondary {
            MergeSide::Other
        } else {
            return Err(MergeError::Invalid {
                field: "fields",
                message: format!("{name}: {winner} is neither of the two contacts"),
            });
        };
        choices.insert(field, side);
    }
    Ok(choices)
}

fn usable(contact: &ContactView) -> Result<(), MergeError> {
    match contact.status {
        ContactStatus::Active => Ok(()),
        ContactStatus::Merged => Err(MergeError::ContactMerged(contact.id)),
        ContactStatus::Archived => Err(MergeError::ContactArchived(contact.id)),
    }
}

fn later(a: Option<Checkpoint>, b: Option<Checkpoint>) -> Option<Checkpoint> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if (y.tx_id, y.position) > (x.tx_id, x.position) {
            y
        } else {
            x
        }),
        (x, y) => x.or(y),
    }
}

/// The merge id of a merge of `pair` decided at these versions: the same on a retry.
fn merge_id_of(pair: Uuid, basis: &str) -> Uuid {
    Uuid::new_v5(&pair, format!("merge:{basis}").as_bytes())
}

/// Merges the other contact of `target` into `primary`, with per-field `fields` choices
/// (see [`choices_of`]). A dry run answers the merged record and the changes and writes
/// nothing.
pub async fn merge(
    bus: &CommandBus,
    target: MergeTarget,
    primary: Uuid,
    fields: &BTreeMap<String, Uuid>,
    dry_run: bool,
    meta: &CommandMeta,
) -> Result<MergeOutcome, Failed> {
    let rejected = CommandError::Rejected;
    let (a, b, pair_view) = match target {
        MergeTarget::Pair(id) => {
            let view = pair(bus, id)
                .await?
                .ok_or(rejected(MergeError::PairNotFound))?;
            (view.finding.a, view.finding.b, Some(view))
        }
        MergeTarget::Contacts(a, b) => (a, b, pair(bus, pair_id(a, b)).await?),
    };
    if a == b {
        return Err(rejected(MergeError::Invalid {
            field: "primary",
            message: "a contact cannot be merged with itself".into(),
        }));
    }
    let secondary_id = if primary == a {
        b
    } else if primary == b {
        a
    } else {
        return Err(rejected(MergeError::Invalid {
            field: "primary",
            message: format!("{primary} is neither of the two contacts"),
        }));
    };
    let the_pair = pair_id(a, b);
    let primary_view = contact(bus, primary).await?;
    let secondary_view = contact(bus, secondary_id).await?;

    // A merge a crash left half done (the secondary merged into this primary, the primary
    // not yet absorbing it) is completed with its own id and choices.
    let resume = secondary_view.merged_into.as_ref().filter(|m| {
        !dry_run
            && m.primary == primary
            && !primary_view
                .absorbed
                .iter()
                .any(|x| x.merge_id == m.merge_id)
    });
    let (merge_id, choices) = match resume {
        Some(m) => (m.merge_id, m.choices.clone()),
        None => {
            if pair_view
                .as_ref()
                .is_some_and(|p| p.status == PairStatus::Merged)
                && matches!(target, MergeTarget::Pair(_))
            {
                return Err(rejected(MergeError::AlreadyMerged));
            }
            usable(&secondary_view).map_err(rejected)?;
            usable(&primary_view).map_err(rejected)?;
            let choices = choices_of(fields, primary, secondary_id).map_err(rejected)?;
            let basis = match &pair_view {
                Some(p) => format!("pair:{}", p.version),
                None => format!(
                    "contacts:{}:{}",
                    primary_view.version, secondary_view.version
                ),
            };
            (merge_id_of(the_pair, &basis), choices)
        }
    };
    let merged = merge_fields(&primary_view.fields, &secondary_view.fields, &choices);
    let changes = diff(&primary_view.fields, &merged);
    if dry_run {
        return Ok(MergeOutcome {
            dry_run: true,
            merge_id: None,
            pair_id: the_pair,
            primary: primary_view,
            secondary: secondary_view,
            merged,
            changes,
            choices,
            pair: pair_view,
            token: None,
        });
    }
    let pair_ref = pair_view.as_ref().map(|p| p.id);
    let at = now();
    let by = meta.actor.clone();

    let first = bus
        .execute::<Contact>(
            secondary_id,
            ContactCommand::MergeInto(MergeInto {
                primary,
                merge_id,
                choices: choices.clone(),
                pair_id: pair_ref,
                by: by.clone(),
                at,
            }),
            meta,
        )
        .await
        .map_err(step(MergeError::Contact))?;
    let secondary_after = first
        .state
        .contact
        .clone()
        .ok_or(rejected(MergeError::ContactNotFound(secondary_id)))?;
    let second = complete_absorb(bus, &secondary_after, meta).await?;
    let mut token = later(first.token, second.1);
    let mut pair_after = pair_view;
    if let Some(id) = pair_ref {
        let recorded = record_merge(bus, id, merge_id, primary, &by, meta).await?;
        token = later(token, recorded.1);
        pair_after = recorded.0.or(pair_after);
    }
    Ok(MergeOutcome {
        dry_run: false,
        merge_id: Some(merge_id),
        pair_id: the_pair,
        primary: second.0,
        secondary: secondary_after,
        merged,
        changes,
        choices,
        pair: pair_after,
        token,
    })
}

/// The second half of a merge: the primary absorbs `secondary` (merged into it) with the
/// fields the secondary had when merged. When the primary cannot absorb it any more
/// (archived or merged away since), the first half is undone instead and the refusal
/// returned.
pub async fn complete_absorb(
    bus: &CommandBus,
    secondary: &ContactView,
    meta: &CommandMeta,
) -> Result<(ContactView, Option<Checkpoint>), Failed> {
    let merged = secondary
        .merged_into
        .as_ref()
        .ok_or(CommandError::Rejected(MergeError::NotMerged(secondary.id)))?;
    let absorbed = bus
        .execute::<Contact>(
            merged.primary,
            ContactCommand::Absorb(Box::new(Absorb {
                absorbed: secondary.id,
                merge_id: merged.merge_id,
                absorbed_fields: secondary.fields.clone(),
                choices: merged.choices.clone(),
                pair_id: merged.pair_id,
                by: merged.by.clone(),
                at: now(),
            })),
            meta,
        )
        .await;
    match absorbed {
        Ok(done) => {
            let view =
                done.state
                    .contact
                    .ok_or(CommandError::Rejected(MergeError::ContactNotFound(
                        merged.primary,
                    )))?;
            Ok((view, done.token))
        }
        Err(CommandError::Rejected(refusal)) => {
            // The primary cannot take it: the secondary is not left merged into nothing.
            bus.execute::<Contact>(
                secondary.id,
                ContactCommand::Unmerge {
                    merge_id: merged.merge_id,
                    by: Actor::system("contact_merges"),
                    at: now(),
                },
                meta,
            )
            .await
            .map_err(step(MergeError::Contact))?;
            Err(CommandError::Rejected(MergeError::Contact(refusal)))
        }
        Err(other) => Err(step(MergeError::Contact)(other)),
    }
}

/// The pair's record of the merge (retry-safe).
pub async fn record_merge(
    bus: &CommandBus,
    pair: Uuid,
    merge_id: Uuid,
    primary: Uuid,
    by: &Actor,
    meta: &CommandMeta,
) -> Result<(Option<DuplicatePairView>, Option<Checkpoint>), Failed> {
    let done = bus
        .execute::<DuplicatePair>(
            pair,
            DuplicatePairCommand::RecordMerge {
                merge_id,
                primary,
                by: by.clone(),
                at: now(),
            },
            meta,
        )
        .await
        .map_err(step(MergeError::Pair))?;
    Ok((done.state.pair, done.token))
}

/// Undoes the merge that absorbed `absorbed`: it is active again, the primary gets back the
/// values the merge set where nobody edited them since, and the pair is marked unmerged.
/// With `recreate_in_crm`, the absorbed contact is also re-created in the CRM (HubSpot
/// merges are permanent; see [`HUBSPOT_MERGES_ARE_PERMANENT`]) — asked for before the
/// unmerge, made by the `contact_merges` reactor after it.
pub async fn unmerge(
    bus: &CommandBus,
    absorbed: Uuid,
    recreate_in_crm: bool,
    meta: &CommandMeta,
) -> Result<UnmergeOutcome, Failed> {
    let rejected = CommandError::Rejected;
    let view = contact(bus, absorbed).await?;
    let merged = view
        .merged_into
        .clone()
        .ok_or(rejected(MergeError::NotMerged(absorbed)))?;
    let by = meta.actor.clone();
    let mut token = None;
    if recreate_in_crm {
        let asked = bus
            .execute::<CrmMerge>(
                merged.merge_id,
                CrmMergeCommand::Request {
                    kind: CrmCallKind::Recreate,
                    merge_id: merged.merge_id,
                    primary: merged.primary,
                    secondary: absorbed,
                    primary_crm_id: None,
                    secondary_crm_id: view
                        .fields
                        .crm_id
                        .as_deref()
                        .and_then(|id| CrmId::parse(id).ok()),
                    by: by.clone(),
                    at: now(),
                },
                meta,
            )
            .await
            .map_err(step(MergeError::Crm))?;
        token = later(token, asked.token);
    }
    let first = bus
        .execute::<Contact>(
            absorbed,
            ContactCommand::Unmerge {
                merge_id: merged.merge_id,
                by: by.clone(),
                at: now(),
            },
            meta,
        )
        .await
        .map_err(step(MergeError::Contact))?;
    token = later(token, first.token);
    let absorbed_after = first
        .state
        .contact
        .ok_or(rejected(MergeError::ContactNotFound(absorbed)))?;
    let (primary_after, pair_after, rest) =
        complete_unmerge(bus, merged.primary, merged.merge_id, merged.pair_id, meta).await?;
    Ok(UnmergeOutcome {
        merge_id: merged.merge_id,
        absorbed: absorbed_after,
        primary: primary_after,
        pair: pair_after,
        recreate_in_crm,
        token: later(token, rest),
    })
}

/// The rest of an unmerge once the absorbed contact is active again: the primary unabsorbs
/// it (nothing to do when the merge never reached it) and the pair records the unmerge
/// (nothing to do when it never recorded the merge). Retry-safe.
pub async fn complete_unmerge(
    bus: &CommandBus,
    primary: Uuid,
    merge_id: Uuid,
    pair: Option<Uuid>,
    meta: &CommandMeta,
) -> Result<(ContactView, Option<DuplicatePairView>, Option<Checkpoint>), Failed> {
    let by = meta.actor.clone();
    let unabsorbed = bus
        .execute::<Contact>(
            primary,
            ContactCommand::Unabsorb {
                merge_id,
                by: by.clone(),
                at: now(),
            },
            meta,
        )
        .await;
    let (primary_view, mut token) = match unabsorbed {
        Ok(done) => (done.state.contact, done.token),
        // The merge never reached the primary (its first half was undone on its own).
        Err(CommandError::Rejected(ContactError::MergeNotFound)) => (None, None),
        Err(other) => return Err(step(MergeError::Contact)(other)),
    };
    let primary_view = match primary_view {
        Some(view) => view,
        None => contact(bus, primary).await?,
    };
    let mut pair_view = None;
    if let Some(id) = pair {
        let recorded = bus
            .execute::<DuplicatePair>(
                id,
                DuplicatePairCommand::RecordUnmerge {
                    merge_id,
                    by: by.clone(),
                    at: now(),
                },
                meta,
            )
            .await;
        match recorded {
            Ok(done) => {
                token = later(token, done.token);
                pair_view = done.state.pair;
            }
            // The pair never recorded this merge (or records a later one): nothing to undo.
            Err(CommandError::Rejected(DuplicateError::NotMerged | DuplicateError::NotFound)) => {
                pair_view = self::pair(bus, id).await?;
            }
            Err(other) => return Err(step(MergeError::Pair)(other)),
        }
    }
    Ok((primary_view, pair_view, token))
}
