//! PricingCalculator: prices services from the price book, with complexity and discounts.
//!
//! Money is integer cents (`i64`), rounded half-up to the cent. How the seed's price book is
//! read here:
//! - Hourly services (strategy, implementation): hours below the minimum are raised to it,
//!   and the price is `max(base fee, hours × rate)`.
//! - A retainer is its tier's monthly price × months (1–36); an audit is a flat fee;
//!   training is days × the day rate.
//! - The complexity multiplier scales every service line's unit price (basis points).
//! - Discounts are percentages of the subtotal, added (not compounded) and capped at
//!   [`MAX_COMBINED_DISCOUNT_PERCENT`]; the quote says when the cap applies.
//!
//! [`quote`] is the pure rule set ProposalGenerator reuses.

use std::ops::RangeInclusive;

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
pub use caseyos_domain::kernel::Currency;
use caseyos_domain::kernel::Money;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::schema::{self, InputSchema};
use crate::{field_error, AgentError, Ctx, Outcome};

pub const NAME: &str = "PricingCalculator";
pub const DOMAIN: AgentDomain = AgentDomain::Contracts;
pub const DESCRIPTION: &str =
    "Prices strategy, implementation, retainer, audit and training work from the price book, with complexity and capped discounts.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// Whole dollars in cents, so the price book reads in dollars.
pub const fn dollars(amount: i64) -> i64 {
    amount * 100
}

/// An hourly service's price: at least `base_minor`, else hours × rate, hours at least
/// `min_hours`.
#[derive(Clone, Copy, Debug)]
pub struct HourlyPrice {
    pub base_minor: i64,
    pub rate_minor: i64,
    pub min_hours: u32,
}

pub const STRATEGY: HourlyPrice = HourlyPrice {
    base_minor: dollars(8_000),
    rate_minor: dollars(250),
    min_hours: 30,
};
pub const IMPLEMENTATION: HourlyPrice = HourlyPrice {
    base_minor: dollars(15_000),
    rate_minor: dollars(175),
    min_hours: 80,
};
/// Retainer tiers: hours a month and the monthly price.
pub const RETAINER_TIERS: &[(u32, i64)] = &[
    (20, dollars(5_000)),
    (40, dollars(8_500)),
    (60, dollars(12_000)),
];
pub const RETAINER_MONTHS: RangeInclusive<u32> = 1..=36;
pub const AUDIT_MINOR: i64 = dollars(4_000);
pub const TRAINING_DAY_MINOR: i64 = dollars(2_500);
pub const TRAINING_DAYS: RangeInclusive<u32> = 1..=60;
/// Hours accepted for one hourly service line.
pub const HOURS: RangeInclusive<u32> = 1..=5_000;
pub const MAX_SERVICES: usize = 20;
/// Subtotal thresholds for the volume discount, highest first.
pub const VOLUME_DISCOUNTS: &[(i64, u8)] = &[
    (dollars(100_000), 15),
    (dollars(50_000), 10),
    (dollars(25_000), 5),
];
/// Whole years as a client for the loyalty discount, highest first.
pub const LOYALTY_DISCOUNTS: &[(u32, u8)] = &[(3, 15), (2, 10), (1, 5)];
pub const REFERRAL_STANDARD_PERCENT: u8 = 5;
pub const REFERRAL_PARTNER_PERCENT: u8 = 10;
/// Days from the quote to signature for the early-signing discount, shortest first.
pub const EARLY_SIGNING_DISCOUNTS: &[(u32, u8)] = &[(7, 10), (14, 5)];
/// Strategic-account tiers and their discount.
pub const STRATEGIC_DISCOUNTS: &[(u8, u8)] = &[(1, 10), (2, 5)];
pub const MAX_COMBINED_DISCOUNT_PERCENT: u8 = 25;
pub const MAX_YEARS_AS_CLIENT: u32 = 100;
pub const MAX_SIGNED_WITHIN_DAYS: u32 = 365;
/// The multiplier's scale: 10,000 basis points is ×1.
const BASIS_POINTS: i64 = 10_000;

/// A service from the price book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    /// $8,000 minimum, $250/hour, at least 30 hours.
    Strategy,
    /// $15,000 minimum, $175/hour, at least 80 hours.
    Implementation,
    /// 20 h/$5,000, 40 h/$8,500 or 60 h/$12,000 a month.
    Retainer,
    /// $4,000 flat.
    Audit,
    /// $2,500 a day.
    Training,
}

impl Service {
    pub const fn label(self) -> &'static str {
        match self {
            Service::Strategy => "Strategy",
            Service::Implementation => "Implementation",
            Service::Retainer => "Retainer",
            Service::Audit => "Audit",
            Service::Training => "Training",
        }
    }
}

/// One service to price.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    #[schema(inline)]
    pub service: Service,
    /// Strategy and implementation: hours (raised to the service's minimum; the minimum
    /// when absent).
    #[serde(default)]
    pub hours: Option<u32>,
    /// Training: days (1–60).
    #[serde(default)]
    pub days: Option<u32>,
    /// Retainer: the tier, as hours a month (20, 40 or 60).
    #[serde(default)]
    pub tier: Option<u32>,
    /// Retainer: months (1–36).
    #[serde(default)]
    pub months: Option<u32>,
}

