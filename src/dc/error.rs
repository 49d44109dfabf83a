//! Every way a call to a datacenter API can fail, rendered in one line that
//! names the API, the method, the path and the cause, and says what to do
//! next where that is not obvious.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

/// The request a failure belongs to: `VMAPI GET /vms/3f…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub api: &'static str,
    pub method: &'static str,
    /// Path and query string as sent (decoded for reading).
    pub path: String,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.api,
            self.method,
            one_line(&self.path, 160)
        )
    }
}

/// One entry of a restify `errors[]` array (VMAPI `ValidationFailed`, CNAPI
/// `InvalidParameters`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field, or the fields joined by `,` for `ConflictingParameters`.
    pub field: String,
    pub code: Option<String>,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.field.is_empty(), self.message.is_empty()) {
            (true, _) => write!(f, "{}", self.message),
            (false, true) => write!(
                f,
                "{}: {}",
                self.field,
                self.code.as_deref().unwrap_or("invalid")
            ),
            (false, false) => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// What a restify error body said (boxed in `DcError::Status` to keep
/// `Result<_, DcError>` small).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorBody {
    /// restify's rest code (`ResourceNotFound`); absent for plain errors.
    pub code: Option<String>,
    /// The error message; empty when the body was empty.
    pub message: String,
    pub errors: Vec<FieldError>,
    /// What to do next, when the status says more than the body.
    pub hint: Option<String>,
}

#[derive(Clone, Debug)]
pub enum DcError {
    /// The API answered with an error status.
    Status {
        call: Call,
        status: u16,
        body: Box<ErrorBody>,
    },
    /// No TCP connection could be made (refused, unreachable, DNS).
    Connect {
        call: Call,
        url: String,
        cause: String,
    },
    /// The whole exchange took longer than the configured timeout.
    Timeout { call: Call, after: Duration },
    /// The connection broke while the request or answer was on the wire.
    Transport {
        call: Call,
        url: String,
        cause: String,
    },
    /// A success status whose body is not what the API documents.
    BadResponse { call: Call, detail: String },
    /// The mutation gate is in `Record` mode: the request was written down.
    NotSent { call: Call },
    /// The mutation gate is in `Deny` mode (checks are running).
    MutationDenied { call: Call },
    /// The request was refused before sending because it cannot do what the
    /// caller means (e.g. a SAPI filter SAPI would silently ignore).
    InvalidRequest { call: Call, detail: String },
    /// The datacenter description itself is unusable (bad URL, client setup).
    Config { detail: String },
    /// Binder could not say where an API is (no record, no answer, refused).
    Binder {
        servers: Vec<SocketAddr>,
        detail: String,
    },
    /// A command in a zone could not run, or failed there.
    Zone { vm: String, detail: String },
}

impl DcError {
    pub fn call(&self) -> Option<&Call> {
        match self {
            DcError::Status { call, .. }
            | DcError::Connect { call, .. }
            | DcError::Timeout { call, .. }
            | DcError::Transport { call, .. }
            | DcError::BadResponse { call, .. }
            | DcError::NotSent { call }
            | DcError::MutationDenied { call }
            | DcError::InvalidRequest { call, .. } => Some(call),
            DcError::Config { .. } | DcError::Binder { .. } | DcError::Zone { .. } => None,
        }
    }

