//! What a soak run found, and how it is printed.

use std::collections::BTreeSet;
use std::fmt::{self, Display, Formatter};
use std::time::Duration;

use super::check::{AckCheck, ReadModelCheck};
use super::fleet::{Ending, Generation, NAMES};
use super::load::{Counts, NoAnswer, Write};
use super::samples::Window;
use super::SoakConfig;

/// Everything a soak run measured and checked.
#[derive(Debug)]
pub struct Report {
    pub config: SoakConfig,
    pub database: String,
    pub database_dropped: bool,
    /// Ctrl-C (or SIGTERM) came before the load and the settling after it were over.
    pub interrupted: bool,
    pub load_ran_for: Duration,
    pub kills: usize,
    /// Every process of both instances, in the order they started.
    pub generations: Vec<Generation>,
    pub timeline: Vec<(Duration, String)>,
    pub restart_failures: Vec<String>,
    pub counts: Counts,
    pub windows: Vec<Window>,
    pub acks: AckCheck,
    pub read_models: ReadModelCheck,
    /// How long the read models and agent runs took to settle after the load (none: not
    /// within the bound, or interrupted).
    pub settled: Option<Duration>,
    /// After the load: (instance, `/ready` status, `GET /api/queue/counts` status).
    pub final_reads: Vec<(usize, u16, u16)>,
    /// Events in the store at the end.
    pub events: i64,
    /// The last lines each instance wrote to stderr (its warnings and errors).
    pub stderr_tails: Vec<(usize, String)>,
}

impl Report {
    /// HTTP answers to the load from one process.
    pub fn served_by(&self, generation: &Generation) -> u64 {
        self.counts
            .served
            .get(&(generation.slot, generation.number))
            .copied()
            .unwrap_or_default()
    }

    /// HTTP answers to the load from one instance, all its processes.
    pub fn served_by_instance(&self, slot: usize) -> u64 {
        self.counts
            .served
            .iter()
            .filter(|((s, _), _)| *s == slot)
            .map(|(_, n)| n)
            .sum()
    }

    pub fn acknowledged(&self) -> u64 {
        self.acks.acknowledged.values().sum()
    }

    /// Why the run failed; empty when it passed.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        if self.interrupted {
            failures.push("interrupted before the end".to_string());
        }
        if self.acknowledged() == 0 {
            failures.push("no write was acknowledged".to_string());
        }
        if self.acks.missing > 0 {
            failures.push(format!(
                "{} acknowledged writes have no event at their token",
                self.acks.missing
            ));
        }
        if self.acks.duplicated > 0 {
            failures.push(format!(
                "{} Idempotency-Keys have events from more than one command",
                self.acks.duplicated
            ));
        }
        if self.counts.ryw_violations > 0 {
            failures.push(format!(
                "{} reads with ?after= missed the caller's own write",
                self.counts.ryw_violations
            ));
        }
        failures.extend(self.restart_failures.iter().cloned());
        for generation in &self.generations {
            if let Some(Ending::Stopped(status)) = &generation.ended {
                if !status.as_ref().is_ok_and(|s| s.success()) {
                    failures.push(format!(
                        "instance {} (pid {}) did not stop cleanly on SIGTERM",
                        NAMES[generation.slot], generation.pid
                    ));
                }
            }
            if generation.ready_after.is_none() {
                failures.push(format!(
                    "instance {} (pid {}) never answered /ready with 200",
                    NAMES[generation.slot], generation.pid
                ));
            }
        }
        if !self.interrupted {
            if self.settled.is_none() {
                failures.push(format!(
                    "the read models or agent runs did not settle within {} s of the load",
                    self.config.settle_for.as_secs()
                ));
            } else if !self.read_models.agrees() {
                failures.push(format!(
                    "the read models disagree with the events: {} queue_items for {} proposals, \
                     {} agent_runs for {} requests",
                    self.read_models.queue_items,
                    self.read_models.proposed,
                    self.read_models.requested_runs,
                    self.read_models.agent_runs
                ));
            }
        }
        for (slot, ready, counts) in &self.final_reads {
            if *ready != 200 || *counts != 200 {
                failures.push(format!(
                    "instance {} at the end: /ready {ready}, counts {counts}",
                    NAMES[*slot]
                ));
            }
        }
        failures
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn secs(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64())
}

