//! Keyset cursors: the sort values of a page's last row, as opaque URL-safe text.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A cursor's text.
pub fn encode<T: Serialize>(cursor: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

/// The cursor in `raw`, or `None` when it is not one of ours.
pub fn decode<T: DeserializeOwned>(raw: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    serde_json::from_slice(&bytes).ok()
}
