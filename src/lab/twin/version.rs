//! `Accept-Version` matching, for the subset of semver ranges clients send (`~2`, `2.0.0`, `*`).

use axum::http::StatusCode;

use super::http::{ApiError, Req};

/// The major version a range asks for: None for "any" (`*`, `x`, absent).
fn requested_major(range: &str) -> Result<Option<u64>, ()> {
    let r = range.trim().trim_start_matches(['~', '^', '=', 'v']);
    if r.is_empty() || r == "*" || r.eq_ignore_ascii_case("x") {
        return Ok(None);
    }
    r.split('.')
        .next()
        .unwrap_or("")
        .parse()
        .map(Some)
        .map_err(|_| ())
}

/// The server version (of `supported` majors) the request gets, newest first, or restify's
/// `400 InvalidVersion "<range> is not supported by <METHOD> <path>"`.
pub fn negotiate(req: &Req, supported: &[u64], default: u64) -> Result<u64, ApiError> {
    let Some(range) = req
        .header("accept-version")
        .or_else(|| req.header("x-api-version"))
    else {
        return Ok(default);
    };
    let unsupported = || {
        ApiError::rest(
            StatusCode::BAD_REQUEST,
            "InvalidVersion",
            format!("{range} is not supported by {} {}", req.method, req.path),
        )
    };
    match requested_major(range) {
        Ok(None) => Ok(supported.iter().copied().max().unwrap_or(default)),
        Ok(Some(m)) if supported.contains(&m) => Ok(m),
        _ => Err(unsupported()),
    }
}
