//! The CaseyOS server: the axum REST API, authentication, live updates, the web app's
//! files, background workers (projection runner, schedules, agent runs), the embedded
//! database and the `caseyos` CLI.
//!
//! Layers, each depending only on those after it (ARCHITECTURE.md):
//! - `app` (start-up: the router with its layers, the workers) and `cli`;
//! - `api/<resource>/`: routes and handlers — extract, authorize, build the command or
//!   query, call, map;
//! - `http/`: the plumbing every resource uses (errors, extractors, request
//!   authentication, the command context, read-your-writes, pagination, responses);
//! - `workers/`: work that follows from events (agent runs, schedules, live updates);
//! - `commands/` (application commands shared by entry points), `auth/` (principals,
//!   tokens, sessions: storage and crypto) and `connectors/` (clients of external
//!   services: HubSpot);
//! - `state`, `config`, `infra/` (database, metrics, web assets), and the crates below:
//!   `caseyos-store` (event store and command bus), `caseyos-projections`,
//!   `caseyos-agents`, `caseyos-embedded-pg`, `caseyos-domain`.

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod connectors;
pub mod http;
pub mod infra;
pub mod state;
pub mod workers;

pub use app::Application;
pub use config::Config;
