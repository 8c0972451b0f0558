//! The SPA's files (DESIGN §7): served from `web_dir` with deep links answered by
//! `index.html`, cache headers that suit trunk's hashed names, compression, the security
//! headers HTML needs — and, without a build, an honest 503 while the API works on.

use std::path::PathBuf;

use caseyos_tests::{header, send, spawn_app_with, TestApp};
use reqwest::Method;

const JS: &str = "caseyos-frontend-1a2b3c4d5e6f7a8b.js";
const WASM: &str = "caseyos-frontend-1a2b3c4d5e6f7a8b_bg.wasm";

/// trunk 0.21's start-up script, as it writes it.
const START_UP: &str = "
import init, * as bindings from '/caseyos-frontend-1a2b3c4d5e6f7a8b.js';
const wasm = await init({ module_or_path: '/caseyos-frontend-1a2b3c4d5e6f7a8b_bg.wasm' });


window.wasmBindings = bindings;


dispatchEvent(new CustomEvent(\"TrunkApplicationStarted\", {detail: {wasm}}));

";

/// A web build in a folder of its own, removed when the test ends.
struct WebDir {
    path: PathBuf,
    index: String,
}

impl WebDir {
    fn new() -> WebDir {
        let path =
            std::env::temp_dir().join(format!("caseyos-web-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        let index = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>CaseyOS</title>\
             <link rel=\"modulepreload\" href=\"/{JS}\" crossorigin=\"anonymous\">\
             <link rel=\"preload\" href=\"/{WASM}\" crossorigin=\"anonymous\" as=\"fetch\" type=\"application/wasm\">\
             </head><body><script type=\"module\">{START_UP}</script></body></html>\n"
        );
        std::fs::write(path.join("index.html"), &index).unwrap();
        std::fs::write(
            path.join(JS),
            "export default async function init() { return 'a glue module long enough to compress'; }\n".repeat(20),
        )
        .unwrap();
        // The wasm magic number and some repetitive bytes.
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        wasm.extend(std::iter::repeat_n(7u8, 4096));
        std::fs::write(path.join(WASM), wasm).unwrap();
        std::fs::write(path.join("robots.txt"), "User-agent: *\nDisallow:\n").unwrap();
        WebDir { path, index }
    }
}

impl WebDir {
    /// Writes `.br` and `.gz` beside `index.html`, the JS and the wasm, as the build does.
    fn with_precompressed(self) -> WebDir {
        for name in ["index.html", JS, WASM] {
            let original = std::fs::read(self.path.join(name)).unwrap();
            std::fs::write(self.path.join(format!("{name}.br")), brotli_of(&original)).unwrap();
            std::fs::write(self.path.join(format!("{name}.gz")), gzip_of(&original)).unwrap();
        }
        self
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path.join(name)).unwrap()
    }
}

fn brotli_of(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams::default();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).unwrap();
    out
}

fn gzip_of(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

impl Drop for WebDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

async fn serving(web: &WebDir) -> TestApp {
    let dir = web.path.clone();
    spawn_app_with(move |c| c.web_dir = dir).await
}

/// The CSP source for a script's SHA-256, computed by PostgreSQL.
async fn csp_hash(app: &TestApp, script: &str) -> String {
    let hash: String =
        sqlx::query_scalar("select encode(sha256(convert_to($1, 'UTF8')), 'base64')")
            .bind(script)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    format!("'sha256-{hash}'")
}

#[tokio::test]
async fn the_root_and_deep_links_serve_index_html_revalidated_every_time() {
    let web = WebDir::new();
    let app = serving(&web).await;
    let start_up = csp_hash(&app, START_UP).await;
    for path in [
        "/",
        "/queue/some/deep/link",
        "/index.html",
        "/sign-in?link=abc",
    ] {
        let response = app.request(Method::GET, path, None).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            header(&response, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer");
        let policy = header(&response, "content-security-policy");
        for needed in [
            "default-src 'self'",
            "'wasm-unsafe-eval'",
            start_up.as_str(),
            "frame-ancestors 'none'",
        ] {
            assert!(policy.contains(needed), "{needed} in {policy}");
        }
        let script_src = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script_src.contains("'unsafe-inline'"), "{policy}");
        assert_eq!(response.text().await.unwrap(), web.index, "{path}");
    }

    // Unchanged, it revalidates to a 304; HEAD has the headers and no body.
    let response = app.request(Method::GET, "/", None).send().await.unwrap();
    let etag = header(&response, "etag");
    assert!(!etag.is_empty());
    let response = app
        .request(Method::GET, "/queue/x", None)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    let response = app.request(Method::HEAD, "/", None).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-length"),
        web.index.len().to_string()
    );
    assert!(response.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn hashed_assets_are_immutable_unhashed_files_revalidate_and_wasm_is_application_wasm() {
    let web = WebDir::new();
    let app = serving(&web).await;
    // (path, content type, cache control)
    let table = [
        (
            format!("/{WASM}"),
            "application/wasm",
            "public, max-age=31536000, immutable",
        ),
        (
            format!("/{JS}"),
            "text/javascript",
            "public, max-age=31536000, immutable",
        ),
        ("/robots.txt".to_string(), "text/plain", "no-cache"),
    ];
    for (path, content_type, cache) in table {
        let response = app.request(Method::GET, &path, None).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            header(&response, "content-type").starts_with(content_type),
            "{path}: {}",
            header(&response, "content-type")
        );
        assert_eq!(header(&response, "cache-control"), cache, "{path}");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        let on_disk = std::fs::read(web.path.join(path.trim_start_matches('/'))).unwrap();
        assert_eq!(response.bytes().await.unwrap().to_vec(), on_disk, "{path}");
    }
}

/// (path, token, Accept-Encoding, expected Content-Encoding, the body's first bytes)
type Case<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a str, &'a [u8]);

#[tokio::test]
async fn responses_are_compressed_as_the_client_accepts() {
    let web = WebDir::new();
    let app = serving(&web).await;
    let js = format!("/{JS}");
    let wasm = format!("/{WASM}");
    let gzip: &[u8] = &[0x1f, 0x8b];
    let table: Vec<Case> = vec![
        ("/", None, Some("gzip"), "gzip", gzip),
        (&js, None, Some("gzip"), "gzip", gzip),
        (&wasm, None, Some("gzip, deflate"), "gzip", gzip),
        (&js, None, Some("br"), "br", &[]),
        (
            "/api/queue/today",
            Some(app.admin.as_str()),
            Some("gzip"),
            "gzip",
            gzip,
        ),
        (&js, None, None, "", b"export"),
        (&js, None, Some("identity"), "", b"export"),
    ];
    for (path, token, accept, encoding, magic) in table {
        let mut request = app.request(Method::GET, path, token);
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "content-encoding"),
            encoding,
            "{path} with {accept:?}"
        );
        let body = response.bytes().await.unwrap();
        assert!(body.starts_with(magic), "{path} with {accept:?}");
    }
}

