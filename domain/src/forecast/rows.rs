//! The forecast rows of one period, per owner and in total: closed won, commit, best case,
//! pipeline, omitted, weighted, quota, attainment and coverage — each with its deals, so
//! a UI can show how a number was reached.
//!
//! **Which deals are in a period.** An open deal by its close date; a won or lost deal by
//! the day (UTC) it was won or lost. Open deals without a close date are in no period and
//! are listed apart (`without_close_date`).
//!
//! **Currencies.** A forecast is in one reporting currency ([`ForecastConfig::currency`],
//! US dollars by default, marked as the default). Deals in another currency are never
//! converted or added: they are left out of every number and listed in `other_currency`.
//! A quota in another currency is refused.
//!
//! **Weighted.** Each deal's amount × its stage's probability / 100, rounded to the
//! nearest minor unit (halves away from zero); the total is the sum of those rounded
//! parts, so the parts shown always add up to it. Every deal in the period counts, whatever
//! its category: a won deal at its won stage's probability (100 in HubSpot's default), a
//! lost deal at its lost stage's (0): a closed-lost deal adds exactly 0 and is listed
//! with its 0, never read as unknown.
//!
//! **Attainment** is closed won / quota in basis points (10,000 = 100%), rounded down: an
//! owner is not at 100% until the quota is reached. **Coverage** is open forecast
//! (commit + best case + pipeline) / remaining quota (quota − closed won) in basis points
//! (30,000 = 3.0×), rounded down: the pipeline-coverage ratio forecasting tools show
//! against what is left to close. Omitted deals do not cover anything. Without a quota
//! both are `None` (not 0); with the quota already met there is nothing left to cover and
//! coverage's ratio is `None` while its parts are still shown.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::period::{DateRange, FiscalCalendar, Period};
use crate::deals::{DealStatus, DealView};
use crate::kernel::{Currency, Money};
use crate::pipelines::ForecastCategory;

/// Basis points in a whole (10,000 = 100% or 1.0×).
pub const BASIS_POINTS: i64 = 10_000;
/// The scale of a stage probability (whole percent).
pub const PERCENT: i64 = 100;

/// How forecasts are computed. `Default`: a January fiscal year and US dollars, both
/// marked as defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ForecastConfig {
    pub calendar: FiscalCalendar,
    /// The reporting currency: the only one summed.
    pub currency: Currency,
    /// True when the currency was not configured.
    pub currency_is_default: bool,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        ForecastConfig {
            calendar: FiscalCalendar::default(),
            currency: Currency::default(),
            currency_is_default: true,
        }
    }
}

/// What the forecast needs of a deal (built from a [`DealView`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForecastDeal {
    pub id: Uuid,
    pub owner: String,
    pub status: DealStatus,
    pub amount: Option<Money>,
    pub close_date: Option<NaiveDate>,
    /// The day (UTC) it was won or lost; `None` while open.
    pub closed_on: Option<NaiveDate>,
    /// Its stage's probability, whole percent.
    pub probability: u8,
    /// Its forecast category (explicit or auto, as the deal holds it).
    pub category: ForecastCategory,
}

impl From<&DealView> for ForecastDeal {
    fn from(deal: &DealView) -> Self {
        ForecastDeal {
            id: deal.id,
            owner: deal.owner.clone(),
            status: deal.status,
            amount: deal.amount,
            close_date: deal.close_date,
            closed_on: deal.closed_at.map(|at| at.date_naive()),
            probability: deal.probability(),
            category: deal.forecast_category,
        }
    }
}

impl ForecastDeal {
    /// The day that places it in a period: the day it was won or lost, else its close
    /// date.
    pub fn forecast_date(&self) -> Option<NaiveDate> {
        if self.status.is_open() {
            self.close_date
        } else {
            self.closed_on.or(self.close_date)
        }
    }

    pub fn in_range(&self, range: &DateRange) -> bool {
        self.forecast_date()
            .is_some_and(|date| range.contains(date))
    }

    /// Its amount in minor units of `currency`: 0 without an amount, `None` in another
    /// currency.
    pub fn minor_in(&self, currency: Currency) -> Option<i64> {
        match self.amount {
            None => Some(0),
            Some(money) if money.currency == currency => Some(money.minor),
            Some(_) => None,
        }
    }

    /// Where it counts: closed won, closed lost, or its (open) category.
    pub fn bucket(&self) -> BucketKind {
        match self.status {
            DealStatus::Won => BucketKind::ClosedWon,
            DealStatus::Lost => BucketKind::ClosedLost,
            DealStatus::Open => match self.category {
                ForecastCategory::Commit => BucketKind::Commit,
                ForecastCategory::BestCase => BucketKind::BestCase,
                ForecastCategory::Pipeline => BucketKind::Pipeline,
                // An open deal is never closed won; should one say so, it is not
                // forecast.
                ForecastCategory::Omitted | ForecastCategory::ClosedWon => BucketKind::Omitted,
            },
        }
    }
}

/// The rows a deal can count in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BucketKind {
    ClosedWon,
    Commit,
    BestCase,
    Pipeline,
    Omitted,
    ClosedLost,
}

