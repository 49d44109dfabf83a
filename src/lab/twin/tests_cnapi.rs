//! CNAPI twin over HTTP.

use serde_json::{Value, json};

use super::tests_support::{call, fixture, start, world};

#[tokio::test]
async fn servers_list_strips_extras_by_default_and_validates_strictly() {
    let lab = start(world(100)).await;
    let (s, h, b) = call(lab.http.get(format!("{}/servers", lab.cnapi))).await;
    assert_eq!(s, 200);
    assert_eq!(h["server"], "cnapi/1.26.6");
    assert!(h.contains_key("x-response-time"));
    let list = b.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 3);
    let uuids: Vec<&str> = list.iter().filter_map(|s| s["uuid"].as_str()).collect();
    let mut sorted = uuids.clone();
    sorted.sort();
    assert_eq!(uuids, sorted);
    for key in [
        "sysinfo",
        "vms",
        "agents",
        "last_heartbeat",
        "memory_total_bytes",
    ] {
        assert!(list[0].get(key).is_none(), "{key} should be stripped");
    }
    assert_eq!(list[0]["status"], "running");
    let (_, _, b) = call(lab.http.get(format!(
        "{}/servers?extras=vms&hostname=headnode",
        lab.cnapi
    )))
    .await;
    assert_eq!(b.as_array().map(Vec::len), Some(1));
    assert_eq!(b[0]["vms"].as_object().map(|m| m.len()), Some(3));
    assert!(b[0].get("last_heartbeat").is_some());
    let (_, _, b) = call(lab.http.get(format!(
        "{}/servers?headnode=false&limit=1&offset=1",
        lab.cnapi
    )))
    .await;
    assert_eq!(b.as_array().map(Vec::len), Some(1));
    let (s, _, b) = call(lab.http.get(format!("{}/servers?role=x", lab.cnapi))).await;
    assert_eq!((s, b), (409, fixture("error-cnapi-invalid-param.json")));
    let (s, _, b) = call(lab.http.get(format!("{}/servers?limit=0", lab.cnapi))).await;
    assert_eq!(s, 400);
    assert_eq!(
        b["errors"][0]["message"],
        "limit must be in the range 1-1000 (inclusive)"
    );
}

#[tokio::test]
async fn get_reboot_and_forget_servers() {
    let lab = start(world(100)).await;
    let cn1 = lab.server_uuid("cn1");
    let (s, _, b) = call(lab.http.get(format!("{}/servers/{cn1}", lab.cnapi))).await;
    assert_eq!(s, 200);
    assert_eq!(b["sysinfo"]["Hostname"], "cn1");
    assert_eq!(
        b["sysinfo"]["Network Interfaces"]["net0"]["ip4addr"],
        "127.0.10.2"
    );
    assert!(b["unreserved_ram"].is_number());
    let (s, _, b) = call(lab.http.get(format!("{}/servers/cn1", lab.cnapi))).await;
    assert_eq!(
        (s, b),
        (
            409,
            json!({"code": "InvalidArgument", "message": "Invalid server_uuid"})
        )
    );
    let ghost = "0d9ab1c5-5f1f-4a8e-9b66-2b0f3c8b7e11";
    let (s, _, b) = call(lab.http.get(format!("{}/servers/{ghost}", lab.cnapi))).await;
    assert_eq!(
        (s, b["message"].clone()),
        (404, json!(format!("Server {ghost} not found")))
    );

    let (s, _, b) = call(lab.http.post(format!("{}/servers/{cn1}/reboot", lab.cnapi))).await;
    assert_eq!(s, 202);
    let job = super::tests_support::wait_job(&lab, b["job_uuid"].as_str().unwrap_or("")).await;
    assert_eq!(job["execution"], "succeeded");
    lab.world.with(|w| w.set_server_running("cn1", false)).ok();
    let (_, _, b) = call(lab.http.get(format!("{}/servers/{cn1}", lab.cnapi))).await;
    assert_eq!(b["status"], "unknown");
    let (s, _, b) = call(lab.http.post(format!("{}/servers/{cn1}/reboot", lab.cnapi))).await;
    assert_eq!((s, b["code"].clone()), (409, json!("ServerNotRunning")));

    let (s, _, b) = call(lab.http.delete(format!("{}/servers/{cn1}", lab.cnapi))).await;
    assert_eq!((s, b), (200, Value::Null));
    let (s, _, _) = call(lab.http.get(format!("{}/servers/{cn1}", lab.cnapi))).await;
    assert_eq!(s, 404);
    // VMAPI keeps the VMs of a forgotten server.
    let moray1 = lab.uuid_of("moray1");
    let (_, _, vm) = call(lab.http.get(format!("{}/vms/{moray1}", lab.vmapi))).await;
    assert_eq!(vm["server_uuid"], cn1.as_str());
}
