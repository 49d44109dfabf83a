//! `<dir>/requests.log`: one JSON line per request an API twin received, so
//! tests (and operators rehearsing a runbook) can prove what was sent — and
//! what was not.
//!
//! A request whose client goes away before the answer (a run killed or
//! interrupted mid-step) is still a line: its handler is dropped, and the
//! drop writes it with no status and `"outcome": "client went away"`. That
//! is exactly the request a dry-run check must not miss, because what it
//! asked for may have been done.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use serde::Serialize;

use crate::lab::error::LabError;

#[derive(Clone)]
pub struct RequestLog {
    file: Arc<Mutex<File>>,
}

#[derive(Serialize)]
struct Entry<'a> {
    time: String,
    api: &'a str,
    method: &'a str,
    /// Path and query exactly as received.
    path: &'a str,
    /// `None` when the client went away before the answer.
    status: Option<u16>,
    ms: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

impl RequestLog {
    pub fn open(path: &Path) -> Result<RequestLog, LabError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| LabError::io("open", path, e))?;
        Ok(RequestLog {
            file: Arc::new(Mutex::new(file)),
        })
    }

    /// Wraps every route of `router` so each request is logged under `api`
    /// ("sapi", "vmapi", "cnapi") once its response status is known.
    pub fn wrap(&self, api: &'static str, router: Router) -> Router {
        router.layer(middleware::from_fn_with_state(
            (self.clone(), api),
            log_request,
        ))
    }

    fn append(&self, entry: &Entry<'_>) {
        let Ok(mut line) = serde_json::to_vec(entry) else {
            return;
        };
        line.push(b'\n');
        // One write per line on an O_APPEND file: lines never interleave, and
        // a reader sees the line as soon as the response has been sent.
        if let Ok(mut file) = self.file.lock() {
            let _ = file.write_all(&line);
        }
    }
}

async fn log_request(
    State((log, api)): State<(RequestLog, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let mut pending = Pending {
        log,
        api,
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        started: Instant::now(),
        method: request.method().to_string(),
        path: request
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_else(|| request.uri().path().to_string()),
        request_id: request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        logged: false,
    };
    let response = next.run(request).await;
    pending.write(Some(response.status().as_u16()), None);
    response
}

/// A request received and not yet logged: logged with its status once
/// answered, or on drop (the client went away and the handler with it).
struct Pending {
    log: RequestLog,
    api: &'static str,
    time: String,
    started: Instant,
    method: String,
    path: String,
    request_id: Option<String>,
    logged: bool,
}

impl Pending {
    fn write(&mut self, status: Option<u16>, outcome: Option<&'static str>) {
        self.logged = true;
        self.log.append(&Entry {
            time: self.time.clone(),
            api: self.api,
            method: &self.method,
            path: &self.path,
            status,
            ms: self.started.elapsed().as_millis(),
            outcome,
            request_id: self.request_id.as_deref(),
        });
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.logged {
            self.write(None, Some("client went away"));
        }
    }
}
