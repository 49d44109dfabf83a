//! The HTTP twin serving one API (sapi, vmapi, cnapi) over the lab's world.
//!
//! Until the twins land (src/lab/twin/, helper labapi) each API answers
//! only `GET /ping`, which is enough to run, fault and stop the lab.

use axum::routing::get;
use axum::{Json, Router};

use crate::lab::world::SharedWorld;

pub fn router(service: &'static str, _world: SharedWorld) -> Router {
    Router::new().route(
        "/ping",
        get(move || async move { Json(serde_json::json!({"ping": "pong", "service": service})) }),
    )
}
