//! The CaseyOS domain: aggregates, commands, events, value types and pure business rules
//! (APS in `queue::aps` today; deal score, risk, duplicate matching and validation as they
//! arrive), plus the API DTOs the SPA shares with the server.
//!
//! - [`kernel`]: value types every context speaks (actor, user names, email, CRM id, money,
//!   consistency token).
//! - [`forecast`]: forecast periods, rows and the change waterfall (pure arithmetic).
//! - [`aggregate`]: the one trait every aggregate implements and the one fold of stored
//!   events; [`registry`]: every aggregate type, registered once.
//! - One folder per aggregate (`queue/`, `agent_run/`): commands, events, state,
//!   decide/apply, errors and given/when/then tests.
//! - [`api`]: request and response DTOs per resource, shared with the SPA.
//!
//! It knows nothing of HTTP, SQL, the event-store library or the async runtime, and it
//! builds for WebAssembly. OpenAPI schemas sit behind the `server` feature.

pub mod agent_run;
pub mod aggregate;
pub mod alerts;
pub mod api;
pub mod auto_approval;
pub mod chat;
pub mod connectors;
pub mod contact_import;
pub mod contacts;
pub mod crm_merges;
pub mod crm_sync;
pub mod deals;
pub mod duplicates;
pub mod executions;
pub mod forecast;
pub mod hygiene;
pub mod kernel;
pub mod notifications;
pub mod outcomes;
pub mod pipelines;
pub mod queue;
pub mod quotas;
pub mod registry;
pub mod research;
/// Stored schedules' cadences (needs the time-zone database: server-side only).
#[cfg(feature = "server")]
pub mod schedule;
pub mod signals;
pub mod voice;
