//! `caseyos contacts import FILE`: the API's import, run in this process against the
//! database — the file spooled the same way, the import started with the same command, the
//! same worker importing it — with a progress bar on stderr and a summary.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use caseyos_domain::contact_import::{ContactImport, ContactImportView, ImportStatus};
use caseyos_domain::kernel::Actor;
use caseyos_store::history::state_at;
use caseyos_store::{CommandBus, CommandMeta};
use sqlx::PgPool;
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

use crate::commands::contact_imports::{start_import, Spool};
use crate::config::Config;
use crate::workers::contact_imports::ContactImports;

/// Failed rows listed in the summary (the import keeps the first 1,000).
const ERRORS_SHOWN: usize = 20;

pub async fn import(pool: &PgPool, config: &Config, file: &Path, json: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut source = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let mut spool = Spool::new(pool.clone(), config.contact_import_max_bytes);
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = source.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        if let Err(error) = spool.write(&buffer[..n]).await {
            spool.discard().await;
            return Err(error.into());
        }
    }
    let import_id = spool.import_id();
    let size = spool.finish().await?;
    let bus = Arc::new(CommandBus::new(
        pool.clone(),
        config.snapshot_every,
        config.command_retries,
        Arc::new(caseyos_store::bus::Unobserved),
    ));
    let operator = Actor::user(config.operator.clone());
    let mut meta = CommandMeta::system("cli");
    meta.actor = operator.clone();
    let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    start_import(&bus, import_id, file_name.as_deref(), size, operator, &meta)
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))?;
    eprintln!(
        "Import {import_id} of {} ({size} bytes) started.",
        file.display()
    );

    let worker = ContactImports::new(pool.clone(), bus, &format!("cli:{}", std::process::id()));
    let shutdown = CancellationToken::new();
    let show = |import: &ContactImportView| {
        let done = import.resume.offset.min(import.size);
        let percent = (done * 100).checked_div(import.size).unwrap_or(100);
        eprint!(
            "\r{percent:>3}% {} rows: {} created, {} updated, {} skipped, {} failed   ",
            import.counts.rows,
            import.counts.created,
            import.counts.updated,
            import.counts.skipped,
            import.counts.failed
        );
    };
    // Normally this process takes the import at once; when a running server's worker took
    // it first, this follows that one's progress.
    let import = loop {
        if worker.claim(import_id).await? {
            worker.run(import_id, &shutdown, show).await?;
        }
        let state: ContactImport = state_at(pool, &import_id.to_string(), i64::MAX).await?;
        let import = state.import.context("the import disappeared")?;
        if import.status != ImportStatus::Running {
            break import;
        }
        show(&import);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!();
    if json {
        let response = caseyos_domain::api::ContactImportResponse::from(import.clone());
        println!("{}", serde_json::to_string_pretty(&response)?);
    }
    let secs = started.elapsed().as_secs_f64().max(0.001);
    let c = &import.counts;
    eprintln!(
        "Import {} {} in {secs:.1} s: {} rows ({:.0} rows/s) — {} created, {} updated, {} skipped, {} failed.",
        import.id,
        import.status.as_str(),
        c.rows,
        c.rows as f64 / secs,
        c.created,
        c.updated,
        c.skipped,
        c.failed
    );
    for error in import.errors.iter().take(ERRORS_SHOWN) {
        eprintln!("  line {}: {}", error.line, error.message);
    }
    if c.failed as usize > ERRORS_SHOWN {
        eprintln!(
            "  … and {} more (GET /api/contacts/imports/{} lists the first {}).",
            c.failed as usize - ERRORS_SHOWN,
            import.id,
            import.errors.len()
        );
    }
    match import.status {
        ImportStatus::Failed => anyhow::bail!(
            "the import failed: {}",
            import.error.as_deref().unwrap_or("no reason recorded")
        ),
        _ => Ok(()),
    }
}
