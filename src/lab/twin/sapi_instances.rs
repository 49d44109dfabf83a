//! SAPI instances: list/get/payload/update, and CreateInstance / DeleteInstance, which drive
//! VMAPI jobs (apis.md §2.4, §2.7), and UpgradeInstance, which reprovisions (§2.6).

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::lab::world::{Execution, Instance, Job, JobKind, ServiceKind, World, payload};

use super::Twin;
use super::http::{ApiError, Req, is_uuid, json_response};
use super::jobs::wait_for;
use super::sapi::api_version;
use super::sapi_update::{UpdateAction, no_record, object, require};
use super::vm_create::create_vm;

fn no_instance(uuid: &str) -> ApiError {
    ApiError::not_found(format!("no such instance: {uuid}"))
}

pub async fn list(State(t): State<Twin>, req: Req) -> Response {
    let v = match api_version(&req) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let service = req.str("service_uuid").map(str::to_string);
    // ~1 hides agents unless a service_uuid is given.
    let kind = req
        .str("type")
        .map(str::to_string)
        .or_else(|| (v < 2 && service.is_none()).then(|| "vm".to_string()));
    let list: Vec<_> = t.world.with(|w| {
        w.instances()
            .iter()
            .filter(|i| service.as_deref().is_none_or(|s| i.service_uuid == s))
            .filter(|i| kind.as_deref().is_none_or(|k| i.kind.as_str() == k))
            .map(|i| i.render(v >= 2, None))
            .collect()
    });
    json_response(StatusCode::OK, &list)
}

pub async fn get(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let v = match api_version(&req) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    match t
        .world
        .with(|w| w.instance(&uuid).map(|i| i.render(v >= 2, None)))
    {
        Some(i) => json_response(StatusCode::OK, &i),
        None => no_instance(&uuid).into_response(),
    }
}

/// The CreateVm body SAPI would send for this instance.
fn payload_of(w: &World, inst: &Instance) -> Result<serde_json::Map<String, Value>, ApiError> {
    let svc = w
        .service(&inst.service_uuid)
        .ok_or_else(|| ApiError::not_found(format!("no such service: {}", inst.service_uuid)))?;
    let app = w.application(&svc.application_uuid).ok_or_else(|| {
        ApiError::not_found(format!("no such application: {}", svc.application_uuid))
    })?;
    Ok(payload(app, svc, inst))
}

pub async fn get_payload(State(t): State<Twin>, Path(uuid): Path<String>) -> Response {
    let res = t.world.with(|w| {
        let inst = w.instance(&uuid).ok_or_else(|| no_instance(&uuid))?;
        payload_of(w, inst)
    });
    match res {
        Ok(p) => json_response(StatusCode::OK, &p),
        Err(e) => e.into_response(),
    }
}

pub async fn update(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let v = match api_version(&req) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let action = match UpdateAction::from_req(&req) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let res = t.world.with(|w| {
        let inst = w
            .instance_mut(&uuid)
            .ok_or_else(|| no_record("sapi_instances", &uuid))?;
        action.apply(&req, "params", &mut inst.params);
        action.apply(&req, "metadata", &mut inst.metadata);
        if req.params.contains_key("manifests") {
            action.apply(
                &req,
                "manifests",
                inst.manifests.get_or_insert_with(Default::default),
            );
        }
        Ok::<_, ApiError>(inst.render(v >= 2, None))
    });
    match res {
        Ok(i) => json_response(StatusCode::OK, &i),
        Err(e) => e.into_response(),
    }
}

/// What the synchronous part of CreateInstance decided.
enum Step {
    /// Nothing to provision (agent, adopted, or the VM already exists).
    Done(Instance),
    Provisioning(Instance, String),
}

