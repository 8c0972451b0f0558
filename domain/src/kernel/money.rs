//! Money: integer minor units of a currency. Never `f64`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The currencies CaseyOS prices in.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub enum Currency {
    /// US dollars (2 decimals).
    #[default]
    #[serde(rename = "USD")]
    Usd,
}

impl Currency {
    /// The ISO 4217 code, as money is written in JSON (`USD`).
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
        }
    }

    pub const fn symbol(self) -> &'static str {
        match self {
            Currency::Usd => "$",
        }
    }

    /// How many minor units make one major unit (100 cents to the dollar).
    pub const fn minor_per_major(self) -> i64 {
        match self {
            Currency::Usd => 100,
        }
    }
}

/// An amount in minor units (cents) of a currency.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Money {
    #[serde(deserialize_with = "super::whole::whole")]
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub const fn usd(minor: i64) -> Self {
        Money::new(minor, Currency::Usd)
    }

    /// The total of `amounts` (minor units), held at `i64`'s bounds rather than overflowing:
    /// amounts come from requests, each up to `i64::MAX`.
    pub fn total_minor(amounts: impl IntoIterator<Item = i64>) -> i64 {
        amounts.into_iter().fold(0, i64::saturating_add)
    }
}

/// `$12,345.00`; negative amounts as `-$12.00`.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let per = self.currency.minor_per_major().unsigned_abs();
        let major = (abs / per).to_string();
        let mut grouped = String::new();
        for (i, digit) in major.chars().enumerate() {
            if i > 0 && (major.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        write!(
            f,
            "{sign}{}{grouped}.{:02}",
            self.currency.symbol(),
            abs % per
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn totals_hold_at_the_bounds_instead_of_overflowing() {
        assert_eq!(Money::total_minor([1, 2, 3]), 6);
        assert_eq!(Money::total_minor([]), 0);
        assert_eq!(Money::total_minor([i64::MAX, 1]), i64::MAX);
        assert_eq!(Money::total_minor([i64::MIN, -1]), i64::MIN);
    }

    use super::*;

    #[test]
    fn money_formats_with_grouping_sign_and_cents() {
        let table = [
            (0, "$0.00"),
            (5, "$0.05"),
            (123_456, "$1,234.56"),
            (100_000_000, "$1,000,000.00"),
            (-1_200, "-$12.00"),
        ];
        for (minor, text) in table {
            assert_eq!(Money::usd(minor).to_string(), text, "{minor}");
        }
    }
}