fn mb(kib: Option<u64>) -> String {
    kib.map_or_else(|| "—".to_string(), |k| format!("{:.1}", k as f64 / 1024.0))
}

impl Display for Report {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(f, "CaseyOS soak run")?;
        writeln!(f, "configuration")?;
        writeln!(
            f,
            "  duration         {} s of load (ran {} s){}",
            c.duration.as_secs(),
            secs(self.load_ran_for),
            if self.interrupted {
                ", interrupted"
            } else {
                ""
            }
        )?;
        writeln!(
            f,
            "  kills            SIGKILL every {} s, alternating A and B, restarted {} s later on the same port: {} kills",
            c.kill_every.as_secs(),
            secs(c.down_for),
            self.kills
        )?;
        writeln!(
            f,
            "  clients          {} closed-loop clients, alternating between the instances; \
             request timeout {} s; writes carry an Idempotency-Key and are retried with it \
             (up to 6 attempts) after an attempt without an answer",
            c.clients,
            c.request_timeout.as_secs()
        )?;
        writeln!(
            f,
            "  database         {} on {} (one fresh database for both instances; dropped at the end: {})",
            self.database,
            server_of(&crate::admin_url()),
            if self.database_dropped { "yes" } else { "no" }
        )?;
        let env: Vec<String> = c
            .server_env
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        writeln!(
            f,
            "  instances        {} serve --bind 127.0.0.1:<port>, DATABASE_URL, CASEYOS_LOG=warn, \
             CASEYOS_DATABASE_MAX_CONNECTIONS={}{}",
            c.server.display(),
            c.database_connections,
            if env.is_empty() {
                String::new()
            } else {
                format!(", {}", env.join(", "))
            }
        )?;
        writeln!(f, "  windows          {} s", c.window.as_secs())?;

        writeln!(f, "\ntimeline")?;
        for (at, text) in &self.timeline {
            writeln!(f, "  {:>7} s  {text}", secs(*at))?;
        }

        writeln!(
            f,
            "\nrequests served (HTTP answers to the load, any status)"
        )?;
        writeln!(
            f,
            "  {:<10} {:>8} {:>8} {:>19} {:>11}",
            "instance", "process", "pid", "lived (s)", "served"
        )?;
        for (slot, name) in NAMES.iter().enumerate() {
            for g in self.generations.iter().filter(|g| g.slot == slot) {
                let end = match &g.ended {
                    Some(Ending::Killed(at)) => format!("{} killed", secs(*at)),
                    Some(Ending::Stopped(_)) | None => "end".to_string(),
                };
                writeln!(
                    f,
                    "  {:<10} {:>8} {:>8} {:>19} {:>11}",
                    name,
                    g.number,
                    g.pid,
                    format!("{}–{end}", secs(g.started)),
                    thousands(self.served_by(g))
                )?;
            }
            writeln!(
                f,
                "  {:<10} {:>8} {:>8} {:>19} {:>11}",
                name,
                "all",
                "",
                "",
                thousands(self.served_by_instance(slot))
            )?;
        }
        let total: u64 = self.counts.served.values().sum();
        writeln!(
            f,
            "  {:<10} {:>8} {:>8} {:>19} {:>11}   ({:.0} per second)",
            "total",
            "",
            "",
            "",
            thousands(total),
            total as f64 / self.load_ran_for.as_secs_f64().max(0.001)
        )?;

        writeln!(f, "\nanswers by status, and attempts without an answer")?;
        writeln!(f, "  {:<40} {:>10} {:>10} {:>10}", "", "A", "B", "total")?;
        let labels: BTreeSet<&String> = self.counts.statuses.keys().map(|(l, _)| l).collect();
        for label in labels {
            let n = |slot: usize| {
                self.counts
                    .statuses
                    .get(&(label.clone(), slot))
                    .copied()
                    .unwrap_or_default()
            };
            writeln!(
                f,
                "  {:<40} {:>10} {:>10} {:>10}",
                label,
                thousands(n(0)),
                thousands(n(1)),
                thousands(n(0) + n(1))
            )?;
        }
        for kind in [NoAnswer::Down, NoAnswer::Lost, NoAnswer::Timeout] {
            let n = |slot: usize| {
                self.counts
                    .no_answer
                    .get(&(kind, slot))
                    .copied()
                    .unwrap_or_default()
            };
            writeln!(
                f,
                "  {:<40} {:>10} {:>10} {:>10}",
                kind.label(),
                thousands(n(0)),
                thousands(n(1)),
                thousands(n(0) + n(1))
            )?;
        }