/// (path, Accept-Encoding, the variant expected: "br", "gzip" or "" for the file itself)
type Variant<'a> = (&'a str, Option<&'a str>, &'a str);

#[tokio::test]
async fn the_builds_precompressed_files_are_sent_as_they_are_to_clients_that_accept_them() {
    let web = WebDir::new().with_precompressed();
    let app = serving(&web).await;
    let js = format!("/{JS}");
    let wasm = format!("/{WASM}");
    let table: Vec<Variant> = vec![
        (&wasm, Some("br"), "br"),
        (&wasm, Some("gzip, deflate, br, zstd"), "br"),
        (&wasm, Some("gzip, br;q=0"), "gzip"),
        (&wasm, Some("br;q=0.5, gzip;q=0.9"), "gzip"),
        (&wasm, Some("br;q=0, gzip;q=0"), ""),
        (&wasm, Some("identity"), ""),
        (&wasm, None, ""),
        (&js, Some("br"), "br"),
        (&js, None, ""),
        ("/", Some("br"), "br"),
        ("/", Some("gzip"), "gzip"),
        ("/", Some("*;q=0"), ""),
        ("/", None, ""),
        ("/queue/deep/link", Some("br"), "br"),
    ];
    for (path, accept, variant) in table {
        let mut request = app.request(Method::GET, path, None);
        if let Some(accept) = accept {
            request = request.header("accept-encoding", accept);
        }
        let response = request.send().await.unwrap();
        let case = format!("{path} with {accept:?}");
        assert_eq!(response.status(), 200, "{case}");
        assert_eq!(header(&response, "content-encoding"), variant, "{case}");
        assert_eq!(
            header(&response, "vary").to_ascii_lowercase(),
            "accept-encoding",
            "{case}"
        );
        let file = match path {
            "/" | "/queue/deep/link" => "index.html",
            _ => path.trim_start_matches('/'),
        };
        let expected_type = match file {
            "index.html" => "text/html",
            name if name.ends_with(".wasm") => "application/wasm",
            _ => "text/javascript",
        };
        assert!(
            header(&response, "content-type").starts_with(expected_type),
            "{case}: {}",
            header(&response, "content-type")
        );
        if file == "index.html" {
            assert!(header(&response, "content-security-policy").contains("'wasm-unsafe-eval'"));
            assert_eq!(header(&response, "cache-control"), "no-cache", "{case}");
        } else {
            assert_eq!(
                header(&response, "cache-control"),
                "public, max-age=31536000, immutable",
                "{case}"
            );
        }
        let body = response.bytes().await.unwrap().to_vec();
        let original = web.read(file);
        match variant {
            "br" => {
                assert_eq!(
                    body,
                    web.read(&format!("{file}.br")),
                    "{case}: the .br file as it is"
                );
                assert_eq!(unbrotli(&body), original, "{case}");
            }
            "gzip" => {
                assert_eq!(
                    body,
                    web.read(&format!("{file}.gz")),
                    "{case}: the .gz file as it is"
                );
                assert_eq!(gunzip(&body), original, "{case}");
            }
            _ => assert_eq!(body, original, "{case}"),
        }
    }

    // index.html: each variant has its own ETag, and revalidates with it; HEAD gives the
    // variant's length.
    let get = |accept: &'static str| {
        app.request(Method::GET, "/", None)
            .header("accept-encoding", accept)
    };
    let plain = header(&get("identity").send().await.unwrap(), "etag");
    let brotli = header(&get("br").send().await.unwrap(), "etag");
    assert_ne!(plain, brotli);
    let response = get("br")
        .header("if-none-match", &brotli)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(
        header(&response, "vary").to_ascii_lowercase(),
        "accept-encoding"
    );
    let response = get("identity")
        .header("if-none-match", &brotli)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app
        .request(Method::HEAD, "/", None)
        .header("accept-encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-encoding"), "br");
    assert_eq!(
        header(&response, "content-length"),
        web.read("index.html.br").len().to_string()
    );
}

