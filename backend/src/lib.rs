//! The CaseyOS server: the axum REST API, authentication (bearer tokens and browser
//! sessions), live updates, the web app's files, command handling, background workers
//! (projection runner, schedules, agent runs), the embedded database and the `caseyos` CLI.
//!
//! Handlers stay short: extract, authorize, build the command or query, call, map. Commands
//! go through [`commands::CommandBus`] into the event store; queries read only read models.

pub mod agent_runs;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod consistency;
pub mod context;
pub mod db;
pub mod demo;
pub mod embedded_pg;
pub mod error;
pub mod health;
pub mod live;
pub mod metrics;
pub mod queue;
pub mod scheduler;
pub mod sessions;
pub mod state;
pub mod web;

pub use app::Application;
pub use config::Config;
