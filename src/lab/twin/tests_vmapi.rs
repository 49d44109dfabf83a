//! VMAPI twin over HTTP.

use serde_json::{Value, json};

use super::tests_support::{ADMIN, call, fixture, start, wait_job, world};
use crate::lab::world::CustomerVms;

#[tokio::test]
async fn headers_errors_and_routes_follow_restify() {
    let lab = start(world(100)).await;
    let (s, h, _) = call(
        lab.http
            .get(format!("{}/ping", lab.vmapi))
            .header("x-request-id", "abc-1"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(h["server"], "VMAPI/9.16.0");
    assert_eq!(h["x-request-id"], "abc-1");
    assert!(h.contains_key("x-server-name") && h.contains_key("x-response-time"));
    assert!(!h.contains_key("x-api-version"));
    let (_, h, _) = call(lab.http.get(format!("{}/ping", lab.vmapi))).await;
    assert_eq!(h["x-request-id"].len(), 36);

    let (s, _, b) = call(lab.http.get(format!("{}/vms/moray0", lab.vmapi))).await;
    assert_eq!((s, b), (409, fixture("error-vmapi-invalid-uuid.json")));
    let (s, _, b) = call(lab.http.get(format!(
        "{}/vms/0d9ab1c5-5f1f-4a8e-9b66-2b0f3c8b7e11",
        lab.vmapi
    )))
    .await;
    assert_eq!((s, b), (404, fixture("error-notfound.json")));
    let (s, _, b) = call(lab.http.get(format!("{}/vmz", lab.vmapi))).await;
    assert_eq!((s, b), (404, fixture("error-route-notfound.json")));
    let (s, _, b) = call(lab.http.get(format!("{}/vms?role=x", lab.vmapi))).await;
    assert_eq!((s, b), (409, fixture("error-vmapi-invalid-param.json")));
    let (s, _, b) = call(lab.http.patch(format!("{}/vms", lab.vmapi))).await;
    assert_eq!(
        (s, b),
        (
            405,
            json!({"code": "MethodNotAllowed", "message": "PATCH is not allowed"})
        )
    );
    let (s, _, b) = call(
        lab.http
            .post(format!("{}/vms", lab.vmapi))
            .header("content-type", "application/json")
            .body("{bad"),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(b["code"], "InvalidContent");
    let (s, _, b) = call(
        lab.http
            .post(format!("{}/vms", lab.vmapi))
            .header("content-type", "application/json")
            .body(vec![b' '; 8 << 20]),
    )
    .await;
    assert_eq!(
        (s, b["code"].clone()),
        (413, json!("RequestEntityTooLarge"))
    );
    let (s, _, b) = call(
        lab.http
            .get(format!("{}/vms", lab.vmapi))
            .header("accept-version", "~7"),
    )
    .await;
    assert_eq!((s, b["code"].clone()), (400, json!("InvalidVersion")));
}

#[tokio::test]
async fn list_filters_tags_alias_prefix_ldap_and_counts() {
    let lab = start(world(100)).await;
    let list = |q: &str| lab.http.get(format!("{}/vms?{q}", lab.vmapi));
    let (s, h, b) = call(list(&format!(
        "tag.smartdc_role=binder&state=active&owner_uuid={ADMIN}"
    )))
    .await;
    assert_eq!(s, 200);
    assert_eq!(b.as_array().map(Vec::len), Some(1));
    assert_eq!(b[0]["alias"], "binder0");
    assert_eq!(h["x-joyent-resource-count"], "1");
    let (_, _, b) = call(list("alias=moray")).await;
    let mut aliases: Vec<&str> = b
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["alias"].as_str())
        .collect();
    aliases.sort();
    assert_eq!(aliases, ["moray0", "moray1"]);
    let (_, _, b) = call(list("state=stopped")).await;
    assert_eq!(b[0]["alias"], "moray1");
    let (_, _, b) = call(list(
        "query=%28%26%28tags%3D*-smartdc_role%3Dmanatee-*%29%28state%3Drunning%29%29",
    ))
    .await;
    assert_eq!(b.as_array().map(Vec::len), Some(1));
    assert_eq!(b[0]["alias"], "manatee0");
    let (s, _, b) = call(list("query=%28%26%28state%3Drunning%29")).await;
    assert_eq!((s, b["code"].clone()), (409, json!("ValidationFailed")));
    let (s, _, _) = call(list("limit=1001")).await;
    assert_eq!(s, 409);
    let (s, _, b) = call(list("fields=uuid,alias")).await;
    assert_eq!(s, 200);
    assert_eq!(b[0].as_object().map(|o| o.len()), Some(2));
    let (s, h, b) = call(lab.http.head(format!("{}/vms?state=running", lab.vmapi))).await;
    assert_eq!((s, b), (200, Value::Null));
    assert_eq!(h["x-joyent-resource-count"], "3");
    // Default order is uuid DESC.
    let (_, _, b) = call(list("")).await;
    let uuids: Vec<&str> = b
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["uuid"].as_str())
        .collect();
    let mut sorted = uuids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(uuids, sorted);
}

#[tokio::test]
async fn marker_paging_walks_thousands_of_vms_once_each() {
    let mut w = world(100);
    w.add_customer_vms(&CustomerVms::new(2500));
    let lab = start(w).await;
    let mut seen = std::collections::HashSet::new();
    let mut marker: Option<String> = None;
    loop {
        let mut url = format!("{}/vms?limit=1000", lab.vmapi);
        if let Some(m) = &marker {
            url.push_str(&format!("&marker=%7B%22uuid%22%3A%22{m}%22%7D"));
        }
        let (s, h, b) = call(lab.http.get(url)).await;
        assert_eq!(s, 200);
        assert_eq!(h["x-joyent-resource-count"], "2504");
        let page = b.as_array().cloned().unwrap_or_default();
        for vm in &page {
            assert!(seen.insert(vm["uuid"].as_str().unwrap_or("").to_string()));
        }
        if page.len() < 1000 {
            break;
        }
        marker = page
            .last()
            .and_then(|v| v["uuid"].as_str())
            .map(str::to_string);
    }
    assert_eq!(seen.len(), 2504);
    let (_, _, b) = call(
        lab.http
            .get(format!("{}/vms?limit=10&offset=2500", lab.vmapi)),
    )
    .await;
    assert_eq!(b.as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn actions_queue_jobs_that_fail_in_the_job_on_wrong_state() {
    let lab = start(world(150)).await;
    let binder = lab.uuid_of("binder0");
    let act = |a: &str| {
        lab.http
            .post(format!("{}/vms/{binder}?action={a}", lab.vmapi))
            .json(&json!({}))
    };
    let (s, h, b) = call(act("stop")).await;
    assert_eq!(s, 202);
    assert_eq!(h["workflow-api"], "http://workflow.coal.joyent.us");
    assert_eq!(b["vm_uuid"], binder.as_str());
    let job = wait_job(&lab, b["job_uuid"].as_str().unwrap_or("")).await;
    assert_eq!(job["execution"], "succeeded");
    assert_eq!(job["name"], "stop-7.0.8");
    let (_, _, vm) = call(lab.http.get(format!("{}/vms/{binder}", lab.vmapi))).await;
    assert_eq!(vm["state"], "stopped");
    let (s, _, b) = call(act("stop")).await;
    assert_eq!(s, 202);
    let job = wait_job(&lab, b["job_uuid"].as_str().unwrap_or("")).await;
    assert_eq!(job["execution"], "failed");
    let last = job["chain_results"]
        .as_array()
        .and_then(|c| c.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        last["error"]["message"],
        "Cannot stop a VM from a 'stopped' state"
    );
    let (_, _, b) = call(lab.http.post(format!(
        "{}/vms/{binder}?action=stop&idempotent=true",
        lab.vmapi
    )))
    .await;
    let job = wait_job(&lab, b["job_uuid"].as_str().unwrap_or("")).await;
    assert_eq!(job["execution"], "succeeded");
    let (s, _, b) = call(lab.http.get(format!(
        "{}/jobs?vm_uuid={binder}&execution=failed",
        lab.vmapi
    )))
    .await;
    assert_eq!((s, b.as_array().map(Vec::len)), (200, Some(1)));
    let (s, _, b) = call(act("explode")).await;
    assert_eq!((s, b["errors"][0]["field"].clone()), (409, json!("action")));
    let (s, _, _) = call(lab.http.get(format!(
        "{}/jobs/0d9ab1c5-5f1f-4a8e-9b66-2b0f3c8b7e11",
        lab.vmapi
    )))
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn create_vm_provisions_then_runs_and_rejects_duplicates_and_down_servers() {
    let lab = start(world(300)).await;
    let cn2 = lab.server_uuid("cn2");
    let payload = json!({
        "owner_uuid": ADMIN, "brand": "joyent-minimal", "networks": [{"name": "admin"}],
        "image_uuid": "24a4c5c7-a5e6-487d-b1da-2e790dbcaddf", "ram": 1024, "alias": "moray2",
        "server_uuid": cn2, "tags": {"smartdc_role": "moray", "smartdc_type": "core"}
    });
    let (s, h, b) = call(lab.http.post(format!("{}/vms", lab.vmapi)).json(&payload)).await;
    assert_eq!(s, 202, "{b}");
    assert!(h.contains_key("workflow-api"));
    let vm_uuid = b["vm_uuid"].as_str().unwrap_or("").to_string();
    let (_, _, vm) = call(lab.http.get(format!("{}/vms/{vm_uuid}", lab.vmapi))).await;
    assert_eq!(vm["state"], "provisioning");
    assert_eq!(vm["server_uuid"], cn2.as_str());
    assert_eq!(vm["nics"], json!([]));
    let (s, _, b2) = call(
        lab.http
            .post(format!("{}/vms/{vm_uuid}?action=stop", lab.vmapi)),
    )
    .await;
    assert_eq!((s, b2["code"].clone()), (409, json!("UnallocatedVM")));
    let job = wait_job(&lab, b["job_uuid"].as_str().unwrap_or("")).await;
    assert_eq!(job["execution"], "succeeded");
    assert_eq!(job["name"], "provision-8.2.4");
    let (_, _, vm) = call(lab.http.get(format!("{}/vms/{vm_uuid}", lab.vmapi))).await;
    assert_eq!(vm["state"], "running");
    assert!(
        vm["nics"][0]["ip"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("127."))
    );

    let (s, _, b) = call(lab.http.post(format!("{}/vms", lab.vmapi)).json(&payload)).await;
    let dup = fixture("error-vmapi-duplicate-alias.json");
    assert_eq!((s, b), (409, dup));

    lab.world.with(|w| w.set_server_running("cn2", false)).ok();
    let mut p2 = payload.clone();
    p2["alias"] = json!("moray3");
    let (s, _, b) = call(lab.http.post(format!("{}/vms", lab.vmapi)).json(&p2)).await;
    assert_eq!(
        (s, b["code"].clone()),
        (409, json!("NoAllocatableServersError"))
    );
    let (s, _, b) = call(
        lab.http
            .post(format!("{}/vms", lab.vmapi))
            .json(&json!({"alias": "x"})),
    )
    .await;
    assert_eq!(
        (s, b["message"].clone()),
        (409, json!("Invalid VM parameters"))
    );

    let (s, _, b) = call(lab.http.delete(format!("{}/vms/{vm_uuid}", lab.vmapi))).await;
    assert_eq!(s, 202);
    let job = wait_job(&lab, b["job_uuid"].as_str().unwrap_or("")).await;
    // cn2 is down: the destroy task cannot reach it.
    assert_eq!(job["execution"], "failed");
}
