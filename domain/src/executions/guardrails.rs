//! The guardrails an execution passes before it may start, as one pure decision: the kill
//! switch, send mode, the per-recipient and daily send quotas, the send circuit breaker and
//! quiet hours in the move owner's time zone. Every check is recorded with its verdict and
//! reason, whether it passed or blocked.

use chrono::{DateTime, NaiveTime, Utc};
#[cfg(feature = "server")]
use chrono::{Datelike, Duration, TimeZone, Weekday};
use serde::{Deserialize, Serialize};

#[cfg(feature = "server")]
use super::plan::Handler;

/// How outgoing email is handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SendMode {
    /// Emails become Gmail drafts for a person to send; calendar invitations are not
    /// mailed. The starting mode.
    #[default]
    DraftOnly,
    /// Emails are sent and invitations mailed.
    Send,
    /// Nothing leaves CaseyOS: each execution records the exact request it would send.
    DryRun,
}

impl SendMode {
    pub const ALL: &'static [SendMode] = &[SendMode::DraftOnly, SendMode::Send, SendMode::DryRun];

    pub const fn as_str(self) -> &'static str {
        match self {
            SendMode::DraftOnly => "draft_only",
            SendMode::Send => "send",
            SendMode::DryRun => "dry_run",
        }
    }

    pub fn parse(raw: &str) -> Option<SendMode> {
        SendMode::ALL.iter().copied().find(|m| m.as_str() == raw)
    }
}

/// A guardrail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Guardrail {
    KillSwitch,
    SendMode,
    RecipientQuota,
    DailyQuota,
    CircuitBreaker,
    QuietHours,
}

impl Guardrail {
    pub const fn as_str(self) -> &'static str {
        match self {
            Guardrail::KillSwitch => "kill_switch",
            Guardrail::SendMode => "send_mode",
            Guardrail::RecipientQuota => "recipient_quota",
            Guardrail::DailyQuota => "daily_quota",
            Guardrail::CircuitBreaker => "circuit_breaker",
            Guardrail::QuietHours => "quiet_hours",
        }
    }
}

/// One guardrail's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    /// It let the execution go in another form (send mode: a draft instead of a send).
    Adjust,
    Block,
}

/// A guardrail's decision and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct GuardrailCheck {
    pub guardrail: Guardrail,
    pub verdict: Verdict,
    pub reason: String,
}

/// The limits, all configurable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct GuardrailConfig {
    /// Emails sent to one address per rolling 7 days.
    pub recipient_weekly_quota: u32,
    /// Emails sent per calendar day (the operator's time zone).
    pub daily_quota: u32,
    /// The breaker opens when more than `breaker_failure_percent` % of at least
    /// `breaker_min_sends` sends in the last `breaker_window_minutes` failed.
    pub breaker_min_sends: u32,
    pub breaker_failure_percent: u32,
    pub breaker_window_minutes: u32,
    /// No email or invitation goes out between these local times ("HH:MM"; start after end
    /// spans midnight); `None` or both blank (`""` in a TOML file) turns quiet hours off.
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    /// Saturdays and Sundays are quiet all day.
    pub quiet_weekends: bool,
}

impl Default for GuardrailConfig {
    fn default() -> Self {
        GuardrailConfig {
            recipient_weekly_quota: 2,
            daily_quota: 20,
            breaker_min_sends: 10,
            breaker_failure_percent: 10,
            breaker_window_minutes: 60,
            quiet_start: Some("20:00".to_string()),
            quiet_end: Some("08:00".to_string()),
            quiet_weekends: true,
        }
    }
}

/// Reads "HH:MM".
pub fn parse_clock(raw: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M").ok()
}

impl GuardrailConfig {
    /// The first problem with the limits, named by field.
    pub fn problem(&self) -> Option<(&'static str, &'static str)> {
        if self.breaker_failure_percent > 100 {
            return Some(("breaker_failure_percent", "at most 100"));
        }
        if self.breaker_window_minutes == 0 {
            return Some(("breaker_window_minutes", "at least 1"));
        }
        match (clock_of(&self.quiet_start), clock_of(&self.quiet_end)) {
            (None, None) => None,
            (Some(s), Some(e)) if parse_clock(s).is_some() && parse_clock(e).is_some() => None,
            (Some(_), Some(_)) => Some(("quiet_start", "both ends are HH:MM")),
            _ => Some((
                "quiet_start",
                "set both quiet_start and quiet_end, or neither",
            )),
        }
    }

