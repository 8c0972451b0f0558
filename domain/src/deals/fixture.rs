//! A well-worked open deal at a fixed `now`, for the health and risk tables to vary one
//! fact at a time.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::state::DealView;
use super::types::{ActivityCounts, ActivityKind, ActivityStamp, DealSource, DealStatus};
use crate::kernel::{Actor, CrmId, Money};
use crate::pipelines::{stage_category, ForecastChoice, Pipeline, Stage};

/// 2026-11-20 15:00 UTC.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T15:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub fn days_ago(days: i64) -> DateTime<Utc> {
    now() - Duration::days(days)
}

pub fn date(raw: &str) -> NaiveDate {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").unwrap()
}

pub fn stage(id: &str) -> Stage {
    Pipeline::default_hubspot()
        .stage(&CrmId::parse(id).unwrap())
        .unwrap()
        .clone()
}

pub fn stamp(kind: ActivityKind, days: i64) -> ActivityStamp {
    ActivityStamp {
        kind,
        happened_at: days_ago(days),
    }
}

/// Set activities (newest first) with the counts and last activity that go with them.
pub fn with_activities(mut view: DealView, mut stamps: Vec<ActivityStamp>) -> DealView {
    stamps.sort_by_key(|s| std::cmp::Reverse(s.happened_at));
    view.activity_counts = ActivityCounts::default();
    for s in &stamps {
        view.activity_counts.add(s.kind);
    }
    view.last_activity_at = stamps.first().map(|s| s.happened_at);
    view.recent_activities = stamps;
    view
}

/// Qualified to buy (40%) for 10 days, created 20 days ago, $50,000 (its largest), closing
/// 2026-12-15 never pushed, 3 contacts, a next step, and in the last 30 days 2 meetings
/// (2 and 9 days ago), a call (5) and 2 emails (1 and 12): health 91, no flags.
pub fn deal() -> DealView {
    let stage = stage("qualifiedtobuy");
    let view = DealView {
        id: Uuid::from_u128(7),
        name: "Acme expansion".into(),
        pipeline: CrmId::parse("default").unwrap(),
        stage_entered_at: days_ago(10),
        last_open_stage: stage.id.clone(),
        status: DealStatus::Open,
        amount: Some(Money::usd(5_000_000)),
        peak_amount: Some(Money::usd(5_000_000)),
        close_date: Some(date("2026-12-15")),
        close_date_pushes: 0,
        owner: "casey".into(),
        contacts: (1..=3).map(Uuid::from_u128).collect(),
        activity_counts: ActivityCounts::default(),
        last_activity_at: None,
        recent_activities: Vec::new(),
        next_step: Some("Send the security questionnaire".into()),
        next_step_set_at: Some(days_ago(3)),
        forecast_category: stage_category(&stage),
        forecast_choice: ForecastChoice::Auto,
        forecast_category_explicit: false,
        lost_reason: None,
        closed_at: None,
        source: DealSource::Manual,
        crm_id: None,
        demo: false,
        created_by: Actor::user("casey"),
        created_at: days_ago(20),
        updated_at: days_ago(1),
        version: 12,
        stage,
    };
    with_activities(
        view,
        vec![
            stamp(ActivityKind::Meeting, 2),
            stamp(ActivityKind::Meeting, 9),
            stamp(ActivityKind::Call, 5),
            stamp(ActivityKind::Email, 1),
            stamp(ActivityKind::Email, 12),
        ],
    )
}
