//! APS inputs from a deal's data: a move about a deal takes its revenue input from the
//! deal's amount (the seed's tiers) and its urgency and strategic inputs from the deal's
//! stage and close date, with the reasons said in words. Where the deal has no data (no
//! amount), the input is left to the action type's default — which the move's reasoning
//! marks as a default.

use chrono::{DateTime, Utc};

use super::state::DealView;
use crate::queue::aps::{ApsOverrides, Fraction};

/// The seed's revenue tiers: at or above each amount (whole dollars), the revenue input
/// (thousandths); any positive amount below the last tier is 500.
pub const REVENUE_TIERS: [(i64, u16); 5] = [
    (100_000, 1000),
    (50_000, 900),
    (25_000, 800),
    (10_000, 700),
    (5_000, 600),
];
/// The revenue input of a positive amount below every tier.
pub const REVENUE_SMALL: u16 = 500;

/// The seed's urgency and strategic inputs (thousandths) of HubSpot's default stages.
pub const STAGE_INPUTS: [(&str, u16, u16); 5] = [
    ("appointmentscheduled", 900, 400),
    ("qualifiedtobuy", 800, 500),
    ("presentationscheduled", 850, 600),
    ("decisionmakerboughtin", 900, 800),
    ("contractsent", 950, 900),
];
/// Urgency when the close date has passed or is at most this many days away.
pub const CLOSING_SOON_DAYS: i64 = 7;
pub const URGENCY_CLOSING: u16 = 950;

/// The APS inputs a move about `deal` gets from its data, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealAps {
    pub overrides: ApsOverrides,
    /// One sentence per input taken from the deal (none for an input left to the default).
    pub reasons: Vec<String>,
}

impl DealAps {
    /// The reasons as one line for a move's rationale.
    pub fn explained(&self) -> String {
        self.reasons.join("; ")
    }
}

fn tier(minor_per_major: i64, minor: i64) -> Option<(u16, String)> {
    if minor <= 0 {
        return None;
    }
    let major = minor / minor_per_major.max(1);
    Some(
        REVENUE_TIERS
            .iter()
            .find(|(at_least, _)| major >= *at_least)
            .map(|(at_least, input)| (*input, format!("≥ ${at_least}")))
            .unwrap_or((REVENUE_SMALL, "under $5000".to_string())),
    )
}

/// The APS inputs of a move about `deal` at `now`.
pub fn deal_aps(deal: &DealView, now: DateTime<Utc>) -> DealAps {
    let mut overrides = ApsOverrides::default();
    let mut reasons = Vec::new();
    if let Some(amount) = deal.amount {
        if let Some((input, band)) = tier(amount.currency.minor_per_major(), amount.minor) {
            overrides.revenue = Some(Fraction::from_thousandths(input));
            reasons.push(format!(
                "revenue {} from the deal's amount {amount} (tier {band})",
                Fraction::from_thousandths(input).percent_label()
            ));
        }
    }
    if reasons.is_empty() {
        reasons.push("revenue: the deal has no amount, so the action type's default".into());
    }
    let stage = deal.stage.id.as_str();
    let (stage_urgency, strategic) = STAGE_INPUTS
        .iter()
        .find(|(id, _, _)| *id == stage)
        .map(|(_, urgency, strategic)| (*urgency, *strategic))
        // Stages of other pipelines: by probability, from 500 (0%) to 1000 (100%).
        .unwrap_or_else(|| {
            let p = u16::from(deal.probability());
            (500 + p * 5, 400 + p * 5)
        });
    let days_to_close = deal
        .close_date
        .map(|close| (close - now.date_naive()).num_days());
    let (urgency, why) = match days_to_close {
        Some(days) if days < 0 => (
            stage_urgency.max(URGENCY_CLOSING),
            format!("its close date passed {} days ago", -days),
        ),
        Some(days) if days <= CLOSING_SOON_DAYS => (
            stage_urgency.max(URGENCY_CLOSING),
            format!("it closes in {days} days"),
        ),
        _ => (stage_urgency, format!("its stage {}", deal.stage.label)),
    };
    overrides.urgency = Some(Fraction::from_thousandths(urgency));
    overrides.strategic = Some(Fraction::from_thousandths(strategic));
    reasons.push(format!(
        "urgency {} because {why}",
        Fraction::from_thousandths(urgency).percent_label()
    ));
    reasons.push(format!(
        "strategic {} from its stage {} ({}%)",
        Fraction::from_thousandths(strategic).percent_label(),
        deal.stage.label,
        deal.probability()
    ));
    DealAps { overrides, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deals::fixture;
    use crate::kernel::Money;

    #[test]
    fn revenue_follows_the_seeds_tiers_and_no_amount_is_left_to_the_default() {
        let table = [
            (Some(15_000_000), Some(1000)),
            (Some(10_000_000), Some(1000)),
            (Some(6_200_000), Some(900)),
            (Some(2_500_000), Some(800)),
            (Some(1_000_000), Some(700)),
            (Some(500_000), Some(600)),
            (Some(499_999), Some(500)),
            (Some(0), None),
            (None, None),
        ];
        for (minor, expected) in table {
            let mut deal = fixture::deal();
            deal.amount = minor.map(Money::usd);
            let aps = deal_aps(&deal, fixture::now());
            assert_eq!(
                aps.overrides.revenue.map(Fraction::thousandths),
                expected,
                "{minor:?}"
            );
            if expected.is_none() {
                assert!(aps.reasons[0].contains("default"), "{:?}", aps.reasons);
            }
        }
    }

    #[test]
    fn urgency_rises_as_the_close_date_nears_or_passes() {
        let now = fixture::now();
        let mut deal = fixture::deal();
        let stage = deal_aps(&deal, now)
            .overrides
            .urgency
            .unwrap()
            .thousandths();
        deal.close_date = Some(now.date_naive() + chrono::Duration::days(3));
        let soon = deal_aps(&deal, now);
        assert_eq!(
            soon.overrides.urgency.unwrap().thousandths(),
            stage.max(950)
        );
        assert!(
            soon.explained().contains("closes in 3 days"),
            "{}",
            soon.explained()
        );
        deal.close_date = Some(now.date_naive() - chrono::Duration::days(2));
        let late = deal_aps(&deal, now);
        assert!(late.explained().contains("passed 2 days ago"));
    }
}
