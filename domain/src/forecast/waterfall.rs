//! The change waterfall: how a forecast number of one period moved between two instants,
//! computed from the deal events, in Gong's vocabulary (new, pulled in, pushed in, pushed
//! out, pulled out, amount increased or decreased, won, lost, moved into or out of a
//! category, owner changed) plus reopened.
//!
//! **How.** Each deal's events are folded (with the deal aggregate's own `apply`) up to
//! `from` and up to `to`, and the two states compared: a deal *counts* at an instant when
//! it exists, is in the period (see [`super::rows`]), is in one of the scope's rows, is the
//! scope's owner's (when one is given) and is in the reporting currency; it counts with
//! its amount (0 without one). So the start and end totals are exactly what the forecast
//! rows showed at those instants, and `start + Σ movements = end` by construction.
//!
//! **One movement per deal.** A deal counted at both ends moves only by its amount change
//! (`amount_increased` / `amount_decreased`; category changes inside the scope move
//! nothing). A deal that enters or leaves is put under the first reason that holds, in
//! this order, and moves by its whole value at the end it is counted at (an amount change
//! on the way is part of that value, never a second movement):
//! 1. `new`: it did not exist at `from`;
//! 2. `won`, `lost`, `reopened`: its status changed (an outcome outranks everything);
//! 3. `owner_changed_in` / `owner_changed_out`: with an owner scope, its owner changed;
//! 4. `pulled_in` / `pushed_in` (its date was after / before the period or it had none)
//!    and `pushed_out` / `pulled_out` (its date is now after / before the period, or
//!    gone);
//! 5. `moved_into_category` / `moved_out_of_category`;
//! 6. otherwise (its currency changed) `amount_increased` / `amount_decreased`.
//!
//! **Instants.** Each event comes with the instant the caller positions it at: the
//! projection passes the recorded time, so a waterfall is the difference between the
//! forecasts "as of" its two instants. Events are given in log order.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::period::{DateRange, Period};
use super::rows::{Bucket, BucketKind, ForecastConfig, ForecastDeal};
use crate::aggregate::Aggregate;
use crate::deals::{Deal, DealEvent, DealStatus};
use crate::kernel::Money;

/// One deal event from the log, at the instant it is positioned at.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedDealEvent {
    pub at: DateTime<Utc>,
    pub deal: Uuid,
    pub event: DealEvent,
}

/// What the waterfall follows: the sum of some forecast rows, of everyone or of one
/// owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WaterfallScope {
    pub rows: Vec<BucketKind>,
    pub owner: Option<String>,
}

impl WaterfallScope {
    /// One row (`commit`, say) of everyone.
    pub fn row(kind: BucketKind) -> Self {
        WaterfallScope {
            rows: vec![kind],
            owner: None,
        }
    }

    /// What is forecast to close: closed won + commit + best case + pipeline.
    pub fn forecast() -> Self {
        WaterfallScope {
            rows: vec![
                BucketKind::ClosedWon,
                BucketKind::Commit,
                BucketKind::BestCase,
                BucketKind::Pipeline,
            ],
            owner: None,
        }
    }

    /// The same, of one owner.
    pub fn of_owner(self, owner: &str) -> Self {
        WaterfallScope {
            owner: Some(owner.to_string()),
            ..self
        }
    }
}

/// Why a deal entered or left the scope, or how its amount in it changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    New,
    Won,
    Lost,
    Reopened,
    OwnerChangedIn,
    OwnerChangedOut,
    PulledIn,
    PushedIn,
    PushedOut,
    PulledOut,
    MovedIntoCategory,
    MovedOutOfCategory,
    AmountIncreased,
    AmountDecreased,
}

/// One deal in a movement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedDeal {
    pub deal: Uuid,
    /// What it counted for at `from` (0 when it did not count).
    pub start: Money,
    /// What it counts for at `to`.
    pub end: Money,
    /// end − start.
    pub change: Money,
    /// Its events between the instants (`from` excluded, `to` included): positions in
    /// the list given.
    pub events: Vec<usize>,
}

/// One bar of the waterfall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    pub kind: MovementKind,
    /// Σ of its deals' changes.
    pub change: Money,
    pub deals: Vec<MovedDeal>,
}

/// How a number moved from `from` to `to`: `start.total + Σ movements = end.total`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waterfall {
    pub period: Period,
    pub range: DateRange,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub scope: WaterfallScope,
    pub config: ForecastConfig,
    pub start: Bucket,
    /// In [`MovementKind`] order; only movements with deals.
    pub movements: Vec<Movement>,
    pub end: Bucket,
}

/// Why a waterfall could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WaterfallError {
    #[error("the waterfall's start ({from}) is after its end ({to})")]
    Reversed {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

impl WaterfallError {
    pub const fn code(&self) -> &'static str {
        match self {
            WaterfallError::Reversed { .. } => "reversed_instants",
        }
    }
}

/// Every deal as it stood at `instant`: its events positioned at or before it, folded.
pub fn deals_as_of(events: &[LoggedDealEvent], instant: DateTime<Utc>) -> Vec<ForecastDeal> {
    by_deal(events)
        .values()
        .filter_map(|positions| fold(events, positions, instant))
        .collect()
}

fn by_deal(events: &[LoggedDealEvent]) -> BTreeMap<Uuid, Vec<usize>> {
    let mut by_deal: BTreeMap<Uuid, Vec<usize>> = BTreeMap::new();
    for (position, event) in events.iter().enumerate() {
        by_deal.entry(event.deal).or_default().push(position);
    }
    by_deal
}

