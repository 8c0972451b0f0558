//! Prometheus metrics: HTTP requests, commands, agent workers, and (read at scrape time)
//! projections.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use caseyos_store::bus::CommandObserver;

/// Upper bounds of the request-duration histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    durations: Mutex<BTreeMap<(String, String), Histogram>>,
    commands: Mutex<BTreeMap<(String, String, String), u64>>,
    conflict_retries: Mutex<u64>,
    /// This instance's agent-run workers (`/ready` reads it too).
    pub agent_workers: Arc<Liveness>,
}

/// How many tasks of one kind should run, how many do, and how often one had to be
/// started again after it ended unexpectedly.
#[derive(Debug, Default)]
pub struct Liveness {
    configured: AtomicUsize,
    live: AtomicUsize,
    restarts: AtomicU64,
}

/// Counts one live task until dropped (also when its task panics).
#[derive(Debug)]
pub struct Alive(Arc<Liveness>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Liveness {
    pub fn set_configured(&self, n: usize) {
        self.configured.store(n, Ordering::SeqCst);
    }

    /// One more live task, until the returned guard is dropped.
    pub fn alive(self: &Arc<Self>) -> Alive {
        self.live.fetch_add(1, Ordering::SeqCst);
        Alive(self.clone())
    }

    pub fn restarted(&self) {
        self.restarts.fetch_add(1, Ordering::SeqCst);
    }

    pub fn configured(&self) -> usize {
        self.configured.load(Ordering::SeqCst)
    }

    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::SeqCst)
    }
}

impl Metrics {
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let mut durations = self.durations.lock().expect("metrics lock");
        let h = durations
            .entry((method.to_string(), route.to_string()))
            .or_default();
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    fn count_command(&self, aggregate: &str, command: &str, outcome: &str) {
        *self
            .commands
            .lock()
            .expect("metrics lock")
            .entry((
                aggregate.to_string(),
                command.to_string(),
                outcome.to_string(),
            ))
            .or_default() += 1;
    }

    fn count_conflict_retry(&self) {
        *self.conflict_retries.lock().expect("metrics lock") += 1;
    }

    /// The HTTP and command families in Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP caseyos_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE caseyos_http_requests_total counter");
        for ((method, route, status), n) in self.requests.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "caseyos_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP caseyos_http_request_duration_seconds HTTP request latency."
        );
        let _ = writeln!(
            out,
            "# TYPE caseyos_http_request_duration_seconds histogram"
        );
        for ((method, route), h) in self.durations.lock().expect("metrics lock").iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "caseyos_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "caseyos_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "caseyos_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "caseyos_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP caseyos_commands_total Commands by aggregate, command and outcome."
        );
        let _ = writeln!(out, "# TYPE caseyos_commands_total counter");
        for ((aggregate, command, outcome), n) in self.commands.lock().expect("metrics lock").iter()
        {
            let _ = writeln!(
                out,
                "caseyos_commands_total{{aggregate=\"{aggregate}\",command=\"{command}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        let _ = writeln!(out, "# HELP caseyos_command_conflict_retries_total Optimistic-concurrency conflicts retried server-side.");
        let _ = writeln!(out, "# TYPE caseyos_command_conflict_retries_total counter");
        let _ = writeln!(
            out,
            "caseyos_command_conflict_retries_total {}",
            self.conflict_retries.lock().expect("metrics lock")
        );
        let workers = &self.agent_workers;
        for (name, help, kind, value) in [
            (
                "caseyos_agent_workers_configured",
                "Agent-run workers this instance is configured to keep running.",
                "gauge",
                workers.configured() as u64,
            ),
            (
                "caseyos_agent_workers_live",
                "Agent-run workers running now.",
                "gauge",
                workers.live() as u64,
            ),
            (
                "caseyos_agent_worker_restarts_total",
                "Agent-run workers started again after ending unexpectedly (a panic).",
                "counter",
                workers.restarts(),
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        }
    }
}

/// The command bus reports every command's outcome here.
impl CommandObserver for Metrics {
    fn command(&self, aggregate_type: &'static str, command: &'static str, outcome: &'static str) {
        self.count_command(aggregate_type, command, outcome);
    }

    fn conflict_retry(&self) {
        self.count_conflict_retry();
    }
}
