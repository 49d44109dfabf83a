//! What a `ping` found: each API reports health its own way (VMAPI with a
//! 503, CNAPI always 200 with `ready`, SAPI with a 500), so the verdict is
//! normalised here and the raw body kept for the curious.

use serde::Serialize;
use serde_json::Value;

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