/// How demanding the work is; scales every service line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Complexity {
    /// ×0.8
    Simple,
    /// ×1.0
    #[default]
    Standard,
    /// ×1.3
    Complex,
    /// ×1.6
    Enterprise,
}

impl Complexity {
    /// The multiplier in basis points (10,000 = ×1).
    pub const fn basis_points(self) -> i64 {
        match self {
            Complexity::Simple => 8_000,
            Complexity::Standard => 10_000,
            Complexity::Complex => 13_000,
            Complexity::Enterprise => 16_000,
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            Complexity::Simple => "simple",
            Complexity::Standard => "standard",
            Complexity::Complex => "complex",
            Complexity::Enterprise => "enterprise",
        }
    }

    /// `×1.3`.
    pub fn multiplier_label(self) -> String {
        let bp = self.basis_points();
        let tenths = bp / 1_000;
        format!("×{}.{}", tenths / 10, tenths % 10)
    }
}

/// Who referred the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Referral {
    /// A client or contact: 5%.
    Standard,
    /// A partner: 10%.
    Partner,
}

/// What to price: the services and what the discounts depend on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuoteRequest {
    pub services: Vec<ServiceRequest>,
    pub complexity: Complexity,
    pub years_as_client: Option<u32>,
    pub referral: Option<Referral>,
    pub signed_within_days: Option<u32>,
    pub strategic_tier: Option<u8>,
    pub currency: Currency,
}

/// One priced line: `quantity × unit_price_minor = amount_minor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineItem {
    pub service: Service,
    pub description: String,
    pub quantity: u32,
    pub unit: &'static str,
    pub unit_price_minor: i64,
    pub amount_minor: i64,
    pub unit_price: String,
    pub amount: String,
}

/// The kinds of discount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountKind {
    Volume,
    Loyalty,
    Referral,
    EarlySigning,
    Strategic,
}

/// One discount, as a share of the subtotal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Discount {
    pub kind: DiscountKind,
    pub name: String,
    pub percent: u8,
    pub amount_minor: i64,
    pub amount: String,
}

/// A priced quote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Quote {
    pub currency: Currency,
    pub complexity: Complexity,
    /// `×1.3`.
    pub complexity_multiplier: String,
    pub lines: Vec<LineItem>,
    pub subtotal_minor: i64,
    pub discounts: Vec<Discount>,
    /// The discounts' percentages added up, before the cap.
    pub discount_percent: u8,
    /// Whether [`MAX_COMBINED_DISCOUNT_PERCENT`] limited the discount.
    pub discount_capped: bool,
    pub total_discount_minor: i64,
    pub total_minor: i64,
    pub subtotal: String,
    pub total_discount: String,
    pub total: String,
    /// What a reader should know: minimums applied, the cap.
    pub notes: Vec<String>,
}

/// `$12,345.00`; negative amounts as `-$12.00`.
fn format_usd(minor: i64) -> String {
    Money::usd(minor).to_string()
}

/// `value × numerator / denominator`, rounded half-up (for non-negative values).
fn scale_half_up(value: i64, numerator: i64, denominator: i64) -> i64 {
    (value * numerator + denominator / 2) / denominator
}

/// A unit price scaled by a complexity multiplier, rounded half-up to the cent.
pub fn apply_multiplier(unit_minor: i64, basis_points: i64) -> i64 {
    scale_half_up(unit_minor, basis_points, BASIS_POINTS)
}

/// `percent` of `amount_minor`, rounded half-up to the cent.
pub fn percent_of(amount_minor: i64, percent: u8) -> i64 {
    scale_half_up(amount_minor, i64::from(percent), 100)
}

/// A line before the complexity multiplier.
struct ListLine {
    description: String,
    quantity: u32,
    unit: &'static str,
    unit_minor: i64,
}

