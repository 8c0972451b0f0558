//! Infrastructure: the database (embedded or configured), Prometheus metrics, the web
//! app's files, answers kept per read-model version and recent checks of bearer tokens.

pub mod answers;
pub mod db;
pub mod metrics;
pub mod token_checks;
pub mod web;
