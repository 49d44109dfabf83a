//! The CLI side of the control endpoint: live status and faults, asked of
//! the running daemon over loopback HTTP (`control_protocol.rs`).
//!
//! These calls are synchronous: they run on a thread of their own with a
//! small runtime, so they work whether or not the caller is inside tokio.

use std::future::Future;
use std::time::Duration;

use crate::lab::control_protocol::{ControlInfo, ControlMessage, FaultKind, FaultRequest};
use crate::lab::error::LabError;
use crate::lab::status::LabStatus;

pub fn fetch_status(control: &ControlInfo) -> Result<LabStatus, LabError> {
    let url = format!("{}/status", control.url);
    blocking(async move {
        let response = client()?
            .get(&url)
            .send()
            .await
            .map_err(|e| unreachable(&url, &e))?;
        if !response.status().is_success() {
            return Err(refused(response).await);
        }
        response
            .json::<LabStatus>()
            .await
            .map_err(|e| LabError::Control {
                url: url.clone(),
                message: format!("bad status answer: {e}"),
            })
    })?
}

/// Applies a fault; the answer is a one-line description of what happened.
pub fn inject(control: &ControlInfo, kind: FaultKind, target: &str) -> Result<String, LabError> {
    let url = format!("{}/faults/{}", control.url, kind.as_str());
    let body = FaultRequest {
        target: target.to_string(),
    };
    blocking(async move {
        let response = client()?
            .post(&url)
            .json(&body)
            .send()
            .await
            .map_err(|e| unreachable(&url, &e))?;
        if !response.status().is_success() {
            return Err(refused(response).await);
        }
        let answer: ControlMessage = response.json().await.map_err(|e| LabError::Control {
            url: url.clone(),
            message: format!("bad fault answer: {e}"),
        })?;
        Ok(answer.message)
    })?
}

/// Whether `url` answers `GET /ping` with a success status.
pub fn pings(url: &str) -> bool {
    let url = format!("{}/ping", url.trim_end_matches('/'));
    blocking(async move {
        let Ok(client) = client() else {
            return false;
        };
        matches!(client.get(&url).send().await, Ok(r) if r.status().is_success())
    })
    .unwrap_or(false)
}

fn client() -> Result<reqwest::Client, LabError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .map_err(|e| LabError::Other(format!("cannot build an HTTP client: {e}")))
}

fn unreachable(url: &str, err: &reqwest::Error) -> LabError {
    LabError::Control {
        url: url.to_string(),
        message: one_line(err),
    }
}

async fn refused(response: reqwest::Response) -> LabError {
    let status = response.status();
    match response.json::<ControlMessage>().await {
        Ok(answer) => LabError::Refused(answer.message),
        Err(_) => LabError::Refused(format!("the lab answered {status}")),
    }
}

/// reqwest's Display hides the cause ("error sending request"); the chain
/// has the part worth reading ("Connection refused").
fn one_line(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text.replace('\n', " ")
}

fn blocking<T: Send + 'static>(
    future: impl Future<Output = T> + Send + 'static,
) -> Result<T, LabError> {
    let trouble = |what: &str| LabError::Other(format!("cannot {what} for a lab request"));
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(future))
            })
            .join()
    })
    .map_err(|_| trouble("finish a thread"))?
    .map_err(|_| trouble("start a runtime"))
}
