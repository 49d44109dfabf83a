//! IMGAPI twin over HTTP, and the reprovision it feeds: SAPI
//! UpgradeInstance and VMAPI's `reprovision` action.

use serde_json::json;

use super::tests_support::{call, start, wait_job, world};

const MORAY_IMAGE: &str = "24a4c5c7-a5e6-487d-b1da-2e790dbcaddf";

#[tokio::test]
async fn images_list_oldest_first_and_one_is_found_by_uuid() {
    let lab = start(world(50)).await;
    let (s, h, b) = call(lab.http.get(format!("{}/ping", lab.imgapi))).await;
    assert_eq!((s, &b["ping"]), (200, &json!("pong")));
    assert_eq!(h["server"], "imgapi/4.13.1");

    let (s, _, b) = call(lab.http.get(format!("{}/images?name=moray", lab.imgapi))).await;
    assert_eq!(s, 200);
    let images = b.as_array().expect("an array");
    assert_eq!(images.len(), 3, "{b}");
    assert_eq!(
        images[1]["uuid"], MORAY_IMAGE,
        "the current one is in the middle"
    );
    let published: Vec<&str> = images
        .iter()
        .filter_map(|i| i["published_at"].as_str())
        .collect();
    assert!(published.windows(2).all(|w| w[0] < w[1]), "{published:?}");
    for key in [
        "uuid",
        "name",
        "version",
        "state",
        "published_at",
        "os",
        "type",
    ] {
        assert!(images[0].get(key).is_some(), "{key} missing: {}", images[0]);
    }
    let (_, _, none) = call(
        lab.http
            .get(format!("{}/images?state=disabled", lab.imgapi)),
    )
    .await;
    assert_eq!(none, json!([]));
    let (s, _, b) = call(lab.http.get(format!("{}/images?state=bogus", lab.imgapi))).await;
    assert_eq!((s, &b["code"]), (409, &json!("ValidationFailed")));

    let (s, _, b) = call(lab.http.get(format!("{}/images/{MORAY_IMAGE}", lab.imgapi))).await;
    assert_eq!((s, &b["name"]), (200, &json!("moray")));
    let unknown = "00000000-0000-4000-8000-000000000001";
    let (s, _, b) = call(lab.http.get(format!("{}/images/{unknown}", lab.imgapi))).await;
    assert_eq!((s, &b["code"]), (404, &json!("ResourceNotFound")));
}

#[tokio::test]
async fn upgrade_instance_reprovisions_the_vm_and_answers_the_old_instance() {
    let lab = start(world(50)).await;
    let moray0 = lab.uuid_of("moray0");
    let (_, _, images) = call(lab.http.get(format!("{}/images?name=moray", lab.imgapi))).await;
    let newest = images[2]["uuid"].as_str().expect("a uuid").to_string();
    let upgrade = format!("{}/instances/{moray0}/upgrade", lab.sapi);

    let (s, _, b) = call(lab.http.put(&upgrade).json(&json!({}))).await;
    assert_eq!(
        (s, b),
        (
            409,
            json!({"code": "MissingParameter", "message": "missing image_uuid"})
        )
    );
    let (s, _, b) = call(lab.http.put(&upgrade).json(&json!({"image_uuid": newest}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["uuid"], moray0.as_str());
    let (_, _, vm) = call(lab.http.get(format!("{}/vms/{moray0}", lab.vmapi))).await;
    assert_eq!(
        (&vm["image_uuid"], &vm["state"]),
        (&json!(newest), &json!("running"))
    );
    let (_, _, jobs) = call(lab.http.get(format!(
        "{}/jobs?vm_uuid={moray0}&task=reprovision",
        lab.vmapi
    )))
    .await;
    assert_eq!(jobs[0]["name"], "reprovision-7.0.4");
    assert_eq!(jobs[0]["params"]["image_uuid"], newest.as_str());

    // VMAPI's own action: the image is required and must be known.
    let action = format!("{}/vms/{moray0}?action=reprovision", lab.vmapi);
    let (s, _, b) = call(lab.http.post(&action).json(&json!({}))).await;
    assert_eq!((s, &b["errors"][0]["field"]), (409, &json!("image_uuid")));
    let unknown = json!({"image_uuid": "00000000-0000-4000-8000-000000000001"});
    let (s, _, b) = call(lab.http.post(&action).json(&unknown)).await;
    assert_eq!(
        (s, &b["errors"][0]["message"]),
        (409, &json!("Image not found"))
    );
    let (s, _, b) = call(
        lab.http
            .post(&action)
            .json(&json!({"image_uuid": MORAY_IMAGE})),
    )
    .await;
    assert_eq!(s, 202, "{b}");
    let job = wait_job(&lab, b["job_uuid"].as_str().unwrap_or_default()).await;
    assert_eq!(job["execution"], "succeeded", "{job}");
    let (_, _, vm) = call(lab.http.get(format!("{}/vms/{moray0}", lab.vmapi))).await;
    assert_eq!(vm["image_uuid"], MORAY_IMAGE);
}
