//! The daemon's control endpoint, on the lab's claim address: live status
//! and faults. Faults are lab-side: they never go through the Triton APIs,
//! so a runbook cannot tell them from a real outage.

use std::sync::Arc;

use crate::lab::control_protocol::{ControlMessage, FaultKind, FaultRequest};
use crate::lab::lab_core::LabCore;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

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
    let Some(kind) = FaultKind::from_name(&kind) else {
        let known: Vec<&str> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
        return answer(
            StatusCode::NOT_FOUND,
            format!("no fault named {kind} ({})", known.join(", ")),
        );
    };
    match core.fault(kind, &request.target).await {
        Ok(message) => answer(StatusCode::OK, message),
        Err(message) => answer(StatusCode::NOT_FOUND, message),
    }
}

fn answer(status: StatusCode, message: String) -> Response {
    (status, Json(ControlMessage { message })).into_response()
}
