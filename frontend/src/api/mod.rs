//! The one typed API client: one async fn per endpoint, a module per resource, all over one
//! generic [`request`] function that sends the session's CSRF token and maps the server's
//! error envelope.

pub mod agent_runs;
pub mod audit;
pub mod auth;
pub mod auto_approval;
pub mod chat;
pub mod connectors;
pub mod contacts;
pub mod deals;
pub mod executions;
pub mod hygiene;
pub mod json;
pub mod notifications;
pub mod queue;
pub mod signals;
pub mod voice;

use std::cell::RefCell;
use std::future::Future;

use gloo_net::http::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;

thread_local! {
    static CSRF: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Remembers the session's CSRF token for state-changing requests.
pub fn set_csrf(token: &str) {
    CSRF.with(|csrf| *csrf.borrow_mut() = token.to_string());
}

/// An error as the server described it (or as the network failed).
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// `field: message` for validation errors.
    pub fields: Vec<(String, String)>,
}

impl ApiError {
    fn network(message: impl Into<String>) -> Self {
        ApiError {
            status: 0,
            code: "network.unreachable".into(),
            message: message.into(),
            request_id: None,
            fields: vec![],
        }
    }

    /// The caller must sign in (again).
    pub fn needs_sign_in(&self) -> bool {
        self.status == 401
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

/// Maps a non-2xx body to an error, whatever it holds: the server's envelope
/// (`{"error": {"code", "message", "request_id", "details": {"fields": [...]}}}`, read as JSON
/// rather than through a reader of its own), else the status.
pub fn error_from(status: u16, body: &str) -> ApiError {
    let envelope = json::from_str::<serde_json::Value>(body).unwrap_or_default();
    let error = &envelope["error"];
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    match (text(&error["code"]), text(&error["message"])) {
        (Some(code), Some(message)) => ApiError {
            status,
            code,
            message,
            request_id: text(&error["request_id"]),
            fields: error["details"]["fields"]
                .as_array()
                .map(|fields| {
                    fields
                        .iter()
                        .filter_map(|f| Some((text(&f["field"])?, text(&f["message"])?)))
                        .collect()
                })
                .unwrap_or_default(),
        },
        _ => ApiError {
            status,
            code: format!("http.{status}"),
            message: format!("the server answered {status}"),
            request_id: None,
            fields: vec![],
        },
    }
}

const NO_BODY: Option<&()> = None;

/// How a 2xx body is read into an endpoint's answer.
type Reader<T> = fn(&str) -> serde_json::Result<T>;

/// Sends one request and reads its answer: a 2xx body with `read`, anything else as the
/// server's error envelope. `body` goes as JSON; every method but GET and HEAD carries the
/// CSRF token.
fn request<T>(
    method: Method,
    path: String,
    body: Option<&impl Serialize>,
    read: Reader<T>,
) -> impl Future<Output = Result<T, ApiError>> {
    let json = body
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| ApiError::network(e.to_string()));
    async move {
        let body = json?.map(|json| ("application/json", json));
        answer(send(method, &path, body).await?, read)
    }
}

/// Sends `body` as it is (of type `content_type`, e.g. `text/csv`) to `path`, and reads the
/// answer as [`request`] does.
async fn post_text<T>(
    path: String,
    content_type: &'static str,
    body: String,
    read: Reader<T>,
) -> Result<T, ApiError> {
    answer(
        send(Method::POST, &path, Some((content_type, body))).await?,
        read,
    )
}

/// A 2xx body read with `read`.
fn answer<T>(text: String, read: Reader<T>) -> Result<T, ApiError> {
    // An empty answer (204) reads as `null`: `()` for the endpoints that answer so.
    let text = if text.trim().is_empty() {
        "null"
    } else {
        &text
    };
    read(text).map_err(|e| ApiError::network(format!("unexpected answer: {e}")))
}

/// The part of [`request`] that does not depend on the answer's type (kept apart so that each
/// endpoint does not carry its own copy): the 2xx body as text, or the mapped error.
async fn send(
    method: Method,
    path: &str,
    body: Option<(&'static str, String)>,
) -> Result<String, ApiError> {
    let response = open(method, path, body, "application/json").await?;
    Ok(response.text().await.unwrap_or_default())
}

/// Sends a request asking for `accept`: the response once it began with a 2xx status (its
/// body still to read), else the mapped error.
async fn open(
    method: Method,
    path: &str,
    body: Option<(&'static str, String)>,
    accept: &str,
) -> Result<gloo_net::http::Response, ApiError> {
    let mut builder = RequestBuilder::new(path)
        .method(method.clone())
        .header("Accept", accept);
    if !matches!(method, Method::GET | Method::HEAD) {
        let csrf = CSRF.with(|c| c.borrow().clone());
        if !csrf.is_empty() {
            builder = builder.header("X-CSRF-Token", &csrf);
        }
    }
    let request = match body {
        Some((content_type, body)) => builder.header("Content-Type", content_type).body(body),
        None => builder.build(),
    }
    .map_err(|e| ApiError::network(e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|_| ApiError::network("CaseyOS cannot be reached; check the server"))?;
    let status = response.status();
    if (200..300).contains(&status) {
        Ok(response)
    } else {
        let text = response.text().await.unwrap_or_default();
        Err(error_from(status, &text))
    }
}

/// Reads `path` with `query` (the filters, cursor, …; may be empty), at least as far as the
/// `consistency` token when there is one (`?after=`).
fn get<T: DeserializeOwned>(
    path: &str,
    query: &str,
    consistency: Option<&str>,
) -> impl Future<Output = Result<T, ApiError>> {
    get_with(path, query, consistency, json::from_str)
}

/// [`get`], its answer read with `read`.
fn get_with<T>(
    path: &str,
    query: &str,
    consistency: Option<&str>,
    read: Reader<T>,
) -> impl Future<Output = Result<T, ApiError>> {
    let after = consistency
        .filter(|t| !t.is_empty())
        .map(|t| format!("after={}", js_sys::encode_uri_component(t)))
        .unwrap_or_default();
    let query: Vec<&str> = [query, after.as_str()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    let path = if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    };
    request(Method::GET, path, NO_BODY, read)
}

/// A JSON object of `fields` (built by hand: `json!` would bring serde_json's value
/// serializer into the wasm).
pub fn object(fields: Vec<(&'static str, serde_json::Value)>) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (key, value) in fields {
        map.insert(key.to_string(), value);
    }
    serde_json::Value::Object(map)
}

/// Text, or `null` for none.
pub fn text_or_null(text: Option<String>) -> serde_json::Value {
    text.map_or(serde_json::Value::Null, serde_json::Value::String)
}

/// Sends `method` to `path` with `body` (JSON) when there is one, its answer read as a JSON
/// [`Value`](serde_json::Value): one copy for every command whose answer a page shows from
/// its JSON (PUT and DELETE included).
fn send_value(
    method: Method,
    path: String,
    body: Option<serde_json::Value>,
) -> impl Future<Output = Result<serde_json::Value, ApiError>> {
    request(method, path, body.as_ref(), json::from_str)
}

/// Sends a command: `body` as JSON to `path`.
fn post<T: DeserializeOwned>(
    path: &str,
    body: &impl Serialize,
) -> impl Future<Output = Result<T, ApiError>> {
    post_with(path, body, json::from_str)
}

/// [`post`], its answer read with `read`.
fn post_with<T>(
    path: &str,
    body: &impl Serialize,
    read: Reader<T>,
) -> impl Future<Output = Result<T, ApiError>> {
    request(Method::POST, path.to_string(), Some(body), read)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn envelopes_map_to_errors_with_their_fields() {
        let body = r#"{"error":{"code":"request.validation","message":"reason must not be empty",
            "request_id":"r-1","details":{"fields":[{"field":"reason","message":"must not be empty"}]}}}"#;
        let error = error_from(422, body);
        assert_eq!(error.code, "request.validation");
        assert_eq!(error.request_id.as_deref(), Some("r-1"));
        assert_eq!(
            error.fields,
            vec![("reason".to_string(), "must not be empty".to_string())]
        );
        assert!(!error.needs_sign_in());
    }

    #[wasm_bindgen_test]
    async fn an_empty_204_is_a_success_and_an_error_status_is_not() {
        {
            let _server = crate::test_support::FetchAnswers::install(204, None);
            assert_eq!(auth::sign_out().await, Ok(()));
        }
        let _server = crate::test_support::FetchAnswers::install(
            403,
            Some(r#"{"error":{"code":"auth.csrf_failed","message":"send the csrf token"}}"#),
        );
        let refused = auth::sign_out().await.unwrap_err();
        assert_eq!(refused.status, 403);
        assert_eq!(refused.code, "auth.csrf_failed");
    }

    #[wasm_bindgen_test]
    fn sources_read_back_as_the_server_writes_them() {
        use caseyos_domain::queue::Source;
        let sources = [
            Source::Manual,
            Source::AgentRun {
                run_id: uuid::Uuid::from_u128(7),
            },
            Source::Signal {
                provider: "hubspot".into(),
                signal_id: "s-1".into(),
            },
        ];
        for source in sources {
            let json = serde_json::to_string(&source).unwrap();
            assert_eq!(
                serde_json::from_str::<Source>(&json).unwrap(),
                source,
                "{json}"
            );
        }
        // The tag may come last; anything else in the object is not the SPA's to judge.
        let late = r#"{"signal_id":"s-2","provider":"form","kind":"signal","extra":[1]}"#;
        assert_eq!(
            serde_json::from_str::<Source>(late).unwrap(),
            Source::Signal {
                provider: "form".into(),
                signal_id: "s-2".into()
            }
        );
        for bad in [
            r#"{"kind":"rumour"}"#,
            r#"{"kind":"agent_run"}"#,
            r#"{}"#,
            r#""manual""#,
        ] {
            assert!(serde_json::from_str::<Source>(bad).is_err(), "{bad}");
        }
    }

    #[wasm_bindgen_test]
    fn bodies_that_are_not_envelopes_still_give_an_error() {
        let error = error_from(502, "<html>bad gateway</html>");
        assert_eq!(error.code, "http.502");
        assert!(error_from(401, "{}").needs_sign_in());
    }
}
