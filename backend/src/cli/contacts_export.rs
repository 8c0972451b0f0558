//! `caseyos contacts export [--out FILE] [filters]`: the CSV of `GET
//! /api/contacts/export.csv`, written from the database in this process — the read model
//! first brought up to the log's end, then streamed row by row to the file or stdout.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use caseyos_domain::api::{ContactsQuery, CONTACT_EXPORT_COLUMNS};
use caseyos_projections::contacts::{self as views, ContactFilter, ContactsProjector};
use caseyos_projections::export::csv_record;
use caseyos_projections::runner::{ensure_checkpoint, run_batch};
use caseyos_projections::Projector;
use futures::StreamExt;
use sqlx::PgPool;
use uuid::Uuid;

/// Events the read model applies per batch while catching up.
const CATCH_UP_BATCH: i64 = 1000;

/// The filters and sort of `GET /api/contacts`, as flags.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Write to this file (default: stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Text in the name, any email or the company.
    #[arg(long)]
    pub q: Option<String>,
    /// Comma-separated statuses (active, archived, merged) or `all`; default active.
    #[arg(long)]
    pub status: Option<String>,
    /// Comma-separated lifecycle stages (e.g. `lead,customer`).
    #[arg(long)]
    pub lifecycle_stage: Option<String>,
    /// The owner's user name.
    #[arg(long)]
    pub owner: Option<String>,
    /// Comma-separated sources: manual, import, hubspot.
    #[arg(long)]
    pub source: Option<String>,
    /// A company domain (`acme.com`).
    #[arg(long)]
    pub company_domain: Option<String>,
    /// `true`, `false` or `unknown` (never validated).
    #[arg(long)]
    pub valid: Option<String>,
    /// Only contacts with (`true`) or without (`false`) a CRM id.
    #[arg(long)]
    pub has_crm_id: Option<bool>,
    /// The CSV import that created them.
    #[arg(long)]
    pub import_id: Option<Uuid>,
    /// `name`, `created_at`, `updated_at` or `last_contacted_at`; prefix `-` for descending.
    #[arg(long, allow_hyphen_values = true)]
    pub sort: Option<String>,
}

impl ExportArgs {
    fn query(&self) -> ContactsQuery {
        ContactsQuery {
            q: self.q.clone(),
            status: self.status.clone(),
            lifecycle_stage: self.lifecycle_stage.clone(),
            owner: self.owner.clone(),
            source: self.source.clone(),
            company_domain: self.company_domain.clone(),
            valid: self.valid.clone(),
            has_crm_id: self.has_crm_id,
            import_id: self.import_id,
            sort: self.sort.clone(),
            ..ContactsQuery::default()
        }
    }
}

/// Brings the contacts read model up to the log's end (a server running beside us takes
/// turns on the same checkpoint, so no batch is applied twice).
async fn catch_up(pool: &PgPool) -> anyhow::Result<()> {
    let projector = ContactsProjector;
    ensure_checkpoint(pool, projector.name()).await?;
    while run_batch(pool, &projector, CATCH_UP_BATCH).await?.0.applied > 0 {}
    Ok(())
}

pub async fn export(pool: &PgPool, args: ExportArgs) -> anyhow::Result<()> {
    let query = args.query();
    let filter = ContactFilter::from_query(&query)?;
    let sort = views::sort_of(&query)?;
    catch_up(pool).await?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    out.write_all(csv_record(CONTACT_EXPORT_COLUMNS).as_bytes())?;
    let mut rows = views::export(pool.clone(), filter, sort);
    let mut count = 0u64;
    while let Some(row) = rows.next().await {
        out.write_all(csv_record(&row?.csv_cells()).as_bytes())?;
        count += 1;
    }
    out.flush()?;
    if let Some(path) = &args.out {
        eprintln!("Exported {count} contacts to {}.", path.display());
    }
    Ok(())
}