    /// The HTTP status, when the API answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            DcError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// restify's rest code (`ResourceNotFound`, `ValidationFailed`, …).
    pub fn code(&self) -> Option<&str> {
        match self {
            DcError::Status { body, .. } => body.code.as_deref(),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// A failure that may go away by itself: worth retrying an idempotent
    /// read (`http.rs`), or another poll of a job (`jobs.rs`) — one rule
    /// for both.
    ///
    /// Transient: nothing was reached (`Connect`), the connection broke on
    /// the wire (`Transport`: a reset, a pooled connection the API had
    /// closed), or the API said it failed (5xx). Not transient: a 4xx (the
    /// same request fails the same way), and a `Timeout` — the API was
    /// reached and sat on the request for the whole timeout, so another try
    /// would only multiply the wait the operator sees and add load to an
    /// API that is already overloaded or hung; the error says to ping it.
    pub fn is_transient(&self) -> bool {
        match self {
            DcError::Connect { .. } | DcError::Transport { .. } => true,
            DcError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Builds the error for a non-success answer from its restify body
    /// (apis.md §0.4): `{code?, message, errors?}`, an empty body, a bare JSON
    /// string, or something that is not JSON at all (a proxy's HTML page).
    pub fn from_status(
        call: Call,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> DcError {
        let mut code = None;
        let mut errors = Vec::new();
        let mut hint = None;
        let message = if body.iter().all(u8::is_ascii_whitespace) {
            String::new()
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => {
                    code = map
                        .get("code")
                        .and_then(Value::as_str)
                        .map(|c| one_line(c, 80));
                    errors = map.get("errors").map(field_errors).unwrap_or_default();
                    match map.get("message") {
                        Some(Value::String(m)) => one_line(m, 300),
                        Some(other) => one_line(&other.to_string(), 300),
                        None => one_line(&Value::Object(map).to_string(), 200),
                    }
                }
                Ok(Value::String(s)) => one_line(&s, 300),
                Ok(other) => one_line(&other.to_string(), 200),
                Err(_) => {
                    if (502..=504).contains(&status) {
                        hint = Some(format!(
                            "something in front of {} answered, not {} itself: is {} up? check the profile's URL",
                            call.api, call.api, call.api
                        ));
                    }
                    not_json(content_type, body)
                }
            }
        };
        if hint.is_none() && status == 503 {
            hint = Some(format!(
                "{} or a service behind it is not ready: retry later, or check `{}::ping()`",
                call.api,
                call.api.to_lowercase()
            ));
        }
        let body = Box::new(ErrorBody {
            code,
            message,
            errors,
            hint,
        });
        DcError::Status { call, status, body }
    }
}

fn field_errors(value: &Value) -> Vec<FieldError> {
    let Some(items) = value.as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            let text = |key: &str| {
                item.get(key)
                    .and_then(Value::as_str)
                    .map(|s| one_line(s, 120))
            };
            let field = match (text("field"), item.get("fields").and_then(Value::as_array)) {
                (Some(field), _) => field,
                (None, Some(fields)) => {
                    let names: Vec<&str> = fields.iter().filter_map(Value::as_str).collect();
                    one_line(&names.join(","), 120)
                }
                (None, None) => String::new(),
            };
            FieldError {
                field,
                code: text("code"),
                message: text("message").unwrap_or_default(),
            }
        })
        .collect()
}

/// `expected JSON, got text/html ("<html>…")`.
pub(crate) fn not_json(content_type: Option<&str>, body: &[u8]) -> String {
    let kind = content_type
        .and_then(|ct| ct.split(';').next())
        .map(str::trim)
        .filter(|ct| !ct.is_empty())
        .unwrap_or("a body with no content type");
    let text = String::from_utf8_lossy(&body[..body.len().min(400)]);
    format!("expected JSON, got {kind} ({:?})", one_line(&text, 60))
}

/// Collapses whitespace and control characters so the text fits on one line,
/// and shortens it to `max` characters.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 4));
    let mut count = 0;
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || c.is_control() {
            pending_space = !out.is_empty();
            continue;
        }
        if count >= max {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            count += 1;
            pending_space = false;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// `30s`, `1.5s`, `300ms`, `1h`.
pub(crate) fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

impl fmt::Display for DcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DcError::Status { call, status, body } => {
                let ErrorBody {
                    code,
                    message,
                    errors,
                    hint,
                } = &**body;
                write!(f, "{call}: {status}")?;
                match code {
                    Some(code) => write!(f, " {code}")?,
                    None if !reason(*status).is_empty() => write!(f, " {}", reason(*status))?,
                    None => {}
                }
                if message.is_empty() {
                    write!(f, " (empty body)")?;
                } else {
                    write!(f, ": {message}")?;
                }
                if let Some(first) = errors.first() {
                    write!(f, " ({first}")?;
                    if errors.len() > 1 {
                        write!(f, "; +{} more", errors.len() - 1)?;
                    }
                    write!(f, ")")?;
                }
                if let Some(hint) = hint {
                    write!(f, " ({hint})")?;
                }
                Ok(())
            }
            DcError::Connect { call, url, cause } => write!(
                f,
                "{call}: cannot connect to {url}: {cause} (is {} up? check `lab status` or the profile's URL)",
                call.api
            ),
            DcError::Timeout { call, after } => write!(
                f,
                "{call}: no answer within {} (is {} overloaded or hung? try `{}::ping()`)",
                human_duration(*after),
                call.api,
                call.api.to_lowercase()
            ),
            DcError::Transport { call, url, cause } => {
                write!(
                    f,
                    "{call}: connection to {url} broke: {cause} (retry; if it persists check {})",
                    call.api
                )
            }
            DcError::BadResponse { call, detail } => write!(f, "{call}: bad response: {detail}"),
            DcError::NotSent { call } => write!(f, "{call}: not sent (dry run)"),
            DcError::MutationDenied { call } => {
                write!(f, "{call}: refused: checks must not change the datacenter")
            }
            DcError::InvalidRequest { call, detail } => write!(f, "{call}: {detail}"),
            DcError::Config { detail } => write!(f, "datacenter configuration: {detail}"),
            DcError::Zone { vm, detail } => write!(f, "zone {vm}: {detail}"),
            DcError::Binder { servers, detail } => {
                let servers: Vec<String> = servers.iter().map(ToString::to_string).collect();
                let noun = if servers.len() == 1 {
                    "binder"
                } else {
                    "binders"
                };
                write!(f, "{noun} {}: {detail}", servers.join(", "))
            }
        }
    }
}

