//! AgendaGenerator: today's agenda from the owner's open moves in the queue read model:
//! what is overdue, what is due before the end of the day, and the top priorities after
//! that.
//!
//! Within each section moves are ordered by APS (highest first), then due time (earliest
//! first, undated last), then id, so the agenda is reproducible. "Today" ends at midnight
//! at the caller's UTC offset (UTC unless `utc_offset_minutes` is given).

use caseyos_domain::agent_run::AgentDomain;
use caseyos_domain::api::FieldError;
use caseyos_domain::queue::aps::ApsScore;
use caseyos_domain::queue::{ActionType, QueueItemView};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, Offset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::schema::InputSchema;
use crate::{field_error, AgentError, Ctx, Outcome};

pub const NAME: &str = "AgendaGenerator";
pub const DOMAIN: AgentDomain = AgentDomain::Sales;
pub const DESCRIPTION: &str =
    "Builds today's agenda from your open moves: overdue, due today, then the top priorities by APS.";
pub const USES_LLM: bool = false;
pub const PROPOSES_MOVES: bool = false;

/// How many top priorities are listed unless the input says otherwise, and the bounds.
pub const DEFAULT_LIMIT: u32 = 10;
pub const MIN_LIMIT: u32 = 1;
pub const MAX_LIMIT: u32 = 50;
/// UTC offsets that exist on Earth, in minutes (UTC−12:00 to UTC+14:00).
pub const MIN_UTC_OFFSET_MINUTES: i32 = -720;
pub const MAX_UTC_OFFSET_MINUTES: i32 = 840;
/// How many open moves are read from the queue to build the agenda.
pub const FETCH_LIMIT: i64 = 500;

/// Options for today's agenda.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// How many top priorities to list (1–50, default 10). Overdue and due-today moves are
    /// all listed.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Your offset from UTC in minutes, e.g. 60 for Paris in winter or -300 for New York;
    /// "today" ends at your midnight (UTC when left out).
    #[serde(default)]
    pub utc_offset_minutes: Option<i32>,
}

pub fn example() -> serde_json::Value {
    serde_json::json!({"limit": 5, "utc_offset_minutes": -300})
}

pub fn schema() -> serde_json::Value {
    InputSchema::of::<Input>()
        .integer("limit", MIN_LIMIT.into(), MAX_LIMIT.into())
        .integer(
            "utc_offset_minutes",
            MIN_UTC_OFFSET_MINUTES.into(),
            MAX_UTC_OFFSET_MINUTES.into(),
        )
        .build()
}

pub fn check(input: &Input) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input
        .limit
        .is_some_and(|l| !(MIN_LIMIT..=MAX_LIMIT).contains(&l))
    {
        errors.push(field_error(
            "limit",
            format!("must be between {MIN_LIMIT} and {MAX_LIMIT}"),
        ));
    }
    if input
        .utc_offset_minutes
        .is_some_and(|o| !(MIN_UTC_OFFSET_MINUTES..=MAX_UTC_OFFSET_MINUTES).contains(&o))
    {
        errors.push(field_error(
            "utc_offset_minutes",
            format!("must be between {MIN_UTC_OFFSET_MINUTES} and {MAX_UTC_OFFSET_MINUTES}"),
        ));
    }
    errors
}

/// One move on the agenda.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    pub id: Uuid,
    pub title: String,
    pub action_type: ActionType,
    pub aps: ApsScore,
    pub due_by: Option<DateTime<Utc>>,
    /// The proposer's rationale, or the APS reasoning when none was given.
    pub why: String,
}

/// Today's agenda.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Agenda {
    /// The local date the agenda is for.
    pub date: NaiveDate,
    pub utc_offset_minutes: i32,
    /// When "today" ends, in UTC.
    pub day_ends_at: DateTime<Utc>,
    pub overdue: Vec<Entry>,
    pub due_today: Vec<Entry>,
    pub top_priorities: Vec<Entry>,
    /// Open moves read from the queue.
    pub open_moves: usize,
    /// Open moves not listed because they fell outside the top priorities.
    pub not_listed: usize,
}

/// The end of the local day containing `now`, in UTC.
pub fn end_of_day(now: DateTime<Utc>, utc_offset_minutes: i32) -> (NaiveDate, DateTime<Utc>) {
    let offset = Duration::minutes(i64::from(utc_offset_minutes));
    let local = (now + offset).date_naive();
    let next_midnight = local.succ_opt().unwrap_or(local).and_time(NaiveTime::MIN);
    (local, next_midnight.and_utc() - offset)
}

