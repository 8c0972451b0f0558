//! Periods as tables; forecast rows and waterfalls against hand-computed fixtures. Money
//! is in cents: 1_000_000 is $10,000.00.

use chrono::NaiveDate;

use super::*;

fn date(raw: &str) -> NaiveDate {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").unwrap()
}

fn period(raw: &str) -> Period {
    Period::parse(raw).unwrap()
}

fn feb() -> FiscalCalendar {
    FiscalCalendar::starting_in(2).unwrap()
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
