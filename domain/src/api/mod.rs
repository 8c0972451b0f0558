//! Request and response bodies of the JSON API, one module per resource, shared by the
//! server and the SPA.

mod agent_runs;
mod alerts;
mod audit;
mod auth;
mod auto_approval;
mod connectors;
mod contact_imports;
mod contacts;
mod crm_sync;
mod dashboard;
mod deals;
mod duplicates;
mod errors;
mod executions;
mod forecast;
mod hygiene_reports;
mod live;
mod outcomes;
mod queue;
mod schedules;
mod signals;
mod tokens;

pub use agent_runs::*;
pub use alerts::*;
pub use audit::*;
pub use auth::*;
pub use auto_approval::*;
pub use connectors::*;
pub use contact_imports::*;
pub use contacts::*;
pub use crm_sync::*;
pub use dashboard::*;
pub use deals::*;
pub use duplicates::*;
pub use errors::*;
pub use executions::*;
pub use forecast::*;
pub use hygiene_reports::*;
pub use live::*;
pub use outcomes::*;
pub use queue::*;
pub use schedules::*;
pub use signals::*;
pub use tokens::*;
