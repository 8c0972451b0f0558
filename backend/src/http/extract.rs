//! Extractors whose rejections use the error envelope and name the exact field: JSON
//! bodies, query strings and path parameters.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// JSON bodies with our envelope for every rejection: 400 for malformed JSON, 413 for
/// oversized bodies, 415 for other media types, 422 naming the field for unknown fields,
/// wrong types and missing fields. An empty body reads as `{}`.
pub struct ApiJson<T>(pub T);

/// 415 unless the body is declared JSON (`application/json`, `…+json`) or not declared.
pub fn json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let media = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media == "application/json" || media.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request.unsupported_media_type",
            "send the body as application/json",
        ))
    }
}

/// Parses a JSON body into `T`, naming the offending field on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    // serde would read a struct from a JSON array too (its fields in order); bodies are
    // objects.
    if bytes.trim_ascii_start().first() != Some(&b'{')
        && serde_json::from_slice::<serde_json::Value>(bytes).is_ok()
    {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    if let Some(field) = nul_in(bytes) {
        return Err(ApiError::field(
            &field,
            "must not contain the NUL character (U+0000)",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                invalid_json(&inner)
            }
            _ => {
                let message = strip_position(&inner.to_string());
                // The path ends at an unknown field's own key, but at the object missing
                // a field; name the field itself either way.
                let path = if path == "." { String::new() } else { path };
                let field = match (missing_field(&message), path.as_str()) {
                    (Some(name), "") => name,
                    (Some(name), parent) => format!("{parent}.{name}"),
                    (None, "") => unknown_field(&message).unwrap_or_else(|| "body".into()),
                    (None, _) => path,
                };
                ApiError::field(&field, message)
            }
        }
    })?;
    deserializer.end().map_err(|inner| invalid_json(&inner))?;
    Ok(value)
}

/// 400 `request.invalid_json` for a body that is not JSON (a syntax error or its end).
pub fn invalid_json(error: &serde_json::Error) -> ApiError {
    ApiError::bad_request(
        "request.invalid_json",
        format!("the body is not valid JSON: {error}"),
    )
}

/// Where a JSON body holds U+0000 (in a string or a key), which no text CaseyOS stores can
/// hold (PostgreSQL refuses it): the field's path, `body` for the top level.
fn nul_in(bytes: &[u8]) -> Option<String> {
    // JSON can only spell NUL as an escape; most bodies have none and stop here.
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return None;
    }
    fn walk(value: &serde_json::Value, path: &str) -> Option<String> {
        let at = |key: &str| {
            if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            }
        };
        match value {
            serde_json::Value::String(s) if s.contains('\0') => Some(path.to_string()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, item)| walk(item, &at(&i.to_string()))),
            serde_json::Value::Object(fields) => fields.iter().find_map(|(key, field)| {
                if key.contains('\0') {
                    // The object holding the key.
                    Some(path.to_string())
                } else {
                    walk(field, &at(key))
                }
            }),
            _ => None,
        }
    }
    // Malformed JSON is reported by the real parse.
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    walk(&value, "").map(|path| if path.is_empty() { "body".into() } else { path })
}

/// serde's messages end in " at line 1 column 12"; people do not need that.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The field named by "unknown field `x`, expected ...".
fn unknown_field(message: &str) -> Option<String> {
    backquoted(message.strip_prefix("unknown field `")?)
}

/// The field named by "missing field `x`".
fn missing_field(message: &str) -> Option<String> {
    backquoted(message.strip_prefix("missing field `")?)
}

fn backquoted(rest: &str) -> Option<String> {
    Some(rest[..rest.find('`')?].to_string())
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_content_type(request.headers())?;
        let bytes = body_bytes(request, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// The whole body as sent, within the body limit: 413 past it, 400 when it cannot be read.
pub async fn body_bytes<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "request.too_large",
                    "the body is larger than this API accepts",
                )
            } else {
                ApiError::bad_request("request.unreadable_body", rejection.body_text())
            }
        })
}

/// Query strings with our envelope on rejection.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        // `%00` decodes to U+0000, which no filter or stored text can hold.
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(ApiError::bad_request(
                "request.invalid_query",
                "query parameters must not contain the NUL character (%00)",
            ));
        }
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|query| ApiQuery(query.0))
            .map_err(|rejection| {
                let text = rejection.body_text();
                let message = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_string();
                ApiError::bad_request("request.invalid_query", message)
            })
    }
}

/// Path parameters with our envelope on rejection (e.g. an id that is not a UUID).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> axum::extract::FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|path| ApiPath(path.0))
            .map_err(|rejection| {
                ApiError::bad_request("request.invalid_path", rejection.body_text())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        reason: String,
        nested: Option<Nested>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        count: u8,
    }

    fn error_of(body: &str) -> ApiError {
        parse_json::<Body>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn json_errors_name_the_field_or_say_the_json_is_malformed() {
        let table = [
            ("{\"reason\": ", 400, "request.invalid_json", None),
            ("{\"reason\": 5}", 422, "request.validation", Some("reason")),
            (
                "{\"reason\": \"x\", \"extra\": 1}",
                422,
                "request.validation",
                Some("extra"),
            ),
            ("{}", 422, "request.validation", Some("reason")),
            ("[\"x\", null]", 422, "request.validation", Some("body")),
            ("null", 422, "request.validation", Some("body")),
            (
                "{\"reason\": \"x\", \"nested\": {}}",
                422,
                "request.validation",
                Some("nested.count"),
            ),
            (
                "{\"reason\": \"x\", \"nested\": {\"count\": 1, \"more\": 2}}",
                422,
                "request.validation",
                Some("nested.more"),
            ),
            (
                "{\"reason\": \"a\\u0000b\"}",
                422,
                "request.validation",
                Some("reason"),
            ),
            (
                "{\"reason\": \"x\", \"nested\": {\"a\\u0000\": 1}}",
                422,
                "request.validation",
                Some("nested"),
            ),
            (
                "{\"reason\": \"x\", \"nested\": {\"count\": \"many\"}}",
                422,
                "request.validation",
                Some("nested.count"),
            ),
            (
                "{\"reason\": \"x\"} trailing",
                400,
                "request.invalid_json",
                None,
            ),
        ];
        for (body, status, code, field) in table {
            let error = error_of(body);
            assert_eq!(error.status.as_u16(), status, "{body}");
            assert_eq!(error.code, code, "{body}");
            if let Some(field) = field {
                assert_eq!(
                    error.details.unwrap()["fields"][0]["field"],
                    field,
                    "{body}"
                );
            }
        }
    }

    #[test]
    fn an_empty_body_reads_as_an_empty_object() {
        #[derive(serde::Deserialize)]
        struct Optional {
            #[allow(dead_code)]
            note: Option<String>,
        }
        assert!(parse_json::<Optional>(b"").is_ok());
        assert!(parse_json::<Optional>(b"  \n").is_ok());
    }
}