impl std::error::Error for DcError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> Call {
        Call {
            api: "VMAPI",
            method: "GET",
            path: "/vms/3f00".into(),
        }
    }

    #[test]
    fn transient_means_retry_a_read_or_poll_a_job_again() {
        let broke = |cause: &str| DcError::Transport {
            call: call(),
            url: "http://127.0.0.1:1".into(),
            cause: cause.into(),
        };
        assert!(broke("connection reset").is_transient());
        assert!(status_error(503).is_transient());
        assert!(!status_error(409).is_transient());
        let slow = DcError::Timeout {
            call: call(),
            after: Duration::from_secs(30),
        };
        assert!(!slow.is_transient(), "a timeout is not waited out twice");
    }

    fn status_error(status: u16) -> DcError {
        DcError::from_status(call(), status, None, b"")
    }

    fn fixture(name: &str) -> Vec<u8> {
        crate::fixtures::text(name).into_bytes()
    }

    fn render(status: u16, content_type: Option<&str>, body: &[u8]) -> String {
        DcError::from_status(call(), status, content_type, body).to_string()
    }

    #[test]
    fn restify_not_found() {
        let line = render(
            404,
            Some("application/json"),
            &fixture("error-notfound.json"),
        );
        assert_eq!(
            line,
            "VMAPI GET /vms/3f00: 404 ResourceNotFound: VM not found"
        );
    }

    #[test]
    fn validation_errors_show_the_first_field() {
        let line = render(409, None, &fixture("error-vmapi-duplicate-alias.json"));
        assert_eq!(
            line,
            "VMAPI GET /vms/3f00: 409 ValidationFailed: Invalid VM parameters (alias: Already exists for this owner_uuid)"
        );
    }

    #[test]
    fn several_field_errors_are_counted() {
        let body = br#"{"code":"ValidationFailed","message":"Invalid VM parameters","errors":[
            {"field":"alias","code":"Duplicate","message":"Already exists"},
            {"fields":["ram","billing_id"],"code":"ConflictingParameters","message":"cannot both be set"}]}"#;
        let line = render(409, None, body);
        assert!(line.ends_with("(alias: Already exists; +1 more)"), "{line}");
        let DcError::Status { body, .. } = DcError::from_status(call(), 409, None, body) else {
            panic!("not a status error");
        };
        assert_eq!(body.errors[1].field, "ram,billing_id");
    }

    #[test]
    fn plain_error_has_no_code() {
        let line = render(
            500,
            None,
            br#"{"message":"updateObject failed: no record"}"#,
        );
        assert_eq!(
            line,
            "VMAPI GET /vms/3f00: 500 Internal Server Error: updateObject failed: no record"
        );
    }

    #[test]
    fn empty_body() {
        assert_eq!(
            render(404, None, b""),
            "VMAPI GET /vms/3f00: 404 Not Found (empty body)"
        );
    }

    #[test]
    fn bare_json_string() {
        let line = render(
            409,
            None,
            br#""Server may not be reset because it has 2 vms""#,
        );
        assert_eq!(
            line,
            "VMAPI GET /vms/3f00: 409 Conflict: Server may not be reset because it has 2 vms"
        );
    }

    #[test]
    fn html_from_a_proxy_is_one_line_with_a_hint() {
        let body =
            b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body>nginx</body>\n</html>\n";
        let line = render(502, Some("text/html; charset=utf-8"), body);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("VMAPI GET /vms/3f00: 502 Bad Gateway: expected JSON, got text/html"),
            "{line}"
        );
        assert!(line.contains("check the profile's URL"), "{line}");
    }

    #[test]
    fn every_error_fixture_renders_code_and_message() {
        for name in [
            "error-cnapi-invalid-param.json",
            "error-cnapi-notfound.json",
            "error-cnapi-server-not-running.json",
            "error-route-notfound.json",
            "error-sapi-missing-param.json",
            "error-sapi-notfound.json",
            "error-sapi-provision-failed.json",
            "error-vmapi-invalid-param.json",
            "error-vmapi-invalid-uuid.json",
            "error-vmapi-unallocated.json",
        ] {
            let body = fixture(name);
            let value: Value = serde_json::from_slice(&body).unwrap_or_default();
            let line = render(409, None, &body);
            let code = value["code"].as_str().unwrap_or("?");
            let message = value["message"].as_str().unwrap_or("?");
            assert!(
                line.contains(&format!("409 {code}: {message}")),
                "{name}: {line}"
            );
            assert!(!line.contains('\n'));
        }
    }

    #[test]
    fn one_line_collapses_and_shortens() {
        assert_eq!(one_line("  a\n\tb  c ", 10), "a b c");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_secs(30)), "30s");
        assert_eq!(human_duration(Duration::from_millis(300)), "300ms");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human_duration(Duration::from_secs(3600)), "1h");
    }
}