fn fold(
    events: &[LoggedDealEvent],
    positions: &[usize],
    instant: DateTime<Utc>,
) -> Option<ForecastDeal> {
    let mut deal = Deal::default();
    for &position in positions {
        if events[position].at <= instant {
            deal.apply(events[position].event.clone());
        }
    }
    deal.view().map(ForecastDeal::from)
}

/// Where a deal stands against the scope at one instant.
struct Standing<'a> {
    deal: Option<&'a ForecastDeal>,
    counts: Option<i64>,
}

impl<'a> Standing<'a> {
    fn of(
        deal: Option<&'a ForecastDeal>,
        scope: &WaterfallScope,
        range: &DateRange,
        config: &ForecastConfig,
    ) -> Self {
        let counts = deal.and_then(|deal| {
            let in_scope = deal.in_range(range)
                && scope.rows.contains(&deal.bucket())
                && scope
                    .owner
                    .as_ref()
                    .is_none_or(|owner| *owner == deal.owner);
            in_scope.then(|| deal.minor_in(config.currency)).flatten()
        });
        Standing { deal, counts }
    }
}

/// Why a deal that did not count at `from` counts at `to` (`before` is its state at
/// `from`, if it existed; `after` its state at `to`).
fn entered(
    before: Option<&ForecastDeal>,
    after: &ForecastDeal,
    scope: &WaterfallScope,
    range: &DateRange,
) -> MovementKind {
    let Some(before) = before else {
        return MovementKind::New;
    };
    if let Some(kind) = status_change(before.status, after.status) {
        return kind;
    }
    if scope
        .owner
        .as_ref()
        .is_some_and(|owner| *owner != before.owner)
    {
        return MovementKind::OwnerChangedIn;
    }
    if !before.in_range(range) {
        return match before.forecast_date() {
            Some(date) if date < range.first => MovementKind::PushedIn,
            _ => MovementKind::PulledIn,
        };
    }
    if !scope.rows.contains(&before.bucket()) {
        return MovementKind::MovedIntoCategory;
    }
    MovementKind::AmountIncreased
}

/// Why a deal that counted at `from` does not count at `to`.
fn left(
    before: &ForecastDeal,
    after: &ForecastDeal,
    scope: &WaterfallScope,
    range: &DateRange,
) -> MovementKind {
    if let Some(kind) = status_change(before.status, after.status) {
        return kind;
    }
    if scope
        .owner
        .as_ref()
        .is_some_and(|owner| *owner != after.owner)
    {
        return MovementKind::OwnerChangedOut;
    }
    if !after.in_range(range) {
        return match after.forecast_date() {
            Some(date) if date < range.first => MovementKind::PulledOut,
            _ => MovementKind::PushedOut,
        };
    }
    if !scope.rows.contains(&after.bucket()) {
        return MovementKind::MovedOutOfCategory;
    }
    MovementKind::AmountDecreased
}

fn status_change(before: DealStatus, after: DealStatus) -> Option<MovementKind> {
    match (before, after) {
        (before, after) if before == after => None,
        (_, DealStatus::Won) => Some(MovementKind::Won),
        (_, DealStatus::Lost) => Some(MovementKind::Lost),
        (_, DealStatus::Open) => Some(MovementKind::Reopened),
    }
}

/// The waterfall of `scope` in `period` between `from` and `to`.
pub fn waterfall(
    events: &[LoggedDealEvent],
    period: Period,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    scope: WaterfallScope,
    config: &ForecastConfig,
) -> Result<Waterfall, WaterfallError> {
    if from > to {
        return Err(WaterfallError::Reversed { from, to });
    }
    let currency = config.currency;
    let range = period.range(&config.calendar);
    let money = |minor| Money::new(minor, currency);
    let mut start = Bucket {
        total: money(0),
        deals: Vec::new(),
    };
    let mut end = start.clone();
    let mut movements: BTreeMap<MovementKind, Movement> = BTreeMap::new();
    for (id, positions) in by_deal(events) {
        let before = fold(events, &positions, from);
        let after = fold(events, &positions, to);
        let was = Standing::of(before.as_ref(), &scope, &range, config);
        let is = Standing::of(after.as_ref(), &scope, &range, config);
        if let Some(minor) = was.counts {
            start.total.minor = start.total.minor.saturating_add(minor);
            start.deals.push(id);
        }
        if let Some(minor) = is.counts {
            end.total.minor = end.total.minor.saturating_add(minor);
            end.deals.push(id);
        }
        let kind = match (was.counts, is.counts, is.deal) {
            (None, None, _) | (_, _, None) => continue,
            (Some(old), Some(new), _) if old == new => continue,
            (Some(old), Some(new), _) if new > old => MovementKind::AmountIncreased,
            (Some(_), Some(_), _) => MovementKind::AmountDecreased,
            (None, Some(_), Some(after)) => entered(was.deal, after, &scope, &range),
            (Some(_), None, Some(after)) => match was.deal {
                Some(before) => left(before, after, &scope, &range),
                None => continue,
            },
        };
        let (old, new) = (was.counts.unwrap_or(0), is.counts.unwrap_or(0));
        let change = new.saturating_sub(old);
        let movement = movements.entry(kind).or_insert_with(|| Movement {
            kind,
            change: money(0),
            deals: Vec::new(),
        });
        movement.change.minor = movement.change.minor.saturating_add(change);
        movement.deals.push(MovedDeal {
            deal: id,
            start: money(old),
            end: money(new),
            change: money(change),
            events: positions
                .iter()
                .copied()
                .filter(|&position| events[position].at > from && events[position].at <= to)
                .collect(),
        });
    }
    Ok(Waterfall {
        period,
        range,
        from,
        to,
        scope,
        config: *config,
        start,
        movements: movements.into_values().collect(),
        end,
    })
}
