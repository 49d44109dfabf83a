//! Reading VMs: ListVms/HeadVms (`GET|HEAD /vms`), GetVm (`GET|HEAD /vms/:uuid`), ListStatuses.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::lab::world::{Obj, Vm, World};

use super::Twin;
use super::http::{ApiError, Req, field_error, is_uuid, json_response, raw_json};
use super::vm_attrs::VmAttrs;
use super::vm_query::VmQuery;

/// The rendering restricted to `fields` (`*` = everything plus `role_tags`).
fn with_fields(vm: &Vm, fields: &[String]) -> Obj {
    let mut o = vm.render();
    let all = fields.iter().any(|f| f == "*");
    if all || fields.iter().any(|f| f == "role_tags") {
        o.put("role_tags", Value::Array(Vec::new()));
    }
    if !all {
        let keep: Vec<&str> = fields.iter().map(String::as_str).collect();
        o.retain_keys(&keep);
    }
    o
}

/// Matching VMs in the query's order, and the page of them to return.
fn select<'w>(w: &'w World, q: &VmQuery) -> (usize, Vec<&'w Vm>) {
    let matches = |vm: &&Vm| q.filter.matches(&VmAttrs { vm, world: w });
    if q.sort.field == "uuid" {
        // The world iterates in uuid order: no sorting, and the marker is a plain bound.
        let ordered: Box<dyn Iterator<Item = &Vm>> = if q.sort.descending {
            Box::new(w.vms().rev())
        } else {
            Box::new(w.vms())
        };
        let mut total = 0;
        let mut page = Vec::new();
        let mut skip = q.offset;
        for vm in ordered.filter(matches) {
            total += 1;
            let after_marker = match &q.marker {
                None => true,
                Some((_, m)) if q.sort.descending => vm.uuid.as_str() < m.as_str(),
                Some((_, m)) => vm.uuid.as_str() > m.as_str(),
            };
            if !after_marker || page.len() >= q.limit {
                continue;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            page.push(vm);
        }
        return (total, page);
    }
    let mut keyed: Vec<(Option<String>, &Vm)> = w
        .vms()
        .filter(matches)
        .map(|vm| (q.sort_key(&VmAttrs { vm, world: w }), vm))
        .collect();
    keyed.sort_by(|a, b| q.compare(&(a.0.clone(), &a.1.uuid), &(b.0.clone(), &b.1.uuid)));
    let total = keyed.len();
    let start = match &q.marker {
        Some((value, uuid)) => {
            let m = (value.clone(), uuid.as_str());
            keyed
                .iter()
                .position(|(k, vm)| {
                    q.compare(&(k.clone(), &vm.uuid), &m) == std::cmp::Ordering::Greater
                })
                .unwrap_or(total)
        }
        None => q.offset.min(total),
    };
    let page = keyed[start..]
        .iter()
        .take(q.limit)
        .map(|(_, vm)| *vm)
        .collect();
    (total, page)
}

pub async fn list_vms(State(t): State<Twin>, req: Req) -> Response {
    let q = match VmQuery::parse(&req.params) {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let head = req.method == Method::HEAD;
    let (total, body) = t.world.with(|w| {
        let (total, page) = select(w, &q);
        if head {
            return (total, String::new());
        }
        let mut body = String::with_capacity(page.len() * 2048 + 2);
        body.push('[');
        for (i, vm) in page.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            match &q.fields {
                None => body.push_str(&w.vm_json(&vm.uuid).unwrap_or_else(|| Arc::from("{}"))),
                Some(f) => body.push_str(&with_fields(vm, f).to_json_string()),
            }
        }
        body.push(']');
        (total, body)
    });
    let mut res = raw_json(StatusCode::OK, body);
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        res.headers_mut().insert("x-joyent-resource-count", v);
    }
    res
}

/// `:uuid` must look like a UUID (`GET /vms/moray0` is a 409, not a 404).
pub fn check_uuid(uuid: &str) -> Result<(), ApiError> {
    if is_uuid(uuid) {
        Ok(())
    } else {
        Err(ApiError::validation(
            "Invalid Parameters",
            vec![field_error("uuid", "Invalid", "Invalid UUID")],
        ))
    }
}

/// The VM, unless missing or (when `owner_uuid` is given) owned by someone else.
pub fn load_vm(w: &World, uuid: &str, params: &Map<String, Value>) -> Result<Vm, ApiError> {
    check_uuid(uuid)?;
    if let Some(owner) = params.get("owner_uuid") {
        let owner = owner.as_str().unwrap_or("");
        if !is_uuid(owner) {
            return Err(ApiError::validation(
                "Invalid Parameters",
                vec![field_error("owner_uuid", "Invalid", "Invalid UUID")],
            ));
        }
        if w.vm(uuid).is_some_and(|v| v.owner_uuid != owner) {
            return Err(ApiError::not_found("VM not found"));
        }
    }
    w.vm(uuid)
        .cloned()
        .ok_or_else(|| ApiError::not_found("VM not found"))
}

pub async fn get_vm(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let fields: Option<Vec<String>> = req
        .str("fields")
        .map(|f| f.split(',').map(str::to_string).collect());
    let res = t.world.with(|w| {
        let vm = load_vm(w, &uuid, &req.params)?;
        Ok::<String, ApiError>(match &fields {
            None => w
                .vm_json(&vm.uuid)
                .map(|s| s.to_string())
                .unwrap_or_default(),
            Some(f) => with_fields(&vm, f).to_json_string(),
        })
    });
    match res {
        // axum drops the body of HEAD answers itself.
        Ok(body) => raw_json(StatusCode::OK, body),
        Err(e) => e.into_response(),
    }
}

pub async fn statuses(State(t): State<Twin>, req: Req) -> Response {
    let uuids: Vec<String> = req
        .str("uuids")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let mut o = Obj::new();
    t.world.with(|w| {
        for u in &uuids {
            if let Some(vm) = w.vm(u) {
                o.put(u, vm.state.as_str());
            }
        }
    });
    json_response(StatusCode::OK, &o)
}
