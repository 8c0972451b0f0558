//! Forecast periods: calendar months (`2026-11`) and fiscal quarters (`2026-Q4`), with the
//! fiscal year's first month as configuration.
//!
//! **Convention.** A fiscal year is named by the calendar year in which it *ends* (as most
//! companies do): with February as the first month, fiscal 2027 runs from 1 February 2026
//! to 31 January 2027, and its Q1 is February–April 2026. With January (the default) the
//! fiscal year is the calendar year. Months are always calendar months, named by their
//! calendar year. Dates are calendar dates; the caller decides their time zone (the
//! forecast takes a won or lost deal's day in UTC).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The fiscal year's first month when none is configured: January (the calendar year).
pub const DEFAULT_FISCAL_YEAR_START_MONTH: u32 = 1;
/// Months in a quarter.
pub const MONTHS_PER_QUARTER: u32 = 3;
/// The years a period may name (four digits).
pub const MIN_YEAR: i32 = 1000;
pub const MAX_YEAR: i32 = 9999;

/// Which month a fiscal year starts in; `is_default` says whether it was configured or is
/// [`DEFAULT_FISCAL_YEAR_START_MONTH`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FiscalCalendar {
    /// 1 (January) to 12 (December).
    first_month: u32,
    /// True when nobody configured it (the default, January).
    is_default: bool,
}

impl Default for FiscalCalendar {
    /// January, marked as the default.
    fn default() -> Self {
        FiscalCalendar {
            first_month: DEFAULT_FISCAL_YEAR_START_MONTH,
            is_default: true,
        }
    }
}

impl FiscalCalendar {
    /// A configured fiscal year starting in `first_month` (1–12).
    pub fn starting_in(first_month: u32) -> Result<Self, PeriodError> {
        if !(1..=12).contains(&first_month) {
            return Err(PeriodError::FiscalMonth(first_month));
        }
        Ok(FiscalCalendar {
            first_month,
            is_default: false,
        })
    }

    pub const fn first_month(&self) -> u32 {
        self.first_month
    }

    pub const fn is_default(&self) -> bool {
        self.is_default
    }

    /// Months since year 0 at which fiscal year `year` starts: it ends in calendar `year`,
    /// so unless it starts in January it starts in the calendar year before.
    fn fiscal_year_start(&self, year: i32) -> i64 {
        let shift = if self.first_month == 1 { 0 } else { 12 };
        i64::from(year) * 12 + i64::from(self.first_month) - 1 - shift
    }

    /// The fiscal year (named by the year it ends in) and quarter (1–4) a month is in.
    fn quarter_of(&self, absolute_month: i64) -> (i32, u32) {
        let shift = i64::from(self.first_month) - 1 - if self.first_month == 1 { 0 } else { 12 };
        let year = (absolute_month - shift).div_euclid(12);
        let into_year = absolute_month - self.fiscal_year_start(year as i32);
        (year as i32, (into_year / 3) as u32 + 1)
    }
}

/// Why a period (or a fiscal calendar) was refused. `code` is stable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("`{0}` is not a period: write a month as `2026-11` or a quarter as `2026-Q4`")]
    Invalid(String),
    #[error("a fiscal year starts in a month from 1 to 12, not {0}")]
    FiscalMonth(u32),
}

impl PeriodError {
    /// The stable error code.
    pub const fn code(&self) -> &'static str {
        match self {
            PeriodError::Invalid(_) => "invalid_period",
            PeriodError::FiscalMonth(_) => "invalid_fiscal_month",
        }
    }
}

/// Whether a period is a month or a quarter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
}

/// A forecast period. Its text form (`2026-11`, `2026-Q4`) is how it is written in URLs
/// and JSON; a quarter names its fiscal year, so its dates need a [`FiscalCalendar`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// A calendar month: year and month 1–12.
    Month { year: i32, month: u32 },
    /// A fiscal quarter: the fiscal year (named by the year it ends in) and quarter 1–4.
    Quarter { fiscal_year: i32, quarter: u32 },
}

/// The dates a period covers, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DateRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl DateRange {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.first <= date && date <= self.last
    }
}

