//! Periods as tables; forecast rows and waterfalls against hand-computed fixtures. Money
//! is in cents: 1_000_000 is $10,000.00.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::*;
use crate::aggregate::Aggregate;
use crate::deals::{
    CreateDeal, Deal, DealCommand, DealSource, DealStatus, LoseDeal, ReopenDeal, WinDeal,
    MAX_NAME_CHARS, MAX_TEXT_CHARS,
};
use crate::kernel::{Actor, CrmId, Money, Text, UserName};
use crate::pipelines::{ForecastCategory, ForecastChoice, Pipeline};

fn date(raw: &str) -> NaiveDate {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").unwrap()
}

fn period(raw: &str) -> Period {
    Period::parse(raw).unwrap()
}

fn feb() -> FiscalCalendar {
    FiscalCalendar::starting_in(2).unwrap()
}

fn usd(minor: i64) -> Money {
    Money::usd(minor)
}

// ---------------------------------------------------------------- periods

#[test]
fn periods_parse_and_format_round_trip() {
    let table = [
        ("2026-11", "2026-11", PeriodKind::Month),
        ("2026-01", "2026-01", PeriodKind::Month),
        ("2026-Q4", "2026-Q4", PeriodKind::Quarter),
        ("2026-q1", "2026-Q1", PeriodKind::Quarter),
        ("1000-12", "1000-12", PeriodKind::Month),
        ("9999-Q4", "9999-Q4", PeriodKind::Quarter),
    ];
    for (raw, text, kind) in table {
        let parsed = Period::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(parsed.to_string(), text, "{raw}");
        assert_eq!(parsed.kind(), kind, "{raw}");
        assert_eq!(text.parse::<Period>(), Ok(parsed), "{raw}");
    }
}

#[test]
fn bad_periods_are_refused_with_a_stable_code() {
    let table = [
        "",
        "2026",
        "2026-",
        "2026-13",
        "2026-00",
        "2026-1",
        "2026-011",
        "2026-Q0",
        "2026-Q5",
        "2026-Q",
        "2026-Q12",
        "26-11",
        "0999-12",
        "+202-11",
        "2026/11",
        " 2026-11",
        "2026-11 ",
        "2026-11-01",
        "2026-W45",
        "２０２６-11",
        "2026-+1",
        "-2026-11",
    ];
    for raw in table {
        let error = Period::parse(raw).expect_err(raw);
        assert_eq!(error.code(), "invalid_period", "{raw}");
        assert!(error.to_string().contains("`2026-11`"), "{raw}: {error}");
    }
}