/// A quota: what an owner should close in a period. Only a quota for exactly the
/// forecast's period counts (a quarter's quota is not the sum of its months').
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    pub owner: String,
    pub period: Period,
    pub amount: Money,
}

/// A sum with the deals in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Bucket {
    pub total: Money,
    pub deals: Vec<Uuid>,
}

impl Bucket {
    fn empty(currency: Currency) -> Self {
        Bucket {
            total: Money::new(0, currency),
            deals: Vec::new(),
        }
    }

    fn add(&mut self, deal: Uuid, minor: i64) {
        self.total.minor = self.total.minor.saturating_add(minor);
        self.deals.push(deal);
    }
}

/// One deal's part of the weighted total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct WeightedPart {
    pub deal: Uuid,
    pub amount: Money,
    pub probability: u8,
    /// amount × probability / 100, rounded to the nearest minor unit (halves away from
    /// zero).
    pub weighted: Money,
}

/// Σ amount × stage probability / 100, with each deal's part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Weighted {
    pub total: Money,
    pub parts: Vec<WeightedPart>,
}

/// Closed won against quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Attainment {
    pub closed_won: Money,
    pub quota: Money,
    /// closed won × 10,000 / quota, rounded down (10,000 = 100%).
    pub basis_points: i64,
}

/// Open forecast against what is left of the quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Coverage {
    /// commit + best case + pipeline.
    pub open: Money,
    /// quota − closed won.
    pub remaining: Money,
    /// open × 10,000 / remaining, rounded down (10,000 = 1.0×); `None` when nothing
    /// remains (the quota is met).
    pub basis_points: Option<i64>,
}

/// One forecast row (an owner's or the total).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ForecastRow {
    pub closed_won: Bucket,
    pub commit: Bucket,
    pub best_case: Bucket,
    pub pipeline: Bucket,
    pub omitted: Bucket,
    /// Lost in the period: no number uses it; shown so a lost deal's 0 is visible.
    pub closed_lost: Bucket,
    pub weighted: Weighted,
    /// `None` when no quota was given (never 0 for "unknown").
    pub quota: Option<Money>,
    /// `None` without a positive quota.
    pub attainment: Option<Attainment>,
    /// `None` without a positive quota.
    pub coverage: Option<Coverage>,
}

impl ForecastRow {
    fn empty(currency: Currency) -> Self {
        ForecastRow {
            closed_won: Bucket::empty(currency),
            commit: Bucket::empty(currency),
            best_case: Bucket::empty(currency),
            pipeline: Bucket::empty(currency),
            omitted: Bucket::empty(currency),
            closed_lost: Bucket::empty(currency),
            weighted: Weighted {
                total: Money::new(0, currency),
                parts: Vec::new(),
            },
            quota: None,
            attainment: None,
            coverage: None,
        }
    }

    pub fn bucket(&self, kind: BucketKind) -> &Bucket {
        match kind {
            BucketKind::ClosedWon => &self.closed_won,
            BucketKind::Commit => &self.commit,
            BucketKind::BestCase => &self.best_case,
            BucketKind::Pipeline => &self.pipeline,
            BucketKind::Omitted => &self.omitted,
            BucketKind::ClosedLost => &self.closed_lost,
        }
    }

    fn bucket_mut(&mut self, kind: BucketKind) -> &mut Bucket {
        match kind {
            BucketKind::ClosedWon => &mut self.closed_won,
            BucketKind::Commit => &mut self.commit,
            BucketKind::BestCase => &mut self.best_case,
            BucketKind::Pipeline => &mut self.pipeline,
            BucketKind::Omitted => &mut self.omitted,
            BucketKind::ClosedLost => &mut self.closed_lost,
        }
    }

    fn add(&mut self, deal: &ForecastDeal, minor: i64, currency: Currency) {
        self.bucket_mut(deal.bucket()).add(deal.id, minor);
        let weighted = weighted_minor(minor, deal.probability);
        self.weighted.total.minor = self.weighted.total.minor.saturating_add(weighted);
        self.weighted.parts.push(WeightedPart {
            deal: deal.id,
            amount: Money::new(minor, currency),
            probability: deal.probability,
            weighted: Money::new(weighted, currency),
        });
    }

    fn set_quota(&mut self, quota: Option<Money>) {
        self.quota = quota;
        let Some(quota) = quota.filter(|quota| quota.minor > 0) else {
            return;
        };
        let closed_won = self.closed_won.total;
        self.attainment = Some(Attainment {
            closed_won,
            quota,
            basis_points: ratio_basis_points(closed_won.minor, quota.minor),
        });
        let open = self
            .commit
            .total
            .minor
            .saturating_add(self.best_case.total.minor)
            .saturating_add(self.pipeline.total.minor);
        let remaining = quota.minor.saturating_sub(closed_won.minor);
        self.coverage = Some(Coverage {
            open: Money::new(open, quota.currency),
            remaining: Money::new(remaining, quota.currency),
            basis_points: (remaining > 0).then(|| ratio_basis_points(open, remaining)),
        });
    }
}