pub async fn create(State(t): State<Twin>, req: Req) -> Response {
    let v = match api_version(&req) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = require(&req, &["service_uuid"]) {
        return e.into_response();
    }
    let service_uuid = req.str("service_uuid").unwrap_or("").to_string();
    let asynchronous = req.params.get("async").is_some_and(|a| match a {
        Value::String(s) => !s.is_empty(),
        Value::Bool(b) => *b,
        Value::Null => false,
        _ => true,
    });
    let exists = req.truthy("exists");
    let uuid = req
        .str("uuid")
        .filter(|u| is_uuid(u))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let step = t.world.with(|w| {
        let svc = w
            .service(&service_uuid)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("no such service: {service_uuid}")))?;
        for name_uuid in object(&req, "manifests").values() {
            let m = name_uuid.as_str().unwrap_or("");
            if w.manifest(m).is_none() {
                return Err(ApiError::not_found(format!("no such manifest: {m}")));
            }
        }
        let inst = Instance {
            uuid: uuid.clone(),
            service_uuid: svc.uuid.clone(),
            params: object(&req, "params"),
            metadata: object(&req, "metadata"),
            manifests: req
                .params
                .contains_key("manifests")
                .then(|| object(&req, "manifests")),
            master: req.params.get("master").and_then(Value::as_bool),
            kind: svc.kind,
        };
        w.insert_instance(inst.clone());
        if svc.kind == ServiceKind::Agent {
            return Ok(Step::Done(inst));
        }
        if exists {
            if w.vm(&uuid).is_none() {
                w.remove_instance(&uuid);
                return Err(ApiError::rest(
                    StatusCode::CONFLICT,
                    "InvalidArgument",
                    format!("no such zone: {uuid}"),
                ));
            }
            return Ok(Step::Done(inst));
        }
        if w.vm(&uuid).is_some() {
            return Ok(Step::Done(inst));
        }
        match payload_of(w, &inst) {
            Ok(p) => Ok(Step::Provisioning(
                inst,
                serde_json::to_string(&p).unwrap_or_default(),
            )),
            Err(e) => {
                w.remove_instance(&uuid);
                Err(e)
            }
        }
    });
    let (inst, payload) = match step {
        Ok(Step::Done(inst)) => return json_response(StatusCode::OK, &inst.render(v >= 2, None)),
        Ok(Step::Provisioning(inst, p)) => (inst, p),
        Err(e) => return e.into_response(),
    };
    let body = serde_json::from_str(&payload).unwrap_or_default();
    let created = match create_vm(&t, body, &req.request_id()) {
        Ok(c) => c,
        Err(e) => {
            // VMAPI's validation/allocation error goes back as is; the record is rolled back.
            t.world.with(|w| w.remove_instance(&uuid));
            return e.into_response();
        }
    };
    if asynchronous {
        return json_response(
            StatusCode::OK,
            &inst.render(v >= 2, Some(&created.job_uuid)),
        );
    }
    let job = wait_for(&t.world, &created.job_uuid, Duration::from_secs(3600)).await;
    match job {
        Some(j) if j.execution == Execution::Succeeded => {
            json_response(StatusCode::OK, &inst.render(v >= 2, None))
        }
        other => {
            let message = other
                .as_ref()
                .and_then(|j| j.error_message().map(str::to_string))
                .unwrap_or_else(|| "provision job did not finish".to_string());
            t.world.with(|w| w.remove_instance(&uuid));
            ApiError::rest(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ProvisionFailedError",
                message,
            )
            .into_response()
        }
    }
}

pub async fn delete(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let queued = t.world.with(|w| {
        let inst = w
            .instance(&uuid)
            .cloned()
            .ok_or_else(|| no_instance(&uuid))?;
        if inst.kind == ServiceKind::Agent {
            w.remove_instance(&uuid);
            return Ok(None);
        }
        let vm = w
            .vm(&uuid)
            .cloned()
            .ok_or_else(|| ApiError::not_found("VM not found"))?;
        if vm.server_uuid.is_none() {
            return Err(ApiError::rest(
                StatusCode::CONFLICT,
                "Conflict",
                "Cannot delete a VM with no server_uuid",
            ));
        }
        Ok(Some(w.start_job(
            JobKind::Destroy,
            Some(&uuid),
            None,
            false,
            Default::default(),
            &req.request_id(),
        )))
    });
    let job = match queued {
        Ok(None) => return StatusCode::NO_CONTENT.into_response(),
        Ok(Some(job)) => job,
        Err(e) => return e.into_response(),
    };
    match wait_for(&t.world, &job, Duration::from_secs(600)).await {
        Some(j) if j.execution == Execution::Succeeded => {
            t.world.with(|w| w.remove_instance(&uuid));
            StatusCode::NO_CONTENT.into_response()
        }
        other => job_failed(other.as_ref(), "destroy", "DestroyFailedError"),
    }
}

/// UpgradeInstance (apis.md §2.6): VMAPI's reprovision of the instance's VM
/// to `image_uuid`, waited for; the answer is the instance as it was (SAPI
/// writes the new image nowhere). The lab's services have no teardown hook.
pub async fn upgrade(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let v = match api_version(&req) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let Some(image) = req.str("image_uuid").map(str::to_string) else {
        return ApiError::rest(
            StatusCode::CONFLICT,
            "MissingParameter",
            "missing image_uuid",
        )
        .into_response();
    };
    let queued = t.world.with(|w| {
        let inst = w
            .instance(&uuid)
            .cloned()
            .ok_or_else(|| no_instance(&uuid))?;
        if inst.kind == ServiceKind::Agent {
            return Ok((inst, None));
        }
        if !w.knows_image(&image) {
            return Err(ApiError::rest(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ReprovisionFailedError",
                format!("image {image} not found"),
            ));
        }
        let mut extra = serde_json::Map::new();
        extra.insert("image_uuid".into(), Value::String(image.clone()));
        let job = w.start_job(
            JobKind::Reprovision,
            Some(&uuid),
            None,
            false,
            extra,
            &req.request_id(),
        );
        Ok((inst, Some(job)))
    });
    let (inst, job) = match queued {
        Ok((inst, None)) => return json_response(StatusCode::OK, &inst.render(v >= 2, None)),
        Ok((inst, Some(job))) => (inst, job),
        Err(e) => return e.into_response(),
    };
    match wait_for(&t.world, &job, Duration::from_secs(3600)).await {
        Some(j) if j.execution == Execution::Succeeded => {
            json_response(StatusCode::OK, &inst.render(v >= 2, None))
        }
        other => job_failed(other.as_ref(), "reprovision", "ReprovisionFailedError"),
    }
}

/// SAPI's answer when the VMAPI job behind a request failed or never ended.
fn job_failed(job: Option<&Job>, kind: &str, code: &str) -> Response {
    let message = job
        .and_then(|j| j.error_message().map(str::to_string))
        .unwrap_or_else(|| format!("{kind} job did not finish"));
    ApiError::rest(StatusCode::INTERNAL_SERVER_ERROR, code, message).into_response()
}
