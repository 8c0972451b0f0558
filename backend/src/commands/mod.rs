//! Application commands that several entry points share (the API, the CLI, workers), built
//! on the event store's command bus (`caseyos_store`).

pub mod agent_runs;
pub mod auto_approval;
pub mod contact_imports;
pub mod contacts;
pub mod deal_sync;
pub mod outcomes;
pub mod pipelines;
pub mod signals;
