//! The SPA's build: where trunk's output is (`web_dir`), which of its files are
//! content-hashed, and the Content-Security-Policy its `index.html` needs. Serving it over
//! HTTP is `http::web`.

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
