//! What command handlers answer with, and the headers every JSON answer carries.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use caseyos_projections::export::csv_record;
use caseyos_store::now;
use futures::StreamExt;
use serde::Serialize;

/// A command's HTTP answer: `status` and the body, with `Location` when the command
/// created the resource there; the same status and body again for a replayed idempotent
/// request, marked `Idempotent-Replayed: true`.
pub fn command_response<T: Serialize>(
    status: StatusCode,
    replayed: bool,
    location: Option<String>,
    body: T,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Some(value) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// Every JSON answer (results and error envelopes alike) is `nosniff` and `no-store`:
/// it is one caller's data, for no cache to keep. A `Cache-Control` a handler chose stays,
/// and other answers (the web app's files, with their own caching) are left alone.
pub async fn json_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|media| {
            let media = media.trim().to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json")
        })
        .unwrap_or(false);
    if is_json {
        let headers = response.headers_mut();
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    response
}

/// Records sent to the client at a time.
const RECORDS_PER_CHUNK: usize = 128;

/// A CSV download named `<name>-<today>.csv`, streamed from `records` (each a finished
/// record) after `header`: the rows go out as the read model yields them, a chunk at a
/// time. A failure midway cuts the body off (the status has been sent) and is logged.
pub fn csv_download(
    name: &str,
    header: &[&str],
    records: futures::stream::BoxStream<'static, anyhow::Result<String>>,
) -> Response {
    let header = csv_record(header);
    let body = futures::stream::once(async move { Ok::<_, std::io::Error>(header) }).chain(
        records.ready_chunks(RECORDS_PER_CHUNK).map(|chunk| {
            let mut text = String::new();
            for record in chunk {
                match record {
                    Ok(record) => text.push_str(&record),
                    Err(error) => {
                        // The status is sent; the cut-off body is how the client learns.
                        tracing::error!(error = %format!("{error:#}"), "a CSV export failed");
                        return Err(std::io::Error::other("the export failed"));
                    }
                }
            }
            Ok(text)
        }),
    );
    let file = format!("{name}-{}.csv", now().format("%Y-%m-%d"));
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
            (X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// `?format=` of a Markdown export.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `md` (Markdown), the only format.
    #[param(pattern = "^md$")]
    format: Option<String>,
}

impl ExportQuery {
    /// Refuses a format other than `md` (`request.invalid_query`).
    pub fn check(&self) -> Result<(), crate::http::error::ApiError> {
        match self.format.as_deref() {
            Some(format) if format != "md" => Err(crate::http::error::ApiError::bad_request(
                "request.invalid_query",
                "format: only `md` (Markdown)",
            )),
            _ => Ok(()),
        }
    }
}

/// `markdown` as a download named `filename`.
pub fn markdown_attachment(filename: &str, markdown: String) -> Response {
    (
        [
            (CONTENT_TYPE, "text/markdown; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        markdown,
    )
        .into_response()
}
