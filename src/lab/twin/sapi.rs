//! The SAPI twin (apis.md §2): applications, services, instances, manifests, configs, mode.
//!
//! Lists are unpaginated, in creation order, filter by exact equality and silently ignore
//! unknown keys. Without `Accept-Version: ~2` the `type` field is hidden and agents with it.

use std::hash::{DefaultHasher, Hash, Hasher};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::{Map, Value, json};

use crate::api::Api;
use crate::lab::world::{Application, Manifest, Obj, Service, ServiceKind, merge};

use super::Twin;
use super::http::{self, ApiError, Req, Stamp, is_uuid, json_response};
use super::sapi_instances as instances;
use super::sapi_update::{UpdateAction, no_record, object, require};
use super::version;

/// SAPI serves versions 1.0.0 and 2.0.0 and defaults to `~1` when no version is asked for.
pub fn api_version(req: &Req) -> Result<u64, ApiError> {
    version::negotiate(req, &[1, 2], 1)
}

fn fresh_uuid(req: &Req) -> String {
    req.str("uuid")
        .filter(|u| is_uuid(u))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

// ----- applications -----

async fn create_application(State(t): State<Twin>, req: Req) -> Response {
    if let Err(e) = require(&req, &["name", "owner_uuid"]) {
        return e.into_response();
    }
    let mut extra = Map::new();
    for k in ["metadata_schema", "master"] {
        if let Some(v) = req.params.get(k) {
            extra.insert(k.to_string(), v.clone());
        }
    }
    let app = Application {
        uuid: fresh_uuid(&req),
        name: req.str("name").unwrap_or("").to_string(),
        owner_uuid: req.str("owner_uuid").unwrap_or("").to_string(),
        params: object(&req, "params"),
        metadata: object(&req, "metadata"),
        manifests: object(&req, "manifests"),
        extra,
    };
    let body = app.render();
    t.world.with(|w| w.insert_application(app));
    json_response(StatusCode::OK, &body)
}

async fn list_applications(State(t): State<Twin>, req: Req) -> Response {
    let name = req.str("name").map(str::to_string);
    let owner = req.str("owner_uuid").map(str::to_string);
    let list: Vec<Obj> = t.world.with(|w| {
        w.applications()
            .iter()
            .filter(|a| name.as_deref().is_none_or(|n| a.name == n))
            .filter(|a| owner.as_deref().is_none_or(|o| a.owner_uuid == o))
            .map(Application::render)
            .collect()
    });
    json_response(StatusCode::OK, &list)
}

async fn get_application(State(t): State<Twin>, Path(uuid): Path<String>) -> Response {
    match t
        .world
        .with(|w| w.application(&uuid).map(Application::render))
    {
        Some(a) => json_response(StatusCode::OK, &a),
        None => ApiError::not_found(format!("no such application: {uuid}")).into_response(),
    }
}

async fn update_application(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let action = match UpdateAction::from_req(&req) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let res = t.world.with(|w| {
        let app = w
            .application_mut(&uuid)
            .ok_or_else(|| no_record("sapi_applications", &uuid))?;
        action.apply(&req, "params", &mut app.params);
        action.apply(&req, "metadata", &mut app.metadata);
        action.apply(&req, "manifests", &mut app.manifests);
        if let Some(o) = req.str("owner_uuid") {
            app.owner_uuid = o.to_string();
        }
        if let Some(s) = req.params.get("metadata_schema") {
            app.extra.insert("metadata_schema".into(), s.clone());
        }
        Ok::<_, ApiError>(app.render())
    });
    match res {
        Ok(a) => json_response(StatusCode::OK, &a),
        Err(e) => e.into_response(),
    }
}

async fn delete_application(State(t): State<Twin>, Path(uuid): Path<String>) -> Response {
    match t.world.with(|w| w.remove_application(&uuid)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

// ----- services -----

async fn create_service(State(t): State<Twin>, req: Req) -> Response {
    let v = match api_version(&req) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = require(&req, &["name", "application_uuid"]) {
        return e.into_response();
    }
    let kind = match req.params.get("type").map(|t| t.as_str().unwrap_or("")) {
        None | Some("vm") => ServiceKind::Vm,
        Some("agent") => ServiceKind::Agent,
        Some(other) => {
            return ApiError::plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("service type is invalid: {other}"),
            )
            .into_response();
        }
    };
    let app_uuid = req.str("application_uuid").unwrap_or("").to_string();
    let svc = Service {
        uuid: fresh_uuid(&req),
        name: req.str("name").unwrap_or("").to_string(),
        application_uuid: app_uuid.clone(),
        params: object(&req, "params"),
        metadata: object(&req, "metadata"),
        manifests: object(&req, "manifests"),
        master: req.params.get("master").and_then(Value::as_bool),
        kind,
    };
    let body = svc.render(v >= 2);
    let res = t.world.with(|w| {
        if w.application(&app_uuid).is_none() {
            return Err(ApiError::not_found(format!(
                "no such application: {app_uuid}"
            )));
        }
        w.insert_service(svc);
        Ok(())
    });
    match res {
        Ok(()) => json_response(StatusCode::OK, &body),
        Err(e) => e.into_response(),
    }
}

async fn list_services(State(t): State<Twin>, req: Req) -> Response {
    let v = match api_version(&req) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let name = req.str("name").map(str::to_string);
    let app = req.str("application_uuid").map(str::to_string);
    let kind = req
        .str("type")
        .map(str::to_string)
        .or_else(|| (v < 2).then(|| "vm".to_string()));
    let list: Vec<Obj> = t.world.with(|w| {
        w.services()
            .iter()
            .filter(|s| name.as_deref().is_none_or(|n| s.name == n))
            .filter(|s| app.as_deref().is_none_or(|a| s.application_uuid == a))
            .filter(|s| kind.as_deref().is_none_or(|k| s.kind.as_str() == k))
            .map(|s| s.render(v >= 2))
            .collect()
    });
    json_response(StatusCode::OK, &list)
}

async fn get_service(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let v = match api_version(&req) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    match t.world.with(|w| w.service(&uuid).map(|s| s.render(v >= 2))) {
        Some(s) => json_response(StatusCode::OK, &s),
        None => ApiError::not_found(format!("no such service: {uuid}")).into_response(),
    }
}

async fn update_service(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let v = match api_version(&req) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let action = match UpdateAction::from_req(&req) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let res = t.world.with(|w| {
        let svc = w
            .service_mut(&uuid)
            .ok_or_else(|| no_record("sapi_services", &uuid))?;
        action.apply(&req, "params", &mut svc.params);
        action.apply(&req, "metadata", &mut svc.metadata);
        action.apply(&req, "manifests", &mut svc.manifests);
        Ok::<_, ApiError>(svc.render(v >= 2))
    });
    match res {
        Ok(s) => json_response(StatusCode::OK, &s),
        Err(e) => e.into_response(),
    }
}

async fn delete_service(State(t): State<Twin>, Path(uuid): Path<String>) -> Response {
    match t.world.with(|w| w.remove_service(&uuid)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

// ----- manifests -----

async fn create_manifest(State(t): State<Twin>, req: Req) -> Response {
    if let Err(e) = require(&req, &["name", "path", "template"]) {
        return e.into_response();
    }
    let m = Manifest {
        uuid: fresh_uuid(&req),
        name: req.str("name").unwrap_or("").to_string(),
        path: req.str("path").unwrap_or("").to_string(),
        template: req.params.get("template").cloned().unwrap_or(Value::Null),
        post_cmd: req.str("post_cmd").map(str::to_string),
        post_cmd_linux: req.str("post_cmd_linux").map(str::to_string),
        version: req.str("version").unwrap_or("1.0.0").to_string(),
        master: req.params.get("master").and_then(Value::as_bool),
    };
    let body = m.render();
    t.world.with(|w| w.insert_manifest(m));
    json_response(StatusCode::OK, &body)
}

async fn list_manifests(State(t): State<Twin>) -> Response {
    let list: Vec<Obj> = t
        .world
        .with(|w| w.manifests().iter().map(Manifest::render).collect());
    json_response(StatusCode::OK, &list)
}

async fn get_manifest(State(t): State<Twin>, Path(uuid): Path<String>) -> Response {
    match t.world.with(|w| w.manifest(&uuid).map(Manifest::render)) {
        Some(m) => json_response(StatusCode::OK, &m),
        None => ApiError::not_found(format!("no such manifest: {uuid}")).into_response(),
    }
}

async fn delete_manifest(State(t): State<Twin>, Path(uuid): Path<String>) -> Response {
    match t.world.with(|w| w.remove_manifest(&uuid)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

// ----- configs, mode, ping -----

/// What config-agent fetches: the instance's manifests and merged metadata (apis.md §2.8).
async fn get_config(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let res = t.world.with(|w| {
        let inst = w
            .instance(&uuid)
            .ok_or_else(|| ApiError::not_found(format!("no such instance: {uuid}")))?;
        let svc = w.service(&inst.service_uuid).ok_or_else(|| {
            ApiError::not_found(format!("no such service: {}", inst.service_uuid))
        })?;
        let app = w.application(&svc.application_uuid).ok_or_else(|| {
            ApiError::not_found(format!("no such application: {}", svc.application_uuid))
        })?;
        let none = Map::new();
        let names = merge(&[
            &app.manifests,
            &svc.manifests,
            inst.manifests.as_ref().unwrap_or(&none),
        ]);
        let manifests: Vec<Obj> = names
            .values()
            .filter_map(|u| u.as_str().and_then(|u| w.manifest(u)))
            .map(Manifest::render)
            .collect();
        let mut metadata = merge(&[&app.metadata, &svc.metadata, &inst.metadata]);
        metadata.remove("user-script");
        let server = inst
            .server_uuid()
            .map(str::to_string)
            .or_else(|| {
                w.servers()
                    .iter()
                    .find(|s| s.headnode)
                    .map(|s| s.uuid.clone())
            })
            .unwrap_or_default();
        metadata.insert("SERVER_UUID".into(), json!(server));
        metadata.insert("ZONE_UUID".into(), json!(uuid));
        metadata.insert("INSTANCE_UUID".into(), json!(uuid));
        let mut o = Obj::new();
        o.put_list("manifests", manifests);
        o.put("metadata", Value::Object(metadata));
        Ok::<_, ApiError>(o)
    });
    let body = match res {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    // An opaque tag of the config's content (the real SAPI uses a SHA-1 of it).
    let text = body.to_json_string();
    let mut h1 = DefaultHasher::new();
    text.hash(&mut h1);
    let mut h2 = DefaultHasher::new();
    (text.len(), &text).hash(&mut h2);
    let etag = format!("{:016x}{:016x}", h1.finish(), h2.finish());
    if req
        .header("if-none-match")
        .is_some_and(|v| v.trim_matches('"') == etag)
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut res = http::raw_json(StatusCode::OK, text);
    if let Ok(v) = HeaderValue::from_str(&etag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

async fn get_mode() -> Response {
    json_response(StatusCode::OK, &"full")
}

async fn set_mode(req: Req) -> Response {
    match req.str("mode") {
        Some("full") => StatusCode::NO_CONTENT.into_response(),
        Some(other) => ApiError::rest(
            StatusCode::CONFLICT,
            "InvalidArgument",
            format!("invalid mode: {other}"),
        )
        .into_response(),
        None => ApiError::rest(
            StatusCode::CONFLICT,
            "MissingParameter",
            "missing required keys: mode",
        )
        .into_response(),
    }
}

async fn ping() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"mode": "full", "storType": "MorayLocalStorage", "storAvailable": true}),
    )
}

pub fn sapi(twin: Twin) -> Router {
    let stamp = Stamp {
        server: "sapi/2.1.3",
        server_name: twin.zone(Api::Sapi),
        response_time: false,
    };
    Router::new()
        .route("/ping", get(ping))
        .route("/mode", get(get_mode).post(set_mode))
        .route(
            "/applications",
            get(list_applications).post(create_application),
        )
        .route(
            "/applications/{uuid}",
            get(get_application)
                .put(update_application)
                .delete(delete_application),
        )
        .route("/services", get(list_services).post(create_service))
        .route(
            "/services/{uuid}",
            get(get_service).put(update_service).delete(delete_service),
        )
        .route("/instances", get(instances::list).post(instances::create))
        .route(
            "/instances/{uuid}",
            get(instances::get)
                .put(instances::update)
                .delete(instances::delete),
        )
        .route("/instances/{uuid}/payload", get(instances::get_payload))
        .route("/instances/{uuid}/upgrade", put(instances::upgrade))
        .route("/manifests", get(list_manifests).post(create_manifest))
        .route(
            "/manifests/{uuid}",
            get(get_manifest).delete(delete_manifest),
        )
        .route("/configs/{uuid}", get(get_config))
        .fallback(http::no_route)
        .method_not_allowed_fallback(http::wrong_method)
        .layer(middleware::from_fn(move |req, next| {
            http::stamp(stamp.clone(), req, next)
        }))
        .with_state(twin)
}
