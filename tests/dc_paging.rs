//! Lists longer than one page come back whole and in order; the pages asked
//! for are the ones the APIs document (limit ≤ 1000, offset).

mod dc_support;

use dc_support::{Answer, Canned, Seen, fast_options, vm_json};
use tritonsh::dc::query::query;

/// A VMAPI that holds `total` VMs and pages them like ListVms does.
fn vmapi_pages(total: usize, with_count: bool) -> impl Fn(&Seen) -> Answer + Send + Sync + 'static {
    move |seen| {
        if seen.path() != "/vms" {
            return Answer::empty(404);
        }
        let limit: usize = seen
            .param("limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        let offset: usize = seen
            .param("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if limit > 1000 {
            return Answer::json(
                409,
                r#"{"code":"ValidationFailed","message":"Invalid Parameters"}"#,
            );
        }
        let page: Vec<String> = (offset..(offset + limit).min(total)).map(vm_json).collect();
        let answer = Answer::json(200, format!("[{}]", page.join(",")));
        if with_count {
            answer.with_header("x-joyent-resource-count", &total.to_string())
        } else {
            answer
        }
    }
}

fn offsets(requests: &[Seen]) -> Vec<Option<String>> {
    let mut offsets: Vec<Option<String>> = requests.iter().map(|r| r.param("offset")).collect();
    offsets.sort();
    offsets
}

#[tokio::test]
async fn vms_past_the_1000_cap_come_back_in_order() {
    let server = Canned::start(vmapi_pages(2500, true)).await;
    let vms = server
        .datacenter(fast_options())
        .vmapi
        .list(&query(&[("state", "active")]))
        .await
        .expect("list");
    assert_eq!(vms.len(), 2500);
    for (i, vm) in vms.iter().enumerate() {
        assert_eq!(
            vm.alias.as_deref(),
            Some(format!("vm{i}").as_str()),
            "VM {i} out of order"
        );
    }
    let requests = server.requests();
    assert_eq!(
        offsets(&requests),
        vec![None, Some("1000".into()), Some("2000".into())]
    );
    for request in &requests {
        assert_eq!(request.param("limit").as_deref(), Some("1000"));
        assert_eq!(
            request.param("state").as_deref(),
            Some("active"),
            "filters on every page"
        );
    }
    let ids: Vec<_> = requests
        .iter()
        .map(|r| r.header("x-request-id").map(str::to_string))
        .collect();
    assert!(
        ids.iter().all(|id| id == &ids[0]),
        "one request id for the whole list"
    );
}

#[tokio::test]
async fn without_a_count_header_pages_until_a_short_page() {
    let server = Canned::start(vmapi_pages(2000, false)).await;
    let vms = server
        .datacenter(fast_options())
        .vmapi
        .list(&vec![])
        .await
        .expect("list");
    assert_eq!(vms.len(), 2000);
    assert_eq!(vms[1999].alias.as_deref(), Some("vm1999"));
    assert_eq!(
        offsets(&server.requests()),
        vec![None, Some("1000".into()), Some("2000".into())]
    );
}

#[tokio::test]
async fn exactly_one_full_page_with_a_count_stops() {
    let server = Canned::start(vmapi_pages(1000, true)).await;
    let vms = server
        .datacenter(fast_options())
        .vmapi
        .list(&vec![])
        .await
        .expect("list");
    assert_eq!(vms.len(), 1000);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_explicit_limit_or_marker_is_one_request() {
    let server = Canned::start(vmapi_pages(2500, true)).await;
    let dc = server.datacenter(fast_options());
    let vms = dc
        .vmapi
        .list(&query(&[("limit", "10"), ("offset", "5")]))
        .await
        .expect("list");
    assert_eq!(vms.len(), 10);
    assert_eq!(vms[0].alias.as_deref(), Some("vm5"));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.requests()[0].target, "/vms?limit=10&offset=5");
}

#[tokio::test]
async fn a_failing_page_fails_the_list() {
    let server = Canned::start(|seen| {
        if seen.param("offset").as_deref() == Some("2000") {
            return Answer::json(
                409,
                r#"{"code":"ValidationFailed","message":"Invalid Parameters"}"#,
            );
        }
        vmapi_pages(3000, true)(seen)
    })
    .await;
    let err = server
        .datacenter(fast_options())
        .vmapi
        .list(&vec![])
        .await
        .expect_err("page 3 fails");
    assert_eq!(
        err.to_string(),
        "VMAPI GET /vms?limit=1000&offset=2000: 409 ValidationFailed: Invalid Parameters"
    );
}

#[tokio::test]
async fn filters_are_sent_literally() {
    let server = Canned::start(vmapi_pages(3, true)).await;
    let filters = query(&[
        ("tag.smartdc_role", "binder"),
        ("query", "(&(tags=*-smartdc_role=binder-*)(state=running))"),
        ("fields", "alias,ram"),
    ]);
    server
        .datacenter(fast_options())
        .vmapi
        .list(&filters)
        .await
        .expect("list");
    let request = &server.requests()[0];
    assert!(
        request.target.contains("tag.smartdc_role=binder"),
        "flat key with a dot: {}",
        request.target
    );
    assert!(
        request
            .target
            .contains("query=%28%26%28tags%3D*-smartdc_role%3Dbinder-*%29"),
        "& is %26: {}",
        request.target
    );
    assert_eq!(
        request.param("query").as_deref(),
        Some("(&(tags=*-smartdc_role=binder-*)(state=running))")
    );
    assert_eq!(
        request.param("fields").as_deref(),
        Some("alias,ram,uuid,state,server_uuid,owner_uuid,tags"),
        "fields our records need are added"
    );
}

#[tokio::test]
async fn count_uses_head() {
    let server = Canned::start(vmapi_pages(4321, true)).await;
    let count = server
        .datacenter(fast_options())
        .vmapi
        .count(&query(&[("state", "running")]))
        .await
        .expect("count");
    assert_eq!(count, 4321);
    let request = &server.requests()[0];
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("HEAD", "/vms?state=running")
    );

    let no_header = Canned::start(|_| Answer::empty(200)).await;
    let err = no_header
        .datacenter(fast_options())
        .vmapi
        .count(&vec![])
        .await
        .expect_err("no header");
    assert_eq!(
        err.to_string(),
        "VMAPI HEAD /vms: bad response: no usable x-joyent-resource-count header (None)"
    );
}

#[tokio::test]
async fn servers_page_with_limit_and_offset() {
    let server = Canned::start(|seen| {
        let offset: usize = seen
            .param("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let page: Vec<String> = (offset..(offset + 1000).min(1500))
            .map(|i| {
                format!(
                    r#"{{"uuid":"s{i}","hostname":"cn{i}","setup":true,"headnode":{}}}"#,
                    i == 0
                )
            })
            .collect();
        Answer::json(200, format!("[{}]", page.join(",")))
    })
    .await;
    let servers = server
        .datacenter(fast_options())
        .cnapi
        .list_servers(&query(&[("setup", "true")]))
        .await
        .expect("list");
    assert_eq!(servers.len(), 1500);
    assert_eq!(servers[1499].hostname, "cn1499");
    assert!(servers[0].headnode && !servers[1].headnode);
    assert_eq!(servers[3].status, "unknown", "missing status is unknown");
    let targets: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
    assert_eq!(
        targets,
        vec![
            "/servers?setup=true&limit=1000&offset=0",
            "/servers?setup=true&limit=1000&offset=1000"
        ]
    );
}
