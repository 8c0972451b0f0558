//! Decide and apply: `created → (moved | changed | logged)* → won | lost ⇄ reopened`. Both
//! are pure: time, actor and the deal's pipeline come in with the command. Every command is
//! safe to retry: repeating one that already took effect decides no events (checked before
//! any rule of state, so a retry never fails where the first try succeeded).
//!
//! A won or lost deal keeps its numbers: moving it, or changing its amount, close date,
//! owner, next step or forecast category, is refused until it is reopened. Activities and
//! contacts are records of what happened and can be added to a closed deal.

use chrono::{DateTime, Utc};

use super::command::*;
use super::error::DealError;
use super::event::*;
use super::state::{Deal, DealView, RECENT_ACTIVITIES_KEPT};
use super::types::{ActivityCounts, ActivityStamp, DealStatus};
use crate::aggregate::{Aggregate, Ownership};
use crate::kernel::{Actor, CrmId, Money, Text};
use crate::pipelines::{
    auto_category, effective_category, ForecastChoice, Pipeline, Stage, StageKind,
};

/// Longest deal name, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest lost reason, next step or activity summary, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;

fn stage_of<'p>(pipeline: &'p Pipeline, id: &CrmId) -> Result<&'p Stage, DealError> {
    pipeline
        .stage(id)
        .ok_or_else(|| DealError::UnknownStage(id.as_str().to_string()))
}

fn check_amount(amount: &Option<Money>) -> Result<(), DealError> {
    match amount {
        Some(money) if money.minor < 0 => Err(DealError::invalid("amount", "must not be negative")),
        _ => Ok(()),
    }
}

fn check_pipeline(deal: &DealView, pipeline: &Pipeline) -> Result<(), DealError> {
    if pipeline.id() == &deal.pipeline {
        Ok(())
    } else {
        Err(DealError::PipelineMismatch)
    }
}

/// The events of moving `deal` to `to`: the stage change, then won or lost when `to` is a
/// won or lost stage.
fn moved(
    deal: &DealView,
    pipeline: &Pipeline,
    to: &Stage,
    lost_reason: Option<Text>,
    by: Actor,
    at: DateTime<Utc>,
) -> Result<Vec<DealEvent>, DealError> {
    if deal.stage.id == to.id {
        // Already there: a retry, unless it asks to lose for another reason.
        let other_reason = lost_reason
            .as_ref()
            .is_some_and(|r| deal.lost_reason.as_deref() != Some(r.as_str()));
        return if deal.status == DealStatus::Lost && other_reason {
            Err(DealError::Closed(deal.status))
        } else {
            Ok(Vec::new())
        };
    }
    if !deal.status.is_open() {
        return Err(DealError::Closed(deal.status));
    }
    let reason = match to.kind {
        StageKind::Lost => Some(lost_reason.ok_or(DealError::LostReasonRequired)?),
        _ => None,
    };
    let mut events = vec![stage_changed(deal, pipeline, to, by.clone(), at)];
    match (to.kind, reason) {
        (StageKind::Won, _) => events.push(DealEvent::DealWon(DealWon {
            stage: to.id.clone(),
            by,
            at,
        })),
        (StageKind::Lost, Some(reason)) => events.push(DealEvent::DealLost(DealLost {
            stage: to.id.clone(),
            reason: reason.into_string(),
            by,
            at,
        })),
        _ => {}
    }
    Ok(events)
}

fn reopened(deal: &DealView, command: ReopenDeal) -> Result<Vec<DealEvent>, DealError> {
    let ReopenDeal {
        stage,
        pipeline,
        by,
        at,
    } = command;
    check_pipeline(deal, &pipeline)?;
    if deal.status.is_open() {
        return Ok(Vec::new());
    }
    let to = match &stage {
        Some(id) => stage_of(&pipeline, id)?,
        None => pipeline
            .stage(&deal.last_open_stage)
            .filter(|s| s.kind == StageKind::Open)
            .unwrap_or_else(|| pipeline.first_open_stage()),
    };
    if to.kind != StageKind::Open {
        return Err(DealError::StageNotOpen(to.id.as_str().to_string()));
    }
    Ok(vec![
        DealEvent::DealReopened(DealReopened { by: by.clone(), at }),
        stage_changed(deal, &pipeline, to, by, at),
    ])
}

impl Deal {
    fn current(&self) -> Result<&DealView, DealError> {
        self.deal.as_ref().ok_or(DealError::NotFound)
    }

