//! The quick-stats bar over Today's Moves, read from the `queue_items` read model: what is
//! open, what is snoozed, what was decided today and the approval rate of the last 7 days.
//! Demo moves (`caseyos demo seed`) are open moves like any other, but decisions on them are
//! not the operator's: they are left out of the decision counts and the approval rate and
//! reported apart.

use caseyos_domain::api::QueueStatsResponse;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};

/// The moments the stats are counted from.
#[derive(Clone, Copy, Debug)]
pub struct StatsWindow {
    /// Now: snoozes due by now count as pending.
    pub now: DateTime<Utc>,
    /// The start of today in the caller's time zone.
    pub today_from: DateTime<Utc>,
    /// The start of the approval-rate window (7 days ago).
    pub rate_from: DateTime<Utc>,
}

/// Quick stats for one owner, or everyone when `owner` is `None`.
pub async fn stats(
    pool: &PgPool,
    owner: Option<&str>,
    window: StatsWindow,
) -> anyhow::Result<QueueStatsResponse> {
    // Open items and recent decisions only; each has its own partial index. Decisions on
    // demo moves are counted apart: they are not the operator's work.
    let row = sqlx::query(
        "select \
           count(*) filter (where status = 'pending' \
             or (status = 'snoozed' and snoozed_until <= $2)) as pending, \
           count(*) filter (where demo and (status = 'pending' \
             or (status = 'snoozed' and snoozed_until <= $2))) as demo_pending, \
           count(*) filter (where status = 'snoozed' and snoozed_until > $2) as snoozed, \
           count(*) filter (where not demo and status = 'approved' and decided_at >= $3) \
             as approved_today, \
           count(*) filter (where not demo and status = 'rejected' and decided_at >= $3) \
             as rejected_today, \
           count(*) filter (where demo and status in ('approved', 'rejected') \
             and decided_at >= $3) as demo_decided_today, \
           count(*) filter (where not demo and status = 'approved' and decided_at >= $4) \
             as approved_window, \
           count(*) filter (where not demo and status in ('approved', 'rejected') \
             and decided_at >= $4) as decided_window \
         from queue_items \
         where ($1::text is null or owner = $1) \
           and (status in ('pending', 'snoozed') or decided_at >= least($3, $4))",
    )
    .bind(owner)
    .bind(window.now)
    .bind(window.today_from)
    .bind(window.rate_from)
    .fetch_one(pool)
    .await?;
    let approved_today: i64 = row.try_get("approved_today")?;
    let rejected_today: i64 = row.try_get("rejected_today")?;
    Ok(QueueStatsResponse {
        pending: row.try_get("pending")?,
        demo_pending: row.try_get("demo_pending")?,
        snoozed: row.try_get("snoozed")?,
        decided_today: approved_today + rejected_today,
        approved_today,
        rejected_today,
        demo_decided_today: row.try_get("demo_decided_today")?,
        approval_rate_7d: percent(
            row.try_get("approved_window")?,
            row.try_get("decided_window")?,
        ),
    })
}

/// `part` of `whole` in whole percent, rounded half up; none of nothing.
pub fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 200 + whole) / (whole * 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_whole_percent_rounded_half_up_and_none_without_decisions() {
        // (approved, decided, rate)
        let table = [
            (0, 0, None),
            (0, 3, Some(0)),
            (1, 3, Some(33)),
            (2, 3, Some(67)),
            (1, 8, Some(13)), // 12.5 → 13
            (3, 3, Some(100)),
        ];
        for (part, whole, expected) in table {
            assert_eq!(percent(part, whole), expected, "{part}/{whole}");
        }
    }
}
