//! `<dir>/requests.log`: one JSON line per request an API twin served, so
//! tests (and operators rehearsing a runbook) can prove what was sent — and
//! what was not.

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
    status: u16,
    ms: u128,
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
    let started = Instant::now();
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let method = request.method().to_string();
    let path = request
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = next.run(request).await;
    log.append(&Entry {
        time,
        api,
        method: &method,
        path: &path,
        status: response.status().as_u16(),
        ms: started.elapsed().as_millis(),
        request_id: request_id.as_deref(),
    });
    response
}