/// APS desc, then due time asc with undated last, then id.
fn order(items: &mut [QueueItemView]) {
    items.sort_by(|a, b| {
        b.aps
            .score
            .cmp(&a.aps.score)
            .then_with(|| match (a.due_by, b.due_by) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.id.cmp(&b.id))
    });
}

fn entry(item: QueueItemView) -> Entry {
    let why = item
        .rationale
        .filter(|r| !r.trim().is_empty())
        .unwrap_or(item.aps.reasoning);
    Entry {
        id: item.id,
        title: item.title,
        action_type: item.action_type,
        aps: item.aps.score,
        due_by: item.due_by,
        why,
    }
}

/// Sorts open moves into today's agenda.
pub fn build_agenda(
    items: Vec<QueueItemView>,
    now: DateTime<Utc>,
    utc_offset_minutes: i32,
    limit: usize,
) -> Agenda {
    let (date, day_ends_at) = end_of_day(now, utc_offset_minutes);
    let open_moves = items.len();
    let (mut overdue, mut due_today, mut later) = (Vec::new(), Vec::new(), Vec::new());
    for item in items {
        match item.due_by {
            Some(due) if due < now => overdue.push(item),
            Some(due) if due < day_ends_at => due_today.push(item),
            _ => later.push(item),
        }
    }
    for section in [&mut overdue, &mut due_today, &mut later] {
        order(section);
    }
    let not_listed = later.len().saturating_sub(limit);
    later.truncate(limit);
    Agenda {
        date,
        utc_offset_minutes,
        day_ends_at,
        overdue: overdue.into_iter().map(entry).collect(),
        due_today: due_today.into_iter().map(entry).collect(),
        top_priorities: later.into_iter().map(entry).collect(),
        open_moves,
        not_listed,
    }
}

/// `+05:30`, `-05:00`, `+00:00`.
fn offset_label(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let abs = minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", abs / 60, abs % 60)
}

fn render(agenda: &Agenda) -> String {
    let tz = FixedOffset::east_opt(agenda.utc_offset_minutes * 60).unwrap_or(Utc.fix());
    let when = |due: Option<DateTime<Utc>>| match due {
        None => "no due date".to_string(),
        Some(due) => {
            let local = due.with_timezone(&tz);
            if local.date_naive() == agenda.date {
                format!("due {}", local.format("%H:%M"))
            } else {
                format!("due {}", local.format("%Y-%m-%d %H:%M"))
            }
        }
    };
    let mut out = format!(
        "# Agenda for {} ({})\n",
        agenda.date.format("%A %-d %B %Y"),
        offset_label(agenda.utc_offset_minutes)
    );
    if agenda.open_moves == 0 {
        out.push_str("\nNothing waiting: there are no open moves in your queue.\n");
        return out;
    }
    for (heading, entries, empty) in [
        ("Overdue", &agenda.overdue, "Nothing overdue."),
        ("Due today", &agenda.due_today, "Nothing else is due today."),
        (
            "Top priorities",
            &agenda.top_priorities,
            "No other open moves.",
        ),
    ] {
        out.push_str(&format!("\n## {heading}\n\n"));
        if entries.is_empty() {
            out.push_str(empty);
            out.push('\n');
        }
        for (n, e) in entries.iter().enumerate() {
            out.push_str(&format!(
                "{}. **{}** (APS {:.1}, {}): {}\n",
                n + 1,
                e.title,
                e.aps.as_f64(),
                when(e.due_by),
                e.why
            ));
        }
    }
    if agenda.not_listed > 0 {
        out.push_str(&format!(
            "\n{} more open move{} not listed.\n",
            agenda.not_listed,
            if agenda.not_listed == 1 { "" } else { "s" }
        ));
    }
    out
}

