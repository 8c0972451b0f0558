//! HubSpot's deal pipelines and deals applied as commands — the one code path the periodic
//! sync (`workers::hubspot_sync`) and the webhook reactor (`workers::hubspot_webhooks`) share.
//! Every write goes through the bus with the caller's metadata (the sync's actor,
//! `system:hubspot_sync`) and `at = now` (recording time); HubSpot's own timestamps are data.
//! Everything here is safe to repeat: a value already as HubSpot has it issues no command.
//!
//! **Pipelines.** A HubSpot pipeline becomes the `pipeline` aggregate of its id
//! (`PipelineDefinition::id_of`; HubSpot's first pipeline is `default`, the pipeline a first
//! start defines, which the sync then updates): stages in `displayOrder`,
//! archived ones left out; `metadata.probability` `"0.2"` → 20 (whole percent, half up);
//! `metadata.isClosed` with probability 1.0 → won, 0.0 → lost, any other closed
//! probability → the pipeline does not map. A pipeline that does not map or that
//! [`Pipeline::new`] refuses is a sync problem: counted as failed and logged with its id
//! and the reason, never a panic; deals in it then fail alone until it is fixed in HubSpot.
//!
//! **Deals.** A HubSpot deal becomes the `deal` aggregate [`deal_id_for`] its CRM id (a
//! UUIDv5, so a record read again is the same deal). A new one is created in its stage (in
//! the pipeline's first open stage and then moved, when HubSpot has it closed already: a
//! deal is created open). An existing one gets only the commands whose values differ, in
//! an order the deal accepts: reopen (a closed deal HubSpot has open again, or closed the
//! other way), then amount, close date and owner (while open), then the move (a won stage
//! wins it; a lost stage loses it with `closed_lost_reason`, or [`DEFAULT_LOST_REASON`]).
//! What the deal refuses is left as it is and logged: a closed deal's numbers (CaseyOS keeps
//! a won or lost deal's numbers until it is reopened), another lost reason for a lost deal,
//! a move to another pipeline (no command moves a deal between pipelines), a rename (no
//! command renames a deal).
//!
//! - **Amount**: `amount` (a decimal string) in integer minor units of
//!   `deal_currency_code`, rounded half away from zero; an unset currency is USD (CaseyOS
//!   prices in USD only; HubSpot leaves the code unset for the account's own currency, which
//!   is taken to be USD); another currency fails the deal alone.
//! - **Close date**: the UTC date of `closedate`.
//! - **Owner**: [`Owners`] maps `hubspot_owner_id` to the owner's email address, lower-case
//!   (a user name CaseyOS accepts: 1–128 printable characters), so the owner signs in under
//!   the name their deals carry; an owner HubSpot does not list (archived, without an
//!   address, or every owner when the token lacks the owners scope and HubSpot refuses the
//!   list) is `hubspot-owner-<id>`; no owner is [`UNASSIGNED_OWNER`]. The list is read once
//!   per sync run or webhook batch; HubSpot failing to answer it fails the deal's sync like
//!   any retryable error.

use std::collections::HashMap;

use caseyos_domain::aggregate::{Aggregate, DomainError};
use caseyos_domain::deals::{
    CreateDeal, Deal, DealCommand, DealSource, DealStatus, DealView, MoveDeal, ReopenDeal,
    MAX_NAME_CHARS, MAX_TEXT_CHARS,
};
use caseyos_domain::kernel::{CrmId, Currency, Money, Text, UserName};
use caseyos_domain::pipelines::{
    DefinePipeline, Pipeline, PipelineCommand, PipelineDefinition, PipelineError, PipelineSource,
    Stage, StageKind, MAX_LABEL_CHARS, MAX_PROBABILITY,
};
use caseyos_store::{history, now, CommandBus, CommandError, CommandMeta};
use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

use super::pipelines;
use crate::connectors::hubspot::{HubSpotClient, HubSpotDeal, HubSpotPipeline, HubSpotStage};
use crate::connectors::ConnectorError;