/// Prices a request, or names every field that stops it.
pub fn quote(request: &QuoteRequest) -> Result<Quote, Vec<FieldError>> {
    let mut errors = Vec::new();
    if request.services.is_empty() {
        errors.push(field_error("services", "must list at least one service"));
    }
    if request.services.len() > MAX_SERVICES {
        errors.push(field_error(
            "services",
            format!("must list at most {MAX_SERVICES} services"),
        ));
    }
    let mut notes = Vec::new();
    let mut list_lines = Vec::new();
    for (i, line) in request.services.iter().enumerate() {
        match price_line(line, &format!("services[{i}]"), &mut notes) {
            Ok(priced) => list_lines.push((line.service, priced)),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if request
        .years_as_client
        .is_some_and(|y| y > MAX_YEARS_AS_CLIENT)
    {
        errors.push(field_error(
            "years_as_client",
            format!("must be at most {MAX_YEARS_AS_CLIENT}"),
        ));
    }
    if request
        .signed_within_days
        .is_some_and(|d| d > MAX_SIGNED_WITHIN_DAYS)
    {
        errors.push(field_error(
            "signed_within_days",
            format!("must be at most {MAX_SIGNED_WITHIN_DAYS}"),
        ));
    }
    if let Some(tier) = request.strategic_tier {
        if !STRATEGIC_DISCOUNTS.iter().any(|(t, _)| *t == tier) {
            errors.push(field_error("strategic_tier", "must be 1 or 2"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let bp = request.complexity.basis_points();
    let adjusted = request.complexity != Complexity::Standard;
    let lines: Vec<LineItem> = list_lines
        .into_iter()
        .map(|(service, line)| {
            let unit_price_minor = apply_multiplier(line.unit_minor, bp);
            let amount_minor = unit_price_minor * i64::from(line.quantity);
            let description = if adjusted {
                format!(
                    "{} ({}, {})",
                    line.description,
                    request.complexity.label(),
                    request.complexity.multiplier_label()
                )
            } else {
                line.description
            };
            LineItem {
                service,
                description,
                quantity: line.quantity,
                unit: line.unit,
                unit_price_minor,
                amount_minor,
                unit_price: format_usd(unit_price_minor),
                amount: format_usd(amount_minor),
            }
        })
        .collect();
    let subtotal_minor: i64 = lines.iter().map(|l| l.amount_minor).sum();

    let discounts: Vec<Discount> = discount_rates(request, subtotal_minor)
        .into_iter()
        .map(|(kind, name, percent)| {
            let amount_minor = percent_of(subtotal_minor, percent);
            Discount {
                kind,
                name,
                percent,
                amount_minor,
                amount: format_usd(amount_minor),
            }
        })
        .collect();
    let discount_percent: u8 = discounts.iter().map(|d| d.percent).sum();
    let discount_capped = discount_percent > MAX_COMBINED_DISCOUNT_PERCENT;
    let total_discount_minor = if discount_capped {
        notes.push(format!(
            "Discounts add up to {discount_percent}%; the combined discount is capped at {MAX_COMBINED_DISCOUNT_PERCENT}%."
        ));
        percent_of(subtotal_minor, MAX_COMBINED_DISCOUNT_PERCENT)
    } else {
        discounts.iter().map(|d| d.amount_minor).sum()
    };
    let total_minor = subtotal_minor - total_discount_minor;
    Ok(Quote {
        currency: request.currency,
        complexity: request.complexity,
        complexity_multiplier: request.complexity.multiplier_label(),
        lines,
        subtotal_minor,
        discounts,
        discount_percent,
        discount_capped,
        total_discount_minor,
        total_minor,
        subtotal: format_usd(subtotal_minor),
        total_discount: format_usd(total_discount_minor),
        total: format_usd(total_minor),
        notes,
    })
}

/// A service line at list price, or the errors in its fields (`at` is its path).
fn price_line(
    line: &ServiceRequest,
    at: &str,
    notes: &mut Vec<String>,
) -> Result<ListLine, Vec<FieldError>> {
    let mut errors = Vec::new();
    let label = line.service.label();
    let used: &[&str] = match line.service {
        Service::Strategy | Service::Implementation => &["hours"],
        Service::Retainer => &["tier", "months"],
        Service::Audit => &[],
        Service::Training => &["days"],
    };
    for (name, present) in [
        ("hours", line.hours.is_some()),
        ("days", line.days.is_some()),
        ("tier", line.tier.is_some()),
        ("months", line.months.is_some()),
    ] {
        if present && !used.contains(&name) {
            errors.push(field_error(
                &format!("{at}.{name}"),
                format!("is not used for {}", label.to_lowercase()),
            ));
        }
    }
    let priced = match line.service {
        Service::Strategy | Service::Implementation => {
            let price = if line.service == Service::Strategy {
                STRATEGY
            } else {
                IMPLEMENTATION
            };
            match line.hours {
                Some(h) if !HOURS.contains(&h) => {
                    errors.push(field_error(
                        &format!("{at}.hours"),
                        format!("must be {}–{}", HOURS.start(), HOURS.end()),
                    ));
                    None
                }
                hours => Some(hourly_line(label, price, hours, notes)),
            }
        }
        Service::Retainer => {
            let tier = match line.tier {
                None => {
                    errors.push(field_error(
                        &format!("{at}.tier"),
                        "is required for a retainer (20, 40 or 60 hours a month)",
                    ));
                    None
                }
                Some(t) => {
                    let found = RETAINER_TIERS.iter().find(|(hours, _)| *hours == t);
                    if found.is_none() {
                        errors.push(field_error(
                            &format!("{at}.tier"),
                            "must be 20, 40 or 60 hours a month",
                        ));
                    }
                    found
                }
            };
            let months = match line.months {
                Some(m) if RETAINER_MONTHS.contains(&m) => Some(m),
                Some(_) | None => {
                    errors.push(field_error(
                        &format!("{at}.months"),
                        format!(
                            "is required for a retainer: {}–{} months",
                            RETAINER_MONTHS.start(),
                            RETAINER_MONTHS.end()
                        ),
                    ));
                    None
                }
            };
            tier.zip(months).map(|((hours, monthly), months)| ListLine {
                description: format!("Retainer: {hours} hours a month for {months} months"),
                quantity: months,
                unit: "month",
                unit_minor: *monthly,
            })
        }
        Service::Audit => Some(ListLine {
            description: "Audit (flat fee)".into(),
            quantity: 1,
            unit: "audit",
            unit_minor: AUDIT_MINOR,
        }),
        Service::Training => match line.days {
            Some(d) if TRAINING_DAYS.contains(&d) => Some(ListLine {
                description: format!("Training: {d} day{}", if d == 1 { "" } else { "s" }),
                quantity: d,
                unit: "day",
                unit_minor: TRAINING_DAY_MINOR,
            }),
            Some(_) | None => {
                errors.push(field_error(
                    &format!("{at}.days"),
                    format!(
                        "is required for training: {}–{} days",
                        TRAINING_DAYS.start(),
                        TRAINING_DAYS.end()
                    ),
                ));
                None
            }
        },
    };
    match priced {
        Some(line) if errors.is_empty() => Ok(line),
        _ => Err(errors),
    }
}

/// Hours as billed: the minimum when absent or below it.
fn raised_to_minimum(hours: Option<u32>, price: HourlyPrice) -> u32 {
    hours.unwrap_or(price.min_hours).max(price.min_hours)
}

/// The hours an hourly service line is billed for (none for other services).
pub fn billed_hours(line: &ServiceRequest) -> Option<u32> {
    match line.service {
        Service::Strategy => Some(raised_to_minimum(line.hours, STRATEGY)),
        Service::Implementation => Some(raised_to_minimum(line.hours, IMPLEMENTATION)),
        Service::Retainer | Service::Audit | Service::Training => None,
    }
}

/// An hourly line: hours raised to the minimum, and the base fee when hours × rate is less.
fn hourly_line(
    label: &str,
    price: HourlyPrice,
    hours: Option<u32>,
    notes: &mut Vec<String>,
) -> ListLine {
    let billed = raised_to_minimum(hours, price);
    match hours {
        None => notes.push(format!(
            "{label} hours not given; priced at the {}-hour minimum.",
            price.min_hours
        )),
        Some(h) if h < price.min_hours => notes.push(format!(
            "{label} hours raised from {h} to the {}-hour minimum.",
            price.min_hours
        )),
        Some(_) => {}
    }
    if i64::from(billed) * price.rate_minor >= price.base_minor {
        ListLine {
            description: format!(
                "{label}: {billed} hours at {}/hour",
                format_usd(price.rate_minor)
            ),
            quantity: billed,
            unit: "hour",
            unit_minor: price.rate_minor,
        }
    } else {
        ListLine {
            description: format!(
                "{label}: {billed} hours (minimum fee {})",
                format_usd(price.base_minor)
            ),
            quantity: 1,
            unit: "engagement",
            unit_minor: price.base_minor,
        }
    }
}

/// The discounts a request earns, with their names and percentages.
fn discount_rates(request: &QuoteRequest, subtotal_minor: i64) -> Vec<(DiscountKind, String, u8)> {
    let mut rates = Vec::new();
    if let Some((threshold, percent)) = VOLUME_DISCOUNTS
        .iter()
        .find(|(threshold, _)| subtotal_minor >= *threshold)
    {
        rates.push((
            DiscountKind::Volume,
            format!("Volume (subtotal of {} or more)", format_usd(*threshold)),
            *percent,
        ));
    }
    if let Some((years, percent)) = request
        .years_as_client
        .and_then(|y| LOYALTY_DISCOUNTS.iter().find(|(min, _)| y >= *min))
    {
        let plus = if *years == LOYALTY_DISCOUNTS[0].0 {
            "+"
        } else {
            ""
        };
        rates.push((
            DiscountKind::Loyalty,
            format!(
                "Loyalty ({years}{plus} year{} as a client)",
                if *years == 1 { "" } else { "s" }
            ),
            *percent,
        ));
    }
    match request.referral {
        Some(Referral::Standard) => rates.push((
            DiscountKind::Referral,
            "Referral".into(),
            REFERRAL_STANDARD_PERCENT,
        )),
        Some(Referral::Partner) => rates.push((
            DiscountKind::Referral,
            "Partner referral".into(),
            REFERRAL_PARTNER_PERCENT,
        )),
        None => {}
    }
    if let Some((days, percent)) = request
        .signed_within_days
        .and_then(|d| EARLY_SIGNING_DISCOUNTS.iter().find(|(max, _)| d <= *max))
    {
        rates.push((
            DiscountKind::EarlySigning,
            format!("Early signing (within {days} days)"),
            *percent,
        ));
    }
    if let Some((tier, percent)) = request
        .strategic_tier
        .and_then(|t| STRATEGIC_DISCOUNTS.iter().find(|(tier, _)| *tier == t))
    {
        rates.push((
            DiscountKind::Strategic,
            format!("Strategic account (tier {tier})"),
            *percent,
        ));
    }
    rates
}

/// The quote as a markdown table with its discounts and total.
pub fn quote_markdown(quote: &Quote) -> String {
    let mut md = String::from("| Item | Quantity | Unit price | Amount |\n|---|---:|---:|---:|\n");
    for line in &quote.lines {
        md.push_str(&format!(
            "| {} | {} {}{} | {} | {} |\n",
            line.description,
            line.quantity,
            line.unit,
            if line.quantity == 1 { "" } else { "s" },
            line.unit_price,
            line.amount
        ));
    }
    md.push_str(&format!("| **Subtotal** | | | **{}** |\n", quote.subtotal));
    for d in &quote.discounts {
        md.push_str(&format!(
            "| {} | {}% | | -{} |\n",
            d.name, d.percent, d.amount
        ));
    }
    if quote.discount_capped {
        md.push_str(&format!(
            "| Discount cap ({MAX_COMBINED_DISCOUNT_PERCENT}% of subtotal) | | | -{} in total |\n",
            quote.total_discount
        ));
    }
    md.push_str(&format!("| **Total (USD)** | | | **{}** |", quote.total));
    for note in &quote.notes {
        md.push_str(&format!("\n\n_{note}_"));
    }
    md
}

/// Services to price, with complexity and what the discounts depend on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The services, each `{service, hours?, days?, tier?, months?}`.
    #[schema(inline)]
    pub services: Vec<ServiceRequest>,
    /// How demanding the work is (default standard).
    #[serde(default)]
    #[schema(inline)]
    pub complexity: Complexity,
    /// Whole years the client has worked with us (1: 5%, 2: 10%, 3 or more: 15%).
    #[serde(default)]
    pub years_as_client: Option<u32>,
    /// Who referred them (standard 5%, partner 10%).
    #[serde(default)]
    #[schema(inline)]
    pub referral: Option<Referral>,
    /// Days within which they will sign (7 or fewer: 10%, 14 or fewer: 5%).
    #[serde(default)]
    pub signed_within_days: Option<u32>,
    /// Strategic account tier, 1 (10%) or 2 (5%).
    #[serde(default)]
    pub strategic_tier: Option<u8>,
    /// Always USD.
    #[serde(default)]
    #[schema(inline)]
    pub currency: Currency,
}

impl Input {
    pub fn request(&self) -> QuoteRequest {
        QuoteRequest {
            services: self.services.clone(),
            complexity: self.complexity,
            years_as_client: self.years_as_client,
            referral: self.referral,
            signed_within_days: self.signed_within_days,
            strategic_tier: self.strategic_tier,
            currency: self.currency,
        }
    }
}

pub fn example() -> serde_json::Value {
    json!({
        "services": [
            {"service": "strategy", "hours": 40},
            {"service": "implementation", "hours": 120},
            {"service": "training", "days": 2}
        ],
        "complexity": "complex",
        "years_as_client": 2,
        "referral": "partner",
        "signed_within_days": 10,
        "currency": "USD"
    })
}

/// The schema of `services`: 1–[`MAX_SERVICES`] lines, each one of the price book's
/// services with the fields it uses; the fields it does not use may only be left out or
/// `null`.
pub(crate) fn services_schema() -> serde_json::Value {
    let line = |services: &[Service],
                description: String,
                required: &[&str],
                used: serde_json::Value| {
        let mut properties = serde_json::Map::new();
        properties.insert(
            "service".into(),
            json!({"type": "string", "enum": services, "description": "A service from the price book."}),
        );
        for name in ["hours", "days", "tier", "months"] {
            let unused = json!({"type": "null", "description": "Not used for this service."});
            properties.insert(name.into(), used.get(name).cloned().unwrap_or(unused));
        }
        let required: Vec<&str> = std::iter::once("service")
            .chain(required.iter().copied())
            .collect();
        json!({
            "type": "object",
            "description": description,
            "additionalProperties": false,
            "required": required,
            "properties": properties,
        })
    };
    let range = |r: &RangeInclusive<u32>| schema::integer((*r.start()).into(), (*r.end()).into());
    let mut hours = range(&HOURS);
    hours["type"] = json!(["integer", "null"]);
    hours["description"] =
        json!("Hours, raised to the service's minimum; the minimum when absent.");
    let tiers: Vec<u32> = RETAINER_TIERS.iter().map(|(hours, _)| *hours).collect();
    json!({
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_SERVICES,
        "items": {"oneOf": [
            line(
                &[Service::Strategy, Service::Implementation],
                format!(
                    "Strategy (${}/hour, at least {} hours) or implementation (${}/hour, at least {} hours).",
                    STRATEGY.rate_minor / 100, STRATEGY.min_hours,
                    IMPLEMENTATION.rate_minor / 100, IMPLEMENTATION.min_hours,
                ),
                &[],
                json!({"hours": hours}),
            ),
            line(
                &[Service::Retainer],
                "A retainer: its tier (hours a month) and months.".into(),
                &["tier", "months"],
                json!({
                    "tier": {"type": "integer", "enum": tiers, "description": "Hours a month."},
                    "months": range(&RETAINER_MONTHS),
                }),
            ),
            line(&[Service::Audit], "An audit, at a flat fee.".into(), &[], json!({})),
            line(
                &[Service::Training],
                "Training, by the day.".into(),
                &["days"],
                json!({"days": range(&TRAINING_DAYS)}),
            ),
        ]},
    })
}

/// The rules of the quote's inputs, which ProposalGenerator's input shares.
pub(crate) fn quote_rules(schema: InputSchema) -> InputSchema {
    let tiers: Vec<u8> = STRATEGIC_DISCOUNTS.iter().map(|(tier, _)| *tier).collect();
    schema
        .field_rules("services", services_schema())
        .integer("years_as_client", 0, MAX_YEARS_AS_CLIENT.into())
        .integer("signed_within_days", 0, MAX_SIGNED_WITHIN_DAYS.into())
        .field_rules("strategic_tier", json!({"type": "integer", "enum": tiers}))
}

pub fn schema() -> serde_json::Value {
    quote_rules(InputSchema::of::<Input>()).build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    quote(&input.request()).err().unwrap_or_default()
}

pub async fn run(input: Input, _ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let quote = quote(&input.request()).map_err(|errors| AgentError::invalid_input(&errors))?;
    Outcome::report(&quote, quote_markdown(&quote))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::llm::testing::Harness;

    /// A line for `service` with nothing else set.
    pub(crate) fn line(service: Service) -> ServiceRequest {
        ServiceRequest {
            service,
            hours: None,
            days: None,
            tier: None,
            months: None,
        }
    }

    fn hours(service: Service, h: u32) -> ServiceRequest {
        ServiceRequest {
            hours: Some(h),
            ..line(service)
        }
    }

    fn request(services: Vec<ServiceRequest>) -> QuoteRequest {
        QuoteRequest {
            services,
            ..QuoteRequest::default()
        }
    }

    fn priced(services: Vec<ServiceRequest>) -> Quote {
        quote(&request(services)).expect("valid request")
    }

    #[test]
    fn each_service_is_priced_from_the_price_book() {
        use Service::*;
        let retainer = |tier, months| ServiceRequest {
            tier: Some(tier),
            months: Some(months),
            ..line(Retainer)
        };
        let training = |days| ServiceRequest {
            days: Some(days),
            ..line(Training)
        };
        let table = [
            (
                hours(Strategy, 40),
                40,
                "hour",
                dollars(250),
                dollars(10_000),
            ),
            (
                hours(Strategy, 32),
                32,
                "hour",
                dollars(250),
                dollars(8_000),
            ),
            (
                hours(Strategy, 31),
                1,
                "engagement",
                dollars(8_000),
                dollars(8_000),
            ),
            (
                hours(Strategy, 10),
                1,
                "engagement",
                dollars(8_000),
                dollars(8_000),
            ),
            (
                line(Strategy),
                1,
                "engagement",
                dollars(8_000),
                dollars(8_000),
            ),
            (
                hours(Implementation, 80),
                1,
                "engagement",
                dollars(15_000),
                dollars(15_000),
            ),
            (
                hours(Implementation, 85),
                1,
                "engagement",
                dollars(15_000),
                dollars(15_000),
            ),
            (
                hours(Implementation, 86),
                86,
                "hour",
                dollars(175),
                dollars(15_050),
            ),
            (
                hours(Implementation, 120),
                120,
                "hour",
                dollars(175),
                dollars(21_000),
            ),
            (retainer(20, 1), 1, "month", dollars(5_000), dollars(5_000)),
            (retainer(40, 6), 6, "month", dollars(8_500), dollars(51_000)),
            (
                retainer(60, 36),
                36,
                "month",
                dollars(12_000),
                dollars(432_000),
            ),
            (line(Audit), 1, "audit", dollars(4_000), dollars(4_000)),
            (training(1), 1, "day", dollars(2_500), dollars(2_500)),
            (training(3), 3, "day", dollars(2_500), dollars(7_500)),
        ];
        for (service, quantity, unit, unit_price, amount) in table {
            let q = priced(vec![service.clone()]);
            let l = &q.lines[0];
            assert_eq!(
                (l.quantity, l.unit, l.unit_price_minor, l.amount_minor),
                (quantity, unit, unit_price, amount),
                "{service:?}"
            );
        }
    }

    #[test]
    fn hours_below_the_minimum_are_raised_and_say_so() {
        let table = [
            (
                hours(Service::Strategy, 10),
                Some("Strategy hours raised from 10 to the 30-hour minimum."),
            ),
            (
                line(Service::Implementation),
                Some("Implementation hours not given; priced at the 80-hour minimum."),
            ),
            (hours(Service::Strategy, 30), None),
        ];
        for (service, note) in table {
            let q = priced(vec![service]);
            assert_eq!(q.notes.first().map(String::as_str), note);
        }
    }

    #[test]
    fn complexity_scales_unit_prices_in_basis_points() {
        let table = [
            (Complexity::Simple, dollars(200), "×0.8"),
            (Complexity::Standard, dollars(250), "×1.0"),
            (Complexity::Complex, dollars(325), "×1.3"),
            (Complexity::Enterprise, dollars(400), "×1.6"),
        ];
        for (complexity, unit, label) in table {
            let q = quote(&QuoteRequest {
                complexity,
                ..request(vec![hours(Service::Strategy, 40)])
            })
            .expect("valid");
            assert_eq!(q.lines[0].unit_price_minor, unit, "{complexity:?}");
            assert_eq!(q.lines[0].amount_minor, unit * 40);
            assert_eq!(q.complexity_multiplier, label);
        }
    }

    #[test]
    fn multipliers_and_percentages_round_half_up_to_the_cent() {
        let table = [
            (1, 13_000, 1),     // 1.3 cents
            (5, 13_000, 7),     // 6.5 cents
            (15, 8_000, 12),    // 12.0 cents
            (333, 16_000, 533), // 532.8 cents
        ];
        for (unit, bp, expected) in table {
            assert_eq!(apply_multiplier(unit, bp), expected, "{unit} × {bp}");
        }
        let table = [(10, 5, 1), (30, 5, 2), (29, 5, 1), (100_001, 15, 15_000)];
        for (amount, percent, expected) in table {
            assert_eq!(
                percent_of(amount, percent),
                expected,
                "{percent}% of {amount}"
            );
        }
    }

    #[test]
    fn each_discount_applies_at_its_thresholds() {
        use DiscountKind::*;
        let base = |subtotal_hours: u32| request(vec![hours(Service::Strategy, subtotal_hours)]);
        // Strategy at $250/h: 100 h = $25,000, 200 h = $50,000, 400 h = $100,000.
        let table: Vec<(QuoteRequest, Option<(DiscountKind, u8)>)> = vec![
            (base(99), None),
            (base(100), Some((Volume, 5))),
            (base(199), Some((Volume, 5))),
            (base(200), Some((Volume, 10))),
            (base(400), Some((Volume, 15))),
            (
                QuoteRequest {
                    years_as_client: Some(0),
                    ..base(30)
                },
                None,
            ),
            (
                QuoteRequest {
                    years_as_client: Some(1),
                    ..base(30)
                },
                Some((Loyalty, 5)),
            ),
            (
                QuoteRequest {
                    years_as_client: Some(2),
                    ..base(30)
                },
                Some((Loyalty, 10)),
            ),
            (
                QuoteRequest {
                    years_as_client: Some(3),
                    ..base(30)
                },
                Some((Loyalty, 15)),
            ),
            (
                QuoteRequest {
                    years_as_client: Some(12),
                    ..base(30)
                },
                Some((Loyalty, 15)),
            ),
            (
                QuoteRequest {
                    referral: Some(super::Referral::Standard),
                    ..base(30)
                },
                Some((Referral, 5)),
            ),
            (
                QuoteRequest {
                    referral: Some(super::Referral::Partner),
                    ..base(30)
                },
                Some((Referral, 10)),
            ),
            (
                QuoteRequest {
                    signed_within_days: Some(0),
                    ..base(30)
                },
                Some((EarlySigning, 10)),
            ),
            (
                QuoteRequest {
                    signed_within_days: Some(7),
                    ..base(30)
                },
                Some((EarlySigning, 10)),
            ),
            (
                QuoteRequest {
                    signed_within_days: Some(8),
                    ..base(30)
                },
                Some((EarlySigning, 5)),
            ),
            (
                QuoteRequest {
                    signed_within_days: Some(14),
                    ..base(30)
                },
                Some((EarlySigning, 5)),
            ),
            (
                QuoteRequest {
                    signed_within_days: Some(15),
                    ..base(30)
                },
                None,
            ),
            (
                QuoteRequest {
                    strategic_tier: Some(1),
                    ..base(30)
                },
                Some((Strategic, 10)),
            ),
            (
                QuoteRequest {
                    strategic_tier: Some(2),
                    ..base(30)
                },
                Some((Strategic, 5)),
            ),
        ];
        for (req, expected) in table {
            let q = quote(&req).expect("valid");
            let got: Vec<(DiscountKind, u8)> =
                q.discounts.iter().map(|d| (d.kind, d.percent)).collect();
            assert_eq!(got, expected.into_iter().collect::<Vec<_>>(), "{req:?}");
            let amount: i64 = q.discounts.iter().map(|d| d.amount_minor).sum();
            assert_eq!(q.total_discount_minor, amount);
            assert_eq!(q.total_minor, q.subtotal_minor - amount);
        }
    }

    #[test]
    fn discounts_add_up_and_are_capped_with_a_note() {
        let q = quote(&QuoteRequest {
            years_as_client: Some(3),
            referral: Some(Referral::Partner),
            signed_within_days: Some(5),
            ..request(vec![hours(Service::Strategy, 40)])
        })
        .expect("valid");
        assert_eq!(q.subtotal_minor, dollars(10_000));
        assert_eq!(q.discount_percent, 35);
        assert!(q.discount_capped);
        assert_eq!(q.total_discount_minor, dollars(2_500));
        assert_eq!(q.total_minor, dollars(7_500));
        assert_eq!(
            q.notes,
            ["Discounts add up to 35%; the combined discount is capped at 25%."]
        );

        let q = quote(&QuoteRequest {
            years_as_client: Some(2),
            referral: Some(Referral::Standard),
            signed_within_days: Some(10),
            strategic_tier: Some(2),
            ..request(vec![hours(Service::Strategy, 40)])
        })
        .expect("valid");
        assert_eq!(q.discount_percent, 25);
        assert!(!q.discount_capped, "exactly at the cap is not capped");
        assert_eq!(q.total_minor, dollars(7_500));
    }

    #[test]
    fn the_example_prices_as_documented() {
        let input: Input = serde_json::from_value(example()).expect("example parses");
        let q = quote(&input.request()).expect("valid");
        // complex ×1.3: strategy 40 h × $325 = $13,000; implementation 120 h × $227.50 =
        // $27,300; training 2 d × $3,250 = $6,500. Subtotal $46,800.
        assert_eq!(
            q.lines.iter().map(|l| l.amount_minor).collect::<Vec<_>>(),
            [dollars(13_000), dollars(27_300), dollars(6_500)]
        );
        assert_eq!(q.subtotal, "$46,800.00");
        // Volume 5% + loyalty 10% + partner 10% + early 5% = 30%, capped at 25%.
        assert_eq!(q.discount_percent, 30);
        assert!(q.discount_capped);
        assert_eq!(q.total_discount, "$11,700.00");
        assert_eq!(q.total, "$35,100.00");
    }

    #[test]
    fn amounts_are_shown_as_dollars() {
        let table = [
            (0, "$0.00"),
            (5, "$0.05"),
            (1_234_567, "$12,345.67"),
            (dollars(100_000_000), "$100,000,000.00"),
            (-1_200, "-$12.00"),
        ];
        for (minor, expected) in table {
            assert_eq!(format_usd(minor), expected);
        }
    }

    #[test]
    fn bad_service_lines_name_their_fields() {
        let table: Vec<(ServiceRequest, &[&str])> = vec![
            (hours(Service::Strategy, 0), &["input.services[0].hours"]),
            (
                hours(Service::Strategy, 5_001),
                &["input.services[0].hours"],
            ),
            (
                ServiceRequest {
                    days: Some(2),
                    ..line(Service::Strategy)
                },
                &["input.services[0].days"],
            ),
            (
                line(Service::Retainer),
                &["input.services[0].tier", "input.services[0].months"],
            ),
            (
                ServiceRequest {
                    tier: Some(30),
                    months: Some(6),
                    ..line(Service::Retainer)
                },
                &["input.services[0].tier"],
            ),
            (
                ServiceRequest {
                    tier: Some(20),
                    months: Some(37),
                    ..line(Service::Retainer)
                },
                &["input.services[0].months"],
            ),
            (
                ServiceRequest {
                    tier: Some(20),
                    months: Some(0),
                    ..line(Service::Retainer)
                },
                &["input.services[0].months"],
            ),
            (hours(Service::Audit, 10), &["input.services[0].hours"]),
            (line(Service::Training), &["input.services[0].days"]),
            (
                ServiceRequest {
                    days: Some(61),
                    ..line(Service::Training)
                },
                &["input.services[0].days"],
            ),
        ];
        for (service, fields) in table {
            let errors = quote(&request(vec![service.clone()])).unwrap_err();
            let got: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(got, fields, "{service:?}");
        }
    }

    #[test]
    fn bad_request_fields_are_named() {
        let errors = quote(&QuoteRequest {
            years_as_client: Some(101),
            signed_within_days: Some(366),
            strategic_tier: Some(3),
            ..request(vec![])
        })
        .unwrap_err();
        let got: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            got,
            [
                "input.services",
                "input.years_as_client",
                "input.signed_within_days",
                "input.strategic_tier"
            ]
        );
        let many = request(vec![line(Service::Audit); MAX_SERVICES + 1]);
        assert_eq!(quote(&many).unwrap_err()[0].field, "input.services");
    }

    #[test]
    fn only_usd_is_accepted() {
        let mut example = example();
        example["currency"] = json!("EUR");
        assert!(serde_json::from_value::<Input>(example).is_err());
    }

    #[tokio::test]
    async fn the_run_returns_the_quote_and_a_table() {
        let harness = Harness::offline();
        let input: Input = serde_json::from_value(example()).expect("example parses");
        let outcome = run(input, &harness.ctx()).await.expect("runs");
        assert_eq!(outcome.output["total_minor"], dollars(35_100));
        assert_eq!(outcome.output["currency"], "USD");
        assert_eq!(outcome.output["lines"][0]["unit_price"], "$325.00");
        let text = outcome.text.unwrap_or_default();
        assert!(
            text.contains("| **Total (USD)** | | | **$35,100.00** |"),
            "{text}"
        );
        assert!(text.contains("capped at 25%"));
    }
}
