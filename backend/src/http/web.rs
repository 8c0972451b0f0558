//! The SPA, served at `/` from its build (`infra::web`).
//!
//! - Files are served as they are; any other GET that is not an API route answers with
//!   `index.html`, so deep links work.
//! - trunk's hashed files (`name-<hash>.js`, `name-<hash>_bg.wasm`) never change, so they
//!   are cached for a year; `index.html` and unhashed files are revalidated every time.
//! - The build writes `.br` and `.gz` beside each compressible file; a client whose
//!   `Accept-Encoding` allows one gets it as it is (`Content-Encoding`, the original's
//!   `Content-Type`), else the file itself (which the compression layer may still compress).
//!   Every answer says `Vary: Accept-Encoding`; `index.html`'s ETag names its variant.
//! - HTML carries a Content-Security-Policy that allows exactly the inline start-up script
//!   trunk writes (by its SHA-256), the app's own files and WebAssembly.
//! - Without a build, `/` says so (503) and how to build it; the API works as ever.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_SECURITY_POLICY,
    CONTENT_TYPE, ETAG, IF_NONE_MATCH, REFERRER_POLICY, VARY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::infra::web::{content_security_policy, is_hashed, negotiate, Encoding, WebApp};

/// For trunk's content-hashed file names: they never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// For everything else: revalidate every time (cheap with ETag / Last-Modified).
const REVALIDATE: &str = "no-cache";

/// Answers a GET or HEAD outside the API: a file of the build, else `index.html`.
pub async fn serve(web: &WebApp, request: Request) -> Response<Body> {
    let head = request.method() == Method::HEAD;
    let index = web.index();
    let Ok(html) = tokio::fs::read(&index).await else {
        return not_built(web, head);
    };
    let path = request.uri().path().to_string();
    if path == "/" || path == "/index.html" {
        return index_response(web, &html, request.headers(), head).await;
    }
    let headers = request.headers().clone();
    let response = match ServeDir::new(&web.dir)
        .append_index_html_on_directories(false)
        .precompressed_br()
        .precompressed_gzip()
        .oneshot(request)
        .await
    {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        return index_response(web, &html, &headers, head).await;
    }
    let mut response = response;
    let file_name = path.rsplit('/').next().unwrap_or_default();
    let cache = if is_hashed(file_name) {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    let is_html = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        // Other HTML files get the policy without any inline script allowed.
        add_html_headers(headers, &content_security_policy(""));
    }
    response
}

/// `index.html`, revalidated on every load (its ETag makes that a 304 when unchanged), as
/// the variant the client accepts best of those the build wrote beside it.
async fn index_response(
    web: &WebApp,
    html: &[u8],
    request: &HeaderMap,
    head: bool,
) -> Response<Body> {
    let mut available = Vec::new();
    for encoding in Encoding::ALL {
        if tokio::fs::metadata(web.dir.join(encoding.file_name("index.html")))
            .await
            .is_ok_and(|m| m.is_file())
        {
            available.push(encoding);
        }
    }
    let accept = request.get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
    let encoded = match negotiate(accept, &available) {
        Some(encoding) => tokio::fs::read(web.dir.join(encoding.file_name("index.html")))
            .await
            .ok()
            .map(|bytes| (encoding, bytes)),
        None => None,
    };
    // One ETag per variant, all derived from the page itself.
    let hash = &hex::encode(Sha256::digest(html))[..32];
    let etag = match &encoded {
        Some((encoding, _)) => format!("\"{hash}-{}\"", encoding.token()),
        None => format!("\"{hash}\""),
    };
    let not_modified = request
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let bytes = match &encoded {
        Some((_, bytes)) => bytes.as_slice(),
        None => html,
    };
    let (status, body) = if not_modified {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else if head {
        (StatusCode::OK, Body::empty())
    } else {
        (StatusCode::OK, Body::from(bytes.to_vec()))
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if status == StatusCode::OK {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    }
    if let Some((encoding, _)) = &encoded {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding.token()));
    }
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, etag);
    }
    let policy = content_security_policy(&String::from_utf8_lossy(html));
    add_html_headers(headers, &policy);
    response
}

fn add_html_headers(headers: &mut HeaderMap, policy: &str) {
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if let Ok(policy) = HeaderValue::from_str(policy) {
        headers.insert(CONTENT_SECURITY_POLICY, policy);
    }
}

/// 503: no build to serve. Says so plainly, and how to make one.
fn not_built(web: &WebApp, head: bool) -> Response<Body> {
    let configured = escape(&web.configured.display().to_string());
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>CaseyOS: the web app is not built</title>\n</head>\n<body>\n\
         <h1>The CaseyOS web app is not built</h1>\n\
         <p>The server is running and its API answers at <a href=\"/api/openapi.json\">/api</a>, \
         but there is no web app to show: <code>web_dir</code> (<code>{configured}</code>) \
         holds no <code>index.html</code>.</p>\n\
         <p>Build it in the CaseyOS workspace with <code>trunk build --release</code> \
         (it writes <code>dist/</code>), then reload this page. Or point <code>web_dir</code> \
         (<code>CASEYOS_WEB_DIR</code>) at a build.</p>\n</body>\n</html>\n"
    );
    let length = page.len();
    let mut response = Response::new(if head {
        Body::empty()
    } else {
        Body::from(page)
    });
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    add_html_headers(headers, "default-src 'none'; frame-ancestors 'none'");
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