/// The namespace of deal ids made from HubSpot record ids.
pub const HUBSPOT_DEAL_NAMESPACE: Uuid = Uuid::from_u128(0x2f6c_1e84_93ab_4d0e_8a57_c3b1_6e29_d4a0);
/// The owner of a deal HubSpot assigns to no one.
pub const UNASSIGNED_OWNER: &str = "unassigned";
/// The lost reason of a deal HubSpot closed as lost without a `closed_lost_reason`.
pub const DEFAULT_LOST_REASON: &str = "Closed lost in HubSpot (no reason given there)";

/// The id of the deal a HubSpot record creates: the same for every sync and webhook.
pub fn deal_id_for(crm_id: &CrmId) -> Uuid {
    Uuid::new_v5(&HUBSPOT_DEAL_NAMESPACE, crm_id.as_str().as_bytes())
}

/// What became of one CRM record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synced {
    Created,
    Updated,
    /// Already as the CRM has it (or something the record's aggregate keeps as it is).
    Unchanged,
    /// The record does not map or was refused; logged with its CRM id, never its values.
    Failed,
}

/// A failure that is not the record's own: the event store failed, or HubSpot did when the
/// record needed something more read (its owners). A sync run ends on it; a webhook event
/// stays pending.
#[derive(Debug, thiserror::Error)]
#[error("{message}{}", .cause.as_deref().map(|c| format!(": {c}")).unwrap_or_default())]
pub struct SyncFailed {
    /// The stable code (`hubspot.server_error`, `internal`).
    pub code: &'static str,
    /// What may be recorded and shown: no personal data, no internals.
    pub message: String,
    /// Whether the same record may go through later without anyone changing anything.
    pub retryable: bool,
    /// The underlying error, for the server log only.
    pub cause: Option<String>,
}

const STORE_FAILED: &str =
    "the event store failed while recording a CRM record; see the server log";

impl SyncFailed {
    pub fn store(error: impl std::fmt::Display) -> Self {
        SyncFailed {
            code: "internal",
            message: STORE_FAILED.into(),
            retryable: true,
            cause: Some(error.to_string()),
        }
    }

    pub fn command<E: DomainError>(error: CommandError<E>) -> Self {
        SyncFailed {
            code: error.code(),
            message: STORE_FAILED.into(),
            retryable: true,
            cause: Some(error.to_string()),
        }
    }

