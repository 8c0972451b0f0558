//! The forecast arithmetic of issue 12, pure: periods (months and fiscal quarters), the
//! forecast rows of a period per owner and in total, and the change waterfall between two
//! instants computed from deal events. Read models and the API build on these; nothing
//! here reads a clock or a store.
//!
//! - [`period`]: `2026-11`, `2026-Q4`, the fiscal year's first month, date ranges.
//! - [`rows`]: closed won, commit, best case, pipeline, omitted, weighted, quota,
//!   attainment, coverage — with their deals and parts.
//! - [`waterfall`]: new, pulled in, pushed out, amount up or down, won, lost, … — each
//!   movement with its deals and their events.

pub mod period;
pub mod rows;
pub mod waterfall;

#[cfg(test)]
mod tests;

pub use period::{
    DateRange, FiscalCalendar, Period, PeriodError, PeriodKind, DEFAULT_FISCAL_YEAR_START_MONTH,
};
pub use rows::{
    forecast, weighted_minor, Attainment, Bucket, BucketKind, Coverage, Forecast, ForecastConfig,
    ForecastDeal, ForecastError, ForecastRow, OwnerRow, Quota, Weighted, WeightedPart,
    BASIS_POINTS,
};
pub use waterfall::{
    deals_as_of, waterfall, LoggedDealEvent, MovedDeal, Movement, MovementKind, Waterfall,
    WaterfallError, WaterfallScope,
};
