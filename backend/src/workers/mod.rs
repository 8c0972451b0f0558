//! Work that follows from events, driven from the event log and read models, never from a
//! second write after a command: agent runs (claimed with leases), schedules (snooze
//! wake-ups, expiry), stored agent schedules (a run per slot), the live-update listener,
//! and the supervisor that keeps worker tasks alive.

pub mod agent_runs;
pub mod auto_approval;
pub mod calendar_responses;
pub mod connector_tokens;
pub mod contact_imports;
pub mod contact_merges;
pub mod deals;
pub mod execution_providers;
pub mod executions;
pub mod gmail_poller;
pub mod hubspot_sync;
pub mod hubspot_webhooks;
pub mod hygiene;
pub mod live;
pub mod outcomes;
pub mod reactor;
pub mod research;
pub mod scheduler;
pub mod schedules;
pub mod signals;
pub mod slack_notifications;
pub mod supervisor;
pub mod voice;