/// An owner's row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct OwnerRow {
    pub owner: String,
    #[serde(flatten)]
    pub row: ForecastRow,
}

/// The forecast of one period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forecast {
    pub period: Period,
    pub range: DateRange,
    pub config: ForecastConfig,
    pub total: ForecastRow,
    /// By owner name.
    pub owners: Vec<OwnerRow>,
    /// Owners with deals in the period but no quota for it.
    pub quota_missing_for: Vec<String>,
    /// Deals in the period without an amount (counted with 0).
    pub without_amount: Vec<Uuid>,
    /// Deals in the period in another currency (in no number).
    pub other_currency: Vec<Uuid>,
    /// Open deals without a close date (in no period).
    pub without_close_date: Vec<Uuid>,
}

/// Why a forecast could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ForecastError {
    #[error(
        "the quota of {owner} for {period} is in {currency:?}, not the forecast's {expected:?}"
    )]
    QuotaCurrency {
        owner: String,
        period: Period,
        currency: Currency,
        expected: Currency,
    },
    #[error("{owner} has more than one quota for {period}")]
    DuplicateQuota { owner: String, period: Period },
}

impl ForecastError {
    pub const fn code(&self) -> &'static str {
        match self {
            ForecastError::QuotaCurrency { .. } => "quota_currency",
            ForecastError::DuplicateQuota { .. } => "duplicate_quota",
        }
    }
}

/// amount × probability / 100 in minor units, halves rounded away from zero.
pub fn weighted_minor(amount_minor: i64, probability: u8) -> i64 {
    let product = i128::from(amount_minor) * i128::from(probability);
    let half = i128::from(PERCENT / 2) * product.signum();
    clamp((product + half) / i128::from(PERCENT))
}

/// part × 10,000 / whole, rounded down; `whole` must be positive.
fn ratio_basis_points(part: i64, whole: i64) -> i64 {
    clamp((i128::from(part) * i128::from(BASIS_POINTS)).div_euclid(i128::from(whole)))
}

fn clamp(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

/// The quotas of one period by owner, checked.
fn quotas_for(
    quotas: &[Quota],
    period: Period,
    currency: Currency,
) -> Result<BTreeMap<&str, Money>, ForecastError> {
    let mut by_owner = BTreeMap::new();
    for quota in quotas.iter().filter(|quota| quota.period == period) {
        if quota.amount.currency != currency {
            return Err(ForecastError::QuotaCurrency {
                owner: quota.owner.clone(),
                period,
                currency: quota.amount.currency,
                expected: currency,
            });
        }
        if by_owner
            .insert(quota.owner.as_str(), quota.amount)
            .is_some()
        {
            return Err(ForecastError::DuplicateQuota {
                owner: quota.owner.clone(),
                period,
            });
        }
    }
    Ok(by_owner)
}

/// The forecast of `period`: each owner's row (owners with a deal in the period or a
/// quota for it) and the total. The total's quota is the sum of the owners' quotas
/// (`None` when there are none); `quota_missing_for` names owners it leaves out.
pub fn forecast(
    deals: &[ForecastDeal],
    quotas: &[Quota],
    period: Period,
    config: &ForecastConfig,
) -> Result<Forecast, ForecastError> {
    let currency = config.currency;
    let range = period.range(&config.calendar);
    let quotas = quotas_for(quotas, period, currency)?;
    let mut total = ForecastRow::empty(currency);
    let mut owners: BTreeMap<&str, ForecastRow> = quotas
        .keys()
        .map(|owner| (*owner, ForecastRow::empty(currency)))
        .collect();
    let (mut without_amount, mut other_currency, mut without_close_date) =
        (Vec::new(), Vec::new(), Vec::new());
    for deal in deals {
        if deal.forecast_date().is_none() {
            without_close_date.push(deal.id);
            continue;
        }
        if !deal.in_range(&range) {
            continue;
        }
        let Some(minor) = deal.minor_in(currency) else {
            other_currency.push(deal.id);
            continue;
        };
        if deal.amount.is_none() {
            without_amount.push(deal.id);
        }
        total.add(deal, minor, currency);
        owners
            .entry(deal.owner.as_str())
            .or_insert_with(|| ForecastRow::empty(currency))
            .add(deal, minor, currency);
    }
    let mut quota_missing_for = Vec::new();
    let owners = owners
        .into_iter()
        .map(|(owner, mut row)| {
            let quota = quotas.get(owner).copied();
            if quota.is_none() {
                quota_missing_for.push(owner.to_string());
            }
            row.set_quota(quota);
            OwnerRow {
                owner: owner.to_string(),
                row,
            }
        })
        .collect();
    let team_quota = (!quotas.is_empty()).then(|| {
        Money::new(
            quotas
                .values()
                .fold(0i64, |sum, quota| sum.saturating_add(quota.minor)),
            currency,
        )
    });
    total.set_quota(team_quota);
    Ok(Forecast {
        period,
        range,
        config: *config,
        total,
        owners,
        quota_missing_for,
        without_amount,
        other_currency,
        without_close_date,
    })
}
