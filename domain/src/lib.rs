//! The CaseyOS domain: aggregates, commands, events, value types and pure business rules
//! (APS today; deal score, risk, duplicate matching and validation as they arrive), plus the
//! API DTOs the SPA shares with the server.
//!
//! It knows nothing of HTTP, SQL or the async runtime. The cqrs-es aggregate impls and
//! OpenAPI schemas sit behind the `server` feature so the WebAssembly SPA can depend on the
//! types alone.

pub mod agent_run;
pub mod api;
pub mod aps;
pub mod queue;
