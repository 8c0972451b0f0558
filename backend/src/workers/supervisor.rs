//! Keeps worker tasks alive. A supervised task that ends before shutdown — it panicked, or
//! returned when it should not have — is logged, counted
//! (`caseyos_agent_worker_restarts_total`) and started again after a short pause, so an
//! instance keeps the number of workers it was configured with. While a task is down,
//! [`Liveness`] says so (`/ready` and `caseyos_agent_workers_live`).

use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::infra::metrics::Liveness;

/// The pause before a task that ended unexpectedly is started again (so a task that fails
/// at once does not spin).
pub const RESTART_DELAY: Duration = Duration::from_secs(1);

/// Runs the task `start` makes until `shutdown`, starting a new one whenever it ends before
/// that. The task counts as live in `liveness` from this call on (before it first runs).
pub fn supervise<F, Fut>(
    name: String,
    liveness: Arc<Liveness>,
    shutdown: CancellationToken,
    mut start: F,
) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut alive = liveness.alive();
    tokio::spawn(async move {
        loop {
            let ended = tokio::spawn(start()).await;
            drop(alive);
            if shutdown.is_cancelled() {
                return;
            }
            match ended {
                Ok(()) => tracing::error!(
                    worker = %name,
                    "worker stopped unexpectedly; starting it again"
                ),
                Err(error) if error.is_panic() => tracing::error!(
                    worker = %name,
                    panic = %panic_message(error.into_panic().as_ref()),
                    "worker panicked; starting it again"
                ),
                Err(error) => tracing::error!(
                    worker = %name,
                    error = %error,
                    "worker was cancelled; starting it again"
                ),
            }
            liveness.restarted();
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(RESTART_DELAY) => {}
            }
            alive = liveness.alive();
        }
    })
}

/// Runs `tick` now and then again after each `every`, and whenever `wake` is notified, until
/// `shutdown`; supervised (see [`supervise`]) under `name`. With `every` none it runs only
/// when woken (not at start either). A failed tick is logged and the next one comes as usual.
pub fn supervise_every<F, Fut>(
    name: &'static str,
    every: Option<Duration>,
    wake: Option<Arc<tokio::sync::Notify>>,
    shutdown: CancellationToken,
    tick: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let liveness = Arc::new(Liveness::default());
    liveness.set_configured(1);
    let stop = shutdown.clone();
    supervise(name.into(), liveness, shutdown, move || {
        let (tick, wake, stop) = (tick.clone(), wake.clone(), stop.clone());
        async move {
            let mut due = every.is_some();
            loop {
                if due {
                    if let Err(error) = tick().await {
                        tracing::warn!(worker = name, error = %format!("{error:#}"), "tick failed");
                    }
                }
                due = true;
                let timer = async {
                    match every {
                        Some(every) => tokio::time::sleep(every).await,
                        None => std::future::pending::<()>().await,
                    }
                };
                let woken = async {
                    match &wake {
                        Some(wake) => wake.notified().await,
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = woken => {}
                    _ = timer => {}
                }
            }
        }
    })
}

/// The message a panic carries (`panic!("…")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Waits (polling every 10 ms, at most `guard`) until `done` holds.
    async fn until(guard: Duration, done: impl Fn() -> bool) {
        let started = std::time::Instant::now();
        while !done() {
            assert!(started.elapsed() < guard, "the condition never held");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn a_task_that_panics_is_counted_down_restarted_and_counted_up_again() {
        let liveness = Arc::new(Liveness::default());
        liveness.set_configured(1);
        let shutdown = CancellationToken::new();
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        let stop = shutdown.clone();
        let handle = supervise(
            "test#0".into(),
            liveness.clone(),
            shutdown.clone(),
            move || {
                let start = counted.fetch_add(1, Ordering::SeqCst);
                let stop = stop.clone();
                async move {
                    if start == 0 {
                        panic!("the first run breaks");
                    }
                    stop.cancelled().await;
                }
            },
        );
        assert_eq!(liveness.live(), 1, "live before the task first runs");
        // Down for the restart delay (a second: far longer than a 10 ms poll).
        until(Duration::from_secs(10), || liveness.restarts() == 1).await;
        if starts.load(Ordering::SeqCst) == 1 {
            assert_eq!(liveness.live(), 0, "not live while waiting to restart");
        }
        until(Duration::from_secs(10), || {
            starts.load(Ordering::SeqCst) == 2
        })
        .await;
        assert_eq!(liveness.restarts(), 1);
        assert_eq!(liveness.live(), 1, "the restarted task is live");
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), handle)
            .await
            .expect("the supervisor stops at shutdown")
            .expect("the supervisor does not panic");
        assert_eq!(liveness.live(), 0);
        assert_eq!(
            liveness.restarts(),
            1,
            "a task ending at shutdown is no restart"
        );
    }

    #[tokio::test]
    async fn a_task_that_returns_before_shutdown_is_restarted() {
        let liveness = Arc::new(Liveness::default());
        let shutdown = CancellationToken::new();
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        let handle = supervise(
            "test#1".into(),
            liveness.clone(),
            shutdown.clone(),
            move || {
                counted.fetch_add(1, Ordering::SeqCst);
                async {}
            },
        );
        until(Duration::from_secs(10), || {
            starts.load(Ordering::SeqCst) >= 2
        })
        .await;
        assert!(liveness.restarts() >= 1);
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), handle)
            .await
            .expect("the supervisor stops at shutdown")
            .expect("the supervisor does not panic");
        assert_eq!(liveness.live(), 0);
    }

    #[test]
    fn panic_messages_are_read_from_str_and_string_payloads() {
        let text: Box<dyn Any + Send> = Box::new("static text");
        assert_eq!(panic_message(text.as_ref()), "static text");
        let owned: Box<dyn Any + Send> = Box::new(format!("owned {}", 1));
        assert_eq!(panic_message(owned.as_ref()), "owned 1");
        let other: Box<dyn Any + Send> = Box::new(7_u8);
        assert_eq!(panic_message(other.as_ref()), "a panic without a message");
    }
}
