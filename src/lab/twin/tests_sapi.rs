//! SAPI twin over HTTP.

use std::time::Duration;

use serde_json::{Value, json};

use super::tests_support::{call, fixture, start, world};

#[tokio::test]
async fn versions_hide_agents_and_type_and_reject_unknown_ranges() {
    let lab = start(world(100)).await;
    let (s, h, b) = call(lab.http.get(format!("{}/services", lab.sapi))).await;
    assert_eq!(s, 200);
    assert_eq!(h["server"], "sapi/2.1.3");
    assert!(!h.contains_key("x-response-time"));
    let names: Vec<&str> = b
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["binder", "manatee", "moray"]);
    assert!(b[0].get("type").is_none());
    let (_, _, b) = call(
        lab.http
            .get(format!("{}/services", lab.sapi))
            .header("accept-version", "~2"),
    )
    .await;
    assert_eq!(b.as_array().map(Vec::len), Some(4));
    assert_eq!(b[3]["type"], "agent");
    let keys: Vec<&String> = b[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 7);
    let (s, _, b) = call(
        lab.http
            .get(format!("{}/services", lab.sapi))
            .header("accept-version", "~3"),
    )
    .await;
    assert_eq!(
        (s, b),
        (
            400,
            json!({"code": "InvalidVersion", "message": "~3 is not supported by GET /services"})
        )
    );
    let (_, _, b) = call(lab.http.get(format!("{}/applications?name=sdc", lab.sapi))).await;
    assert_eq!(b[0]["metadata"]["datacenter_name"], "coal");
    assert_eq!(b[0]["metadata"]["VMAPI_SERVICE"], "vmapi.coal.joyent.us");
    let (s, _, b) = call(lab.http.get(format!("{}/applications?name=nope", lab.sapi))).await;
    assert_eq!((s, b), (200, json!([])));
    // Unknown filters are ignored.
    let (_, _, b) = call(lab.http.get(format!("{}/instances?alias=moray0", lab.sapi))).await;
    assert_eq!(b.as_array().map(Vec::len), Some(4));
    let (s, _, b) = call(lab.http.get(format!(
        "{}/instances/0d9ab1c5-5f1f-4a8e-9b66-2b0f3c8b7e11",
        lab.sapi
    )))
    .await;
    assert_eq!((s, b), (404, fixture("error-sapi-notfound.json")));
    let (_, _, b) = call(lab.http.get(format!("{}/mode", lab.sapi))).await;
    assert_eq!(b, json!("full"));
    let (_, _, b) = call(lab.http.get(format!("{}/ping", lab.sapi))).await;
    assert_eq!(b, fixture("sapi-ping.json"));
}

