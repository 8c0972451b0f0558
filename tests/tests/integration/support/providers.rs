//! Tests of the loop against one local fake for every provider (wiremock).

use caseyos_backend::config::Config;
use caseyos_tests::{spawn_app_with, TestApp};
use wiremock::{MockServer, Request};

/// A test app with Gmail, Calendar and HubSpot all on `fake`, quiet hours off (tests run at
/// any hour), then `more`.
pub async fn app_with(fake: &MockServer, more: impl FnOnce(&mut Config)) -> TestApp {
    let uri = fake.uri();
    spawn_app_with(move |c| {
        c.gmail_base_url = uri.clone();
        c.calendar_base_url = uri.clone();
        c.hubspot_base_url = uri;
        c.guardrails.quiet_start = None;
        c.guardrails.quiet_end = None;
        c.guardrails.quiet_weekends = false;
        more(c);
    })
    .await
}

/// The requests `fake` received on `wanted` (a path), in order.
pub async fn requests_to(fake: &MockServer, wanted: &str) -> Vec<Request> {
    fake.received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == wanted)
        .collect()
}
