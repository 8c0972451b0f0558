//! Request metrics: every request counted and timed under its route template and method,
//! with a bounded set of labels whatever clients send: a method outside HTTP's standard
//! nine is `other`, a path no route matched is `unmatched`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

use crate::infra::metrics::Metrics;

/// Counts and times every request under its route template (never the raw path).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    metrics.request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

/// The method label: a standard method's name, or `other` (any token is a valid method, and
/// each would otherwise become a new series).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_methods_keep_their_names_and_any_other_is_other() {
        for (method, label) in [
            ("GET", "GET"),
            ("POST", "POST"),
            ("DELETE", "DELETE"),
            ("PATCH", "PATCH"),
            ("TRACE", "TRACE"),
            ("FOO", "other"),
            ("get", "other"),
            ("BAR1", "other"),
        ] {
            let method = Method::from_bytes(method.as_bytes()).expect("a method token");
            assert_eq!(method_label(&method), label, "{method}");
        }
    }
}
