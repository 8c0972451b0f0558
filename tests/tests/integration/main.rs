//! CaseyOS's integration tests, built as one binary (one link instead of twelve): the
//! HTTP API on a real router and PostgreSQL, reliability (concurrency, idempotency,
//! crashes), projections and rebuilds, sessions, live updates, static files, the CLI and
//! the server as a process, and the SPA in headless Chromium. Each module is one area.

mod agent_runs;
mod architecture;
mod audit_pages;
mod auth_and_errors;
mod auto_approval;
mod browser;
mod chat;
mod cli;
mod connectors;
mod connectors_google;
mod contact_imports;
mod contacts;
mod deals;
mod duplicates;
mod event_store;
mod executions;
mod gmail;
mod hostile_input;
mod hubspot;
mod hubspot_deals;
mod hubspot_engagements;
mod hubspot_sync;
mod hygiene;
mod live;
mod mcp;
mod metrics;
mod notifications;
mod openapi;
mod process_crash;
mod process_serve;
mod projections;
mod queue_api;
mod reliability;
mod research;
mod run_isolation;
mod schedules;
mod sessions;
mod signals;
mod slack;
mod soak;
mod static_files;
mod support;
mod tokens;
mod voice;
mod workers;