fn absolute_month(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// The first day of a month counted from year 0 (January of year 0 is 0).
fn first_day(absolute_month: i64) -> NaiveDate {
    let year = absolute_month.div_euclid(12) as i32;
    let month = absolute_month.rem_euclid(12) as u32 + 1;
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
}

impl Period {
    /// A calendar month; `None` unless the month is 1–12 and the year has four digits.
    pub fn month(year: i32, month: u32) -> Option<Self> {
        ((MIN_YEAR..=MAX_YEAR).contains(&year) && (1..=12).contains(&month))
            .then_some(Period::Month { year, month })
    }

    /// A fiscal quarter; `None` unless the quarter is 1–4 and the year has four digits.
    pub fn quarter(fiscal_year: i32, quarter: u32) -> Option<Self> {
        ((MIN_YEAR..=MAX_YEAR).contains(&fiscal_year) && (1..=4).contains(&quarter)).then_some(
            Period::Quarter {
                fiscal_year,
                quarter,
            },
        )
    }

    /// Reads `YYYY-MM` or `YYYY-QN` (a capital or small `q`); nothing else.
    pub fn parse(raw: &str) -> Result<Self, PeriodError> {
        let invalid = || PeriodError::Invalid(raw.chars().take(32).collect());
        let (year, rest) = raw.split_once('-').ok_or_else(invalid)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let year: i32 = year.parse().map_err(|_| invalid())?;
        let period = if let Some(quarter) = rest.strip_prefix(['Q', 'q']) {
            if quarter.len() != 1 || !quarter.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            Period::quarter(year, quarter.parse().map_err(|_| invalid())?)
        } else {
            if rest.len() != 2 || !rest.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            Period::month(year, rest.parse().map_err(|_| invalid())?)
        };
        period.ok_or_else(invalid)
    }

    pub const fn kind(&self) -> PeriodKind {
        match self {
            Period::Month { .. } => PeriodKind::Month,
            Period::Quarter { .. } => PeriodKind::Quarter,
        }
    }

    /// The first month of the period, counted from January of year 0.
    fn start_month(&self, calendar: &FiscalCalendar) -> i64 {
        match *self {
            Period::Month { year, month } => i64::from(year) * 12 + i64::from(month) - 1,
            Period::Quarter {
                fiscal_year,
                quarter,
            } => {
                calendar.fiscal_year_start(fiscal_year)
                    + i64::from(quarter.saturating_sub(1) * MONTHS_PER_QUARTER)
            }
        }
    }

    fn months(&self) -> i64 {
        match self {
            Period::Month { .. } => 1,
            Period::Quarter { .. } => i64::from(MONTHS_PER_QUARTER),
        }
    }

    /// The dates the period covers under a fiscal calendar (a month's do not depend on it).
    pub fn range(&self, calendar: &FiscalCalendar) -> DateRange {
        let start = self.start_month(calendar);
        let first = first_day(start);
        let last = first_day(start + self.months())
            .pred_opt()
            .unwrap_or(NaiveDate::MIN);
        DateRange { first, last }
    }

    /// The period of this kind a date falls in.
    pub fn containing(date: NaiveDate, kind: PeriodKind, calendar: &FiscalCalendar) -> Self {
        match kind {
            PeriodKind::Month => Period::Month {
                year: date.year(),
                month: date.month(),
            },
            PeriodKind::Quarter => {
                let (fiscal_year, quarter) = calendar.quarter_of(absolute_month(date));
                Period::Quarter {
                    fiscal_year,
                    quarter,
                }
            }
        }
    }

    /// The period after this one (December → January, Q4 → Q1 of the next fiscal year).
    pub fn next(&self) -> Self {
        self.step(1)
    }

    /// The period before this one.
    pub fn previous(&self) -> Self {
        self.step(-1)
    }

    fn step(&self, by: i64) -> Self {
        match *self {
            Period::Month { year, month } => {
                let absolute = i64::from(year) * 12 + i64::from(month) - 1 + by;
                Period::Month {
                    year: absolute.div_euclid(12) as i32,
                    month: absolute.rem_euclid(12) as u32 + 1,
                }
            }
            Period::Quarter {
                fiscal_year,
                quarter,
            } => {
                let absolute = i64::from(fiscal_year) * 4 + i64::from(quarter) - 1 + by;
                Period::Quarter {
                    fiscal_year: absolute.div_euclid(4) as i32,
                    quarter: absolute.rem_euclid(4) as u32 + 1,
                }
            }
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Quarter {
                fiscal_year,
                quarter,
            } => write!(f, "{fiscal_year:04}-Q{quarter}"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Period::parse(raw)
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Period::parse(&raw).map_err(serde::de::Error::custom)
    }
}
