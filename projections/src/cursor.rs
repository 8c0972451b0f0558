//! Keyset cursors: the sort values of a page's last row, as opaque URL-safe text.
//!
//! A cursor comes back from clients, so decoding is parsing: anything that is not a cursor
//! this API could have issued — other bytes, another shape, a value of the wrong type, an
//! instant outside what the database stores — is `None`, which the API answers with
//! `400 request.invalid_cursor`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
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

/// `at`, or the nearest instant in the years 1–9999.
pub fn clamp_instant(at: DateTime<Utc>) -> DateTime<Utc> {
    let first = NaiveDate::from_ymd_opt(1, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0));
    let last = NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 999_999));
    match (first, last) {
        (Some(first), _) if at < first.and_utc() => first.and_utc(),
        (_, Some(last)) if at > last.and_utc() => last.and_utc(),
        _ => at,
    }
}