#[tokio::test]
async fn create_instance_blocks_or_returns_a_job_and_rolls_back_failures() {
    let lab = start(world(200)).await;
    let moray = lab.service_uuid("moray");
    let cn2 = lab.server_uuid("cn2");
    let post = |body: Value, q: &str| {
        lab.http
            .post(format!("{}/instances{q}", lab.sapi))
            .header("accept-version", "~2")
            .json(&body)
    };
    let (s, _, b) = call(post(json!({"params": {"alias": "moray9"}}), "")).await;
    assert_eq!((s, b), (409, fixture("error-sapi-missing-param.json")));

    let body = json!({"service_uuid": moray, "params": {"alias": "moray2", "server_uuid": cn2}, "metadata": {}});
    let (s, _, inst) = call(post(body, "")).await;
    assert_eq!(s, 200, "{inst}");
    assert!(inst.get("job_uuid").is_none());
    assert_eq!(inst["type"], "vm");
    let uuid = inst["uuid"].as_str().unwrap_or("").to_string();
    let (_, _, vm) = call(lab.http.get(format!("{}/vms/{uuid}", lab.vmapi))).await;
    assert_eq!(vm["state"], "running");
    assert_eq!(vm["tags"]["smartdc_role"], "moray");
    assert_eq!(vm["alias"], "moray2");
    let (_, _, p) = call(
        lab.http
            .get(format!("{}/instances/{uuid}/payload", lab.sapi)),
    )
    .await;
    assert_eq!(p["networks"], json!([{"name": "admin"}]));
    assert_eq!(p["brand"], "joyent-minimal");

    // `async=false` is still async.
    let body = json!({"service_uuid": moray, "params": {"alias": "moray3", "server_uuid": cn2}});
    let (s, _, inst) = call(post(body, "?async=false")).await;
    assert_eq!(s, 200);
    assert!(inst["job_uuid"].as_str().is_some());

    // Duplicate alias: VMAPI's error passes through and the record is rolled back.
    let body = json!({"service_uuid": moray, "params": {"alias": "moray2", "server_uuid": cn2}});
    let (s, _, b) = call(post(body, "")).await;
    assert_eq!(
        (s, b["errors"][0]["code"].clone()),
        (409, json!("Duplicate"))
    );
    let (_, _, list) = call(
        lab.http
            .get(format!("{}/instances?service_uuid={moray}", lab.sapi)),
    )
    .await;
    assert_eq!(list.as_array().map(Vec::len), Some(4));

    // The server dies mid-provision: the job fails, SAPI answers 500 and rolls back.
    let body = json!({"service_uuid": moray, "params": {"alias": "moray4", "server_uuid": cn2}});
    let request = post(body, "");
    let world = lab.world.clone();
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        world.with(|w| w.set_server_running("cn2", false)).ok();
    });
    let (s, _, b) = call(request).await;
    killer.await.ok();
    assert_eq!(s, 500);
    assert_eq!(b["code"], "ProvisionFailedError");
    assert_eq!(
        b["message"],
        "Operation attempted on server which is not running"
    );
    let (_, _, list) = call(
        lab.http
            .get(format!("{}/instances?service_uuid={moray}", lab.sapi)),
    )
    .await;
    assert_eq!(list.as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn delete_instance_destroys_its_vm_then_answers_204() {
    let lab = start(world(100)).await;
    let moray1 = lab.uuid_of("moray1");
    let (s, h, b) = call(lab.http.delete(format!("{}/instances/{moray1}", lab.sapi))).await;
    assert_eq!((s, b), (204, Value::Null));
    assert!(!h.contains_key("content-type"));
    let (_, _, vm) = call(lab.http.get(format!("{}/vms/{moray1}", lab.vmapi))).await;
    assert_eq!(vm["state"], "destroyed");
    assert!(vm["destroyed"].as_str().is_some());
    let (s, _, _) = call(lab.http.get(format!("{}/instances/{moray1}", lab.sapi))).await;
    assert_eq!(s, 404);
    let (s, _, b) = call(lab.http.delete(format!("{}/instances/{moray1}", lab.sapi))).await;
    assert_eq!((s, b["code"].clone()), (404, json!("ResourceNotFound")));
}

#[tokio::test]
async fn updates_follow_update_replace_delete_and_configs_carry_an_etag() {
    let lab = start(world(100)).await;
    let moray = lab.service_uuid("moray");
    let put = |body: Value| {
        lab.http
            .put(format!("{}/services/{moray}", lab.sapi))
            .json(&body)
    };
    let (s, _, b) = call(put(json!({"metadata": {"FOO": "bar"}}))).await;
    assert_eq!(s, 200);
    assert_eq!(b["metadata"]["FOO"], "bar");
    assert_eq!(b["metadata"]["SERVICE_NAME"], "moray");
    let (_, _, b) = call(put(json!({"action": "DELETE", "metadata": {"FOO": null}}))).await;
    assert!(b["metadata"].get("FOO").is_none());
    let (_, _, b) = call(put(json!({"action": "replace", "metadata": {"ONLY": 1}}))).await;
    assert_eq!(b["metadata"], json!({"ONLY": 1}));
    let (s, _, b) = call(put(json!({"action": "merge"}))).await;
    assert_eq!(
        (s, b),
        (409, json!({"code": "InvalidArgument", "message": ""}))
    );
    let ghost = "0d9ab1c5-5f1f-4a8e-9b66-2b0f3c8b7e11";
    let (s, _, b) = call(
        lab.http
            .put(format!("{}/instances/{ghost}", lab.sapi))
            .json(&json!({})),
    )
    .await;
    assert_eq!(s, 500);
    assert_eq!(
        b,
        json!({"message": format!("updateObject failed: no record for bucket sapi_instances object {ghost}")})
    );

    let binder = lab.uuid_of("binder0");
    let (s, h, cfg) = call(lab.http.get(format!("{}/configs/{binder}", lab.sapi))).await;
    assert_eq!(s, 200);
    assert_eq!(cfg["metadata"]["INSTANCE_UUID"], binder.as_str());
    assert_eq!(cfg["metadata"]["SERVICE_NAME"], "binder");
    assert!(cfg["metadata"].get("user-script").is_none());
    let etag = h["etag"].to_str().unwrap_or("").to_string();
    let (s, _, _) = call(
        lab.http
            .get(format!("{}/configs/{binder}", lab.sapi))
            .header("if-none-match", &etag),
    )
    .await;
    assert_eq!(s, 304);
    let (s, _, _) = call(lab.http.post(format!("{}/mode?mode=proto", lab.sapi))).await;
    assert_eq!(s, 409);
}
