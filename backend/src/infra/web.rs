//! The SPA's build: where trunk's output is (`web_dir`), which of its files are
//! content-hashed, which compressed variant of a file a client accepts (the build writes
//! `.br` and `.gz` beside each compressible file), and the Content-Security-Policy its
//! `index.html` needs. Serving it over HTTP is `http::web`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Where the web app is served from.
#[derive(Clone, Debug)]
pub struct WebApp {
    /// The folder holding `index.html`.
    pub dir: PathBuf,
    /// `web_dir` as configured, for messages.
    pub configured: PathBuf,
}

impl WebApp {
    /// The configured folder if it exists; for a relative one that does not, the same path
    /// in the workspace of the running binary (`<workspace>/target/<profile>/caseyos` →
    /// `<workspace>/dist`); else the configured folder (a build may appear there later).
    pub fn locate(configured: &Path) -> WebApp {
        let mut candidates = vec![configured.to_path_buf()];
        if configured.is_relative() {
            if let Some(workspace) = std::env::current_exe()
                .ok()
                .as_deref()
                .and_then(Path::parent)
                .and_then(Path::parent)
                .and_then(Path::parent)
            {
                candidates.push(workspace.join(configured));
            }
        }
        let dir = candidates
            .iter()
            .find(|dir| dir.is_dir())
            .unwrap_or(&candidates[0])
            .clone();
        let dir = dir.canonicalize().unwrap_or(dir);
        WebApp {
            dir,
            configured: configured.to_path_buf(),
        }
    }

    /// Its `index.html`.
    pub fn index(&self) -> PathBuf {
        self.dir.join("index.html")
    }

    /// Whether a build is there.
    pub fn is_built(&self) -> bool {
        self.index().is_file()
    }
}

/// Does the name carry trunk's content hash? trunk writes a 64-bit seahash as hex after the
/// name (`app-1a2b3c4d5e6f7a8b.js`, `app-1a2b3c4d5e6f7a8b_bg.wasm`, `style-….css`), or
/// before it for initializers (`1a2b…-init.js`). Being unpadded, the hash may be shorter
/// than 16 digits; 12 or more count.
pub fn is_hashed(file_name: &str) -> bool {
    let stem = file_name.split('.').next().unwrap_or_default();
    let is_hash =
        |s: &str| (12..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
    let suffixed = stem
        .rsplit_once('-')
        .is_some_and(|(_, rest)| is_hash(rest.split('_').next().unwrap_or_default()));
    let prefixed = stem
        .split_once('-')
        .is_some_and(|(first, _)| is_hash(first));
    suffixed || prefixed
}

/// A compressed variant of a file, written beside it by the build (`app.wasm.br`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    /// In the order the server prefers them when a client accepts both equally.
    pub const ALL: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];

    /// Its `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// The file name of this variant of `file_name`.
    pub fn file_name(self, file_name: &str) -> String {
        match self {
            Encoding::Brotli => format!("{file_name}.br"),
            Encoding::Gzip => format!("{file_name}.gz"),
        }
    }
}

/// Which of the `available` variants to send for a request's `Accept-Encoding`: the one
/// the client accepts with the highest quality (brotli before gzip on a tie), or `None` for
/// the file as it is. A coding is acceptable when named with a quality above 0 (`q=0`
/// refuses it), or when `*` is and it is not named; no header accepts no coding.
pub fn negotiate(accept_encoding: Option<&str>, available: &[Encoding]) -> Option<Encoding> {
    let accept = accept_encoding?;
    // Thousandths, as RFC 9110 gives qualities to three decimals.
    let quality_of = |name: &str| -> Option<u16> {
        accept.split(',').find_map(|entry| {
            let mut parts = entry.split(';');
            let coding = parts.next()?.trim();
            let matches = coding.eq_ignore_ascii_case(name)
                || (name == "gzip" && coding.eq_ignore_ascii_case("x-gzip"));
            if !matches {
                return None;
            }
            let quality = parts
                .find_map(|p| {
                    let (key, value) = p.split_once('=')?;
                    key.trim().eq_ignore_ascii_case("q").then(|| value.trim())
                })
                .map_or(Some(1000), parse_quality);
            // An entry with a malformed quality is ignored.
            quality
        })
    };
    let wildcard = quality_of("*");
    available
        .iter()
        .filter_map(|&encoding| {
            let quality = quality_of(encoding.token()).or(wildcard)?;
            (quality > 0).then_some((encoding, quality))
        })
        // `max_by_key` keeps the last of equals: reverse so the first preferred wins.
        .rev()
        .max_by_key(|&(_, quality)| quality)
        .map(|(encoding, _)| encoding)
}

