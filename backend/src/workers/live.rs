//! The live-update listener: one LISTEN connection per instance on `caseyos_projection`
//! (which projectors notify in the transaction that commits a batch), fanned out over a
//! broadcast channel to the event streams this instance serves.

use std::time::Duration;

use caseyos_domain::api::LiveEvent;
use caseyos_domain::kernel::ConsistencyToken;
use caseyos_projections::runner::{self, PROJECTION_CHANNEL};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Notifications buffered per open stream before a slow one skips to the latest.
pub const LIVE_BUFFER: usize = 256;
/// The pause before listening again after the connection failed.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// The fan-out channel for this instance's streams.
pub fn channel() -> broadcast::Sender<LiveEvent> {
    broadcast::channel(LIVE_BUFFER).0
}

/// Listens on `caseyos_projection` until shutdown, reconnecting when the connection drops.
pub fn spawn_listener(
    pool: PgPool,
    sender: broadcast::Sender<LiveEvent>,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while !shutdown.is_cancelled() {
            if let Err(error) = listen(&pool, &sender, &shutdown).await {
                tracing::warn!(error = %format!("{error:#}"), "live updates: listening failed; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(RECONNECT_DELAY) => {}
                }
            }
        }
    })
}

async fn listen(
    pool: &PgPool,
    sender: &broadcast::Sender<LiveEvent>,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(PROJECTION_CHANNEL).await?;
    // Notifications sent while this instance was not listening are lost: tell open streams
    // where every read model stands now.
    let names: Vec<&str> = caseyos_projections::all_projectors()
        .iter()
        .map(|p| p.name())
        .collect();
    if sender.receiver_count() > 0 {
        let checkpoints = runner::checkpoints(pool, &names).await?;
        for (name, checkpoint) in names.iter().zip(checkpoints) {
            let _ = sender.send(LiveEvent {
                projection: (*name).to_string(),
                consistency: ConsistencyToken(checkpoint).to_string(),
            });
        }
    }
    loop {
        let notification = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            notification = listener.try_recv() => notification?,
        };
        let Some(notification) = notification else {
            anyhow::bail!("the LISTEN connection was lost");
        };
        match serde_json::from_str::<LiveEvent>(notification.payload()) {
            // No open stream is no error.
            Ok(event) => {
                let _ = sender.send(event);
            }
            Err(error) => {
                tracing::warn!(error = %error, "live updates: a notification is not a LiveEvent")
            }
        }
    }
}