    /// The deal, if its numbers may change: open.
    fn changeable(&self) -> Result<&DealView, DealError> {
        let deal = self.current()?;
        if deal.status.is_open() {
            Ok(deal)
        } else {
            Err(DealError::Closed(deal.status))
        }
    }
}

impl Aggregate for Deal {
    const TYPE: &'static str = "deal";
    const EVENT_VERSION: &'static str = DEAL_EVENT_VERSION;
    type Command = DealCommand;
    type Event = DealEvent;
    type Error = DealError;
    type View = DealView;

    fn command_name(command: &DealCommand) -> &'static str {
        match command {
            DealCommand::Create(_) => "create",
            DealCommand::Move(_) => "move",
            DealCommand::Win(_) => "win",
            DealCommand::Lose(_) => "lose",
            DealCommand::Reopen(_) => "reopen",
            DealCommand::ChangeAmount { .. } => "change_amount",
            DealCommand::ChangeCloseDate { .. } => "change_close_date",
            DealCommand::ChangeOwner { .. } => "change_owner",
            DealCommand::AssociateContacts { .. } => "associate_contacts",
            DealCommand::LogActivity(_) => "log_activity",
            DealCommand::SetNextStep { .. } => "set_next_step",
            DealCommand::SetForecastCategory { .. } => "set_forecast_category",
        }
    }

    fn event_name(event: &DealEvent) -> &'static str {
        event.name()
    }

    fn view(&self) -> Option<&DealView> {
        self.deal.as_ref()
    }

    fn into_view(self) -> Option<DealView> {
        self.deal
    }

    /// A deal is its owner's; others learn it is someone else's.
    fn ownership(&self) -> Option<Ownership> {
        self.deal.as_ref().map(|deal| Ownership {
            owner: Actor::user(deal.owner.clone()),
            disclosed: true,
        })
    }

    fn decide(&self, command: DealCommand) -> Result<Vec<DealEvent>, DealError> {
        let event = match command {
            DealCommand::Create(create) => {
                if self.deal.is_some() {
                    return Err(DealError::AlreadyExists);
                }
                let create = *create;
                let stage = stage_of(&create.pipeline, &create.stage)?;
                if stage.kind != StageKind::Open {
                    return Err(DealError::StageNotOpen(stage.id.as_str().to_string()));
                }
                check_amount(&create.amount)?;
                DealEvent::DealCreated(Box::new(DealCreated {
                    deal_id: create.id,
                    name: create.name.into_string(),
                    pipeline: create.pipeline.id().clone(),
                    stage: stage.clone(),
                    amount: create.amount,
                    close_date: create.close_date,
                    owner: create.owner.into_string(),
                    forecast_category: auto_category(stage.kind, stage.probability),
                    source: create.source,
                    crm_id: create.crm_id,
                    demo: create.demo,
                    by: create.by,
                    at: create.at,
                }))
            }
            DealCommand::Move(command) => {
                let deal = self.current()?;
                let MoveDeal {
                    stage,
                    lost_reason,
                    pipeline,
                    by,
                    at,
                } = *command;
                check_pipeline(deal, &pipeline)?;
                let to = stage_of(&pipeline, &stage)?;
                return moved(deal, &pipeline, to, lost_reason, by, at);
            }
            DealCommand::Win(command) => {
                let deal = self.current()?;
                check_pipeline(deal, &command.pipeline)?;
                let to = command.pipeline.won_stage();
                if deal.status == DealStatus::Won {
                    return Ok(Vec::new());
                }
                return moved(deal, &command.pipeline, to, None, command.by, command.at);
            }
            DealCommand::Lose(command) => {
                let deal = self.current()?;
                let LoseDeal {
                    reason,
                    pipeline,
                    by,
                    at,
                } = *command;
                check_pipeline(deal, &pipeline)?;
                if deal.status == DealStatus::Lost {
                    return if deal.lost_reason.as_deref() == Some(reason.as_str()) {
                        Ok(Vec::new())
                    } else {
                        Err(DealError::Closed(deal.status))
                    };
                }
                return moved(deal, &pipeline, pipeline.lost_stage(), Some(reason), by, at);
            }
            DealCommand::Reopen(command) => return reopened(self.current()?, *command),
            DealCommand::ChangeAmount { amount, by, at } => {
                if self.current()?.amount == amount {
                    return Ok(Vec::new());
                }
                let deal = self.changeable()?;
                check_amount(&amount)?;
                DealEvent::DealAmountChanged(DealAmountChanged {
                    old: deal.amount,
                    new: amount,
                    by,
                    at,
                })
            }
            DealCommand::ChangeCloseDate { close_date, by, at } => {
                if self.current()?.close_date == close_date {
                    return Ok(Vec::new());
                }
                let deal = self.changeable()?;
                let pushed =
                    matches!((deal.close_date, close_date), (Some(old), Some(new)) if new > old);
                DealEvent::DealCloseDateChanged(DealCloseDateChanged {
                    old: deal.close_date,
                    new: close_date,
                    pushed,
                    by,
                    at,
                })
            }
            DealCommand::ChangeOwner { owner, by, at } => {
                if self.current()?.owner == owner.as_str() {
                    return Ok(Vec::new());
                }
                let deal = self.changeable()?;
                DealEvent::DealOwnerChanged(DealOwnerChanged {
                    old: deal.owner.clone(),
                    new: owner.into_string(),
                    by,
                    at,
                })
            }
            DealCommand::AssociateContacts { contacts, by, at } => {
                let deal = self.current()?;
                if contacts.is_empty() {
                    return Err(DealError::invalid(
                        "contacts",
                        "must name at least one contact",
                    ));
                }
                let mut new = Vec::new();
                for contact in contacts {
                    if !deal.contacts.contains(&contact) && !new.contains(&contact) {
                        new.push(contact);
                    }
                }
                if new.is_empty() {
                    return Ok(Vec::new());
                }
                DealEvent::DealContactsAssociated(DealContactsAssociated {
                    contacts: new,
                    by,
                    at,
                })
            }
            DealCommand::LogActivity(log) => {
                self.current()?;
                if self.activity_ids.contains(&log.activity_id) {
                    return Ok(Vec::new());
                }
                if log.happened_at > log.at {
                    return Err(DealError::invalid(
                        "happened_at",
                        "must not be later than the time it is recorded",
                    ));
                }
                DealEvent::DealActivityLogged(DealActivityLogged {
                    activity_id: log.activity_id,
                    kind: log.kind,
                    happened_at: log.happened_at,
                    summary: log.summary.map(Text::into_string),
                    by: log.by,
                    at: log.at,
                })
            }
            DealCommand::SetNextStep { next_step, by, at } => {
                let next_step = next_step.map(Text::into_string);
                if self.current()?.next_step == next_step {
                    return Ok(Vec::new());
                }
                self.changeable()?;
                DealEvent::DealNextStepSet(DealNextStepSet { next_step, by, at })
            }
            DealCommand::SetForecastCategory { choice, by, at } => {
                if self.current()?.forecast_choice == choice {
                    return Ok(Vec::new());
                }
                let deal = self.changeable()?;
                DealEvent::DealForecastCategorySet(DealForecastCategorySet {
                    choice,
                    old: deal.forecast_category,
                    new: effective_category(
                        deal.stage.kind,
                        deal.stage.probability,
                        choice.explicit(),
                    ),
                    by,
                    at,
                })
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: DealEvent) {
        if let DealEvent::DealCreated(created) = event {
            let created = *created;
            self.deal = Some(DealView {
                id: created.deal_id,
                name: created.name,
                pipeline: created.pipeline,
                last_open_stage: created.stage.id.clone(),
                status: DealStatus::of(created.stage.kind),
                stage: created.stage,
                stage_entered_at: created.at,
                amount: created.amount,
                peak_amount: created.amount,
                close_date: created.close_date,
                close_date_pushes: 0,
                owner: created.owner,
                contacts: Vec::new(),
                activity_counts: ActivityCounts::default(),
                last_activity_at: None,
                recent_activities: Vec::new(),
                next_step: None,
                next_step_set_at: None,
                forecast_category: created.forecast_category,
                forecast_choice: ForecastChoice::Auto,
                forecast_category_explicit: false,
                lost_reason: None,
                closed_at: None,
                source: created.source,
                crm_id: created.crm_id,
                demo: created.demo,
                created_by: created.by,
                created_at: created.at,
                updated_at: created.at,
                version: 1,
            });
            return;
        }
        let Some(deal) = self.deal.as_mut() else {
            return;
        };
        deal.version += 1;
        match event {
            DealEvent::DealCreated(_) => {}
            DealEvent::DealStageChanged(e) => {
                let e = *e;
                if e.to.kind == StageKind::Open {
                    deal.last_open_stage = e.to.id.clone();
                }
                deal.forecast_category_explicit =
                    e.to.kind == StageKind::Open && deal.forecast_choice != ForecastChoice::Auto;
                deal.forecast_category = e.forecast_category;
                deal.stage = e.to;
                deal.stage_entered_at = e.at;
                deal.updated_at = e.at;
            }
            DealEvent::DealAmountChanged(e) => {
                deal.amount = e.new;
                deal.peak_amount = raise_peak(deal.peak_amount, e.new);
                deal.updated_at = e.at;
            }
            DealEvent::DealCloseDateChanged(e) => {
                deal.close_date = e.new;
                if e.pushed {
                    deal.close_date_pushes = deal.close_date_pushes.saturating_add(1);
                }
                deal.updated_at = e.at;
            }
            DealEvent::DealOwnerChanged(e) => {
                deal.owner = e.new;
                deal.updated_at = e.at;
            }
            DealEvent::DealContactsAssociated(e) => {
                deal.contacts.extend(e.contacts);
                deal.updated_at = e.at;
            }
            DealEvent::DealActivityLogged(e) => {
                self.activity_ids.insert(e.activity_id);
                deal.activity_counts.add(e.kind);
                if deal
                    .last_activity_at
                    .is_none_or(|last| e.happened_at > last)
                {
                    deal.last_activity_at = Some(e.happened_at);
                }
                keep_recent(
                    &mut deal.recent_activities,
                    ActivityStamp {
                        kind: e.kind,
                        happened_at: e.happened_at,
                    },
                );
                deal.updated_at = e.at;
            }
            DealEvent::DealNextStepSet(e) => {
                deal.next_step = e.next_step;
                deal.next_step_set_at = Some(e.at);
                deal.updated_at = e.at;
            }
            DealEvent::DealForecastCategorySet(e) => {
                deal.forecast_choice = e.choice;
                deal.forecast_category = e.new;
                deal.forecast_category_explicit = e.choice != ForecastChoice::Auto;
                deal.updated_at = e.at;
            }
            DealEvent::DealWon(e) => {
                deal.status = DealStatus::Won;
                deal.closed_at = Some(e.at);
                deal.forecast_category_explicit = false;
                deal.updated_at = e.at;
            }
            DealEvent::DealLost(e) => {
                deal.status = DealStatus::Lost;
                deal.lost_reason = Some(e.reason);
                deal.closed_at = Some(e.at);
                deal.forecast_category_explicit = false;
                deal.updated_at = e.at;
            }
            DealEvent::DealReopened(e) => {
                deal.status = DealStatus::Open;
                deal.lost_reason = None;
                deal.closed_at = None;
                deal.updated_at = e.at;
            }
        }
    }
}

/// The largest amount so far after a change to `new`: a larger amount of the same currency
/// raises it, another currency starts again, a cleared amount leaves it.
fn raise_peak(peak: Option<Money>, new: Option<Money>) -> Option<Money> {
    match (peak, new) {
        (Some(peak), Some(new)) if peak.currency == new.currency => Some(peak.max(new)),
        (peak, None) => peak,
        (_, new) => new,
    }
}

/// Inserts an activity into the newest-first list, keeping [`RECENT_ACTIVITIES_KEPT`].
fn keep_recent(recent: &mut Vec<ActivityStamp>, stamp: ActivityStamp) {
    let at = recent.partition_point(|s| s.happened_at >= stamp.happened_at);
    if at < RECENT_ACTIVITIES_KEPT {
        recent.insert(at, stamp);
        recent.truncate(RECENT_ACTIVITIES_KEPT);
    }
}

/// The deal moving to `to` (a stage of `pipeline`): its direction by the stage order, and
/// the forecast category that follows (a person's choice stays).
fn stage_changed(
    deal: &DealView,
    pipeline: &Pipeline,
    to: &Stage,
    by: Actor,
    at: DateTime<Utc>,
) -> DealEvent {
    DealEvent::DealStageChanged(Box::new(DealStageChanged {
        from: deal.stage.clone(),
        to: to.clone(),
        direction: pipeline.direction(&deal.stage.id, &to.id),
        forecast_category: effective_category(
            to.kind,
            to.probability,
            deal.forecast_choice.explicit(),
        ),
        by,
        at,
    }))
}