        writeln!(f, "\noperations (a request and its retries count once)")?;
        writeln!(
            f,
            "  {:<24} {:>10} {:>10} {:>12} {:>10}",
            "", "sent", "2xx", "other status", "no answer"
        )?;
        for (name, op) in &self.counts.ops {
            writeln!(
                f,
                "  {:<24} {:>10} {:>10} {:>12} {:>10}",
                name,
                thousands(op.sent),
                thousands(op.ok),
                thousands(op.refused),
                thousands(op.unanswered)
            )?;
        }

        let a = &self.acks;
        writeln!(
            f,
            "\nacknowledged writes (2xx) and their events (each looked up at its consistency \
             token: that event must carry the write's Idempotency-Key, aggregate and event type)"
        )?;
        for write in Write::ALL {
            let n = a.acknowledged.get(&write).copied().unwrap_or_default();
            writeln!(f, "  {:<24} {:>10}", write.name(), thousands(n))?;
        }
        writeln!(
            f,
            "  {:<24} {:>10}   found in the events table: {}; missing: {}",
            "acknowledged",
            thousands(self.acknowledged()),
            thousands(a.found),
            thousands(a.missing)
        )?;
        for example in &a.missing_examples {
            writeln!(f, "    missing: {example}")?;
        }
        writeln!(
            f,
            "  acknowledged after an attempt without an answer: {} (answered as replays of a \
             committed attempt: {})",
            thousands(a.retried),
            thousands(a.replayed)
        )?;
        writeln!(
            f,
            "  keys with events from more than one command (a write applied twice): {}",
            a.duplicated
        )?;
        for example in &a.duplicated_examples {
            writeln!(f, "    twice: {example}")?;
        }
        writeln!(
            f,
            "  writes never answered (6 attempts): {} committed, {} not",
            a.unanswered_committed, a.unanswered_absent
        )?;
        writeln!(
            f,
            "  reads with ?after= that missed the caller's own write: {}",
            self.counts.ryw_violations
        )?;
        for example in &self.counts.ryw_examples {
            writeln!(f, "    {example}")?;
        }
        writeln!(
            f,
            "  events in the store at the end: {}",
            thousands(self.events as u64)
        )?;

        writeln!(f, "\nafter the load")?;
        match self.settled {
            Some(took) => writeln!(
                f,
                "  every projection at the head of the log and no agent run queued or running \
                 {:.2} s after the load",
                took.as_secs_f64()
            )?,
            None => writeln!(
                f,
                "  the projections or agent runs had not settled within {} s",
                c.settle_for.as_secs()
            )?,
        }
        let m = &self.read_models;
        writeln!(
            f,
            "  queue_items rows {} for {} proposals; agent_runs rows {} for {} requests",
            thousands(m.queue_items as u64),
            thousands(m.proposed as u64),
            thousands(m.agent_runs as u64),
            thousands(m.requested_runs as u64)
        )?;
        let statuses: Vec<String> = m
            .run_statuses
            .iter()
            .map(|(s, n)| format!("{s} {}", thousands(*n as u64)))
            .collect();
        writeln!(f, "  agent runs: {}", statuses.join(", "))?;
        for (slot, ready, counts) in &self.final_reads {
            writeln!(
                f,
                "  instance {}: /ready {ready}, GET /api/queue/counts {counts}",
                NAMES[*slot]
            )?;
        }

        self.fmt_windows(f)?;

