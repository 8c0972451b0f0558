//! Infrastructure: the database (embedded or configured), Prometheus metrics and the web
//! app's files.

pub mod db;
pub mod metrics;
pub mod web;
