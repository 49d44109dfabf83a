//! The CNAPI twin (apis.md §4): servers (list/get with extras and default field stripping),
//! forget, reboot (a workflow job), update, ping.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::api::Api;
use crate::lab::world::{Extras, JobKind, Obj, VmState, World};
use crate::lab::zone_command::{self, Outcome, ZoneCommand};

use super::Twin;
use super::http::{self, ApiError, Req, Stamp, field_error, is_uuid, json_response};

const LIST_PARAMS: &[&str] = &[
    "uuids",
    "setup",
    "headnode",
    "reserved",
    "reservoir",
    "hostname",
    "extras",
    "fields",
    "limit",
    "offset",
];

/// CNAPI's strict check: `409 InvalidArgument "<key> is not an explicitly defined parameter"`.
fn strict(req: &Req, allowed: &[&str]) -> Result<(), ApiError> {
    match req
        .query
        .iter()
        .find(|(k, _)| !allowed.contains(&k.as_str()))
    {
        Some((k, _)) => Err(ApiError::rest(
            StatusCode::CONFLICT,
            "InvalidArgument",
            format!("{k} is not an explicitly defined parameter"),
        )),
        None => Ok(()),
    }
}

fn invalid_parameters(field: &str, message: &str) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        body: Some(json!({
            "code": "InvalidParameters",
            "message": "Request parameters failed validation",
            "errors": [field_error(field, "Invalid", message)]
        })),
    }
}

fn extras(list: &str) -> Extras {
    let mut e = Extras::default();
    for x in list.split(',').map(str::trim) {
        match x {
            "agents" => e.agents = true,
            "vms" => e.vms = true,
            "memory" => e.memory = true,
            "disk" => e.disk = true,
            "sysinfo" => e.sysinfo = true,
            "capacity" => e.capacity = true,
            "all" => e = Extras::ALL,
            _ => {}
        }
    }
    e
}

fn render(w: &World, uuid: &str, extras: Extras) -> Option<Obj> {
    let s = w.server(uuid)?;
    Some(s.render(extras, &w.vms_on_server(uuid)))
}

async fn list_servers(State(t): State<Twin>, req: Req) -> Response {
    if let Err(e) = strict(&req, LIST_PARAMS) {
        return e.into_response();
    }
    let mut flags = Vec::new();
    for k in ["setup", "headnode", "reserved", "reservoir"] {
        match req.str(k).map(str::to_ascii_lowercase).as_deref() {
            None => {}
            Some("true") => flags.push((k, true)),
            Some("false") => flags.push((k, false)),
            Some(_) => {
                return invalid_parameters(k, &format!("{k} must be true or false"))
                    .into_response();
            }
        }
    }
    let limit = match req.str("limit").map(|l| l.parse::<usize>()) {
        None => 1000,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => {
            return invalid_parameters("limit", "limit must be in the range 1-1000 (inclusive)")
                .into_response();
        }
    };
    let offset = match req.str("offset").map(|o| o.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return invalid_parameters("offset", "offset must be an integer").into_response();
        }
    };
    let uuids: Option<Vec<String>> = req
        .str("uuids")
        .map(|u| u.split(',').map(str::to_string).collect());
    let hostname = req.str("hostname").map(str::to_string);
    let ex = req.str("extras").map(extras).unwrap_or_default();
    let fields: Option<Vec<String>> = req
        .str("fields")
        .map(|f| f.split(',').map(str::to_string).collect());
    let list: Vec<Obj> = t.world.with(|w| {
        let mut servers: Vec<_> = w
            .servers()
            .iter()
            .filter(|s| uuids.as_ref().is_none_or(|u| u.contains(&s.uuid)))
            .filter(|s| hostname.as_deref().is_none_or(|h| s.hostname == h))
            .filter(|s| {
                flags.iter().all(|(k, v)| match *k {
                    "setup" => s.setup == *v,
                    "headnode" => s.headnode == *v,
                    "reserved" => s.reserved == *v,
                    _ => s.reservoir == *v,
                })
            })
            .map(|s| s.uuid.clone())
            .collect();
        servers.sort();
        servers
            .iter()
            .skip(offset)
            .take(limit)
            .filter_map(|u| render(w, u, ex))
            .map(|mut o| {
                if !ex.any() {
                    // Without extras CNAPI leaves out last_heartbeat but keeps status.
                    o.remove("last_heartbeat");
                }
                if let Some(f) = &fields {
                    let keep: Vec<&str> = f.iter().map(String::as_str).collect();
                    o.retain_keys(&keep);
                }
                o
            })
            .collect()
    });
    json_response(StatusCode::OK, &list)
}

/// The server behind `:uuid`: 409 if it is not a UUID, 404 if unknown.
fn check(w: &World, uuid: &str) -> Result<(), ApiError> {
    if !is_uuid(uuid) {
        return Err(ApiError::rest(
            StatusCode::CONFLICT,
            "InvalidArgument",
            "Invalid server_uuid",
        ));
    }
    if w.server(uuid).is_none() {
        return Err(ApiError::not_found(format!("Server {uuid} not found")));
    }
    Ok(())
}

async fn get_server(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    if let Err(e) = strict(&req, &[]) {
        return e.into_response();
    }
    let res = t.world.with(|w| {
        check(w, &uuid)?;
        render(w, &uuid, Extras::ALL)
            .ok_or_else(|| ApiError::not_found(format!("Server {uuid} not found")))
    });
    match res {
        Ok(o) => json_response(StatusCode::OK, &o),
        Err(e) => e.into_response(),
    }
}