#[tokio::test]
async fn unknown_api_routes_keep_the_json_404_envelope() {
    let web = WebDir::new();
    let app = serving(&web).await;
    for (method, path) in [
        (Method::GET, "/api/nope"),
        (Method::GET, "/api"),
        (Method::GET, "/api/queue/today/extra"),
        (Method::GET, "/health/deep"),
        (Method::POST, "/queue/deep/link"),
    ] {
        let (status, body) = send(app.request(method.clone(), path, Some(&app.admin))).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "route.not_found", "{method} {path}");
    }
}

#[tokio::test]
async fn without_a_build_the_web_app_is_an_honest_503_and_the_api_works_on() {
    let missing =
        std::env::temp_dir().join(format!("caseyos-no-web-{}", uuid::Uuid::new_v4().simple()));
    let app = spawn_app_with(move |c| c.web_dir = missing).await;
    for path in ["/", "/queue/some/deep/link"] {
        let response = app.request(Method::GET, path, None).send().await.unwrap();
        assert_eq!(response.status(), 503, "{path}");
        assert!(header(&response, "content-type").starts_with("text/html"));
        assert!(header(&response, "content-security-policy").contains("frame-ancestors 'none'"));
        let page = response.text().await.unwrap();
        assert!(page.contains("not built"), "{page}");
        assert!(page.contains("trunk build --release"), "{page}");
    }
    let (status, body) = app.get_json("/api/queue/today", &app.admin).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.get_json("/api/nope", &app.admin).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "route.not_found");
}
