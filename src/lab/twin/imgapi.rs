//! The IMGAPI twin: the catalog of images (`GET /images`, `GET /images/:uuid`)
//! and `GET /ping`, with the fields sdcadm reads (uuid, name, version,
//! published_at, state) among IMGAPI's own.
//!
//! ListImages shows only `active` images unless `state` says otherwise
//! (`all`, `disabled`), filters by exact `name`, `version`, `os`, `type`
//! and `owner`, and sorts by `published_at`, oldest first, as IMGAPI does.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use crate::api::Api;

use super::Twin;
use super::http::{self, ApiError, Req, Stamp, json_response};

/// The keys ListImages matches exactly against the rendered image.
const EXACT_FILTERS: [&str; 5] = ["name", "version", "os", "type", "owner"];

async fn ping() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"ping": "pong", "pid": std::process::id(), "version": "4.13.1", "imgapi": true}),
    )
}

async fn list(State(t): State<Twin>, req: Req) -> Response {
    let state = req.str("state").unwrap_or("active").to_string();
    if !["active", "disabled", "unactivated", "all"].contains(&state.as_str()) {
        return ApiError::rest(
            StatusCode::CONFLICT,
            "ValidationFailed",
            format!("invalid state: \"{state}\" (active, disabled, unactivated or all)"),
        )
        .into_response();
    }
    let filters: Vec<(&str, String)> = EXACT_FILTERS
        .iter()
        .filter_map(|k| Some((*k, req.str(k)?.to_string())))
        .collect();
    let mut images = t.world.with(|w| w.images().to_vec());
    images.sort_by_key(|i| i.published_at);
    let list: Vec<Value> = images
        .iter()
        .filter(|i| state == "all" || i.state == state)
        .map(|i| i.render())
        .filter(|i| filters.iter().all(|(k, v)| i[*k].as_str() == Some(v)))
        .collect();
    json_response(StatusCode::OK, &list)
}

async fn get_image(State(t): State<Twin>, Path(uuid): Path<String>) -> Response {
    match t.world.with(|w| w.image(&uuid).map(|i| i.render())) {
        Some(image) => json_response(StatusCode::OK, &image),
        None => ApiError::not_found(format!("image \"{uuid}\" not found")).into_response(),
    }
}

pub fn imgapi(twin: Twin) -> Router {
    let stamp = Stamp {
        server: "imgapi/4.13.1",
        server_name: twin.zone(Api::Imgapi),
        response_time: true,
    };
    Router::new()
        .route("/ping", get(ping))
        .route("/images", get(list))
        .route("/images/{uuid}", get(get_image))
        .fallback(http::no_route)
        .method_not_allowed_fallback(http::wrong_method)
        .layer(middleware::from_fn(move |req, next| {
            http::stamp(stamp.clone(), req, next)
        }))
        .with_state(twin)
}