#[test]
fn periods_are_json_strings() {
    let json = serde_json::to_string(&period("2026-Q4")).unwrap();
    assert_eq!(json, r#""2026-Q4""#);
    assert_eq!(
        serde_json::from_str::<Period>(r#""2026-11""#).unwrap(),
        period("2026-11")
    );
    assert!(serde_json::from_str::<Period>(r#""2026-13""#).is_err());
}

#[test]
fn the_fiscal_calendar_defaults_to_january_and_says_so() {
    let default = FiscalCalendar::default();
    assert_eq!(default.first_month(), DEFAULT_FISCAL_YEAR_START_MONTH);
    assert!(default.is_default());
    let january = FiscalCalendar::starting_in(1).unwrap();
    assert_eq!(january.first_month(), 1);
    assert!(!january.is_default(), "configured, even if to the default");
    for month in [0, 13, 99] {
        let error = FiscalCalendar::starting_in(month).unwrap_err();
        assert_eq!(error.code(), "invalid_fiscal_month", "{month}");
    }
}

#[test]
fn period_ranges_by_fiscal_calendar() {
    let january = FiscalCalendar::default();
    let july = FiscalCalendar::starting_in(7).unwrap();
    let december = FiscalCalendar::starting_in(12).unwrap();
    // (period, calendar, first day, last day)
    let table = [
        ("2026-11", january, "2026-11-01", "2026-11-30"),
        ("2026-02", january, "2026-02-01", "2026-02-28"),
        ("2028-02", january, "2028-02-01", "2028-02-29"),
        ("2026-12", feb(), "2026-12-01", "2026-12-31"),
        ("2026-Q1", january, "2026-01-01", "2026-03-31"),
        ("2026-Q4", january, "2026-10-01", "2026-12-31"),
        // Fiscal 2027 ends in January 2027: it starts in February 2026.
        ("2027-Q1", feb(), "2026-02-01", "2026-04-30"),
        ("2027-Q4", feb(), "2026-11-01", "2027-01-31"),
        ("2026-Q4", feb(), "2025-11-01", "2026-01-31"),
        // Fiscal 2027 with July: July 2026 – June 2027.
        ("2027-Q1", july, "2026-07-01", "2026-09-30"),
        ("2027-Q3", july, "2027-01-01", "2027-03-31"),
        ("2027-Q4", july, "2027-04-01", "2027-06-30"),
        ("2027-Q1", december, "2026-12-01", "2027-02-28"),
        ("2027-Q4", december, "2027-09-01", "2027-11-30"),
    ];
    for (raw, calendar, first, last) in table {
        let range = period(raw).range(&calendar);
        let expected = DateRange {
            first: date(first),
            last: date(last),
        };
        assert_eq!(
            range,
            expected,
            "{raw} from month {}",
            calendar.first_month()
        );
    }
}

#[test]
fn the_period_a_date_falls_in() {
    let january = FiscalCalendar::default();
    let july = FiscalCalendar::starting_in(7).unwrap();
    // (date, kind, calendar, period)
    let table = [
        ("2026-11-30", PeriodKind::Month, feb(), "2026-11"),
        ("2026-11-30", PeriodKind::Quarter, january, "2026-Q4"),
        ("2026-01-01", PeriodKind::Quarter, january, "2026-Q1"),
        ("2026-01-15", PeriodKind::Quarter, feb(), "2026-Q4"),
        ("2026-02-01", PeriodKind::Quarter, feb(), "2027-Q1"),
        ("2026-11-30", PeriodKind::Quarter, feb(), "2027-Q4"),
        ("2027-01-31", PeriodKind::Quarter, feb(), "2027-Q4"),
        ("2026-06-30", PeriodKind::Quarter, july, "2026-Q4"),
        ("2026-07-01", PeriodKind::Quarter, july, "2027-Q1"),
    ];
    for (day, kind, calendar, expected) in table {
        let found = Period::containing(date(day), kind, &calendar);
        assert_eq!(
            found,
            period(expected),
            "{day} {kind:?} month {}",
            calendar.first_month()
        );
    }
}

#[test]
fn every_day_of_three_years_lies_in_its_period_under_every_fiscal_calendar() {
    for first_month in 1..=12 {
        let calendar = FiscalCalendar::starting_in(first_month).unwrap();
        let mut day = date("2025-01-01");
        while day <= date("2027-12-31") {
            for kind in [PeriodKind::Month, PeriodKind::Quarter] {
                let found = Period::containing(day, kind, &calendar);
                let range = found.range(&calendar);
                assert!(
                    range.contains(day),
                    "{day} {kind:?} {found} from {first_month}"
                );
                // Periods tile the calendar: the next starts the day after this ends.
                let next = found.next().range(&calendar);
                assert_eq!(next.first, range.last.succ_opt().unwrap(), "{found}");
                assert_eq!(found.next().previous(), found);
            }
            day = day.succ_opt().unwrap();
        }
    }
}

#[test]
fn next_and_previous_cross_years() {
    let table = [
        ("2026-12", "2027-01"),
        ("2026-01", "2026-02"),
        ("2026-Q4", "2027-Q1"),
        ("2026-Q1", "2026-Q2"),
    ];
    for (this, next) in table {
        assert_eq!(period(this).next(), period(next), "{this}");
        assert_eq!(period(next).previous(), period(this), "{next}");
    }
}

// ---------------------------------------------------------------- rows

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

struct Row {
    n: u128,
    owner: &'static str,
    status: DealStatus,
    amount: Option<i64>,
    close: Option<&'static str>,
    closed_on: Option<&'static str>,
    probability: u8,
    category: ForecastCategory,
}

fn deal(row: Row) -> ForecastDeal {
    ForecastDeal {
        id: id(row.n),
        owner: row.owner.to_string(),
        status: row.status,
        amount: row.amount.map(usd),
        close_date: row.close.map(date),
        closed_on: row.closed_on.map(date),
        probability: row.probability,
        category: row.category,
    }
}

fn open(n: u128, owner: &'static str, amount: i64, close: &'static str, p: u8) -> Row {
    Row {
        n,
        owner,
        status: DealStatus::Open,
        amount: Some(amount),
        close: Some(close),
        closed_on: None,
        probability: p,
        category: crate::pipelines::auto_category(crate::pipelines::StageKind::Open, p),
    }
}

/// 2026-Q4 (January fiscal year: 1 October – 31 December 2026). Letters are deal ids
/// 1 = A … 13 = M.
fn fixture() -> Vec<ForecastDeal> {
    use ForecastCategory as C;
    vec![
        // A: ana, commit at 80: 5_000_000 → weighted 4_000_000.
        deal(open(1, "ana", 5_000_000, "2026-11-15", 80)),
        // B: ana, best case at 60, on the period's last day: 2_000_000 → 1_200_000.
        deal(open(2, "ana", 2_000_000, "2026-12-31", 60)),
        // C: ana, won on 5 October (close date December): closed won, weighted at 100.
        deal(Row {
            status: DealStatus::Won,
            closed_on: Some("2026-10-05"),
            category: C::ClosedWon,
            ..open(3, "ana", 3_000_000, "2026-12-01", 100)
        }),
        // D: ana, lost on 2 November at 0: weighted 0 exactly.
        deal(Row {
            status: DealStatus::Lost,
            closed_on: Some("2026-11-02"),
            category: C::Omitted,
            ..open(4, "ana", 4_000_000, "2026-12-01", 0)
        }),
        // E: bo, pipeline at 20, on the period's first day: 1_234_567 × 20 / 100 =
        // 246_913.4 → 246_913.
        deal(open(5, "bo", 1_234_567, "2026-10-01", 20)),
        // F: bo, omitted by choice at 40: 1_000_000 → weighted 400_000 (weighted ignores
        // categories).
        deal(Row {
            category: C::Omitted,
            ..open(6, "bo", 1_000_000, "2026-11-11", 40)
        }),
        // G: bo, commit by choice at 40: 2_500_000 → 1_000_000.
        deal(Row {
            category: C::Commit,
            ..open(7, "bo", 2_500_000, "2026-12-20", 40)
        }),
        // H: bo, pipeline without an amount: counted with 0, listed.
        deal(Row {
            amount: None,
            ..open(8, "bo", 0, "2026-11-01", 20)
        }),
        // I: ana, commit closing the day after the period: nowhere.
        deal(open(9, "ana", 9_000_000, "2027-01-01", 80)),
        // J: cy, open without a close date: in no period.
        deal(Row {
            close: None,
            ..open(10, "cy", 100, "2026-11-01", 20)
        }),
        // K: bo, won on 30 September though its close date was in October: Q3's.
        deal(Row {
            status: DealStatus::Won,
            closed_on: Some("2026-09-30"),
            category: C::ClosedWon,
            ..open(11, "bo", 7_000_000, "2026-10-15", 100)
        }),
        // M: cy, commit at 90: 12_345 × 90 / 100 = 11_110.5 → 11_111 (half away from 0).
        deal(open(13, "cy", 12_345, "2026-12-01", 90)),
    ]
}

fn quotas() -> Vec<Quota> {
    let quota = |owner: &str, raw: &str, minor| Quota {
        owner: owner.to_string(),
        period: period(raw),
        amount: usd(minor),
    };
    vec![
        quota("ana", "2026-Q4", 10_000_000),
        // Another period's quotas do not count (cy's month is not the quarter).
        quota("ana", "2026-Q3", 1),
        quota("cy", "2026-11", 5_000_000),
    ]
}

fn ids(numbers: &[u128]) -> Vec<Uuid> {
    numbers.iter().copied().map(id).collect()
}

fn bucket(minor: i64, deals: &[u128]) -> Bucket {
    Bucket {
        total: usd(minor),
        deals: ids(deals),
    }
}

fn q4() -> Forecast {
    forecast(
        &fixture(),
        &quotas(),
        period("2026-Q4"),
        &ForecastConfig::default(),
    )
    .unwrap()
}

#[test]
fn forecast_rows_per_owner_match_the_hand_computed_fixture() {
    let forecast = q4();
    let owners: Vec<&str> = forecast.owners.iter().map(|o| o.owner.as_str()).collect();
    assert_eq!(owners, ["ana", "bo", "cy"]);
    let [ana, bo, cy] = [0, 1, 2].map(|i| &forecast.owners[i].row);

    assert_eq!(ana.closed_won, bucket(3_000_000, &[3]));
    assert_eq!(ana.commit, bucket(5_000_000, &[1]));
    assert_eq!(ana.best_case, bucket(2_000_000, &[2]));
    assert_eq!(ana.pipeline, bucket(0, &[]));
    assert_eq!(ana.omitted, bucket(0, &[]));
    assert_eq!(ana.closed_lost, bucket(4_000_000, &[4]));
    // 4_000_000 + 1_200_000 + 3_000_000 + 0
    assert_eq!(ana.weighted.total, usd(8_200_000));
    assert_eq!(ana.quota, Some(usd(10_000_000)));
    // 3_000_000 / 10_000_000 = 30.00%
    assert_eq!(ana.attainment.unwrap().basis_points, 3_000);
    // (5_000_000 + 2_000_000 + 0) / (10_000_000 − 3_000_000) = 1.0×
    let coverage = ana.coverage.unwrap();
    assert_eq!(
        (coverage.open, coverage.remaining),
        (usd(7_000_000), usd(7_000_000))
    );
    assert_eq!(coverage.basis_points, Some(10_000));

    assert_eq!(bo.closed_won, bucket(0, &[]), "K was won in Q3");
    assert_eq!(bo.commit, bucket(2_500_000, &[7]));
    assert_eq!(bo.best_case, bucket(0, &[]));
    assert_eq!(bo.pipeline, bucket(1_234_567, &[5, 8]));
    assert_eq!(bo.omitted, bucket(1_000_000, &[6]));
    // 246_913 + 400_000 + 1_000_000 + 0
    assert_eq!(bo.weighted.total, usd(1_646_913));
    assert_eq!((bo.quota, bo.attainment, bo.coverage), (None, None, None));

    assert_eq!(cy.commit, bucket(12_345, &[13]));
    assert_eq!(cy.weighted.total, usd(11_111));
    assert_eq!(cy.quota, None, "a November quota is not a Q4 quota");
}

#[test]
fn the_total_row_sums_the_owners_and_their_quotas() {
    let forecast = q4();
    let total = &forecast.total;
    assert_eq!(total.closed_won, bucket(3_000_000, &[3]));
    // 5_000_000 + 2_500_000 + 12_345
    assert_eq!(total.commit, bucket(7_512_345, &[1, 7, 13]));
    assert_eq!(total.best_case, bucket(2_000_000, &[2]));
    assert_eq!(total.pipeline, bucket(1_234_567, &[5, 8]));
    assert_eq!(total.omitted, bucket(1_000_000, &[6]));
    assert_eq!(total.closed_lost, bucket(4_000_000, &[4]));
    // 8_200_000 + 1_646_913 + 11_111
    assert_eq!(total.weighted.total, usd(9_858_024));
    let parts: i64 = total.weighted.parts.iter().map(|p| p.weighted.minor).sum();
    assert_eq!(
        parts, total.weighted.total.minor,
        "the parts add up to the total"
    );
    // Only ana has a Q4 quota; bo and cy are named as missing.
    assert_eq!(total.quota, Some(usd(10_000_000)));
    assert_eq!(forecast.quota_missing_for, ["bo", "cy"]);
    assert_eq!(total.attainment.unwrap().basis_points, 3_000);
    // open 7_512_345 + 2_000_000 + 1_234_567 = 10_746_912; remaining 7_000_000;
    // 10_746_912 × 10_000 / 7_000_000 = 15_352.73… → 15_352 (1.5352×).
    let coverage = total.coverage.unwrap();
    assert_eq!(coverage.open, usd(10_746_912));
    assert_eq!(coverage.basis_points, Some(15_352));
    assert_eq!(forecast.without_amount, ids(&[8]));
    assert_eq!(forecast.without_close_date, ids(&[10]));
    assert!(forecast.other_currency.is_empty());
    assert_eq!(
        forecast.range,
        DateRange {
            first: date("2026-10-01"),
            last: date("2026-12-31")
        }
    );
    assert!(
        forecast.config.calendar.is_default(),
        "the default is marked"
    );
}

#[test]
fn a_closed_lost_deal_at_probability_zero_stays_zero() {
    let rows = q4();
    let lost = rows
        .total
        .weighted
        .parts
        .iter()
        .find(|part| part.deal == id(4))
        .expect("the lost deal is listed");
    assert_eq!(lost.amount, usd(4_000_000));
    assert_eq!(lost.probability, 0);
    assert_eq!(lost.weighted, usd(0));
    let only_lost = forecast(
        &fixture()[3..4],
        &[],
        period("2026-Q4"),
        &Default::default(),
    );
    let only_lost = only_lost.unwrap();
    assert_eq!(only_lost.total.weighted.total, usd(0));
    assert_eq!(only_lost.total.closed_lost, bucket(4_000_000, &[4]));
}

#[test]
fn weighted_rounds_each_deal_to_the_nearest_cent_halves_away_from_zero() {
    // (amount, probability, weighted)
    let table = [
        (5_000_000, 80, 4_000_000),
        (12_345, 90, 11_111),     // 11_110.5 → up
        (-12_345, 90, -11_111),   // −11_110.5 → down
        (1_234_567, 20, 246_913), // 246_913.4 → down
        (1, 50, 1),               // 0.5 → 1
        (1, 49, 0),               // 0.49 → 0
        (4_000_000, 0, 0),        // lost at 0: exactly 0
        (4_000_000, 100, 4_000_000),
        (i64::MAX, 100, i64::MAX),
    ];
    for (amount, probability, expected) in table {
        assert_eq!(
            weighted_minor(amount, probability),
            expected,
            "{amount} × {probability}%"
        );
    }
}

#[test]
fn attainment_and_coverage_at_the_edges_of_quota() {
    let deals = [
        deal(Row {
            status: DealStatus::Won,
            closed_on: Some("2026-11-03"),
            category: ForecastCategory::ClosedWon,
            ..open(1, "ana", 12_000_000, "2026-11-03", 100)
        }),
        deal(open(2, "ana", 3_000_000, "2026-11-20", 60)),
    ];
    let with_quota = |minor| {
        let quota = Quota {
            owner: "ana".to_string(),
            period: period("2026-11"),
            amount: usd(minor),
        };
        forecast(&deals, &[quota], period("2026-11"), &Default::default()).unwrap()
    };
    // Quota met: 12_000_000 / 10_000_000 = 120.00%; nothing left to cover.
    let met = with_quota(10_000_000).owners[0].row.clone();
    assert_eq!(met.attainment.unwrap().basis_points, 12_000);
    let coverage = met.coverage.unwrap();
    assert_eq!(coverage.remaining, usd(-2_000_000));
    assert_eq!(coverage.basis_points, None);
    // 12_000_000 / 36_000_000 = 3_333.3… → 3_333; 3_000_000 / 24_000_000 = 0.125×.
    let far = with_quota(36_000_000).owners[0].row.clone();
    assert_eq!(far.attainment.unwrap().basis_points, 3_333);
    assert_eq!(far.coverage.unwrap().basis_points, Some(1_250));
    // A zero quota is shown, but there is nothing to attain or cover.
    let zero = with_quota(0).owners[0].row.clone();
    assert_eq!(zero.quota, Some(usd(0)));
    assert_eq!((zero.attainment, zero.coverage), (None, None));
    // No quota at all: `None`, never 0.
    let none = forecast(&deals, &[], period("2026-11"), &Default::default()).unwrap();
    assert_eq!(none.total.quota, None);
    assert_eq!(none.total.attainment, None);
}

#[test]
fn an_owner_with_a_quota_and_no_deals_still_has_a_row() {
    let quota = Quota {
        owner: "dee".to_string(),
        period: period("2026-Q4"),
        amount: usd(1_000_000),
    };
    let forecast = forecast(&[], &[quota], period("2026-Q4"), &Default::default()).unwrap();
    assert_eq!(forecast.owners.len(), 1);
    let dee = &forecast.owners[0];
    assert_eq!(dee.owner, "dee");
    assert_eq!(dee.row.attainment.unwrap().basis_points, 0);
    assert_eq!(dee.row.coverage.unwrap().basis_points, Some(0));
}

#[test]
fn two_quotas_for_one_owner_and_period_are_refused() {
    let quota = Quota {
        owner: "ana".to_string(),
        period: period("2026-Q4"),
        amount: usd(1),
    };
    let error = forecast(
        &[],
        &[quota.clone(), quota],
        period("2026-Q4"),
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(error.code(), "duplicate_quota");
}

#[test]
fn a_february_fiscal_year_moves_january_into_the_fourth_quarter() {
    let deals = [
        deal(open(1, "ana", 100, "2027-01-31", 20)),
        deal(open(2, "ana", 200, "2026-11-01", 20)),
        deal(open(3, "ana", 400, "2026-10-31", 20)),
    ];
    let config = ForecastConfig {
        calendar: feb(),
        ..Default::default()
    };
    // Fiscal 2027 Q4 = November 2026 – January 2027: deals 1 and 2.
    let forecast = forecast(&deals, &[], period("2027-Q4"), &config).unwrap();
    assert_eq!(forecast.total.pipeline, bucket(300, &[1, 2]));
}

// ---------------------------------------------------------------- waterfall

fn day(raw: &str) -> DateTime<Utc> {
    date(raw).and_hms_opt(12, 0, 0).unwrap().and_utc()
}

fn pipeline() -> Pipeline {
    Pipeline::default_hubspot()
}

fn actor() -> Actor {
    Actor::user("casey")
}

/// A scripted history: commands run through the deal aggregate; the log keeps each
/// event at the instant its command ran.
#[derive(Default)]
struct History {
    deals: std::collections::BTreeMap<Uuid, Deal>,
    log: Vec<LoggedDealEvent>,
}

impl History {
    fn run(&mut self, n: u128, command: DealCommand) {
        let deal = self.deals.entry(id(n)).or_default();
        let at = command_at(&command);
        let events = deal
            .decide(command)
            .unwrap_or_else(|e| panic!("deal {n}: {e:?}"));
        for event in events {
            deal.apply(event.clone());
            self.log.push(LoggedDealEvent {
                at,
                deal: id(n),
                event,
            });
        }
    }

    fn create(
        &mut self,
        n: u128,
        owner: &str,
        stage: &str,
        amount: i64,
        close: &str,
        at: DateTime<Utc>,
    ) {
        self.run(
            n,
            DealCommand::Create(Box::new(CreateDeal {
                id: id(n),
                name: Text::parse(&format!("deal {n}"), MAX_NAME_CHARS).unwrap(),
                pipeline: pipeline(),
                stage: CrmId::parse(stage).unwrap(),
                amount: Some(usd(amount)),
                close_date: Some(date(close)),
                owner: UserName::parse(owner).unwrap(),
                source: DealSource::Manual,
                crm_id: None,
                demo: false,
                by: actor(),
                at,
            })),
        );
    }
}

fn command_at(command: &DealCommand) -> DateTime<Utc> {
    match command {
        DealCommand::Create(c) => c.at,
        DealCommand::Move(c) => c.at,
        DealCommand::Win(c) => c.at,
        DealCommand::Lose(c) => c.at,
        DealCommand::Reopen(c) => c.at,
        DealCommand::ChangeAmount { at, .. }
        | DealCommand::ChangeCloseDate { at, .. }
        | DealCommand::ChangeOwner { at, .. }
        | DealCommand::AssociateContacts { at, .. }
        | DealCommand::SetNextStep { at, .. }
        | DealCommand::SetForecastCategory { at, .. } => *at,
        DealCommand::LogActivity(c) => c.at,
    }
}

fn win(at: DateTime<Utc>) -> DealCommand {
    DealCommand::Win(Box::new(WinDeal {
        pipeline: pipeline(),
        by: actor(),
        at,
    }))
}

fn lose(at: DateTime<Utc>) -> DealCommand {
    DealCommand::Lose(Box::new(LoseDeal {
        reason: Text::parse("went with a competitor", MAX_TEXT_CHARS).unwrap(),
        pipeline: pipeline(),
        by: actor(),
        at,
    }))
}

fn reopen(at: DateTime<Utc>) -> DealCommand {
    DealCommand::Reopen(Box::new(ReopenDeal {
        stage: None,
        pipeline: pipeline(),
        by: actor(),
        at,
    }))
}

fn amount(minor: i64, at: DateTime<Utc>) -> DealCommand {
    DealCommand::ChangeAmount {
        amount: Some(usd(minor)),
        by: actor(),
        at,
    }
}

fn close_date(raw: &str, at: DateTime<Utc>) -> DealCommand {
    DealCommand::ChangeCloseDate {
        close_date: Some(date(raw)),
        by: actor(),
        at,
    }
}

/// From 1 November (start of day) to 30 November (start of day), period 2026-Q4. Stage
/// probabilities are HubSpot's defaults: appointmentscheduled 20 and qualifiedtobuy 40
/// (pipeline), presentationscheduled 60 (best case), decisionmakerboughtin 80 and
/// contractsent 90 (commit).
fn from() -> DateTime<Utc> {
    date("2026-11-01").and_hms_opt(0, 0, 0).unwrap().and_utc()
}

fn to() -> DateTime<Utc> {
    date("2026-11-30").and_hms_opt(0, 0, 0).unwrap().and_utc()
}

fn scripted() -> History {
    let october = day("2026-10-01");
    let mut h = History::default();
    // 1 steady: commit 1_000_000, untouched.
    h.create(1, "ana", "contractsent", 1_000_000, "2026-12-10", october);
    // 2 slips: best case 500_000, pushed to January → pushed out −500_000.
    h.create(
        2,
        "ana",
        "presentationscheduled",
        500_000,
        "2026-12-20",
        october,
    );
    h.run(2, close_date("2027-01-15", day("2026-11-10")));
    // 3 pulled in: pipeline 300_000 from February to November → +300_000.
    h.create(3, "ana", "qualifiedtobuy", 300_000, "2027-02-01", october);
    h.run(3, close_date("2026-11-20", day("2026-11-05")));
    // 4 grows: commit 200_000 → 250_000 → amount increased +50_000.
    h.create(
        4,
        "ana",
        "decisionmakerboughtin",
        200_000,
        "2026-11-30",
        october,
    );
    h.run(4, amount(250_000, day("2026-11-12")));
    // 5 shrinks: best case 400_000 → 100_000 → amount decreased −300_000.
    h.create(
        5,
        "ana",
        "presentationscheduled",
        400_000,
        "2026-12-01",
        october,
    );
    h.run(5, amount(100_000, day("2026-11-12")));
    // 6 won on 20 November: commit → closed won, 700_000 (no movement in the forecast;
    // won −700_000 out of commit).
    h.create(
        6,
        "ana",
        "decisionmakerboughtin",
        700_000,
        "2026-12-15",
        october,
    );
    h.run(6, win(day("2026-11-20")));
    // 7 lost: best case 600_000 → lost −600_000.
    h.create(
        7,
        "ana",
        "presentationscheduled",
        600_000,
        "2026-11-25",
        october,
    );
    h.run(7, lose(day("2026-11-21")));
    // 8 omitted by choice: pipeline 250_000 → moved out of category −250_000.
    h.create(
        8,
        "ana",
        "appointmentscheduled",
        250_000,
        "2026-12-05",
        october,
    );
    h.run(
        8,
        DealCommand::SetForecastCategory {
            choice: ForecastChoice::Omitted,
            by: actor(),
            at: day("2026-11-15"),
        },
    );
    // 9 new on 3 November: pipeline 150_000 → new +150_000.
    h.create(
        9,
        "ana",
        "appointmentscheduled",
        150_000,
        "2026-12-31",
        day("2026-11-03"),
    );
    // 10 grew then slipped: commit 800_000 → 900_000, then pushed to March → pushed out
    // −800_000 (its value at the start; the amount change is not a second movement).
    h.create(10, "ana", "contractsent", 800_000, "2026-12-01", october);
    h.run(10, amount(900_000, day("2026-11-08")));
    h.run(10, close_date("2027-03-01", day("2026-11-09")));
    // 11 grew then pulled in: pipeline 100_000 → 120_000, January → December → pulled in
    // +120_000 (its value at the end).
    h.create(11, "ana", "qualifiedtobuy", 100_000, "2027-01-10", october);
    h.run(11, amount(120_000, day("2026-11-06")));
    h.run(11, close_date("2026-12-12", day("2026-11-07")));
    // 12 created after `to`: in neither total.
    h.create(
        12,
        "ana",
        "contractsent",
        5_000_000,
        "2026-12-01",
        day("2026-11-30"),
    );
    // 13 lost in October, reopened on 16 November (back to qualifiedtobuy, pipeline)
    // → reopened +50_000.
    h.create(13, "ana", "qualifiedtobuy", 50_000, "2026-12-01", october);
    h.run(13, lose(day("2026-10-15")));
    h.run(13, reopen(day("2026-11-16")));
    // 14 handed from ana to bo: commit 100_000 (no movement in everyone's forecast).
    h.create(
        14,
        "ana",
        "decisionmakerboughtin",
        100_000,
        "2026-12-01",
        october,
    );
    h.run(
        14,
        DealCommand::ChangeOwner {
            owner: UserName::parse("bo").unwrap(),
            by: actor(),
            at: day("2026-11-18"),
        },
    );
    // 15 overdue from September, moved to December → pushed in +70_000.
    h.create(
        15,
        "ana",
        "appointmentscheduled",
        70_000,
        "2026-09-20",
        october,
    );
    h.run(15, close_date("2026-12-03", day("2026-11-02")));
    h
}

fn moves(waterfall: &Waterfall) -> Vec<(MovementKind, i64, Vec<Uuid>)> {
    waterfall
        .movements
        .iter()
        .map(|m| {
            (
                m.kind,
                m.change.minor,
                m.deals.iter().map(|d| d.deal).collect(),
            )
        })
        .collect()
}

fn check_sums(waterfall: &Waterfall) {
    let moved: i64 = waterfall.movements.iter().map(|m| m.change.minor).sum();
    assert_eq!(
        waterfall.start.total.minor + moved,
        waterfall.end.total.minor,
        "start + Σ movements = end"
    );
    for movement in &waterfall.movements {
        let deals: i64 = movement.deals.iter().map(|d| d.change.minor).sum();
        assert_eq!(deals, movement.change.minor, "{:?}", movement.kind);
    }
    let mut seen: Vec<Uuid> = waterfall
        .movements
        .iter()
        .flat_map(|m| m.deals.iter().map(|d| d.deal))
        .collect();
    let count = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), count, "each deal in exactly one movement");
}

fn run(scope: WaterfallScope) -> Waterfall {
    let history = scripted();
    waterfall(
        &history.log,
        period("2026-Q4"),
        from(),
        to(),
        scope,
        &Default::default(),
    )
    .unwrap()
}

#[test]
fn the_forecast_input_is_built_from_a_deal_view() {
    let mut history = History::default();
    history.create(
        1,
        "ana",
        "contractsent",
        1_000_000,
        "2026-12-10",
        day("2026-10-01"),
    );
    history.run(1, win(day("2026-11-20")));
    let deals = deals_as_of(&history.log, day("2026-12-01"));
    let expected = ForecastDeal {
        id: id(1),
        owner: "ana".to_string(),
        status: DealStatus::Won,
        amount: Some(usd(1_000_000)),
        close_date: Some(date("2026-12-10")),
        closed_on: Some(date("2026-11-20")),
        probability: 100,
        category: ForecastCategory::ClosedWon,
    };
    assert_eq!(deals, [expected]);
}

#[test]
fn the_scripted_history_has_the_known_forecast_waterfall() {
    use MovementKind as M;
    let waterfall = run(WaterfallScope::forecast());
    // 1_000_000 + 500_000 + 200_000 + 400_000 + 700_000 + 600_000 + 250_000 + 800_000
    // + 100_000 (deals 1, 2, 4, 5, 6, 7, 8, 10, 14)
    assert_eq!(
        waterfall.start,
        bucket(4_550_000, &[1, 2, 4, 5, 6, 7, 8, 10, 14])
    );
    assert_eq!(
        moves(&waterfall),
        [
            (M::New, 150_000, ids(&[9])),
            (M::Lost, -600_000, ids(&[7])),
            (M::Reopened, 50_000, ids(&[13])),
            (M::PulledIn, 420_000, ids(&[3, 11])),
            (M::PushedIn, 70_000, ids(&[15])),
            (M::PushedOut, -1_300_000, ids(&[2, 10])),
            (M::MovedOutOfCategory, -250_000, ids(&[8])),
            (M::AmountIncreased, 50_000, ids(&[4])),
            (M::AmountDecreased, -300_000, ids(&[5])),
        ]
    );
    // 4_550_000 + 150_000 − 600_000 + 50_000 + 420_000 + 70_000 − 1_300_000 − 250_000
    // + 50_000 − 300_000 = 2_840_000 = 1_000_000 + 300_000 + 250_000 + 100_000
    // + 700_000 + 150_000 + 120_000 + 50_000 + 100_000 + 70_000.
    assert_eq!(
        waterfall.end,
        bucket(2_840_000, &[1, 3, 4, 5, 6, 9, 11, 13, 14, 15])
    );
    check_sums(&waterfall);
}

#[test]
fn a_deal_that_moved_and_changed_amount_moves_once_by_its_whole_value() {
    let waterfall = run(WaterfallScope::forecast());
    let find = |n| {
        waterfall
            .movements
            .iter()
            .flat_map(|m| m.deals.iter().map(move |d| (m.kind, d)))
            .find(|(_, d)| d.deal == id(n))
            .unwrap()
    };
    let (kind, slipped) = find(10);
    assert_eq!(kind, MovementKind::PushedOut);
    assert_eq!(
        (slipped.start, slipped.end, slipped.change),
        (usd(800_000), usd(0), usd(-800_000))
    );
    assert_eq!(
        slipped.events.len(),
        2,
        "the amount change and the push, drillable"
    );
    let (kind, pulled) = find(11);
    assert_eq!(kind, MovementKind::PulledIn);
    assert_eq!((pulled.start, pulled.end), (usd(0), usd(120_000)));
}

#[test]
fn the_commit_waterfall_shows_the_win_leaving_commit() {
    use MovementKind as M;
    let waterfall = run(WaterfallScope::row(BucketKind::Commit));
    // 1_000_000 + 200_000 + 700_000 + 800_000 + 100_000
    assert_eq!(waterfall.start, bucket(2_800_000, &[1, 4, 6, 10, 14]));
    assert_eq!(
        moves(&waterfall),
        [
            (M::Won, -700_000, ids(&[6])),
            (M::PushedOut, -800_000, ids(&[10])),
            (M::AmountIncreased, 50_000, ids(&[4])),
        ]
    );
    // 2_800_000 − 700_000 − 800_000 + 50_000
    assert_eq!(waterfall.end, bucket(1_350_000, &[1, 4, 14]));
    check_sums(&waterfall);

    let won = run(WaterfallScope::row(BucketKind::ClosedWon));
    assert_eq!(moves(&won), [(M::Won, 700_000, ids(&[6]))]);
    check_sums(&won);
}

#[test]
fn an_owner_waterfall_shows_the_handover() {
    use MovementKind as M;
    let ana = run(WaterfallScope::forecast().of_owner("ana"));
    assert_eq!(ana.start.total, usd(4_550_000));
    assert!(moves(&ana).contains(&(M::OwnerChangedOut, -100_000, ids(&[14]))));
    // 2_840_000 − 100_000
    assert_eq!(ana.end.total, usd(2_740_000));
    check_sums(&ana);
    let bo = run(WaterfallScope::forecast().of_owner("bo"));
    assert_eq!(bo.start, bucket(0, &[]));
    assert_eq!(moves(&bo), [(M::OwnerChangedIn, 100_000, ids(&[14]))]);
    assert_eq!(bo.end, bucket(100_000, &[14]));
}

#[test]
fn the_waterfall_ends_are_the_forecasts_as_of_its_instants() {
    let history = scripted();
    let config = ForecastConfig::default();
    for scope in [
        WaterfallScope::forecast(),
        WaterfallScope::row(BucketKind::Commit),
        WaterfallScope::row(BucketKind::BestCase),
        WaterfallScope::row(BucketKind::Pipeline),
        WaterfallScope::row(BucketKind::Omitted),
        WaterfallScope::row(BucketKind::ClosedLost),
    ] {
        let waterfall = waterfall(
            &history.log,
            period("2026-Q4"),
            from(),
            to(),
            scope.clone(),
            &config,
        )
        .unwrap();
        check_sums(&waterfall);
        for (instant, end) in [(from(), &waterfall.start), (to(), &waterfall.end)] {
            let deals = deals_as_of(&history.log, instant);
            let rows = forecast(&deals, &[], period("2026-Q4"), &config).unwrap();
            let sum: i64 = scope
                .rows
                .iter()
                .map(|k| rows.total.bucket(*k).total.minor)
                .sum();
            assert_eq!(sum, end.total.minor, "{scope:?} at {instant}");
        }
    }
}

#[test]
fn a_lost_deal_read_back_from_events_weighs_zero() {
    let history = scripted();
    let deals = deals_as_of(&history.log, to());
    let rows = forecast(&deals, &[], period("2026-Q4"), &Default::default()).unwrap();
    assert_eq!(rows.total.closed_lost, bucket(600_000, &[7]));
    let part = rows
        .total
        .weighted
        .parts
        .iter()
        .find(|p| p.deal == id(7))
        .unwrap();
    assert_eq!((part.probability, part.weighted), (0, usd(0)));
}

#[test]
fn nothing_moves_between_an_instant_and_itself_and_backwards_is_refused() {
    let history = scripted();
    let same = waterfall(
        &history.log,
        period("2026-Q4"),
        to(),
        to(),
        WaterfallScope::forecast(),
        &Default::default(),
    )
    .unwrap();
    assert!(same.movements.is_empty());
    assert_eq!(same.start, same.end);
    let error = waterfall(
        &history.log,
        period("2026-Q4"),
        to(),
        from(),
        WaterfallScope::forecast(),
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(error.code(), "reversed_instants");
}
