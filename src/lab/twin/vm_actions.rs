//! Mutating VMs: `POST /vms` (create), `POST /vms/:uuid?action=…`, `DELETE /vms/:uuid`.
//! Every one answers 202 `{vm_uuid, job_uuid}` with a `workflow-api` header.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::lab::world::{Execution, JobKind, Vm, VmState, World};

use super::Twin;
use super::http::{ApiError, Req, field_error, json_response};
use super::jobs::wait_for;
use super::vm_create::create_vm;
use super::vm_list::load_vm;

/// Every action VMAPI knows; the lab runs start, stop, kill (as stop),
/// reboot and reprovision.
const ACTIONS: &[&str] = &[
    "start",
    "stop",
    "kill",
    "reboot",
    "reprovision",
    "update",
    "add_nics",
    "update_nics",
    "remove_nics",
    "create_snapshot",
    "rollback_snapshot",
    "delete_snapshot",
    "create_disk",
    "resize_disk",
    "delete_disk",
    "migrate",
];

/// 202 `{vm_uuid, job_uuid}` + `workflow-api`, after waiting for the job when `sync=true`.
async fn accepted(t: &Twin, req: &Req, vm_uuid: &str, job_uuid: &str) -> Response {
    if req.truthy("sync")
        && let Some(job) = wait_for(&t.world, job_uuid, Duration::from_secs(3600)).await
        && job.execution == Execution::Failed
    {
        return ApiError::rest(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            job.error_message().unwrap_or("job failed"),
        )
        .into_response();
    }
    let mut res = json_response(
        StatusCode::ACCEPTED,
        &json!({"vm_uuid": vm_uuid, "job_uuid": job_uuid}),
    );
    if let Ok(v) = HeaderValue::from_str(&t.workflow_url()) {
        res.headers_mut().insert("workflow-api", v);
    }
    res
}

pub async fn create(State(t): State<Twin>, req: Req) -> Response {
    match create_vm(&t, req.params.clone(), &req.request_id()) {
        Ok(c) => accepted(&t, &req, &c.vm_uuid, &c.job_uuid).await,
        Err(e) => e.into_response(),
    }
}

fn sync_ok(req: &Req) -> Result<(), ApiError> {
    match req.params.get("sync") {
        None => Ok(()),
        Some(v) if v.as_str().is_some_and(|s| s == "true" || s == "false") => Ok(()),
        Some(_) => Err(ApiError::validation(
            "Invalid Parameters",
            vec![field_error("sync", "Invalid", "Invalid parameter")],
        )),
    }
}

pub async fn action(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    if let Err(e) = sync_ok(&req) {
        return e.into_response();
    }
    let action = req.str("action").map(str::to_string);
    let idempotent = req.truthy("idempotent");
    let queued = t.world.with(|w| {
        let vm = load_vm(w, &uuid, &req.params)?;
        let action = match action.as_deref() {
            None => {
                return Err(ApiError::validation(
                    "Invalid Parameters",
                    vec![field_error("action", "MissingParameter", "Is required")],
                ));
            }
            Some(a) if !ACTIONS.contains(&a) => {
                return Err(ApiError::validation(
                    "Invalid Parameters",
                    vec![field_error("action", "Invalid", "Invalid parameter")],
                ));
            }
            Some(a) => a,
        };
        if vm.state == VmState::Provisioning {
            return Err(ApiError::rest(
                StatusCode::CONFLICT,
                "UnallocatedVM",
                format!("Cannot call {action} for a VM that has not been provisioned yet"),
            ));
        }
        let mut extra = serde_json::Map::new();
        let kind = match action {
            "start" => JobKind::Start,
            "stop" | "kill" => JobKind::Stop,
            "reboot" => JobKind::Reboot,
            "reprovision" => {
                let image = reprovision_image(w, &vm, &req)?;
                extra.insert("image_uuid".into(), json!(image));
                JobKind::Reprovision
            }
            other => {
                return Err(ApiError::validation(
                    "Invalid Parameters",
                    vec![field_error(
                        "action",
                        "Invalid",
                        &format!(
                            "action {other} is not run by the lab (start, stop, kill, reboot, reprovision are)"
                        ),
                    )],
                ));
            }
        };
        Ok(w.start_job(
            kind,
            Some(&vm.uuid),
            None,
            idempotent,
            extra,
            &req.request_id(),
        ))
    });
    match queued {
        Ok(job) => accepted(&t, &req, &uuid, &job).await,
        Err(e) => e.into_response(),
    }
}

/// The `image_uuid` a reprovision needs (apis.md §3.7): required, an image
/// IMGAPI has, and only for the brands vmadm can reprovision.
fn reprovision_image(w: &World, vm: &Vm, req: &Req) -> Result<String, ApiError> {
    if !["joyent", "joyent-minimal", "lx"].contains(&vm.brand.as_str()) {
        return Err(ApiError::rest(
            StatusCode::CONFLICT,
            "BrandNotSupported",
            format!("action reprovision is not supported for brand {}", vm.brand),
        ));
    }
    let Some(image) = req.str("image_uuid") else {
        return Err(ApiError::validation(
            "Invalid Parameters",
            vec![field_error("image_uuid", "MissingParameter", "Is required")],
        ));
    };
    if !w.knows_image(image) {
        return Err(ApiError::validation(
            "Invalid Parameters",
            vec![field_error("image_uuid", "Invalid", "Image not found")],
        ));
    }
    Ok(image.to_string())
}

pub async fn delete(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    if let Err(e) = sync_ok(&req) {
        return e.into_response();
    }
    let queued = t.world.with(|w| {
        let vm = load_vm(w, &uuid, &req.params)?;
        if vm.server_uuid.is_none() {
            return Err(ApiError::rest(
                StatusCode::CONFLICT,
                "Conflict",
                "Cannot delete a VM with no server_uuid",
            ));
        }
        Ok(w.start_job(
            JobKind::Destroy,
            Some(&vm.uuid),
            None,
            false,
            Default::default(),
            &req.request_id(),
        ))
    });
    match queued {
        Ok(job) => accepted(&t, &req, &uuid, &job).await,
        Err(e) => e.into_response(),
    }
}
