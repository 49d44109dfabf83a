//! The daemon's control endpoint, on the lab's claim address: live status
//! and faults. Faults are lab-side: they never go through the Triton APIs,
//! so a runbook cannot tell them from a real outage.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::lab::control_client::{ControlMessage, FaultKind};
use crate::lab::lab_core::LabCore;

#[derive(Deserialize)]
struct FaultRequest {
    target: String,
}

pub fn router(core: Arc<LabCore>) -> Router {
    Router::new()
        .route(
            "/ping",
            get(|| async { Json(serde_json::json!({"ok": true})) }),
        )
        .route("/status", get(status))
        .route("/faults/{kind}", post(fault))
        .with_state(core)
}

async fn status(State(core): State<Arc<LabCore>>) -> Response {
    Json(core.status().await).into_response()
}

async fn fault(
    State(core): State<Arc<LabCore>>,
    Path(kind): Path<String>,
    Json(request): Json<FaultRequest>,
) -> Response {
    let kind = match kind.as_str() {
        "server-down" => FaultKind::ServerDown,
        "server-up" => FaultKind::ServerUp,
        "stop" => FaultKind::Stop,
        "start" => FaultKind::Start,
        other => {
            return answer(
                StatusCode::NOT_FOUND,
                format!("no fault named {other} (server-down, server-up, stop, start)"),
            );
        }
    };
    match core.fault(kind, &request.target).await {
        Ok(message) => answer(StatusCode::OK, message),
        Err(message) => answer(StatusCode::NOT_FOUND, message),
    }
}

fn answer(status: StatusCode, message: String) -> Response {
    (status, Json(ControlMessage { message })).into_response()
}
