//! HTTP plumbing every resource uses: the error envelope and its mapping from every
//! error below, extractors that name the offending field, authentication of requests, the
//! command context (metadata and idempotency), read-your-writes, pagination and command
//! responses, response headers, request metrics, the request span (with secrets redacted)
//! and serving the web app's build. Resources (`api/`) build on
//! it; nothing below it knows HTTP.

pub mod auth;
pub mod consistency;
pub mod context;
pub mod dispatch;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod pagination;
pub mod response;
pub mod trace;
pub mod web;
