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
pub(crate) async fn ping(client: &ApiClient) -> Result<Health, DcError> {
    let reply = client
        .send(Request::new(Method::GET, &["ping"], &[], Uuid::new_v4()).any_status())
        .await?;
    let body: Value = reply.json()?;
    let checked = client.kind().ping_verdict(&body);
    let ok = reply.status.is_success() && checked.is_ok();
    let summary = match checked {
        Err(summary) => summary,
        Ok(()) if ok => "ok".to_string(),
        Ok(()) => format!("HTTP {}", reply.status.as_u16()),
    };
    Ok(Health {
        api: client.api(),
        ok,
        status: reply.status.as_u16(),
        summary,
        body,
    })
}
