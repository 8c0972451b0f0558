//! Schedules that follow from stored state: snoozed moves come back when due, and open
//! moves expire past their `expires_at`. Each tick runs on one instance at a time (an
//! advisory lock), reads what is due from the read model, and issues commands that are
//! no-ops when already done — so a tick may repeat, overlap or catch up after downtime
//! without harm.

use std::sync::Arc;
use std::time::Duration;

use caseyos_domain::queue::{QueueItem, QueueItemCommand};
use caseyos_projections::queue as views;
use sqlx::PgPool;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use caseyos_store::{now, CommandBus, CommandMeta};

/// How often the schedules are checked.
pub const TICK: Duration = Duration::from_secs(5);
/// Items handled per tick and kind.
const BATCH: i64 = 500;

pub fn spawn(pool: PgPool, bus: Arc<CommandBus>, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = tick(&pool, &bus).await {
                tracing::warn!(error = %format!("{error:#}"), "schedule tick failed");
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(TICK) => {}
            }
        }
    })
}

/// One pass over due snoozes and expiries. Returns how many commands it issued.
pub async fn tick(pool: &PgPool, bus: &CommandBus) -> anyhow::Result<usize> {
    let issued = super::reactor::locked(pool, "scheduler:queue", false, async || {
        let now = now();
        let mut issued = 0;
        let meta = CommandMeta::system("scheduler");
        for id in views::due_snoozes(pool, now, BATCH).await? {
            bus.execute::<QueueItem>(id, QueueItemCommand::EndSnooze { at: now }, &meta)
                .await
                .map_err(|e| anyhow::anyhow!("ending snooze of {id}: {e}"))?;
            issued += 1;
        }
        for id in views::due_expiries(pool, now, BATCH).await? {
            bus.execute::<QueueItem>(id, QueueItemCommand::Expire { at: now }, &meta)
                .await
                .map_err(|e| anyhow::anyhow!("expiring {id}: {e}"))?;
            issued += 1;
        }
        Ok(issued)
    })
    .await?;
    Ok(issued.unwrap_or(0))
}
