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
