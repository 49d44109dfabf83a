//! The VMAPI twin's routes (apis.md §3).

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::Twin;
use super::http::{self, Req, Stamp, json_response};
use super::{jobs, version, vm_actions, vm_list};
use crate::api::Api;

/// The package version VMAPI answers `Accept-Version` against.
const MAJOR: u64 = 9;

async fn ping() -> Response {
    json_response(
        StatusCode::OK,
        &json!({
            "dataMigrations": {"latestCompletedMigrations": {"vms": 1}},
            "healthy": true,
            "initialization": {"moray": {"status": "BUCKETS_REINDEX_DONE"}},
            "pid": std::process::id(),
            "pingErrors": {},
            "status": "OK",
            "services": {"moray": "online", "wfapi": "online"}
        }),
    )
}

/// `Accept-Version` must be satisfied by 9.16.0.
async fn check_version(req: Request, next: Next) -> Response {
    let probe = Req {
        method: req.method().clone(),
        path: req.uri().path().to_string(),
        headers: req.headers().clone(),
        query: Vec::new(),
        params: Default::default(),
    };
    match version::negotiate(&probe, &[MAJOR], MAJOR) {
        Ok(_) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

pub fn vmapi(twin: Twin) -> Router {
    let stamp = Stamp {
        server: "VMAPI/9.16.0",
        server_name: twin.zone(Api::Vmapi),
        response_time: true,
    };
    Router::new()
        .route("/ping", get(ping))
        .route("/vms", get(vm_list::list_vms).post(vm_actions::create))
        .route(
            "/vms/{uuid}",
            get(vm_list::get_vm)
                .post(vm_actions::action)
                .delete(vm_actions::delete),
        )
        .route("/vms/{uuid}/jobs", get(jobs::list_vm_jobs))
        .route("/statuses", get(vm_list::statuses))
        .route("/jobs", get(jobs::list_jobs))
        .route("/jobs/{uuid}", get(jobs::get_job))
        .route("/jobs/{uuid}/wait", get(jobs::wait_job))
        .fallback(http::no_route)
        .method_not_allowed_fallback(http::wrong_method)
        .layer(middleware::from_fn(check_version))
        .layer(middleware::from_fn(move |req, next| {
            http::stamp(stamp.clone(), req, next)
        }))
        .with_state(twin)
}
