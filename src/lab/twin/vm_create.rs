//! CreateVm (`POST /vms`, apis.md §3.6): validate, allocate, write the VM as `provisioning`,
//! queue the provision job. SAPI's CreateInstance goes through here too.

use std::net::Ipv4Addr;

use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::lab::world::{JobKind, VmState, World, loose_u64};

use super::Twin;
use super::http::{ApiError, field_error, is_uuid};
use super::vm_query::alias_ok;

const BRANDS: &[&str] = &["joyent-minimal", "joyent", "lx", "kvm", "sngl", "bhyve"];

/// The VM and job a create queued.
#[derive(Clone, Debug, PartialEq)]
pub struct Created {
    pub vm_uuid: String,
    pub job_uuid: String,
}

fn invalid(field: &str, message: &str) -> Value {
    field_error(field, "Invalid", message)
}

fn missing(field: &str) -> Value {
    field_error(field, "MissingParameter", "Is required")
}

/// Metadata-like maps: an object (or JSON text of one) whose values are scalars.
fn metadata(params: &mut Map<String, Value>, field: &str, errs: &mut Vec<Value>) {
    let Some(v) = params.get(field).cloned() else {
        return;
    };
    let parsed = match v {
        Value::String(s) => serde_json::from_str::<Value>(&s).ok(),
        other => Some(other),
    };
    match parsed {
        Some(Value::Object(m)) => {
            if let Some((k, _)) = m
                .iter()
                .find(|(_, v)| v.is_object() || v.is_array() || v.is_null())
            {
                errs.push(invalid(&format!("{field}.{k}"), "Forbidden Data Type"));
            } else {
                params.insert(field.to_string(), Value::Object(m));
            }
        }
        _ => errs.push(invalid(field, "Invalid parameter")),
    }
}

/// A requested fixed IP in the first network entry (`ip` or `ipv4_ips: [ip]`).
fn requested_ip(networks: &Value) -> Option<Ipv4Addr> {
    let first = match networks {
        Value::Array(a) => a.first()?.clone(),
        _ => return None,
    };
    let ip = first
        .get("ip")
        .or_else(|| first.get("ipv4_ips").and_then(|a| a.get(0)))?;
    ip.as_str()?.parse().ok()
}

fn validate(w: &World, params: &mut Map<String, Value>) -> Result<(), ApiError> {
    let mut errs = Vec::new();
    let s = |p: &Map<String, Value>, k: &str| p.get(k).map(|v| v.as_str().map(str::to_string));
    match s(params, "owner_uuid") {
        None => errs.push(missing("owner_uuid")),
        Some(Some(o)) if is_uuid(&o) => {}
        Some(_) => errs.push(invalid("owner_uuid", "Invalid UUID")),
    }
    match s(params, "brand") {
        None => errs.push(missing("brand")),
        Some(Some(b)) if BRANDS.contains(&b.as_str()) => {}
        Some(_) => errs.push(invalid(
            "brand",
            &format!("Must be one of: {}", BRANDS.join(", ")),
        )),
    }
    match params.get("networks") {
        None | Some(Value::Null) => errs.push(missing("networks")),
        Some(Value::Array(a)) if !a.is_empty() => {}
        Some(Value::String(s)) if !s.is_empty() => {
            let list: Vec<Value> = s
                .split(',')
                .map(|n| {
                    if is_uuid(n) {
                        serde_json::json!({"uuid": n})
                    } else {
                        serde_json::json!({"name": n})
                    }
                })
                .collect();
            params.insert("networks".into(), Value::Array(list));
        }
        Some(_) => errs.push(invalid("networks", "Malformed networks object")),
    }
    for k in [
        "ram",
        "max_physical_memory",
        "max_swap",
        "max_lwps",
        "max_locked_memory",
        "quota",
        "cpu_cap",
        "cpu_shares",
        "zfs_io_priority",
    ] {
        if params.get(k).is_some() && loose_u64(params.get(k)).is_none() {
            errs.push(invalid(k, "Not a valid number: number must be >= 0"));
        }
    }
    if params.get("billing_id").is_none()
        && params.get("ram").is_none()
        && params.get("max_physical_memory").is_none()
    {
        errs.push(missing("ram"));
    }
    if params.get("brand").and_then(Value::as_str) != Some("kvm") {
        match s(params, "image_uuid") {
            None => errs.push(missing("image_uuid")),
            Some(Some(i)) if is_uuid(&i) && !w.knows_image(&i) => {
                errs.push(invalid("image_uuid", "Image not found"));
            }
            Some(Some(i)) if is_uuid(&i) => {}
            Some(_) => errs.push(invalid("image_uuid", "Invalid UUID")),
        }
    }
    for k in ["tags", "customer_metadata", "internal_metadata"] {
        metadata(params, k, &mut errs);
    }
    match s(params, "uuid") {
        Some(Some(u)) if is_uuid(&u) && w.vm(&u).is_some() => {
            errs.push(field_error("uuid", "Duplicate", "Already exists"));
        }
        Some(Some(u)) if is_uuid(&u) => {}
        Some(_) => errs.push(invalid("uuid", "Invalid UUID")),
        None => {}
    }
    match s(params, "alias") {
        Some(Some(a)) if alias_ok(&a) => {
            let owner = params
                .get("owner_uuid")
                .and_then(Value::as_str)
                .unwrap_or("");
            let taken = w.vms().any(|v| {
                v.state.is_active()
                    && v.owner_uuid == owner
                    && v.alias.as_deref() == Some(a.as_str())
            });
            if taken {
                errs.push(field_error(
                    "alias",
                    "Duplicate",
                    "Already exists for this owner_uuid",
                ));
            }
        }
        Some(Some(a)) if a.len() > 189 => errs.push(invalid(
            "alias",
            "String is longer than maximum of 189 characters",
        )),
        Some(Some(_)) => errs.push(invalid(
            "alias",
            "String does not match regexp: /^[a-zA-Z0-9][a-zA-Z0-9\\_\\.\\-]*$/",
        )),
        Some(None) => errs.push(invalid("alias", "Not a valid string")),
        None => {}
    }
    match s(params, "server_uuid") {
        Some(Some(u)) if is_uuid(&u) && w.server(&u).is_none() => {
            errs.push(invalid("server_uuid", &format!("Server {u} not found")));
        }
        Some(Some(u)) if is_uuid(&u) => {}
        Some(_) => errs.push(invalid("server_uuid", "Invalid UUID")),
        None => {}
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation("Invalid VM parameters", errs))
    }
}

