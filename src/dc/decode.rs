//! Turning a success body into typed records, straight from the bytes.
//!
//! The fast path is a plain `serde_json::from_slice`; only when that fails
//! is the body decoded a second time, tracking the path, so the error can say
//! *where* (`missing field `uuid` at [3]`) without slowing the common case.

use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::error::{Call, DcError, not_json, one_line};

pub(crate) fn decode<T: DeserializeOwned>(
    call: &Call,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<T, DcError> {
    match serde_json::from_slice::<T>(body) {
        Ok(value) => Ok(value),
        Err(err) => Err(DcError::BadResponse {
            call: call.clone(),
            detail: explain::<T>(err, content_type, body),
        }),
    }
}

fn explain<T: DeserializeOwned>(
    err: serde_json::Error,
    content_type: Option<&str>,
    body: &[u8],
) -> String {
    match err.classify() {
        Category::Data => {
            let de = &mut serde_json::Deserializer::from_slice(body);
            match serde_path_to_error::deserialize::<_, T>(de) {
                Err(tracked) => {
                    let path = tracked.path().to_string();
                    let message = without_position(&tracked.inner().to_string());
                    if path == "." || path.is_empty() {
                        one_line(&message, 200)
                    } else {
                        one_line(&format!("{message} at {path}"), 200)
                    }
                }
                Ok(_) => one_line(&without_position(&err.to_string()), 200),
            }
        }
        _ if body.iter().all(u8::is_ascii_whitespace) => {
            "expected JSON, got an empty body".to_string()
        }
        _ if content_type.is_some_and(|ct| ct.contains("json")) => {
            format!("invalid JSON: {}", one_line(&err.to_string(), 200))
        }
        _ => not_json(content_type, body),
    }
}

/// serde_json appends ` at line 1 column 345`: the path says more.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Rec {
        uuid: String,
        #[serde(default)]
        n: u32,
    }

    fn call() -> Call {
        Call {
            api: "VMAPI",
            method: "GET",
            path: "/vms".into(),
        }
    }

    fn error_of(body: &str, content_type: Option<&str>) -> String {
        match decode::<Vec<Rec>>(&call(), content_type, body.as_bytes()) {
            Ok(v) => panic!("decoded {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn missing_field_names_the_index() {
        let body = r#"[{"uuid":"a"},{"uuid":"b"},{"uuid":"c"},{"n":1}]"#;
        assert_eq!(
            error_of(body, None),
            "VMAPI GET /vms: bad response: missing field `uuid` at [3]"
        );
    }

    #[test]
    fn wrong_type_names_the_field() {
        let body = r#"[{"uuid":"a","n":"five"}]"#;
        let line = error_of(body, None);
        assert!(
            line.starts_with("VMAPI GET /vms: bad response: invalid type: string \"five\""),
            "{line}"
        );
        assert!(line.ends_with("at [0].n"), "{line}");
    }

    #[test]
    fn html_is_not_json() {
        let line = error_of("<html><body>oops</body></html>", Some("text/html"));
        assert_eq!(
            line,
            "VMAPI GET /vms: bad response: expected JSON, got text/html (\"<html><body>oops</body></html>\")"
        );
    }

    #[test]
    fn truncated_json() {
        let line = error_of(r#"[{"uuid":"a"}"#, Some("application/json"));
        assert!(
            line.starts_with("VMAPI GET /vms: bad response: invalid JSON: EOF"),
            "{line}"
        );
    }

    #[test]
    fn empty_body() {
        assert_eq!(
            error_of("", None),
            "VMAPI GET /vms: bad response: expected JSON, got an empty body"
        );
    }
}
