//! CaseyOS read models: projectors that fold the event log into purpose-built SQL tables,
//! the runner that feeds them in gap-safe global order, checkpoints, rebuilds and the
//! queries that read the tables.
//!
//! Projectors read events only below the snapshot horizon (`tx_id < pg_snapshot_xmin`),
//! ordered by `(tx_id, global_position)`, and write their view changes and checkpoint in
//! one transaction. This crate knows nothing of HTTP.
//!
//! One folder per read model (its projector in `mod.rs`, its queries beside it); a read
//! model that spans contexts (the dashboard, the forecast) is a folder like any other whose
//! projector folds the events of several aggregate types. `runner/` is the machinery:
//! the runner, checkpoints, rebuilds and status. A new read model is one folder plus one
//! line in [`all_projectors`].

pub mod agent_runs;
pub mod alerts;
pub mod auto_approval;
pub mod chat;
pub mod contact_imports;
pub mod contacts;
pub mod crm_sync;
pub mod cursor;
pub mod dashboard;
pub mod deals;
pub mod docs;
pub mod duplicates;
pub mod executions;
pub mod export;
pub mod forecast;
pub mod hygiene_reports;
pub mod notifications;
pub mod outcomes;
pub mod pipelines;
pub mod projector;
pub mod queue;
pub mod quotas;
pub mod research;
pub mod runner;
pub mod signals;
pub mod voice;

pub use projector::{Projector, Tables};
pub use runner::rebuild;
pub use runner::status;
pub use runner::{ProjectionMetrics, ProjectionRunner};

use std::sync::Arc;

/// Every projector CaseyOS runs.
pub fn all_projectors() -> Vec<Arc<dyn Projector>> {
    vec![
        Arc::new(queue::QueueProjector),
        Arc::new(agent_runs::AgentRunsProjector),
        Arc::new(duplicates::DuplicatePairsProjector),
        Arc::new(contacts::ContactsProjector),
        Arc::new(crm_sync::CrmSyncProjector),
        Arc::new(alerts::AlertsProjector),
        Arc::new(hygiene_reports::HygieneReportsProjector),
        Arc::new(contact_imports::ContactImportsProjector),
        Arc::new(pipelines::PipelinesProjector),
        Arc::new(deals::DealsProjector),
        Arc::new(quotas::QuotasProjector),
        Arc::new(executions::ExecutionsProjector),
        Arc::new(outcomes::OutcomesProjector),
        Arc::new(signals::SignalsProjector),
        Arc::new(auto_approval::AutoApprovalRulesProjector),
        Arc::new(auto_approval::AutoApprovalDecisionsProjector),
        Arc::new(notifications::ReceiptsProjector),
        Arc::new(chat::ChatSessionsProjector),
        Arc::new(research::ResearchSessionsProjector),
        Arc::new(voice::VoiceSamplesProjector),
    ]
}

/// The projector with this name.
pub fn projector_named(name: &str) -> Option<Arc<dyn Projector>> {
    all_projectors().into_iter().find(|p| p.name() == name)
}
