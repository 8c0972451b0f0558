//! Which addresses stay on this site: the one rule for following `?next=` after signing in
//! and for links in rendered text.

/// How many layers of percent-encoding are looked through before an address counts as
/// unsafe anyway (nothing legitimate is encoded this deep).
const MAX_DECODES: usize = 4;

/// Whether `raw` is a path on this site: a single `/` followed by anything but `/` or `\`
/// (browsers read `//host` and `/\host` as another host), with no control characters or
/// whitespace anywhere (browsers drop tabs and newlines from addresses, so `/<tab>/host` is
/// `//host`). Percent-decoded, layer by layer, it must still start that way once any
/// control characters and whitespace are dropped (`/%09/host`, `/%2F/host`, `/%5Chost`
/// are refused; an encoded space inside a query, `?q=a%20b`, is fine).
pub fn is_same_site_path(raw: &str) -> bool {
    if !starts_on_site(raw) || raw.chars().any(is_blank) {
        return false;
    }
    let mut current = raw.to_string();
    for _ in 0..MAX_DECODES {
        let decoded = percent_decoded(&current);
        if decoded == current {
            return true;
        }
        let visible: String = decoded.chars().filter(|c| !is_blank(*c)).collect();
        if !starts_on_site(&visible) {
            return false;
        }
        current = decoded;
    }
    false
}

fn is_blank(c: char) -> bool {
    c.is_control() || c.is_whitespace()
}

/// A single `/`, then anything but `/` or `\`.
fn starts_on_site(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\'))
}

/// `%XX` as the byte it stands for (invalid UTF-8 becomes U+FFFD); other text unchanged.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Ways to leave the site that a path check could miss (for the tests of every place that
/// follows or links an address).
#[cfg(test)]
pub const MALICIOUS: &[&str] = &[
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/%09/evil.example",
    "/%0a/evil.example",
    "/%0D/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5C/evil.example",
    "/%5cevil.example",
    "%2F%2Fevil.example",
    "/%252F/evil.example",
    "/%25252F/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "/ /evil.example",
    "/\u{0}/evil.example",
    "/\u{a0}/evil.example",
    "/queue\t",
    " /queue",
    "https://evil.example",
    "http://evil.example/",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "/javascript:alert(1)\n",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "evil.example",
    "queue",
    "",
    "%2F%25%32%46",
];

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn only_single_slash_paths_without_blanks_stay_on_the_site() {
        for path in MALICIOUS {
            assert!(!is_same_site_path(path), "{path:?} leaves the site");
        }
        for path in [
            "/",
            "/queue",
            "/queue/abc?x=1&y=%20z",
            "/runs?status=failed,timed_out#top",
            "/a/b//c",
            "/a\\b",
            "/%7Ecasey",
            "/caf%C3%A9",
            "/100%",
            "/%zz",
            "/%25%25%25",
            "/queue?owner=Jane%20Doe",
            "/queue?q=%09tab",
        ] {
            assert!(is_same_site_path(path), "{path:?} is a path on the site");
        }
    }

    #[wasm_bindgen_test]
    fn percent_decoding_reads_bytes_and_leaves_the_rest() {
        assert_eq!(percent_decoded("/a%2Fb%2fc"), "/a/b/c");
        assert_eq!(percent_decoded("/100%"), "/100%");
        assert_eq!(percent_decoded("/%4"), "/%4");
        assert_eq!(percent_decoded("/%zz"), "/%zz");
        assert_eq!(percent_decoded("/caf%C3%A9"), "/café");
        assert_eq!(percent_decoded("/%FF"), "/\u{FFFD}");
    }
}