    pub fn connector(error: ConnectorError) -> Self {
        SyncFailed {
            code: error.code(),
            retryable: error.retryable(),
            message: error.to_string(),
            cause: None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Pipelines

/// `"0.2"` → 20: a decimal from 0 to 1 in whole percent, half up. `None` for anything else.
pub fn probability_percent(raw: &str) -> Option<u8> {
    let raw = raw.trim();
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let mut fraction = fraction.bytes().map(|b| u64::from(b - b'0'));
    let tenths = fraction.next().unwrap_or(0);
    let hundredths = fraction.next().unwrap_or(0);
    let round_up = fraction.next().unwrap_or(0) >= 5;
    let percent = whole
        .checked_mul(100)?
        .checked_add(tenths * 10 + hundredths + u64::from(round_up))?;
    u8::try_from(percent).ok().filter(|p| *p <= MAX_PROBABILITY)
}

/// A HubSpot stage's kind and probability, or why it does not map.
fn stage_of(stage: &HubSpotStage) -> Result<Stage, String> {
    let id = CrmId::parse(&stage.id).map_err(|m| format!("stage id {m}"))?;
    let label = Text::parse(&stage.label, MAX_LABEL_CHARS)
        .map_err(|m| format!("stage {}: label {m}", stage.id))?;
    let probability = stage
        .probability
        .as_deref()
        .ok_or_else(|| format!("stage {}: no metadata.probability", stage.id))?;
    let percent = probability_percent(probability).ok_or_else(|| {
        format!(
            "stage {}: metadata.probability must be a decimal from 0 to 1",
            stage.id
        )
    })?;
    let kind = match (stage.is_closed.unwrap_or(false), percent) {
        (false, _) => StageKind::Open,
        (true, MAX_PROBABILITY) => StageKind::Won,
        (true, 0) => StageKind::Lost,
        (true, other) => {
            return Err(format!(
                "stage {}: a closed stage at {other}% is neither won (100%) nor lost (0%)",
                stage.id
            ))
        }
    };
    Ok(Stage::new(id, label, percent, kind))
}

/// A HubSpot pipeline as CaseyOS's [`Pipeline`] (checked by [`Pipeline::new`]), or why not.
pub fn map_pipeline(pipeline: &HubSpotPipeline) -> Result<Pipeline, String> {
    let id = CrmId::parse(&pipeline.id).map_err(|m| format!("pipeline id {m}"))?;
    let label = Text::parse(&pipeline.label, MAX_LABEL_CHARS).map_err(|m| format!("label {m}"))?;
    let mut stages: Vec<&HubSpotStage> = pipeline.stages.iter().filter(|s| !s.archived).collect();
    // Stable: stages HubSpot orders alike keep the order it lists them in.
    stages.sort_by_key(|s| s.display_order);
    let stages = stages
        .into_iter()
        .map(stage_of)
        .collect::<Result<Vec<_>, _>>()?;
    Pipeline::new(id, label, stages).map_err(|e| e.to_string())
}

/// Defines or updates the pipeline of one HubSpot pipeline.
pub async fn apply_pipeline(
    pool: &PgPool,
    bus: &CommandBus,
    meta: &CommandMeta,
    hubspot: &HubSpotPipeline,
) -> Result<Synced, SyncFailed> {
    let pipeline = match map_pipeline(hubspot) {
        Ok(pipeline) => pipeline,
        Err(reason) => {
            tracing::warn!(hubspot.pipeline_id = %hubspot.id, reason = %reason, "a hubspot pipeline did not map; skipped");
            return Ok(Synced::Failed);
        }
    };
    let id = PipelineDefinition::id_of(pipeline.id());
    let exists = pipelines::load(pool, pipeline.id())
        .await
        .map_err(SyncFailed::store)?
        .is_some();
    let define = DefinePipeline {
        pipeline,
        source: PipelineSource::Hubspot,
        by: meta.actor.clone(),
        at: now(),
    };
    let (command, created) = if exists {
        (PipelineCommand::Update(define), Synced::Updated)
    } else {
        (PipelineCommand::Define(define), Synced::Created)
    };
    match bus.execute::<PipelineDefinition>(id, command, meta).await {
        Ok(committed) if committed.events > 0 => Ok(created),
        Ok(_) => Ok(Synced::Unchanged),
        Err(CommandError::Rejected(error @ PipelineError::AlreadyExists)) => {
            // Defined since we looked (another instance): the next sync updates it.
            tracing::info!(hubspot.pipeline_id = %hubspot.id, error.code = error.code(), "a hubspot pipeline was defined concurrently");
            Ok(Synced::Unchanged)
        }
        Err(CommandError::Rejected(error)) => {
            tracing::warn!(hubspot.pipeline_id = %hubspot.id, error.code = error.code(), "a hubspot pipeline was refused");
            Ok(Synced::Failed)
        }
        Err(error) => Err(SyncFailed::command(error)),
    }
}

// ---------------------------------------------------------------------------------------
// Owners

/// HubSpot owners by id, as CaseyOS owner names; read from HubSpot once, when first needed.
pub struct Owners {
    client: HubSpotClient,
    names: Option<HashMap<String, UserName>>,
}

impl Owners {
    pub fn new(client: &HubSpotClient) -> Self {
        Owners {
            client: client.clone(),
            names: None,
        }
    }

    /// The owner a deal with this `hubspot_owner_id` gets (see the module's documentation).
    pub async fn name_of(&mut self, owner_id: Option<&str>) -> Result<UserName, ConnectorError> {
        let Some(owner_id) = owner_id else {
            return Ok(unassigned());
        };
        if self.names.is_none() {
            let owners = match self.client.list_owners().await {
                Ok(owners) => owners,
                // The token may lack the owners scope: deals still sync, their owners by id.
                Err(error) if !error.retryable() => {
                    tracing::warn!(error.code = error.code(), "hubspot owners could not be read; deal owners are named by their hubspot id");
                    Vec::new()
                }
                Err(error) => return Err(error),
            };
            self.names = Some(
                owners
                    .into_iter()
                    .filter_map(|owner| {
                        let email = owner.email.as_deref()?.trim().to_lowercase();
                        Some((owner.id, UserName::parse(&email).ok()?))
                    })
                    .collect(),
            );
        }
        let known = self.names.as_ref().and_then(|names| names.get(owner_id));
        Ok(match known {
            Some(name) => name.clone(),
            None => unlisted_owner(owner_id),
        })
    }
}

fn unassigned() -> UserName {
    UserName::parse(UNASSIGNED_OWNER).expect("a valid user name")
}

/// `hubspot-owner-<id>` (or unassigned, if the id cannot make a name).
fn unlisted_owner(owner_id: &str) -> UserName {
    UserName::parse(&format!("hubspot-owner-{owner_id}")).unwrap_or_else(|_| unassigned())
}

// ---------------------------------------------------------------------------------------
// Deals

/// Integer minor units of `raw` (a decimal string) in `currency`, rounded half away from
/// zero. `None` when it is not a decimal.
pub fn minor_units(raw: &str, currency: Currency) -> Option<i64> {
    let raw = raw.trim();
    let (negative, unsigned) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw.strip_prefix('+').unwrap_or(raw)),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let per = currency.minor_per_major();
    let places = per.to_string().len() - 1;
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut fraction = fraction.bytes().map(|b| i64::from(b - b'0'));
    let mut minor: i64 = 0;
    for _ in 0..places {
        minor = minor * 10 + fraction.next().unwrap_or(0);
    }
    let round_up = fraction.next().unwrap_or(0) >= 5;
    let total = whole
        .checked_mul(per)?
        .checked_add(minor)?
        .checked_add(i64::from(round_up))?;
    Some(if negative { -total } else { total })
}

/// A HubSpot deal's values, parsed.
#[derive(Clone, Debug, PartialEq)]
struct Mapped {
    crm_id: CrmId,
    name: Text,
    pipeline: CrmId,
    stage: CrmId,
    amount: Option<Money>,
    close_date: Option<NaiveDate>,
    lost_reason: Text,
}

/// Parses what HubSpot has; `Err` names the property that does not map.
fn map_deal(deal: &HubSpotDeal) -> Result<Mapped, &'static str> {
    let name = match deal.name() {
        Some(name) => Text::parse(name, MAX_NAME_CHARS).map_err(|_| "dealname")?,
        None => Text::parse(
            &format!("HubSpot deal {}", deal.id.as_str()),
            MAX_NAME_CHARS,
        )
        .map_err(|_| "dealname")?,
    };
    let pipeline = CrmId::parse(deal.pipeline().ok_or("pipeline")?).map_err(|_| "pipeline")?;
    let stage = CrmId::parse(deal.stage().ok_or("dealstage")?).map_err(|_| "dealstage")?;
    let amount = match deal.amount() {
        None => None,
        Some(raw) => {
            let currency = match deal.currency_code() {
                None => Currency::Usd,
                Some(code) if code.eq_ignore_ascii_case("USD") => Currency::Usd,
                Some(_) => return Err("deal_currency_code"),
            };
            let minor = minor_units(raw, currency).ok_or("amount")?;
            Some(Money::new(minor, currency))
        }
    };
    let lost_reason = Text::parse_optional(deal.closed_lost_reason(), MAX_TEXT_CHARS)
        .map_err(|_| "closed_lost_reason")?
        .map_or_else(|| Text::parse(DEFAULT_LOST_REASON, MAX_TEXT_CHARS), Ok)
        .map_err(|_| "closed_lost_reason")?;
    Ok(Mapped {
        crm_id: deal.id.clone(),
        name,
        pipeline,
        stage,
        amount,
        close_date: deal.close_date().map(|at| at.date_naive()),
        lost_reason,
    })
}

/// Creates or updates the deal of one HubSpot deal.
pub async fn apply_deal(
    pool: &PgPool,
    bus: &CommandBus,
    meta: &CommandMeta,
    owners: &mut Owners,
    hubspot: &HubSpotDeal,
) -> Result<Synced, SyncFailed> {
    let crm_id = hubspot.id.as_str();
    let mapped = match map_deal(hubspot) {
        Ok(mapped) => mapped,
        Err(field) => {
            tracing::warn!(hubspot.deal_id = %crm_id, field, "a hubspot deal did not map; skipped");
            return Ok(Synced::Failed);
        }
    };
    let pipeline = pipelines::load(pool, &mapped.pipeline)
        .await
        .map_err(SyncFailed::store)?;
    let Some(pipeline) = pipeline else {
        tracing::warn!(hubspot.deal_id = %crm_id, hubspot.pipeline_id = %mapped.pipeline.as_str(), "a hubspot deal's pipeline is not synced; skipped");
        return Ok(Synced::Failed);
    };
    let Some(target) = pipeline.stage(&mapped.stage).cloned() else {
        tracing::warn!(hubspot.deal_id = %crm_id, hubspot.stage_id = %mapped.stage.as_str(), "a hubspot deal's stage is not in its pipeline; skipped");
        return Ok(Synced::Failed);
    };
    let owner = owners
        .name_of(hubspot.owner_id())
        .await
        .map_err(SyncFailed::connector)?;
    let id = deal_id_for(&mapped.crm_id);
    let stored = history::state_at::<Deal>(pool, &id.to_string(), i64::MAX)
        .await
        .map_err(SyncFailed::store)?;
    let mut deal = DealSync {
        bus,
        meta,
        id,
        crm_id,
        pipeline: &pipeline,
        wrote: false,
    };
    let mut view = match stored.deal {
        Some(view) => view,
        None => {
            let start = if target.kind == StageKind::Open {
                target.id.clone()
            } else {
                pipeline.first_open_stage().id.clone()
            };
            let create = DealCommand::Create(Box::new(CreateDeal {
                id,
                name: mapped.name.clone(),
                pipeline: pipeline.clone(),
                stage: start,
                amount: mapped.amount,
                close_date: mapped.close_date,
                owner: owner.clone(),
                source: DealSource::Hubspot,
                crm_id: Some(mapped.crm_id.clone()),
                demo: false,
                by: meta.actor.clone(),
                at: now(),
            }));
            let Some(view) = deal.run(create).await? else {
                return Ok(Synced::Failed);
            };
            view
        }
    };
    let created = deal.wrote;
    if view.pipeline != mapped.pipeline {
        tracing::warn!(hubspot.deal_id = %crm_id, "a hubspot deal moved to another pipeline; CaseyOS cannot move it there; skipped");
        return Ok(Synced::Failed);
    }
    let wanted = DealStatus::of(target.kind);
    if !view.status.is_open() && view.status != wanted {
        let reopen = DealCommand::Reopen(Box::new(ReopenDeal {
            stage: (target.kind == StageKind::Open).then(|| target.id.clone()),
            pipeline: pipeline.clone(),
            by: meta.actor.clone(),
            at: now(),
        }));
        match deal.run(reopen).await? {
            Some(next) => view = next,
            None => return Ok(Synced::Failed),
        }
    }
    if view.status.is_open() {
        let by = || meta.actor.clone();
        let mut changes = Vec::new();
        if view.amount != mapped.amount {
            changes.push(DealCommand::ChangeAmount {
                amount: mapped.amount,
                by: by(),
                at: now(),
            });
        }
        if view.close_date != mapped.close_date {
            changes.push(DealCommand::ChangeCloseDate {
                close_date: mapped.close_date,
                by: by(),
                at: now(),
            });
        }
        if view.owner != owner.as_str() {
            changes.push(DealCommand::ChangeOwner {
                owner: owner.clone(),
                by: by(),
                at: now(),
            });
        }
        for change in changes {
            match deal.run(change).await? {
                Some(next) => view = next,
                None => return Ok(Synced::Failed),
            }
        }
    } else if differs_while_closed(&view, &mapped, &owner) {
        tracing::info!(hubspot.deal_id = %crm_id, deal.status = view.status.as_str(), "a closed deal's values differ from hubspot's; a closed deal keeps its numbers until reopened");
    }
    if view.stage.id != target.id {
        let lost = target.kind == StageKind::Lost;
        let mv = DealCommand::Move(Box::new(MoveDeal {
            stage: target.id.clone(),
            lost_reason: lost.then(|| mapped.lost_reason.clone()),
            pipeline: pipeline.clone(),
            by: meta.actor.clone(),
            at: now(),
        }));
        if deal.run(mv).await?.is_none() {
            return Ok(Synced::Failed);
        }
    }
    Ok(match (created, deal.wrote) {
        (true, _) => Synced::Created,
        (false, true) => Synced::Updated,
        (false, false) => Synced::Unchanged,
    })
}

/// Whether HubSpot has other numbers than a closed deal keeps.
fn differs_while_closed(view: &DealView, mapped: &Mapped, owner: &UserName) -> bool {
    view.amount != mapped.amount
        || view.close_date != mapped.close_date
        || view.owner != owner.as_str()
}

/// The commands of one deal, through the bus.
struct DealSync<'a> {
    bus: &'a CommandBus,
    meta: &'a CommandMeta,
    id: Uuid,
    crm_id: &'a str,
    pipeline: &'a Pipeline,
    /// Whether any command wrote events.
    wrote: bool,
}