    #[cfg(feature = "server")]
    fn quiet(&self) -> Option<(NaiveTime, NaiveTime)> {
        Some((
            parse_clock(clock_of(&self.quiet_start)?)?,
            parse_clock(clock_of(&self.quiet_end)?)?,
        ))
    }
}

/// A quiet-hours end as configured: absent or blank (`""`, how a TOML file says "off") is
/// none.
fn clock_of(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().filter(|r| !r.trim().is_empty())
}

/// What was sent lately, from the executions read model.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendStats {
    /// When each of the recipients was last sent to within the last 7 days, oldest first,
    /// per recipient.
    pub recipient_sends: Vec<(String, Vec<DateTime<Utc>>)>,
    /// Emails sent since the operator's local midnight.
    pub sent_today: u32,
    /// Sends that finished within the breaker's window, and how many of them failed.
    pub window_sends: u32,
    pub window_failures: u32,
}

/// Everything the decision reads.
#[cfg(feature = "server")]
pub struct GuardrailInput<'a> {
    pub handler: Handler,
    pub recipients: &'a [String],
    pub kill_switch: bool,
    pub send_mode: SendMode,
    pub config: &'a GuardrailConfig,
    pub stats: &'a SendStats,
    pub now: DateTime<Utc>,
    /// The move owner's time zone (quiet hours).
    pub owner_tz: chrono_tz::Tz,
    /// The operator's time zone (the daily quota's day).
    pub operator_tz: chrono_tz::Tz,
}

/// What the guardrails decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead; `live` is false when send mode turned an email into a draft or keeps an
    /// invitation from being mailed.
    Proceed {
        live: bool,
        checks: Vec<GuardrailCheck>,
    },
    /// Record the exact request instead of sending it.
    DryRun { checks: Vec<GuardrailCheck> },
    /// Not now: which guardrail, why, and when it may pass by itself (`None`: it needs a
    /// person).
    Block {
        guardrail: Guardrail,
        reason: String,
        retry_at: Option<DateTime<Utc>>,
        checks: Vec<GuardrailCheck>,
    },
}

#[cfg(feature = "server")]
fn check(guardrail: Guardrail, verdict: Verdict, reason: impl Into<String>) -> GuardrailCheck {
    GuardrailCheck {
        guardrail,
        verdict,
        reason: reason.into(),
    }
}