/// `0`, `0.5`, `1.000` → thousandths; anything else (or above 1) is `None`.
fn parse_quality(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if !matches!(whole, "0" | "1") || fraction.len() > 3 {
        return None;
    }
    let mut quality = if whole == "1" { 1000 } else { 0 };
    for (digit, scale) in fraction.bytes().zip([100, 10, 1]) {
        if !digit.is_ascii_digit() {
            return None;
        }
        quality += u16::from(digit - b'0') * scale;
    }
    (quality <= 1000).then_some(quality)
}

/// The policy for a page: its own files, WebAssembly (`'wasm-unsafe-eval'`), and exactly
/// the inline scripts it holds — trunk's start-up module that imports the JS glue and
/// initialises the wasm — by hash. Inline styles are allowed (components set `style`).
pub fn content_security_policy(html: &str) -> String {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    let hashes: String = inline_scripts(html)
        .into_iter()
        .map(|script| {
            // Browsers hash the text after the HTML parser's newline normalisation.
            let text = script.replace("\r\n", "\n").replace('\r', "\n");
            format!(" 'sha256-{}'", STANDARD.encode(Sha256::digest(text)))
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The contents of the `<script>` elements without a `src`, exactly as written (a CSP hash
/// covers those bytes).
fn inline_scripts(html: &str) -> Vec<&str> {
    // ASCII lowercasing keeps byte offsets, so positions found in `lower` index `html`.
    let lower = html.to_ascii_lowercase();
    let mut scripts = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find("<script") {
        let start = at + found;
        let Some(tag_len) = lower[start..].find('>') else {
            break;
        };
        let tag = &lower[start + "<script".len()..start + tag_len];
        let body = start + tag_len + 1;
        let Some(body_len) = lower[body..].find("</script") else {
            break;
        };
        let has_src = tag
            .split(|c: char| c.is_ascii_whitespace())
            .any(|attribute| attribute == "src" || attribute.starts_with("src="));
        if !has_src {
            scripts.push(&html[body..body + body_len]);
        }
        at = body + body_len;
    }
    scripts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_hashed_names_are_told_from_plain_ones() {
        let table = [
            ("caseyos-frontend-1a2b3c4d5e6f7a8b_bg.wasm", true),
            ("caseyos-frontend-1a2b3c4d5e6f7a8b.js", true),
            ("caseyos-frontend-a2b3c4d5e6f7a8b.js", true), // 15 digits: unpadded hex
            ("style-0123456789abcdef.css", true),
            ("0123456789abcdef-initializer.js", true),
            ("index.html", false),
            ("favicon.ico", false),
            ("robots.txt", false),
            ("caseyos-frontend.js", false),
            ("logo-dark.svg", false),
            ("app-12345.js", false),
            ("app-0123456789abcdefg.js", false),
        ];
        for (name, hashed) in table {
            assert_eq!(is_hashed(name), hashed, "{name}");
        }
    }

    #[test]
    fn the_variant_sent_is_the_one_the_client_accepts_best_and_q_0_refuses() {
        use Encoding::{Brotli, Gzip};
        let both = &[Brotli, Gzip];
        let table: &[(Option<&str>, &[Encoding], Option<Encoding>)] = &[
            (None, both, None),
            (Some(""), both, None),
            (Some("identity"), both, None),
            (Some("br"), both, Some(Brotli)),
            (Some("gzip, deflate, br"), both, Some(Brotli)),
            (Some("gzip, deflate, br, zstd"), both, Some(Brotli)),
            (Some("gzip, deflate"), both, Some(Gzip)),
            (Some("x-gzip"), both, Some(Gzip)),
            (Some("GZIP, BR"), both, Some(Brotli)),
            (Some("br;q=0, gzip"), both, Some(Gzip)),
            (Some("br; q=0.000, gzip"), both, Some(Gzip)),
            (Some("br;q=0.5, gzip;q=0.8"), both, Some(Gzip)),
            (Some("br;q=0.8, gzip;q=0.8"), both, Some(Brotli)),
            (Some("br;q=0, gzip;q=0"), both, None),
            (Some("*"), both, Some(Brotli)),
            (Some("*;q=0"), both, None),
            (Some("br;q=0, *"), both, Some(Gzip)),
            (Some("gzip;q=0, *;q=0.1"), both, Some(Brotli)),
            (Some("br;q=2, gzip"), both, Some(Gzip)),
            (Some("br;q=0.5x, gzip"), both, Some(Gzip)),
            (Some("br"), &[Gzip], None),
            (Some("br, gzip"), &[Gzip], Some(Gzip)),
            (Some("br, gzip"), &[], None),
        ];
        for (accept, available, expected) in table {
            assert_eq!(
                negotiate(*accept, available),
                *expected,
                "{accept:?} of {available:?}"
            );
        }
        assert_eq!(parse_quality("1.000"), Some(1000));
        assert_eq!(parse_quality("0.25"), Some(250));
        assert_eq!(parse_quality("1.001"), None);
        assert_eq!(parse_quality("0.1234"), None);
        assert_eq!(Brotli.file_name("index.html"), "index.html.br");
        assert_eq!(Gzip.file_name("index.html"), "index.html.gz");
    }

    /// The shape trunk 0.21 writes (`pipelines/rust/output.rs`).
    const TRUNK_INDEX: &str = r#"<!DOCTYPE html><html><head>
<link rel="modulepreload" href="/caseyos-frontend-1a2b3c4d5e6f7a8b.js" crossorigin="anonymous" integrity="sha384-x">
<link rel="preload" href="/caseyos-frontend-1a2b3c4d5e6f7a8b_bg.wasm" crossorigin="anonymous" integrity="sha384-y" as="fetch" type="application/wasm"></head>
<body>
<script type="module">
import init, * as bindings from '/caseyos-frontend-1a2b3c4d5e6f7a8b.js';
const wasm = await init({ module_or_path: '/caseyos-frontend-1a2b3c4d5e6f7a8b_bg.wasm' });


window.wasmBindings = bindings;


dispatchEvent(new CustomEvent("TrunkApplicationStarted", {detail: {wasm}}));

</script><SCRIPT src="/other.js"></SCRIPT></body></html>"#;

    #[test]
    fn the_policy_allows_trunks_inline_start_up_script_by_hash_and_nothing_else_inline() {
        let scripts = inline_scripts(TRUNK_INDEX);
        assert_eq!(scripts.len(), 1, "{scripts:?}");
        assert!(scripts[0].starts_with("\nimport init"));
        assert!(scripts[0].ends_with("}));\n\n"));
        let policy = content_security_policy(TRUNK_INDEX);
        assert_eq!(policy.matches("'sha256-").count(), 1, "{policy}");
        assert!(policy.contains("'wasm-unsafe-eval'"));
        assert!(policy.contains("frame-ancestors 'none'"));
        let script_src = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script_src.contains("unsafe-inline"), "{policy}");
        assert!(!content_security_policy("<p>no scripts</p>").contains("sha256"));
    }
}
