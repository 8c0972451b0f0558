//! Reusable components. Those of one resource sit in its folder (`queue/`, `agent_runs/`);
//! the ones every page shares sit here.

pub mod agent_runs;
pub mod assistant;
pub mod audit_events;
pub mod contacts;
pub mod deals;
pub mod executions;
pub mod fields;
pub mod filter_select;
pub mod guardrails;
pub mod layout;
pub mod markdown;
pub mod modal;
pub mod notifications;
pub mod pager;
pub mod palette;
pub mod queue;
pub mod status;
pub mod table;