/// When quiet hours end, if `now` is inside them, in `tz`.
#[cfg(feature = "server")]
pub fn quiet_until(
    config: &GuardrailConfig,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Option<DateTime<Utc>> {
    let local = now.with_timezone(&tz);
    let weekend = |d: chrono::NaiveDate| matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    let window = config.quiet();
    let in_window = |t: NaiveTime| match window {
        Some((s, e)) if s <= e => t >= s && t < e,
        Some((s, e)) => t >= s || t < e,
        None => false,
    };
    let quiet_at = |at: chrono::NaiveDateTime| {
        (config.quiet_weekends && weekend(at.date())) || in_window(at.time())
    };
    let naive = local.naive_local();
    if !quiet_at(naive) {
        return None;
    }
    // Walk forward to the first minute that is not quiet: the window's end, past a weekend.
    let mut candidates: Vec<chrono::NaiveDateTime> = Vec::new();
    for day in 0..4 {
        let date = naive.date() + Duration::days(day);
        candidates.push(date.and_time(window.map_or(NaiveTime::MIN, |w| w.1)));
        candidates.push(date.and_time(NaiveTime::MIN));
    }
    candidates.sort();
    let next = candidates
        .into_iter()
        .filter(|c| *c > naive)
        .find(|c| !quiet_at(*c))?;
    tz.from_local_datetime(&next)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The guardrails' decision for one execution about to start.
#[cfg(feature = "server")]
pub fn decide(input: &GuardrailInput<'_>) -> Decision {
    let mut checks = Vec::new();
    let block = |checks: &mut Vec<GuardrailCheck>,
                 guardrail: Guardrail,
                 reason: String,
                 retry_at: Option<DateTime<Utc>>| {
        checks.push(check(guardrail, Verdict::Block, reason.clone()));
        Decision::Block {
            guardrail,
            reason,
            retry_at,
            checks: std::mem::take(checks),
        }
    };
    if input.kill_switch {
        return block(
            &mut checks,
            Guardrail::KillSwitch,
            "the kill switch is engaged: nothing executes until an admin releases it".into(),
            None,
        );
    }
    checks.push(check(Guardrail::KillSwitch, Verdict::Pass, "released"));
    let reaches_people = matches!(input.handler, Handler::Email | Handler::Meeting);
    let external = input.handler.connector().is_some() || input.handler == Handler::DealStage;
    if input.send_mode == SendMode::DryRun && external {
        checks.push(check(
            Guardrail::SendMode,
            Verdict::Adjust,
            "send mode is dry_run: the request is recorded, not sent",
        ));
        return Decision::DryRun { checks };
    }
    if !reaches_people {
        checks.push(check(
            Guardrail::SendMode,
            Verdict::Pass,
            "reaches no one outside: send mode does not apply",
        ));
        return Decision::Proceed { live: true, checks };
    }
    if input.send_mode == SendMode::DraftOnly {
        let reason = match input.handler {
            Handler::Email => {
                "send mode is draft_only: a Gmail draft is created instead of sending"
            }
            _ => "send mode is draft_only: the event is created without mailing invitations",
        };
        checks.push(check(Guardrail::SendMode, Verdict::Adjust, reason));
        return Decision::Proceed {
            live: false,
            checks,
        };
    }
    checks.push(check(
        Guardrail::SendMode,
        Verdict::Pass,
        "send mode is send",
    ));
    let config = input.config;
    if input.handler == Handler::Email {
        // Per recipient: at most N in any 7 days.
        for (recipient, sends) in &input.stats.recipient_sends {
            let week_ago = input.now - Duration::days(7);
            let recent: Vec<&DateTime<Utc>> = sends.iter().filter(|t| **t > week_ago).collect();
            if recent.len() as u32 >= config.recipient_weekly_quota {
                let retry_at = recent
                    .iter()
                    .min()
                    .map(|oldest| **oldest + Duration::days(7));
                return block(
                    &mut checks,
                    Guardrail::RecipientQuota,
                    format!(
                        "{recipient} was already sent {} email(s) in the last 7 days (limit {})",
                        recent.len(),
                        config.recipient_weekly_quota
                    ),
                    retry_at,
                );
            }
        }
        checks.push(check(
            Guardrail::RecipientQuota,
            Verdict::Pass,
            format!(
                "under {} per recipient per 7 days",
                config.recipient_weekly_quota
            ),
        ));
        if input.stats.sent_today >= config.daily_quota {
            let local = input.now.with_timezone(&input.operator_tz);
            let tomorrow = local.date_naive() + Duration::days(1);
            let retry_at = input
                .operator_tz
                .from_local_datetime(&tomorrow.and_time(NaiveTime::MIN))
                .earliest()
                .map(|t| t.with_timezone(&Utc));
            return block(
                &mut checks,
                Guardrail::DailyQuota,
                format!(
                    "{} emails were sent today (limit {} a day)",
                    input.stats.sent_today, config.daily_quota
                ),
                retry_at,
            );
        }
        checks.push(check(
            Guardrail::DailyQuota,
            Verdict::Pass,
            format!(
                "{} of {} sent today",
                input.stats.sent_today, config.daily_quota
            ),
        ));
        let (sends, failures) = (input.stats.window_sends, input.stats.window_failures);
        if sends >= config.breaker_min_sends
            && u64::from(failures) * 100
                > u64::from(config.breaker_failure_percent) * u64::from(sends)
        {
            return block(
                &mut checks,
                Guardrail::CircuitBreaker,
                format!(
                    "{failures} of the last {sends} sends in {} minutes failed (more than {} %): sending is paused; retry when the cause is fixed",
                    config.breaker_window_minutes, config.breaker_failure_percent
                ),
                None,
            );
        }
        checks.push(check(
            Guardrail::CircuitBreaker,
            Verdict::Pass,
            format!("{failures} of {sends} recent sends failed"),
        ));
    }
    if let Some(until) = quiet_until(config, input.now, input.owner_tz) {
        return block(
            &mut checks,
            Guardrail::QuietHours,
            format!(
                "quiet hours in {} until {}",
                input.owner_tz.name(),
                until.with_timezone(&input.owner_tz).format("%a %H:%M")
            ),
            Some(until),
        );
    }
    checks.push(check(
        Guardrail::QuietHours,
        Verdict::Pass,
        format!("outside quiet hours in {}", input.owner_tz.name()),
    ));
    Decision::Proceed { live: true, checks }
}

#[cfg(all(test, feature = "server"))]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    fn decide_with(
        handler: Handler,
        mode: SendMode,
        stats: &SendStats,
        now: DateTime<Utc>,
        kill: bool,
    ) -> Decision {
        let config = GuardrailConfig::default();
        decide(&GuardrailInput {
            handler,
            recipients: &["dana@acme.io".to_string()],
            kill_switch: kill,
            send_mode: mode,
            config: &config,
            stats,
            now,
            owner_tz: chrono_tz::Europe::Berlin,
            operator_tz: chrono_tz::Europe::Berlin,
        })
    }

    fn blocked_by(decision: &Decision) -> Option<(Guardrail, Option<DateTime<Utc>>)> {
        match decision {
            Decision::Block {
                guardrail,
                retry_at,
                ..
            } => Some((*guardrail, *retry_at)),
            _ => None,
        }
    }

    // Tuesday 10:00 in Berlin.
    const WORKDAY: &str = "2026-12-01T09:00:00Z";

    #[test]
    fn the_kill_switch_blocks_everything_first() {
        let d = decide_with(
            Handler::CrmTask,
            SendMode::Send,
            &SendStats::default(),
            at(WORKDAY),
            true,
        );
        assert_eq!(blocked_by(&d), Some((Guardrail::KillSwitch, None)));
    }

    #[test]
    fn draft_only_turns_emails_into_drafts_and_leaves_tasks_alone() {
        let stats = SendStats::default();
        match decide_with(
            Handler::Email,
            SendMode::DraftOnly,
            &stats,
            at(WORKDAY),
            false,
        ) {
            Decision::Proceed { live, checks } => {
                assert!(!live);
                assert_eq!(checks[1].verdict, Verdict::Adjust);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decide_with(
                Handler::CrmTask,
                SendMode::DraftOnly,
                &stats,
                at(WORKDAY),
                false
            ),
            Decision::Proceed { live: true, .. }
        ));
        assert!(matches!(
            decide_with(
                Handler::CrmTask,
                SendMode::DryRun,
                &stats,
                at(WORKDAY),
                false
            ),
            Decision::DryRun { .. }
        ));
    }

    #[test]
    fn the_recipient_quota_blocks_the_third_email_in_a_week_until_the_oldest_ages_out() {
        let oldest = at("2026-11-27T09:00:00Z");
        let stats = SendStats {
            recipient_sends: vec![(
                "dana@acme.io".into(),
                vec![oldest, at("2026-11-30T09:00:00Z")],
            )],
            ..SendStats::default()
        };
        let d = decide_with(Handler::Email, SendMode::Send, &stats, at(WORKDAY), false);
        assert_eq!(
            blocked_by(&d),
            Some((Guardrail::RecipientQuota, Some(oldest + Duration::days(7))))
        );
        // A send 8 days old no longer counts.
        let stats = SendStats {
            recipient_sends: vec![(
                "dana@acme.io".into(),
                vec![at("2026-11-23T08:00:00Z"), at("2026-11-30T09:00:00Z")],
            )],
            ..SendStats::default()
        };
        assert!(matches!(
            decide_with(Handler::Email, SendMode::Send, &stats, at(WORKDAY), false),
            Decision::Proceed { live: true, .. }
        ));
    }

    #[test]
    fn the_daily_quota_blocks_until_local_midnight() {
        let stats = SendStats {
            sent_today: 20,
            ..SendStats::default()
        };
        let d = decide_with(Handler::Email, SendMode::Send, &stats, at(WORKDAY), false);
        // Midnight in Berlin (UTC+1 in December).
        assert_eq!(
            blocked_by(&d),
            Some((Guardrail::DailyQuota, Some(at("2026-12-01T23:00:00Z"))))
        );
    }

    #[test]
    fn the_breaker_opens_above_ten_percent_of_at_least_ten_sends() {
        let stats = |sends, failures| SendStats {
            window_sends: sends,
            window_failures: failures,
            ..SendStats::default()
        };
        let now = at(WORKDAY);
        // 1 of 10 is exactly 10 %: closed. 2 of 10: open. 5 of 9: too few to judge.
        for (sends, failures, open) in [(10, 1, false), (10, 2, true), (9, 5, false)] {
            let d = decide_with(
                Handler::Email,
                SendMode::Send,
                &stats(sends, failures),
                now,
                false,
            );
            assert_eq!(
                blocked_by(&d).map(|b| b.0) == Some(Guardrail::CircuitBreaker),
                open,
                "{failures}/{sends}"
            );
        }
    }

    #[test]
    fn blank_quiet_hours_are_off_and_one_blank_end_is_a_problem() {
        let config = |start: &str, end: &str| GuardrailConfig {
            quiet_start: Some(start.into()),
            quiet_end: Some(end.into()),
            ..GuardrailConfig::default()
        };
        assert_eq!(config("", " ").problem(), None);
        assert_eq!(config("", " ").quiet(), None);
        assert_eq!(
            config("20:00", "").problem().map(|p| p.0),
            Some("quiet_start")
        );
        assert_eq!(
            config("20:00", "8").problem().map(|p| p.0),
            Some("quiet_start")
        );
        assert!(config("20:00", "08:00").quiet().is_some());
    }

    #[test]
    fn quiet_hours_hold_sends_until_morning_and_over_the_weekend_in_the_owners_zone() {
        let stats = SendStats::default();
        // 21:30 in Berlin on a Tuesday → 08:00 Wednesday Berlin.
        let d = decide_with(
            Handler::Email,
            SendMode::Send,
            &stats,
            at("2026-12-01T20:30:00Z"),
            false,
        );
        assert_eq!(
            blocked_by(&d),
            Some((Guardrail::QuietHours, Some(at("2026-12-02T07:00:00Z"))))
        );
        // Saturday noon → Monday 08:00.
        let d = decide_with(
            Handler::Email,
            SendMode::Send,
            &stats,
            at("2026-12-05T11:00:00Z"),
            false,
        );
        assert_eq!(
            blocked_by(&d),
            Some((Guardrail::QuietHours, Some(at("2026-12-07T07:00:00Z"))))
        );
        // Tasks reach no one: quiet hours do not apply.
        assert!(matches!(
            decide_with(
                Handler::CrmTask,
                SendMode::Send,
                &stats,
                at("2026-12-05T11:00:00Z"),
                false
            ),
            Decision::Proceed { live: true, .. }
        ));
    }

    #[test]
    fn every_decision_lists_each_check_it_made() {
        match decide_with(
            Handler::Email,
            SendMode::Send,
            &SendStats::default(),
            at(WORKDAY),
            false,
        ) {
            Decision::Proceed { live: true, checks } => {
                let names: Vec<_> = checks.iter().map(|c| c.guardrail.as_str()).collect();
                assert_eq!(
                    names,
                    [
                        "kill_switch",
                        "send_mode",
                        "recipient_quota",
                        "daily_quota",
                        "circuit_breaker",
                        "quiet_hours"
                    ]
                );
                assert!(checks.iter().all(|c| c.verdict == Verdict::Pass));
            }
            other => panic!("{other:?}"),
        }
    }
}