impl DealSync<'_> {
    /// Executes one command: the deal after it, or `None` when the deal refused it (logged).
    async fn run(&mut self, command: DealCommand) -> Result<Option<DealView>, SyncFailed> {
        let name = Deal::command_name(&command);
        match self.bus.execute::<Deal>(self.id, command, self.meta).await {
            Ok(committed) => {
                self.wrote |= committed.events > 0;
                Ok(committed.state.deal)
            }
            Err(CommandError::Rejected(error)) => {
                tracing::warn!(
                    hubspot.deal_id = %self.crm_id,
                    hubspot.pipeline_id = %self.pipeline.id().as_str(),
                    deal.command = name,
                    error.code = error.code(),
                    "a hubspot deal change was refused"
                );
                Ok(None)
            }
            Err(error) => Err(SyncFailed::command(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use chrono::DateTime;

    use super::*;

    fn stage(id: &str, order: i64, probability: &str, closed: bool) -> HubSpotStage {
        HubSpotStage {
            id: id.into(),
            label: id.to_uppercase(),
            display_order: order,
            archived: false,
            probability: Some(probability.into()),
            is_closed: Some(closed),
        }
    }

    fn pipeline(stages: Vec<HubSpotStage>) -> HubSpotPipeline {
        HubSpotPipeline {
            id: "default".into(),
            label: "Sales".into(),
            display_order: 0,
            archived: false,
            stages,
        }
    }

    #[test]
    fn probabilities_are_whole_percent_half_up() {
        // (raw, percent)
        let table = [
            ("0.2", Some(20)),
            ("0.25", Some(25)),
            ("0.125", Some(13)),
            ("0.1249", Some(12)),
            ("1.0", Some(100)),
            ("1", Some(100)),
            ("0", Some(0)),
            (" 0.9 ", Some(90)),
            ("1.01", None),
            ("2", None),
            ("-0.2", None),
            (".5", None),
            ("0.x", None),
            ("", None),
        ];
        for (raw, percent) in table {
            assert_eq!(probability_percent(raw), percent, "{raw:?}");
        }
    }

    #[test]
    fn amounts_are_integer_minor_units_rounded_half_away_from_zero() {
        // (raw, minor)
        let table = [
            ("5000", Some(500_000)),
            ("1234.5", Some(123_450)),
            ("1234.56", Some(123_456)),
            ("0.005", Some(1)),
            ("0.004", Some(0)),
            ("-12.345", Some(-1_235)),
            ("+7", Some(700)),
            (".5", Some(50)),
            ("12.", Some(1_200)),
            ("1e3", None),
            ("12,000", None),
            ("", None),
            (".", None),
        ];
        for (raw, minor) in table {
            assert_eq!(minor_units(raw, Currency::Usd), minor, "{raw:?}");
        }
    }

    #[test]
    fn a_hubspot_pipeline_maps_in_display_order_with_won_and_lost_from_closed_stages() {
        let mut archived = stage("old", 1, "0.5", false);
        archived.archived = true;
        let mapped = map_pipeline(&pipeline(vec![
            stage("closedlost", 9, "0.0", true),
            stage("qualified", 2, "0.4", false),
            archived,
            stage("closedwon", 8, "1.0", true),
            stage("appointment", 1, "0.2", false),
        ]))
        .unwrap();
        let stages: Vec<(&str, u8, StageKind)> = mapped
            .stages()
            .iter()
            .map(|s| (s.id.as_str(), s.probability, s.kind))
            .collect();
        assert_eq!(
            stages,
            [
                ("appointment", 20, StageKind::Open),
                ("qualified", 40, StageKind::Open),
                ("closedwon", 100, StageKind::Won),
                ("closedlost", 0, StageKind::Lost),
            ]
        );
        assert_eq!(mapped.id().as_str(), "default");
        assert_eq!(mapped.label(), "Sales");
    }

    #[test]
    fn a_pipeline_that_cannot_be_one_of_ours_says_why() {
        // (stages, a word of the reason)
        let table = [
            (vec![stage("a", 1, "0.5", true)], "neither won"),
            (vec![stage("a", 1, "0.2", false)], "won"),
            (
                vec![
                    stage("a", 1, "0.2", false),
                    stage("w", 2, "1.0", true),
                    stage("l", 3, "0.0", true),
                    stage("a", 4, "0.3", false),
                ],
                "more than once",
            ),
            (vec![stage("a b", 1, "0.2", false)], "stage id"),
            (vec![stage("a", 1, "20%", false)], "probability"),
        ];
        for (stages, reason) in table {
            let error = map_pipeline(&pipeline(stages.clone())).unwrap_err();
            assert!(error.contains(reason), "{stages:?}: {error}");
        }
    }

    fn deal(properties: &[(&str, &str)]) -> HubSpotDeal {
        HubSpotDeal {
            id: CrmId::parse("9001").unwrap(),
            properties: properties
                .iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect::<BTreeMap<_, _>>(),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
            archived: false,
        }
    }

    #[test]
    fn a_hubspot_deal_maps_its_amount_close_date_and_reason() {
        let mapped = map_deal(&deal(&[
            ("dealname", " Acme renewal "),
            ("pipeline", "default"),
            ("dealstage", "closedlost"),
            ("amount", "12500.50"),
            ("deal_currency_code", "usd"),
            ("closedate", "2026-12-31T00:00:00Z"),
            ("closed_lost_reason", "Went with a competitor"),
        ]))
        .unwrap();
        assert_eq!(mapped.name.as_str(), "Acme renewal");
        assert_eq!(mapped.amount, Some(Money::usd(1_250_050)));
        assert_eq!(
            mapped.close_date,
            Some(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())
        );
        assert_eq!(mapped.lost_reason.as_str(), "Went with a competitor");

        let bare = map_deal(&deal(&[("pipeline", "default"), ("dealstage", "x")])).unwrap();
        assert_eq!(bare.name.as_str(), "HubSpot deal 9001");
        assert_eq!((bare.amount, bare.close_date), (None, None));
        assert_eq!(bare.lost_reason.as_str(), DEFAULT_LOST_REASON);
    }

    #[test]
    fn a_deal_that_does_not_map_names_the_property() {
        // (properties, property)
        let table: [(&[(&str, &str)], &str); 4] = [
            (&[("dealstage", "x")], "pipeline"),
            (&[("pipeline", "default")], "dealstage"),
            (
                &[
                    ("pipeline", "default"),
                    ("dealstage", "x"),
                    ("amount", "10"),
                    ("deal_currency_code", "EUR"),
                ],
                "deal_currency_code",
            ),
            (
                &[
                    ("pipeline", "default"),
                    ("dealstage", "x"),
                    ("amount", "ten"),
                ],
                "amount",
            ),
        ];
        for (properties, property) in table {
            assert_eq!(
                map_deal(&deal(properties)).err(),
                Some(property),
                "{properties:?}"
            );
        }
    }

    #[test]
    fn a_crm_id_always_makes_the_same_deal_id() {
        let id = CrmId::parse("9001").unwrap();
        assert_eq!(deal_id_for(&id), deal_id_for(&id));
        assert_ne!(
            deal_id_for(&id),
            deal_id_for(&CrmId::parse("9002").unwrap())
        );
    }
}
