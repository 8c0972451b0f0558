//! Request and response bodies of the JSON API, one module per resource, shared by the
//! server and the SPA.

mod agent_runs;
mod alerts;
mod audit;
mod auth;
mod contact_imports;
mod contacts;
mod crm_sync;
mod dashboard;
mod deals;
mod duplicates;
mod errors;
mod forecast;
mod hygiene_reports;
mod live;
mod queue;
mod schedules;
mod tokens;

pub use agent_runs::*;
pub use alerts::*;
pub use audit::*;
pub use auth::*;
pub use contact_imports::*;
pub use contacts::*;
pub use crm_sync::*;
pub use dashboard::*;
pub use deals::*;
pub use duplicates::*;
pub use errors::*;
pub use forecast::*;
pub use hygiene_reports::*;
pub use live::*;
pub use queue::*;
pub use schedules::*;
pub use tokens::*;