pub async fn run(input: Input, ctx: &Ctx<'_>) -> Result<Outcome, AgentError> {
    let items = ctx
        .queue
        .open_moves(ctx.owner, FETCH_LIMIT)
        .await
        .map_err(|e| AgentError::new("agent.read_failed", e, true))?;
    let limit = input
        .limit
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(MIN_LIMIT, MAX_LIMIT);
    let offset = input
        .utc_offset_minutes
        .unwrap_or(0)
        .clamp(MIN_UTC_OFFSET_MINUTES, MAX_UTC_OFFSET_MINUTES);
    let agenda = build_agenda(items, ctx.now, offset, limit as usize);
    Outcome::report(&agenda, render(&agenda))
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use caseyos_domain::kernel::Actor;
    use caseyos_domain::queue::aps::{Aps, ApsInputs};
    use caseyos_domain::queue::{QueueDomain, QueueStatus, Source, Target};
    use chrono::TimeZone;

    use super::*;
    use crate::{QueueReader, VoiceProfile, Writer};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 14, 15, 0, 0).unwrap()
    }

    /// A move with an id ending in `n`, APS from `revenue` (thousandths), due `due` hours
    /// from now.
    fn item(n: u128, revenue: u16, due: Option<i64>) -> QueueItemView {
        QueueItemView {
            id: Uuid::from_u128(n),
            title: format!("Move {n}"),
            action_type: ActionType::FollowUp,
            domain: QueueDomain::Sales,
            status: QueueStatus::Pending,
            owner: "casey".into(),
            target: Target::default(),
            payload: serde_json::json!({}),
            due_by: due.map(|h| now() + Duration::hours(h)),
            expires_at: None,
            snoozed_until: None,
            aps: Aps::compute(ApsInputs::new(revenue, 500, 500, 500)),
            rationale: Some(format!("Reason {n}")),
            source: Source::Manual,
            draft: None,
            demo: false,
            decision: None,
            proposed_at: now() - Duration::days(1),
            proposed_by: Actor::user("casey"),
            updated_at: now() - Duration::days(1),
            version: 1,
        }
    }

    fn ids(entries: &[Entry]) -> Vec<u128> {
        entries.iter().map(|e| e.id.as_u128()).collect()
    }

    #[test]
    fn moves_go_to_overdue_due_today_or_top_priorities_by_due_time() {
        // Now is 15:00 UTC; the day ends at 24:00 UTC, nine hours away.
        let table = [
            (Some(-30), "overdue"),
            (Some(-1), "overdue"),
            (Some(0), "due_today"),
            (Some(8), "due_today"),
            (Some(9), "top"),
            (Some(48), "top"),
            (None, "top"),
        ];
        for (due, section) in table {
            let agenda = build_agenda(vec![item(1, 500, due)], now(), 0, 10);
            let placed = match (
                agenda.overdue.len(),
                agenda.due_today.len(),
                agenda.top_priorities.len(),
            ) {
                (1, 0, 0) => "overdue",
                (0, 1, 0) => "due_today",
                (0, 0, 1) => "top",
                other => panic!("{other:?}"),
            };
            assert_eq!(placed, section, "{due:?}");
        }
    }

    #[test]
    fn the_utc_offset_moves_the_end_of_today() {
        // 15:00 UTC is 10:00 in New York (-300): the day ends at 05:00 UTC tomorrow.
        // It is already 05:00 tomorrow in Kiritimati (+840): that day ends at 10:00 UTC
        // tomorrow.
        let table = [
            (
                0,
                "2025-03-14",
                Utc.with_ymd_and_hms(2025, 3, 15, 0, 0, 0).unwrap(),
            ),
            (
                -300,
                "2025-03-14",
                Utc.with_ymd_and_hms(2025, 3, 15, 5, 0, 0).unwrap(),
            ),
            (
                840,
                "2025-03-15",
                Utc.with_ymd_and_hms(2025, 3, 15, 10, 0, 0).unwrap(),
            ),
            (
                -720,
                "2025-03-14",
                Utc.with_ymd_and_hms(2025, 3, 15, 12, 0, 0).unwrap(),
            ),
            (
                330,
                "2025-03-14",
                Utc.with_ymd_and_hms(2025, 3, 14, 18, 30, 0).unwrap(),
            ),
        ];
        for (offset, date, ends) in table {
            let (local, end) = end_of_day(now(), offset);
            assert_eq!(local.to_string(), date, "{offset}");
            assert_eq!(end, ends, "{offset}");
        }
        // Due at 20:00 UTC: today in UTC, tomorrow in India (+05:30).
        let due = vec![item(1, 500, Some(5))];
        assert_eq!(build_agenda(due.clone(), now(), 0, 10).due_today.len(), 1);
        assert_eq!(build_agenda(due, now(), 330, 10).top_priorities.len(), 1);
    }

    #[test]
    fn sections_order_by_aps_then_due_time_then_id() {
        let items = vec![
            item(4, 500, Some(30)),
            item(3, 900, None),
            item(2, 500, None),
            item(1, 500, Some(50)),
            item(5, 900, Some(40)),
            item(6, 500, Some(30)),
        ];
        let agenda = build_agenda(items, now(), 0, 10);
        // APS 900 first (dated before undated), then APS 500 by due time, then id.
        assert_eq!(ids(&agenda.top_priorities), vec![5, 3, 4, 6, 1, 2]);
        let overdue = build_agenda(
            vec![
                item(7, 100, Some(-2)),
                item(8, 900, Some(-1)),
                item(9, 100, Some(-3)),
            ],
            now(),
            0,
            10,
        );
        assert_eq!(ids(&overdue.overdue), vec![8, 9, 7]);
    }

    #[test]
    fn top_priorities_stop_at_the_limit_and_count_the_rest() {
        let mut all: Vec<_> = (1..=8).map(|n| item(n, 100 * n as u16, None)).collect();
        all.push(item(20, 100, Some(-5)));
        let agenda = build_agenda(all, now(), 0, 3);
        assert_eq!(ids(&agenda.top_priorities), vec![8, 7, 6]);
        assert_eq!(agenda.overdue.len(), 1);
        assert_eq!(agenda.not_listed, 5);
        assert_eq!(agenda.open_moves, 9);
    }

    #[test]
    fn why_falls_back_to_the_aps_reasoning() {
        let mut quiet = item(1, 600, None);
        quiet.rationale = None;
        let reasoning = quiet.aps.reasoning.clone();
        let agenda = build_agenda(vec![quiet, item(2, 500, None)], now(), 0, 10);
        assert_eq!(agenda.top_priorities[0].why, reasoning);
        assert_eq!(agenda.top_priorities[1].why, "Reason 2");
    }

    #[test]
    fn the_text_has_a_section_per_part_of_the_day() {
        let agenda = build_agenda(
            vec![item(1, 500, Some(-2)), item(2, 500, None)],
            now(),
            0,
            10,
        );
        let text = render(&agenda);
        assert!(text.starts_with("# Agenda for Friday 14 March 2025 (UTC+00:00)"));
        assert!(text.contains("## Overdue\n\n1. **Move 1** (APS 50.0, due 13:00): Reason 1"));
        assert!(text.contains("## Due today\n\nNothing else is due today."));
        assert!(text.contains("## Top priorities\n\n1. **Move 2** (APS 50.0, no due date)"));
    }

    #[test]
    fn offsets_are_labelled_with_sign_hours_and_minutes() {
        let table = [
            (0, "UTC+00:00"),
            (330, "UTC+05:30"),
            (-300, "UTC-05:00"),
            (-570, "UTC-09:30"),
        ];
        for (minutes, label) in table {
            assert_eq!(offset_label(minutes), label);
        }
    }

    #[test]
    fn check_bounds_limit_and_offset() {
        let table = [
            (None, None, 0),
            (Some(1), Some(-720), 0),
            (Some(50), Some(840), 0),
            (Some(0), None, 1),
            (Some(51), None, 1),
            (None, Some(-721), 1),
            (None, Some(841), 1),
        ];
        for (limit, offset, errors) in table {
            let input = Input {
                limit,
                utc_offset_minutes: offset,
            };
            assert_eq!(check(&input).len(), errors, "{limit:?} {offset:?}");
        }
    }

    struct FixedQueue(Result<Vec<QueueItemView>, String>);

    #[async_trait]
    impl QueueReader for FixedQueue {
        async fn open_moves(&self, _: &str, _: i64) -> Result<Vec<QueueItemView>, String> {
            self.0.clone()
        }
    }

    #[tokio::test]
    async fn an_empty_queue_gives_an_honest_empty_agenda() {
        let voice = VoiceProfile::default();
        let queue = FixedQueue(Ok(Vec::new()));
        let ctx = Ctx::new("casey", now(), &voice, &Writer::Offline, &queue);
        let input = Input {
            limit: None,
            utc_offset_minutes: None,
        };
        let outcome = run(input, &ctx).await.unwrap();
        assert!(outcome.text.unwrap().contains("Nothing waiting"));
        assert_eq!(outcome.output["open_moves"], 0);
        assert!(outcome.proposals.is_empty());
    }

    #[tokio::test]
    async fn a_queue_read_failure_is_a_retryable_error() {
        let voice = VoiceProfile::default();
        let queue = FixedQueue(Err("connection reset".into()));
        let ctx = Ctx::new("casey", now(), &voice, &Writer::Offline, &queue);
        let input = Input {
            limit: Some(5),
            utc_offset_minutes: None,
        };
        let err = run(input, &ctx).await.unwrap_err();
        assert_eq!(err.code, "agent.read_failed");
        assert!(err.retryable);
    }
}
