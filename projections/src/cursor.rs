//! Keyset cursors: the sort values of a page's last row, as opaque URL-safe text.
//!
//! A cursor comes back from clients, so decoding is parsing: anything that is not a cursor
//! this API could have issued — other bytes, another shape, a value of the wrong type, an
//! instant outside what the database stores — is `None`, which the API answers with
//! `400 request.invalid_cursor`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Datelike, Utc};
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

/// `at` if it is an instant a row could have been written at (years 1–9999), so a forged
/// cursor never reaches PostgreSQL as an out-of-range timestamp.
pub fn instant(at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (1..=9999).contains(&at.year()).then_some(at)
}
