//! SAPI's update semantics for `PUT` on applications, services and instances (apis.md §2.2).

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::http::{ApiError, Req};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UpdateAction {
    /// Set the given keys, one level deep; others untouched.
    Update,
    /// Replace each given map whole.
    Replace,
    /// Remove the given keys (their values are ignored).
    Delete,
}

impl UpdateAction {
    /// `action` from the request, case-insensitive, default `update`; anything else is SAPI's
    /// `409 InvalidArgument` with an empty message.
    pub fn from_req(req: &Req) -> Result<UpdateAction, ApiError> {
        match req.str("action").map(str::to_ascii_lowercase).as_deref() {
            None | Some("update") => Ok(UpdateAction::Update),
            Some("replace") => Ok(UpdateAction::Replace),
            Some("delete") => Ok(UpdateAction::Delete),
            Some(_) => Err(ApiError::rest(StatusCode::CONFLICT, "InvalidArgument", "")),
        }
    }

    /// Applies the request's map under `key` (if any) to `target`.
    pub fn apply(self, req: &Req, key: &str, target: &mut Map<String, Value>) {
        let Some(Value::Object(given)) = req.params.get(key) else {
            return;
        };
        match self {
            UpdateAction::Update => {
                for (k, v) in given {
                    target.insert(k.clone(), v.clone());
                }
            }
            UpdateAction::Replace => *target = given.clone(),
            UpdateAction::Delete => {
                for k in given.keys() {
                    target.remove(k);
                }
            }
        }
    }
}

/// SAPI's plain error when updating a record that does not exist.
pub fn no_record(bucket: &str, uuid: &str) -> ApiError {
    ApiError::plain(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("updateObject failed: no record for bucket {bucket} object {uuid}"),
    )
}

/// `409 MissingParameter "missing required keys: a, b"` for the absent ones.
pub fn require(req: &Req, keys: &[&str]) -> Result<(), ApiError> {
    let missing: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| req.params.get(*k).is_none_or(Value::is_null))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::rest(
            StatusCode::CONFLICT,
            "MissingParameter",
            format!("missing required keys: {}", missing.join(", ")),
        ))
    }
}

/// An object parameter, or `{}`.
pub fn object(req: &Req, key: &str) -> Map<String, Value> {
    match req.params.get(key) {
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) => serde_json::from_str::<Map<String, Value>>(s).unwrap_or_default(),
        _ => Map::new(),
    }
}
