//! The request span every log line of a request is recorded in: its method, its path and
//! query — with the values of parameters that carry secrets (a sign-in `link`, a `token`,
//! OAuth's `code` and `state`, …) replaced by `REDACTED` — and its request id.

use axum::http::{Request, Uri};
use tracing::Span;

/// Query parameters whose values are secrets, compared without regard to case after
/// percent-decoding the name.
const SECRET_PARAMETERS: &[&str] = &[
    "link",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "state",
    "key",
    "api_key",
    "secret",
    "password",
];

/// What a secret's value is logged as.
pub const REDACTED: &str = "REDACTED";

/// A query string's name as a server decodes it: `+` is a space, `%XX` a byte.
fn decoded(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(hi), Some(lo)) => {
                    out.push((hi * 16 + lo) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The request's path and query as logged: each secret parameter's value is `REDACTED`.
pub fn redacted_target(uri: &Uri) -> String {
    let path = uri.path();
    let Some(query) = uri.query() else {
        return path.to_string();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (name, _) = pair.split_once('=').unwrap_or((pair, ""));
            let secret = SECRET_PARAMETERS
                .iter()
                .any(|s| decoded(name).trim().eq_ignore_ascii_case(s));
            if secret {
                format!("{name}={REDACTED}")
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// The span of one request (`TraceLayer::make_span_with`). At INFO, so that whatever is
/// logged while the request runs — and in work it hands off with this span — carries the
/// request id.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        http.method = %request.method(),
        http.target = %redacted_target(request.uri()),
        request_id = %request_id,
    )
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn secret_query_values_are_redacted_and_the_rest_kept() {
        // (path and query, as logged)
        let table = [
            ("/api/queue?limit=5", "/api/queue?limit=5"),
            ("/sign-in?link=s3cret", "/sign-in?link=REDACTED"),
            (
                "/sign-in?next=/queue&link=s3cret",
                "/sign-in?next=/queue&link=REDACTED",
            ),
            (
                "/cb?code=abc&state=xyz&scope=email",
                "/cb?code=REDACTED&state=REDACTED&scope=email",
            ),
            (
                "/x?TOKEN=t&Access_Token=a",
                "/x?TOKEN=REDACTED&Access_Token=REDACTED",
            ),
            // Names as a server decodes them: %6C is `l`, `+` a space.
            ("/sign-in?%6Cink=s3cret", "/sign-in?%6Cink=REDACTED"),
            ("/sign-in?link+=s3cret", "/sign-in?link+=REDACTED"),
            ("/x?token", "/x?token=REDACTED"),
            ("/x?token=a&token=b", "/x?token=REDACTED&token=REDACTED"),
            ("/x?tokens=kept&%zz=1", "/x?tokens=kept&%zz=1"),
            ("/plain", "/plain"),
        ];
        for (target, logged) in table {
            let uri: Uri = target.parse().unwrap();
            assert_eq!(redacted_target(&uri), logged, "{target}");
        }
        assert_eq!(decoded("a%2"), "a%2");
        assert_eq!(decoded("%"), "%");
        assert_eq!(decoded("%41%4a+b"), "AJ b");
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_logged_request_carries_its_id_and_never_a_sign_in_link() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let request = Request::builder()
                .uri("/sign-in?link=Zq9-s3cret_link&next=/queue")
                .header("x-request-id", "req-42")
                .body(())
                .unwrap();
            let span = request_span(&request);
            let _entered = span.enter();
            tracing::info!("inside the request");
        });
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("inside the request"), "{log}");
        assert!(log.contains("request_id=req-42"), "{log}");
        assert!(log.contains("/sign-in?link=REDACTED&next=/queue"), "{log}");
        assert!(!log.contains("s3cret"), "{log}");
    }
}
