//! What a `ping` found: each API reports health its own way (VMAPI with a
//! 503, CNAPI always 200 with `ready`, SAPI with a 500), so the verdict is
//! normalised here and the raw body kept for the curious.

use reqwest::Method;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::error::DcError;
use super::http::{ApiClient, Request};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Health {
    pub api: &'static str,
    /// The API says it can serve requests.
    pub ok: bool,
    /// HTTP status of the ping.
    pub status: u16,
    /// One line: `ok`, or what is not ready.
    pub summary: String,
    /// The ping body as the API sent it.
    pub body: Value,
}

/// `GET /ping` on `client`, whatever the status; the API's ping rule
/// ([`crate::api::Api::ping_verdict`]) reads the body and gives
/// `Err(summary)` when it is not ready.
///
/// An API that cannot be reached or answers something that is not a ping
/// (refused, timeout, broken connection, HTML, garbage) is unhealthy, not an
/// error: the health check must work during the outage it exists for. Only
/// an unusable datacenter description is an error.
pub(crate) async fn ping(client: &ApiClient) -> Result<Health, DcError> {
    let reply = match client
        .send(Request::new(Method::GET, &["ping"], &[], Uuid::new_v4()).any_status())
        .await
    {
        Ok(reply) => reply,
        Err(err) => return unreachable(client, 0, err),
    };
    let status = reply.status.as_u16();
    let body: Value = match reply.json() {
        Ok(body) => body,
        Err(err) => return unreachable(client, status, err),
    };
    let checked = client.kind().ping_verdict(&body);
    let ok = reply.status.is_success() && checked.is_ok();
    let summary = match checked {
        Err(summary) => summary,
        Ok(()) if ok => "ok".to_string(),
        Ok(()) => format!("HTTP {status}"),
    };
    Ok(Health {
        api: client.api(),
        ok,
        status,
        summary,
        body,
    })
}

/// The verdict for a ping that got no usable answer (`status` 0 when none
/// came back): the failure, without the `API GET /ping:` prefix it would
/// repeat.
fn unreachable(client: &ApiClient, status: u16, err: DcError) -> Result<Health, DcError> {
    if matches!(err, DcError::Config { .. }) {
        return Err(err);
    }
    let text = err.to_string();
    let summary = match err.call() {
        Some(call) => text
            .strip_prefix(&format!("{call}: "))
            .unwrap_or(&text)
            .to_string(),
        None => text,
    };
    Ok(Health {
        api: client.api(),
        ok: false,
        status,
        summary,
        body: Value::Null,
    })
}
