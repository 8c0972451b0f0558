//! The forecast read model: a period's forecast per owner and in total, and its change
//! waterfall between two instants.
//!
//! Now, it is computed from the `deals` and `quotas` read models; as of an instant, from
//! the log folded up to that instant's position with the same folds the projectors run
//! (`Aggregate::apply`), so "as of" and "a rebuild stopped there" are the same thing. Both
//! go through one [`compute`]: the arithmetic is the domain's (`forecast::forecast`).

use std::collections::{BTreeSet, HashMap};

use caseyos_domain::aggregate::Aggregate;
use caseyos_domain::api::{
    ChangeEvent, ChangeRow, ChangedDeal, ForecastChangesResponse, ForecastDealRef, ForecastResponse,
};
use caseyos_domain::deals::{Deal, DealView};
use caseyos_domain::forecast::{
    forecast, waterfall, Forecast, ForecastConfig, ForecastDeal, ForecastError, LoggedDealEvent,
    Period, Quota as QuotaRow, WaterfallError, WaterfallScope,
};
use caseyos_domain::quotas::{Quota, QuotaView};
use caseyos_store::log::{of_type_upto, position_as_of, Logged};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{deals, quotas};

/// The read models a forecast now reads.
pub const FORECAST_VIEWS: &[&str] = &["deals", "quotas"];