/// Picks the server: the requested one if it can take VMs, else the set-up, running,
/// non-headnode server with the fewest VMs.
///
/// CNAPI's allocator hard-filters servers that are not running or not set up, even when the
/// caller names one; VMAPI then answers 409 `NoAllocatableServersError` synchronously, before
/// any VM record or job exists (apis.md §3.6 and §2.4's pass-through of allocation errors).
fn allocate(w: &World, requested: Option<&str>) -> Result<String, ApiError> {
    let none = || {
        ApiError::rest(
            StatusCode::CONFLICT,
            "NoAllocatableServersError",
            "No compute resources available",
        )
    };
    if let Some(uuid) = requested {
        return match w.server(uuid) {
            Some(s) if s.running && s.setup => Ok(s.uuid.clone()),
            _ => Err(none()),
        };
    }
    w.servers()
        .iter()
        .filter(|s| s.running && s.setup && !s.headnode && !s.reserved)
        .min_by_key(|s| w.vms_on_server(&s.uuid).len())
        .map(|s| s.uuid.clone())
        .ok_or_else(none)
}

/// Validates and queues a provision. The VM exists (state `provisioning`, with its
/// `server_uuid`) when this returns.
pub fn create_vm(
    t: &Twin,
    mut params: Map<String, Value>,
    request_id: &str,
) -> Result<Created, ApiError> {
    params.remove("sync");
    t.world.with(|w| {
        validate(w, &mut params)?;
        let server = allocate(w, params.get("server_uuid").and_then(Value::as_str))?;
        let ip = match params.get("networks").and_then(requested_ip) {
            Some(ip) => ip,
            None => w.allocate_ip().ok_or_else(|| {
                ApiError::rest(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "No free IP addresses left on the admin network (widen the lab's provision range)",
                )
            })?,
        };
        let vm = w.new_vm(&params, &server, Some(ip), VmState::Provisioning);
        let vm_uuid = vm.uuid.clone();
        w.insert_vm(vm);
        params.insert("uuid".into(), Value::from(vm_uuid.clone()));
        params.insert("server_uuid".into(), Value::from(server.clone()));
        let job_uuid = w.start_job(JobKind::Provision, Some(&vm_uuid), Some(&server), false, params, request_id);
        Ok(Created { vm_uuid, job_uuid })
    })
}