        writeln!(f, "\nRSS per instance (VmRSS)")?;
        for (slot, name) in NAMES.iter().enumerate() {
            let last = self.windows.iter().rev().find_map(|w| w.rss_kib[slot]);
            let max = self
                .windows
                .iter()
                .filter_map(|w| w.rss_max_kib[slot])
                .max();
            let first = self.windows.iter().find_map(|w| w.rss_kib[slot]);
            writeln!(
                f,
                "  {}: first window {} MB, at the end {} MB, most {} MB",
                name,
                mb(first),
                mb(last),
                mb(max)
            )?;
        }

        let failures = self.failures();
        if failures.is_empty() {
            writeln!(f, "\nresult: PASS")?;
        } else {
            for (slot, tail) in &self.stderr_tails {
                if !tail.is_empty() {
                    writeln!(
                        f,
                        "\ninstance {} stderr (last lines):\n{tail}",
                        NAMES[*slot]
                    )?;
                }
            }
            writeln!(f, "\nresult: FAIL")?;
            for failure in failures {
                writeln!(f, "  - {failure}")?;
            }
        }
        Ok(())
    }
}

impl Report {
    fn fmt_windows(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let projections: BTreeSet<&String> =
            self.windows.iter().flat_map(|w| w.lag.keys()).collect();
        writeln!(
            f,
            "\nover time, per {} s window: requests answered per second and failed (non-2xx or \
             no answer) per instance; RSS at the window's last probe (/proc/<pid>/status \
             VmRSS); projection lag, the most either live instance's GET /metrics reported \
             in the window (caseyos_projection_lag_events / caseyos_projection_lag_seconds, \
             probed every second); which instance leads each projection",
            self.config.window.as_secs()
        )?;
        write!(
            f,
            "  {:>7} {:>8} {:>8} {:>6} {:>6} {:>8} {:>8}",
            "t (s)", "req/s A", "req/s B", "fail A", "fail B", "RSS A MB", "RSS B MB"
        )?;
        for p in &projections {
            write!(f, " {:>20}", format!("lag {p} ev/s"))?;
        }
        writeln!(f, "  leaders, events")?;
        let mut previous = Duration::ZERO;
        for w in &self.windows {
            let span = (w.end - previous).as_secs_f64().max(0.001);
            write!(
                f,
                "  {:>7} {:>8.0} {:>8.0} {:>6} {:>6} {:>8} {:>8}",
                secs(w.end),
                w.answered[0] as f64 / span,
                w.answered[1] as f64 / span,
                w.failed[0],
                w.failed[1],
                mb(w.rss_kib[0]),
                mb(w.rss_kib[1])
            )?;
            for p in &projections {
                let cell = w.lag.get(*p).map_or_else(
                    || "—".to_string(),
                    |lag| format!("{:.0} / {:.3}", lag.events, lag.seconds),
                );
                write!(f, " {cell:>20}")?;
            }
            let leaders: Vec<String> = w
                .leaders
                .iter()
                .map(|(p, slot)| format!("{p}:{slot}"))
                .collect();
            let mut notes = vec![if leaders.is_empty() {
                "no leader reported".to_string()
            } else {
                leaders.join(" ")
            }];
            for g in &self.generations {
                if g.number > 1 && g.started > previous && g.started <= w.end {
                    notes.push(format!("{} restarted", NAMES[g.slot]));
                }
                if let Some(Ending::Killed(at)) = g.ended {
                    if at > previous && at <= w.end {
                        notes.push(format!("{} killed", NAMES[g.slot]));
                    }
                }
            }
            if w.metrics_missed > 0 {
                notes.push(format!("{} /metrics probes missed", w.metrics_missed));
            }
            writeln!(f, "  {}", notes.join(", "))?;
            previous = w.end;
        }
        Ok(())
    }
}

/// `host:port` of a PostgreSQL URL, without credentials.
fn server_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    rest.split(['/', '?']).next().unwrap_or(rest).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_servers_print_plainly() {
        for (n, shown) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1234567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), shown, "{n}");
        }
        assert_eq!(
            server_of("postgres://postgres:secret@127.0.0.1:5432/postgres?sslmode=disable"),
            "127.0.0.1:5432"
        );
        assert_eq!(server_of("postgres://127.0.0.1/postgres"), "127.0.0.1");
    }
}
