//! What the manatee lab tests do as an operator would, over the network
//! only: the shard state from ZooKeeper (read through the shell, written as
//! manatee-adm writes it), PostgreSQL with psql, SAPI/VMAPI/CNAPI over HTTP
//! (commands in zones through CNAPI's CommandExecute).

#![allow(dead_code)] // each test file uses a different part of this

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::lab_support::{BIN, Lab, eventually, http, http_within};

pub const PSQL: &str = "/usr/lib/postgresql/15/bin/psql";
pub const MANATEE_ADM: &str = "/opt/smartdc/manatee/node_modules/.bin/manatee-adm";

/// The state, or None while ZooKeeper cannot answer (a member lost with
/// its server leaves the others electing a leader for a moment).
pub fn try_state(lab: &Lab) -> Option<Value> {
    let out = Command::new(BIN)
        .arg("--lab")
        .arg(&lab.dir)
        .args(["--json", "-c", r#"zk::get("/manatee/sdc/state")"#])
        .env("NO_COLOR", "1")
        .env_remove("ZK_IPS")
        .output()
        .ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

pub fn state(lab: &Lab) -> Value {
    eventually(Duration::from_secs(10), || try_state(lab))
        .expect("zk::get of the state answers within 10 s")
}

/// Waits up to `secs` for a state that `check` accepts.
pub fn state_where(lab: &Lab, secs: u64, check: impl Fn(&Value) -> bool) -> Option<Value> {
    eventually(Duration::from_secs(secs), || {
        try_state(lab).filter(|s| check(s))
    })
}

/// One value from `sql` on the peer at `ip`; Err carries psql's complaint.
pub fn psql(ip: &str, sql: &str) -> Result<String, String> {
    let out = Command::new(PSQL)
        .args([
            "-X", "-A", "-t", "-q", "-h", ip, "-U", "postgres", "-c", sql,
        ])
        .env("PGCONNECT_TIMEOUT", "3")
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

pub fn ip_of(lab: &Lab, alias: &str) -> String {
    let status = lab.status();
    Lab::instance(&status, alias)["ip"]
        .as_str()
        .expect("an IP")
        .to_string()
}

/// Waits until `sql` on `ip` gives `want`.
pub fn psql_eventually(ip: &str, sql: &str, want: &str, secs: u64) -> bool {
    eventually(Duration::from_secs(secs), || {
        (psql(ip, sql).ok()? == want).then_some(())
    })
    .is_some()
}

/// Rewrites the state as manatee-adm does: `setData(state, version)` and a
/// `history/0-` node, in one transaction.
pub fn edit_state(lab: &Lab, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    use zookeeper_client as zkc;
    let zk = lab.status()["zk"]
        .as_array()
        .expect("zk")
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(",");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = zkc::Client::connect(&zk).await.expect("ZooKeeper");
        let (data, stat) = client.get_data("/manatee/sdc/state").await.expect("state");
        let mut state: Value = serde_json::from_slice(&data).expect("JSON");
        edit(state.as_object_mut().expect("an object"));
        let json = serde_json::to_vec(&state).expect("JSON");
        let sequential = zkc::CreateMode::PersistentSequential.with_acls(zkc::Acls::anyone_all());
        let mut multi = client.new_multi_writer();
        multi
            .add_set_data("/manatee/sdc/state", &json, Some(stat.version))
            .expect("setData");
        multi
            .add_create("/manatee/sdc/history/0-", &json, &sequential)
            .expect("create");
        multi.commit().await.expect("the transaction");
    });
}

/// `reap`: the peer at `ip` leaves `deposed`, as manatee-adm reap writes it.
pub fn reap(lab: &Lab, ip: &str) {
    edit_state(lab, |s| {
        if let Some(Value::Array(deposed)) = s.get_mut("deposed") {
            deposed.retain(|p| p["ip"] != ip);
        }
    });
}

/// A VM by alias from VMAPI: (uuid, server_uuid).
pub fn vm(lab: &Lab, alias: &str) -> (String, String) {
    let vmapi = lab.url("vmapi");
    let vms = http("GET", &format!("{vmapi}/vms?alias={alias}"), None).expect("VMAPI");
    let vm = vms
        .body
        .as_array()
        .and_then(|all| all.iter().find(|v| v["alias"] == alias))
        .unwrap_or_else(|| panic!("VMAPI has no {alias}: {}", vms.body))
        .clone();
    (
        vm["uuid"].as_str().expect("uuid").to_string(),
        vm["server_uuid"].as_str().expect("server_uuid").to_string(),
    )
}

/// `zlogin VM COMMAND` through CNAPI's CommandExecute on the VM's server:
/// `{stdout, stderr, exitCode}`.
pub fn zone_exec(lab: &Lab, alias: &str, command: &str) -> Value {
    let (uuid, server) = vm(lab, alias);
    let cnapi = lab.url("cnapi");
    let body = serde_json::json!({
        "script": format!("#!/bin/bash\nzlogin {uuid} {command}\n"),
        "json": true,
    });
    // A rebuild waits for a session to expire, then for a restore.
    let answer = http_within(
        "POST",
        &format!("{cnapi}/servers/{server}/execute"),
        Some(body),
        Duration::from_secs(300),
    )
    .expect("CNAPI");
    assert_eq!(answer.status, 200, "execute {command}: {}", answer.body);
    answer.body
}

/// A server's uuid by hostname, from CNAPI.
pub fn server_uuid(lab: &Lab, hostname: &str) -> String {
    let cnapi = lab.url("cnapi");
    let server = http("GET", &format!("{cnapi}/servers?hostname={hostname}"), None).expect("CNAPI");
    server.body[0]["uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("CNAPI has no {hostname}: {}", server.body))
        .to_string()
}

/// `sapiadm provision`: a manatee instance `alias` on `hostname`.
pub fn provision_manatee(lab: &Lab, alias: &str, hostname: &str) {
    let sapi = lab.url("sapi");
    let service = http("GET", &format!("{sapi}/services?name=manatee"), None).expect("SAPI");
    let body = serde_json::json!({
        "service_uuid": service.body[0]["uuid"],
        "params": {"alias": alias, "server_uuid": server_uuid(lab, hostname)},
    });
    let created = http("POST", &format!("{sapi}/instances"), Some(body)).expect("provision");
    assert!(created.status < 300, "provision: {}", created.body);
}
