//! What the soak watches while it runs: every second, each live instance's RSS
//! (`/proc/<pid>/status`) and its projection gauges (`GET /metrics`), folded into windows.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Client;
use tokio_util::sync::CancellationToken;

use super::fleet::Slots;
use super::load::Tally;
use crate::process::rss_kib;

/// How often the instances are probed.
const PROBE_EVERY: Duration = Duration::from_secs(1);

/// A projection's lag as an instance's `/metrics` reported it: the most seen in a window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Lag {
    pub events: f64,
    pub seconds: f64,
}

/// One window of the run.
#[derive(Clone, Debug, Default)]
pub struct Window {
    /// The window's end, since the start.
    pub end: Duration,
    /// Load requests answered by each instance in the window.
    pub answered: [u64; 2],
    /// Answers that were not 2xx, and attempts without an answer, per instance.
    pub failed: [u64; 2],
    /// Each instance's RSS at its last probe in the window, and the most seen in it (KiB).
    pub rss_kib: [Option<u64>; 2],
    pub rss_max_kib: [Option<u64>; 2],
    /// Per projection, the largest lag either instance reported in the window.
    pub lag: BTreeMap<String, Lag>,
    /// Per projection, the instance that reported leading it at the window's last probe.
    pub leaders: BTreeMap<String, &'static str>,
    /// Probes of `/metrics` that got no 200 (the instance was down, or too slow).
    pub metrics_missed: u32,
}

/// Probes every second until `stop`, closing a window every `window`; returns the windows.
/// Holds at most one window's probes.
pub async fn sample(
    slots: Arc<Slots>,
    tally: Arc<Tally>,
    http: Client,
    token: String,
    started: Instant,
    window: Duration,
    stop: CancellationToken,
) -> Vec<Window> {
    let mut windows = Vec::new();
    let mut current = Window::default();
    let mut window_end = started.elapsed() + window;
    let mut last_totals = tally.totals();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(PROBE_EVERY) => {}
        }
        probe(&slots, &http, &token, &mut current).await;
        let now = started.elapsed();
        if now >= window_end {
            close(&mut current, &tally, &mut last_totals, now);
            windows.push(std::mem::take(&mut current));
            // The next window ends a window's length after this one, or after now when
            // the probes fell behind.
            window_end = (window_end + window).max(now + window / 2);
        }
    }
    if current.rss_kib.iter().any(Option::is_some) || current.metrics_missed > 0 {
        close(&mut current, &tally, &mut last_totals, started.elapsed());
        windows.push(current);
    }
    windows
}

fn close(window: &mut Window, tally: &Tally, last: &mut ([u64; 2], [u64; 2]), at: Duration) {
    let totals = tally.totals();
    for slot in 0..2 {
        window.answered[slot] = totals.0[slot] - last.0[slot];
        window.failed[slot] = totals.1[slot] - last.1[slot];
    }
    *last = totals;
    window.end = at;
}

async fn probe(slots: &Slots, http: &Client, token: &str, window: &mut Window) {
    window.leaders.clear();
    for slot in 0..2 {
        let Some(pid) = slots.pid(slot) else {
            window.rss_kib[slot] = None;
            continue;
        };
        let rss = rss_kib(pid);
        window.rss_kib[slot] = rss;
        window.rss_max_kib[slot] = window.rss_max_kib[slot].max(rss);
        let (address, _) = slots.target(slot);
        let text = async {
            let response = http
                .get(format!("{address}/metrics"))
                .bearer_auth(token)
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .ok()?;
            if !response.status().is_success() {
                return None;
            }
            response.text().await.ok()
        }
        .await;
        let Some(text) = text else {
            window.metrics_missed += 1;
            continue;
        };
        for (name, labels, value) in gauges(&text) {
            let Some(projection) = labels
                .strip_prefix("projection=\"")
                .and_then(|l| l.strip_suffix('"'))
            else {
                continue;
            };
            match name {
                "caseyos_projection_lag_events" => {
                    let lag = window.lag.entry(projection.to_string()).or_default();
                    lag.events = lag.events.max(value);
                }
                "caseyos_projection_lag_seconds" => {
                    let lag = window.lag.entry(projection.to_string()).or_default();
                    lag.seconds = lag.seconds.max(value);
                }
                "caseyos_projection_leader" if value == 1.0 => {
                    window
                        .leaders
                        .insert(projection.to_string(), slots.name(slot));
                }
                _ => {}
            }
        }
    }
}

/// The samples of a Prometheus text page: (name, labels without braces, value).
fn gauges(text: &str) -> impl Iterator<Item = (&str, &str, f64)> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let value = value.parse().ok()?;
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            Some((name, labels, value))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_are_read_with_their_labels() {
        let page = "# HELP x y\n# TYPE x gauge\n\
                    caseyos_projection_lag_events{projection=\"queue\"} 3\n\
                    caseyos_projection_horizon_age_seconds 0.25\n";
        let read: Vec<_> = gauges(page).collect();
        assert_eq!(
            read,
            vec![
                ("caseyos_projection_lag_events", "projection=\"queue\"", 3.0),
                ("caseyos_projection_horizon_age_seconds", "", 0.25),
            ]
        );
    }
}