/// Why a forecast or waterfall could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum ForecastQueryError {
    #[error(transparent)]
    Forecast(#[from] ForecastError),
    #[error(transparent)]
    Waterfall(#[from] WaterfallError),
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

impl From<caseyos_store::StoreError> for ForecastQueryError {
    fn from(error: caseyos_store::StoreError) -> Self {
        ForecastQueryError::Store(error.into())
    }
}

impl From<sqlx::Error> for ForecastQueryError {
    fn from(error: sqlx::Error) -> Self {
        ForecastQueryError::Store(error.into())
    }
}

/// What a forecast is asked for.
#[derive(Clone, Debug)]
pub struct ForecastQuery {
    pub period: Period,
    /// One owner's forecast, or everyone's.
    pub owner: Option<String>,
    pub config: ForecastConfig,
}

/// What the forecast reads of a deal, and how it names the deal.
pub type ForecastInput = (ForecastDeal, ForecastDealRef);

/// The forecast inputs of deal views (the log folded: time travel).
pub fn inputs(deals: &[DealView]) -> Vec<ForecastInput> {
    deals
        .iter()
        .map(|d| {
            (
                ForecastDeal::from(d),
                ForecastDealRef {
                    id: d.id,
                    name: d.name.clone(),
                    owner: d.owner.clone(),
                    stage: d.stage.label.clone(),
                    status: d.status,
                    amount: d.amount,
                    close_date: d.close_date,
                },
            )
        })
        .collect()
}

/// The forecast of `deals` and `quotas` (of the query's owner when it names one).
pub fn compute(
    query: &ForecastQuery,
    deals: &[ForecastInput],
    quotas: &[QuotaView],
    as_of: DateTime<Utc>,
    position: i64,
) -> Result<ForecastResponse, ForecastError> {
    let mine = |owner: &str| query.owner.as_deref().is_none_or(|o| o == owner);
    let mut rows: Vec<ForecastDeal> = deals
        .iter()
        .filter(|(d, _)| mine(&d.owner))
        .map(|(d, _)| d.clone())
        .collect();
    // By id, whatever order the deals were read or folded in: the same deals give the same
    // answer, down to the order of each number's deals.
    rows.sort_by_key(|d| d.id);
    let quotas: Vec<QuotaRow> = quotas
        .iter()
        .filter(|q| q.period == query.period && mine(&q.owner))
        .map(|q| QuotaRow {
            owner: q.owner.clone(),
            period: q.period,
            amount: q.amount,
        })
        .collect();
    let Forecast {
        period,
        range,
        config,
        total,
        owners,
        quota_missing_for,
        without_amount,
        other_currency,
        without_close_date,
    } = forecast(&rows, &quotas, query.period, &query.config)?;
    let mut named = BTreeSet::new();
    for row in std::iter::once(&total).chain(owners.iter().map(|o| &o.row)) {
        for bucket in [
            &row.closed_won,
            &row.commit,
            &row.best_case,
            &row.pipeline,
            &row.omitted,
            &row.closed_lost,
        ] {
            named.extend(bucket.deals.iter().copied());
        }
    }
    named.extend(
        without_amount
            .iter()
            .chain(&other_currency)
            .chain(&without_close_date),
    );
    Ok(ForecastResponse {
        period,
        range,
        as_of,
        position,
        config,
        total,
        owners,
        quota_missing_for,
        without_amount,
        other_currency,
        without_close_date,
        deals: refs(deals.iter().map(|(_, r)| r), &named),
    })
}

/// The references among `deals` whose ids are in `named`, by id.
fn refs<'a>(
    deals: impl Iterator<Item = &'a ForecastDealRef>,
    named: &BTreeSet<Uuid>,
) -> Vec<ForecastDealRef> {
    let mut refs: Vec<ForecastDealRef> = deals.filter(|d| named.contains(&d.id)).cloned().collect();
    refs.sort_by_key(|r| r.id);
    refs
}

/// The forecast now, from the read models, at the position the deals read model has
/// applied.
pub async fn now(
    pool: &PgPool,
    query: &ForecastQuery,
    now: DateTime<Utc>,
) -> Result<ForecastResponse, ForecastQueryError> {
    let range = query.period.range(&query.config.calendar);
    let position = crate::runner::checkpoints(pool, FORECAST_VIEWS)
        .await?
        .iter()
        .map(|c| c.position)
        .min()
        .unwrap_or(0);
    let deals = deals::in_forecast(pool, &range).await?;
    let quotas = quotas::list(pool, Some(query.period), query.owner.as_deref()).await?;
    Ok(compute(query, &deals, &quotas, now, position)?)
}

/// Every aggregate of `A` as it stood at log position `upto`, by id, and the log it was
/// folded from.
pub async fn fold_upto<A: Aggregate>(
    pool: &PgPool,
    upto: i64,
) -> Result<(HashMap<String, A>, Vec<Logged<A::Event>>), caseyos_store::StoreError>
where
    A::Event: Clone,
{
    let log = of_type_upto::<A>(pool, upto).await?;
    let mut states: HashMap<String, A> = HashMap::new();
    for logged in &log {
        states
            .entry(logged.aggregate_id.clone())
            .or_default()
            .apply(logged.event.clone());
    }
    Ok((states, log))
}

/// Every deal as it stood at log position `upto`.
pub async fn deals_at(
    pool: &PgPool,
    upto: i64,
) -> Result<(Vec<DealView>, Vec<Logged<<Deal as Aggregate>::Event>>), caseyos_store::StoreError> {
    let (states, log) = fold_upto::<Deal>(pool, upto).await?;
    Ok((states.into_values().filter_map(|d| d.deal).collect(), log))
}

/// The forecast as it stood at `at`: the log folded up to the position of the last event
/// recorded at or before it.
pub async fn as_of(
    pool: &PgPool,
    query: &ForecastQuery,
    at: DateTime<Utc>,
) -> Result<ForecastResponse, ForecastQueryError> {
    let position = position_as_of(pool, at).await?;
    let (deals, _) = deals_at(pool, position).await?;
    let (quotas, _) = fold_upto::<Quota>(pool, position).await?;
    let quotas: Vec<QuotaView> = quotas.into_values().filter_map(|q| q.quota).collect();
    Ok(compute(query, &inputs(&deals), &quotas, at, position)?)
}

/// How the forecast (or the rows `scope` names) moved from `from` to `to`, from the
/// deals' events, with each row's deals and the events that moved them.
pub async fn changes(
    pool: &PgPool,
    query: &ForecastQuery,
    scope: WaterfallScope,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<ForecastChangesResponse, ForecastQueryError> {
    if from > to {
        return Err(WaterfallError::Reversed { from, to }.into());
    }
    let from_position = position_as_of(pool, from).await?;
    let to_position = position_as_of(pool, to).await?;
    let (deals, log) = deals_at(pool, to_position).await?;
    let logged: Vec<LoggedDealEvent> = log
        .iter()
        .filter_map(|e| {
            Some(LoggedDealEvent {
                at: e.recorded_at,
                deal: e.aggregate_id.parse().ok()?,
                event: e.event.clone(),
            })
        })
        .collect();
    let scope = match &query.owner {
        Some(owner) => scope.of_owner(owner),
        None => scope,
    };
    let result = waterfall(&logged, query.period, from, to, scope, &query.config)?;
    let mut named: BTreeSet<Uuid> = result.start.deals.iter().copied().collect();
    named.extend(result.end.deals.iter().copied());
    let mut cited = BTreeSet::new();
    let movements = result
        .movements
        .into_iter()
        .map(|m| ChangeRow {
            kind: m.kind,
            change: m.change,
            deals: m
                .deals
                .into_iter()
                .map(|d| {
                    named.insert(d.deal);
                    let events: Vec<i64> = d
                        .events
                        .iter()
                        .filter_map(|&i| log.get(i).map(|e| e.position))
                        .collect();
                    cited.extend(d.events.iter().copied());
                    ChangedDeal {
                        deal: d.deal,
                        start: d.start,
                        end: d.end,
                        change: d.change,
                        events,
                    }
                })
                .collect(),
        })
        .collect();
    let events = cited
        .into_iter()
        .filter_map(|i| log.get(i))
        .filter_map(|e| {
            Some(ChangeEvent {
                position: e.position,
                deal: e.aggregate_id.parse().ok()?,
                event_type: e.event_type.clone(),
                recorded_at: e.recorded_at,
                actor: e.actor.clone(),
            })
        })
        .collect();
    Ok(ForecastChangesResponse {
        period: result.period,
        range: result.range,
        from,
        to,
        from_position,
        to_position,
        scope: result.scope,
        config: result.config,
        start: result.start,
        movements,
        end: result.end,
        events,
        deals: refs(inputs(&deals).iter().map(|(_, r)| r), &named),
    })
}