/// "Forget": only the record goes; VMs keep their server_uuid. 200 with an empty body.
async fn delete_server(State(t): State<Twin>, Path(uuid): Path<String>) -> Response {
    let res = t.world.with(|w| {
        check(w, &uuid)?;
        w.forget_server(&uuid);
        Ok::<_, ApiError>(())
    });
    match res {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

fn not_running() -> ApiError {
    ApiError::rest(
        StatusCode::CONFLICT,
        "ServerNotRunning",
        "Operation attempted on server which is not running",
    )
}

async fn reboot_server(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let res = t.world.with(|w| {
        check(w, &uuid)?;
        if !w.server(&uuid).is_some_and(|s| s.running) {
            return Err(not_running());
        }
        Ok(w.start_job(
            JobKind::ServerReboot,
            None,
            Some(&uuid),
            false,
            Default::default(),
            &req.request_id(),
        ))
    });
    match res {
        Ok(job) => json_response(StatusCode::ACCEPTED, &json!({"job_uuid": job})),
        Err(e) => e.into_response(),
    }
}

/// ServerUpdate: the operator annotations the lab keeps (`reserved`, `reservoir`, `comments`,
/// `rack_identifier`, `traits`, `setup`); 204.
async fn update_server(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let res = t.world.with(|w| {
        check(w, &uuid)?;
        let Some(s) = w.server_mut(&uuid) else {
            return Err(ApiError::not_found(format!("Server {uuid} not found")));
        };
        let flag = |v: &Value| v.as_bool().or_else(|| v.as_str().map(|s| s == "true"));
        for (k, v) in &req.params {
            match k.as_str() {
                "reserved" => s.reserved = flag(v).unwrap_or(s.reserved),
                "reservoir" => s.reservoir = flag(v).unwrap_or(s.reservoir),
                "setup" => s.setup = flag(v).unwrap_or(s.setup),
                "comments" => s.comments = v.as_str().unwrap_or("").to_string(),
                "rack_identifier" => s.rack_identifier = v.as_str().unwrap_or("").to_string(),
                "traits" => {
                    if let Value::Object(m) = v {
                        s.traits = m.clone();
                    }
                }
                _ => {}
            }
        }
        Ok(())
    });
    match res {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

/// CommandExecute (apis.md §4.5a): the zone commands the lab imitates run
/// on the real processes; anything else exits 127 and says so.
async fn execute(State(t): State<Twin>, Path(uuid): Path<String>, req: Req) -> Response {
    let checked = t.world.with(|w| {
        check(w, &uuid)?;
        if !w.server(&uuid).is_some_and(|s| s.running) {
            return Err(not_running());
        }
        Ok(())
    });
    if let Err(e) = checked {
        return e.into_response();
    }
    let Some(script) = req.params.get("script").and_then(Value::as_str) else {
        return invalid_parameters("script", "script must be a string").into_response();
    };
    let json = req
        .params
        .get("json")
        .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"));
    let outcome = match zone_command::parse(script) {
        Err(refused) => refused,
        Ok(command) => run_in_zone(&t, &uuid, command).await,
    };
    if json {
        return json_response(StatusCode::OK, &outcome);
    }
    if outcome.exit_code != 0 {
        return ApiError::rest(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "Error executing on remote system",
        )
        .into_response();
    }
    json_response(StatusCode::OK, &outcome.stdout.trim())
}

/// `zlogin` finds the zone on this server, running, before the command runs.
async fn run_in_zone(t: &Twin, server: &str, command: ZoneCommand) -> Outcome {
    let vm = command.vm_uuid.clone();
    let state = t.world.with(|w| {
        w.vm(&vm)
            .filter(|v| v.server_uuid.as_deref() == Some(server))
            .map(|v| v.state)
    });
    match state {
        None => return Outcome::failed(1, format!("zlogin: zone '{vm}' unknown\n")),
        Some(VmState::Running) => {}
        Some(other) => {
            return Outcome::failed(
                1,
                format!(
                    "zlogin: login allowed only to running zones ({vm} is '{}').\n",
                    other.as_str()
                ),
            );
        }
    }
    let Some(commands) = &t.zone_commands else {
        return Outcome::failed(127, "the lab runs no zone commands here\n");
    };
    let (answer, outcome) = tokio::sync::oneshot::channel();
    if commands.send((command, answer)).await.is_err() {
        return Outcome::failed(127, "the lab is stopping\n");
    }
    outcome
        .await
        .unwrap_or_else(|_| Outcome::failed(127, "the lab is stopping\n"))
}

async fn ping() -> Response {
    json_response(
        StatusCode::OK,
        &json!({"ready": true, "services": {"workflow": "online", "moray": "online", "amqp": "online"}}),
    )
}

async fn info() -> Response {
    json_response(StatusCode::OK, &json!({"version": "1.26.6"}))
}

pub fn cnapi(twin: Twin) -> Router {
    let stamp = Stamp {
        server: "cnapi/1.26.6",
        server_name: twin.zone(Api::Cnapi),
        response_time: true,
    };
    Router::new()
        .route("/ping", get(ping))
        .route("/info", get(info))
        .route("/servers", get(list_servers))
        .route(
            "/servers/{uuid}",
            get(get_server).post(update_server).delete(delete_server),
        )
        .route("/servers/{uuid}/reboot", post(reboot_server))
        .route("/servers/{uuid}/execute", post(execute))
        .fallback(http::no_route)
        .method_not_allowed_fallback(http::wrong_method)
        .layer(middleware::from_fn(move |req, next| {
            http::stamp(stamp.clone(), req, next)
        }))
        .with_state(twin)
}
