//! Query parameters shared by list endpoints: page sizes and comma-separated filters.

use super::error::ApiError;

/// The page size asked for: `default` when absent, 1–`max` otherwise.
pub fn limit(raw: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match raw {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::bad_request(
            "request.invalid_query",
            format!("limit must be between 1 and {max}"),
        )),
    }
}

/// What a cursor decoder that knows only "not ours" answers.
pub const NOT_OUR_CURSOR: &str = "the cursor is not one this API issued";

/// The page cursor in `raw` (none when absent or empty), read by `decode`; one it refuses is
/// `400 request.invalid_cursor` with its reason.
pub fn cursor<C, E: std::fmt::Display>(
    raw: Option<&str>,
    decode: impl FnOnce(&str) -> Result<C, E>,
) -> Result<Option<C>, ApiError> {
    raw.filter(|c| !c.is_empty())
        .map(|raw| {
            decode(raw).map_err(|e| ApiError::bad_request("request.invalid_cursor", e.to_string()))
        })
        .transpose()
}

/// Comma-separated values, each parsed exactly as written (empty means none), naming the
/// parameter on failure.
pub fn parse_list<T>(
    raw: Option<&str>,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, ApiError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(vec![]);
    };
    raw.split(',')
        .map(|v| {
            parse(v).ok_or_else(|| {
                ApiError::bad_request(
                    "request.invalid_query",
                    format!("{name}: `{v}` is not a known value"),
                )
            })
        })
        .collect()
}

/// A text filter (none when absent or empty) of at most `max` characters, naming the
/// parameter when it is longer.
pub fn text_filter(
    raw: Option<String>,
    name: &str,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match raw.filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > max => Err(ApiError::bad_request(
            "request.invalid_query",
            format!("{name}: at most {max} characters"),
        )),
        other => Ok(other),
    }
}
