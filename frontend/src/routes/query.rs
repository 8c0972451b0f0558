//! A route's query string: filters, sort and page kept in the URL so views can be shared and
//! reloaded. Each list route has its own query type ([`super::queue::QueueFilters`],
//! [`super::agent_runs::RunFilters`]); this is what they share.

/// A query value: `,` and `*` stay as they are (filter lists read better), like
/// `A-Z a-z 0-9 - . _ ~`; every other byte is percent-encoded.
fn encode(value: &str) -> String {
    percent_encode(value, b",*")
}

/// A query value: `+` is a space; bytes that are not UTF-8 read as U+FFFD.
fn decode(value: &str) -> String {
    String::from_utf8_lossy(&percent_decode(value, true)).into_owned()
}

/// Every byte of `value` but `A-Z a-z 0-9 - . _ ~` and `also_kept` percent-encoded.
pub(super) fn percent_encode(value: &str, also_kept: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || also_kept.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

/// The bytes `value` percent-encodes (a `%` not followed by two hex digits stays as it is;
/// `+` is a space when `plus_is_space`).
pub(super) fn percent_decode(value: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = value.as_bytes();
    let hex = |at: usize| bytes.get(at).and_then(|b| char::from(*b).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) if plus_is_space => out.push(b' '),
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    out
}

/// `key=value` with the value encoded as in a query string.
pub fn pair(key: &str, value: &str) -> String {
    format!("{key}={}", encode(value))
}

/// `key=value&…` of the fields that have a value.
fn query_of(fields: &[(&str, &mut Option<String>)]) -> String {
    fields
        .iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| pair(k, v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The decoded `(key, value)` pairs of a query string, empty values as `None`.
fn pairs(query: &str) -> impl Iterator<Item = (&str, Option<String>)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key, Some(decode(value)).filter(|v| !v.is_empty()))
        })
}

/// One value of a query string, decoded.
pub fn query_value(query: &str, key: &str) -> Option<String> {
    pairs(query).find(|(k, _)| *k == key).and_then(|(_, v)| v)
}

/// A route's query: optional text fields with their names in the URL, one of them the page
/// `cursor`. Read and written here (for links and navigation).
pub trait UrlQuery: Clone + Default + PartialEq + 'static {
    /// Each field's name in the URL and its value, in the order the URL lists them.
    fn fields(&mut self) -> Vec<(&'static str, &mut Option<String>)>;

    /// `status=pending&sort=-aps` (empty values left out).
    fn to_query(&self) -> String {
        query_of(&self.clone().fields())
    }

    /// Reads a query string (with or without the leading `?`); unknown keys are ignored.
    fn from_query(query: &str) -> Self {
        let mut read = Self::default();
        for (key, value) in pairs(query) {
            if let Some((_, field)) = read.fields().into_iter().find(|(name, _)| *name == key) {
                *field = value;
            }
        }
        read
    }

    /// The same query on another page (`None`: the first; any change of filter starts over).
    fn at_page(&self, cursor: Option<String>) -> Self {
        let mut next = self.clone();
        if let Some((_, field)) = next
            .fields()
            .into_iter()
            .find(|(name, _)| *name == "cursor")
        {
            *field = cursor;
        }
        next
    }

    /// Whether this is a later page than the first.
    fn is_paged(&self) -> bool {
        self.clone()
            .fields()
            .iter()
            .any(|(name, value)| *name == "cursor" && value.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn values_are_decoded_the_way_browsers_and_the_router_encode_them() {
        assert_eq!(
            query_value("?after=12.3&x=1", "after").as_deref(),
            Some("12.3")
        );
        assert_eq!(query_value("after=", "after"), None);
        assert_eq!(
            query_value("a=Draft+Writer%2C%zz", "a").as_deref(),
            Some("Draft Writer,%zz")
        );
        assert_eq!(encode("a b&c,*~"), "a%20b%26c,*~");
    }
}
