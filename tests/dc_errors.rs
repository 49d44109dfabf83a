//! Every bad answer an API (or what stands in front of it) can give turns into
//! one line naming the API, the method, the path and the cause; nothing
//! panics. Also: the mutation gate, retries, and the headers every request
//! carries.

mod dc_support;

use std::time::Duration;

use dc_support::{Answer, Canned, datacenter_at, fast_options, vm_json};
use serde_json::json;
use tritonsh::dc::gate::GateMode;
use tritonsh::dc::{DcError, MutationGate};

const VM: &str = "3f0f8f4e-1d0c-4b7e-9a55-0c9f4b1a2e11";

fn assert_one_line(err: &DcError, starts: &str, contains: &str) {
    let line = err.to_string();
    assert!(!line.contains('\n'), "not one line: {line}");
    assert!(
        line.starts_with(starts),
        "expected {starts:?} at the start of: {line}"
    );
    assert!(line.contains(contains), "expected {contains:?} in: {line}");
}

#[tokio::test]
async fn non_json_success_body() {
    let server = Canned::start(|_| Answer::raw(200, "text/plain", "all good, trust me")).await;
    let err = server
        .datacenter(fast_options())
        .vmapi
        .get(VM)
        .await
        .expect_err("not JSON");
    assert_one_line(
        &err,
        &format!("VMAPI GET /vms/{VM}: bad response: "),
        "expected JSON, got text/plain (\"all good, trust me\")",
    );
}

#[tokio::test]
async fn html_error_page_from_a_proxy() {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center>nginx</center></body>\r\n</html>\r\n";
    let server = Canned::start(move |_| Answer::raw(502, "text/html", page)).await;
    let err = server
        .datacenter(fast_options())
        .cnapi
        .list_servers(&vec![])
        .await
        .expect_err("502");
    assert_one_line(
        &err,
        "CNAPI GET /servers?limit=1000&offset=0: 502 Bad Gateway: expected JSON, got text/html",
        "<html>",
    );
    assert!(err.to_string().contains("check the profile's URL"), "{err}");
    assert_eq!(
        server.requests().len(),
        3,
        "a read is tried three times on 5xx"
    );
}

#[tokio::test]
async fn refused_connection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let dc = datacenter_at(
        &format!("http://{addr}"),
        fast_options(),
        MutationGate::default(),
    );
    let err = dc.sapi.list_services(&vec![]).await.expect_err("refused");
    assert_one_line(
        &err,
        "SAPI GET /services: cannot connect to ",
        &format!("http://{addr}: connection refused"),
    );
    assert!(
        err.to_string()
            .contains("check `lab status` or the profile's URL"),
        "{err}"
    );
    assert!(matches!(err, DcError::Connect { .. }));
}

#[tokio::test]
async fn request_that_never_answers() {
    let server = Canned::start(|_| Answer::Silent).await;
    let options = tritonsh::dc::HttpOptions {
        timeout: Duration::from_millis(300),
        ..fast_options()
    };
    let err = server
        .datacenter(options)
        .vmapi
        .get(VM)
        .await
        .expect_err("timeout");
    assert_one_line(
        &err,
        &format!("VMAPI GET /vms/{VM}: no answer within 300ms"),
        "vmapi::ping()",
    );
    assert_eq!(server.requests().len(), 1, "a timeout is not retried");
}

#[tokio::test]
async fn unexpected_fields_are_kept() {
    let server = Canned::start(|_| {
        let mut vm: serde_json::Value = serde_json::from_str(&vm_json(1)).expect("vm");
        vm["brand_new_field"] = json!({"since": "vmapi 10"});
        Answer::json(200, vm.to_string())
    })
    .await;
    let vm = server
        .datacenter(fast_options())
        .vmapi
        .get(VM)
        .await
        .expect("extra fields are fine");
    assert_eq!(vm.extra["brand_new_field"]["since"], "vmapi 10");
    assert_eq!(vm.extra["brand"], "joyent-minimal");
    assert_eq!(vm.alias.as_deref(), Some("vm1"));
}

#[tokio::test]
async fn missing_field_names_the_record() {
    let body = format!(
        "[{},{},{},{{\"alias\":\"nouuid\",\"state\":\"running\",\"owner_uuid\":\"o\"}}]",
        vm_json(0),
        vm_json(1),
        vm_json(2)
    );
    let server = Canned::start(move |_| Answer::json(200, body.clone())).await;
    let err = server
        .datacenter(fast_options())
        .vmapi
        .list(&vec![])
        .await
        .expect_err("missing uuid");
    assert_one_line(
        &err,
        "VMAPI GET /vms?limit=1000: bad response: ",
        "missing field `uuid` at [3]",
    );
}

#[tokio::test]
async fn wrong_typed_field() {
    let server = Canned::start(|_| {
        Answer::json(
            200,
            r#"[{"uuid":"u","hostname":"cn1","setup":"yes","headnode":false}]"#,
        )
    })
    .await;
    let err = server
        .datacenter(fast_options())
        .cnapi
        .list_servers(&vec![])
        .await
        .expect_err("setup is a string");
    assert_one_line(
        &err,
        "CNAPI GET /servers?limit=1000&offset=0: bad response: ",
        "invalid type: string \"yes\", expected a boolean",
    );
    assert!(err.to_string().contains("[0]"), "{err}");
}

#[tokio::test]
async fn empty_404_body() {
    let server = Canned::start(|_| Answer::empty(404)).await;
    let err = server
        .datacenter(fast_options())
        .sapi
        .get_instance(VM)
        .await
        .expect_err("404");
    assert_eq!(
        err.to_string(),
        format!("SAPI GET /instances/{VM}: 404 Not Found (empty body)")
    );
    assert!(err.is_not_found());
    assert_eq!(server.requests().len(), 1, "4xx is never retried");
}

#[tokio::test]
async fn restify_validation_errors() {
    let body = include_str!("../../shared/triton/fixtures/error-vmapi-duplicate-alias.json");
    let server = Canned::start(move |_| Answer::json(409, body)).await;
    let err = server
        .datacenter(fast_options())
        .vmapi
        .create(&json!({"alias": "moray1"}))
        .await
        .expect_err("409");
    assert_eq!(
        err.to_string(),
        "VMAPI POST /vms: 409 ValidationFailed: Invalid VM parameters (alias: Already exists for this owner_uuid)"
    );
    assert_eq!(err.code(), Some("ValidationFailed"));
}

#[tokio::test]
async fn plain_message_500() {
    let server = Canned::start(|_| {
        Answer::json(
            500,
            r#"{"message":"updateObject failed: no record for bucket sapi_instances"}"#,
        )
    })
    .await;
    let changes = tritonsh::dc::sapi::UpdateRequest::default();
    let err = server
        .datacenter(fast_options())
        .sapi
        .update_instance(VM, &changes)
        .await
        .expect_err("500");
    assert_eq!(
        err.to_string(),
        format!(
            "SAPI PUT /instances/{VM}: 500 Internal Server Error: updateObject failed: no record for bucket sapi_instances"
        )
    );
    assert_eq!(err.code(), None);
    assert_eq!(server.requests().len(), 1, "a PUT is never retried");
}

#[tokio::test]
async fn record_mode_sends_nothing_and_records() {
    let server = Canned::start(|_| Answer::json(202, r#"{"vm_uuid":"v","job_uuid":"j"}"#)).await;
    let gate = MutationGate::default();
    gate.set(GateMode::Record);
    let dc = datacenter_at(&server.url(), fast_options(), gate.clone());
    let err = dc.vmapi.stop(VM).await.expect_err("not sent");
    assert_eq!(
        err.to_string(),
        format!("VMAPI POST /vms/{VM}?action=stop: not sent (dry run)")
    );
    assert!(matches!(err, DcError::NotSent { .. }));
    // Reads still go through in a dry run.
    let _ = dc.vmapi.get(VM).await;
    let changes = tritonsh::dc::sapi::UpdateRequest::default();
    let err = dc
        .sapi
        .update_application("app", &changes)
        .await
        .expect_err("not sent");
    assert!(matches!(err, DcError::NotSent { .. }));
    let recorded = gate.take_recorded();
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        (
            recorded[1].api,
            recorded[1].method.as_str(),
            recorded[1].path.as_str()
        ),
        ("SAPI", "PUT", "/applications/app")
    );
    assert_eq!(recorded[1].body, Some(json!({"action": "update"})));
    assert_eq!(
        (recorded[0].api, recorded[0].method.as_str()),
        ("VMAPI", "POST")
    );
    assert_eq!(recorded[0].path, format!("/vms/{VM}?action=stop"));
    assert_eq!(recorded[0].body, Some(json!({})));
    assert!(
        server.requests().iter().all(|r| r.method == "GET"),
        "no mutation reached the server"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn deny_mode_refuses() {
    let server = Canned::start(|_| Answer::empty(204)).await;
    let gate = MutationGate::default();
    gate.set(GateMode::Deny);
    let dc = datacenter_at(&server.url(), fast_options(), gate.clone());
    let err = dc.sapi.delete_instance(VM).await.expect_err("denied");
    assert_eq!(
        err.to_string(),
        format!("SAPI DELETE /instances/{VM}: refused: checks must not change the datacenter")
    );
    let err = dc.cnapi.delete_server(VM).await.expect_err("denied");
    assert!(matches!(err, DcError::MutationDenied { .. }));
    assert_eq!(server.connections(), 0);
    assert!(gate.take_recorded().is_empty(), "deny does not record");
}

#[tokio::test]
async fn get_is_retried_on_503_but_post_is_not() {
    let server = Canned::start(|_| {
        Answer::json(
            503,
            r#"{"code":"ServiceUnavailable","message":"Workflow API is unavailable"}"#,
        )
    })
    .await;
    let dc = server.datacenter(fast_options());
    let err = dc.vmapi.get(VM).await.expect_err("503");
    assert_one_line(
        &err,
        &format!("VMAPI GET /vms/{VM}: 503 ServiceUnavailable: Workflow API is unavailable"),
        "vmapi::ping()",
    );
    let gets = server.requests();
    assert_eq!(gets.len(), 3);
    let ids: Vec<_> = gets
        .iter()
        .map(|r| r.header("x-request-id").map(str::to_string))
        .collect();
    assert!(
        ids.iter().all(|id| id == &ids[0]),
        "retries share the operation's request id: {ids:?}"
    );

    let err = dc.vmapi.start(VM).await.expect_err("503");
    assert!(
        err.to_string()
            .starts_with(&format!("VMAPI POST /vms/{VM}?action=start: 503")),
        "{err}"
    );
    assert_eq!(server.requests().len(), 4, "the POST went out once");
}

#[tokio::test]
async fn a_read_recovers_after_a_transient_503() {
    let count = std::sync::atomic::AtomicUsize::new(0);
    let flaky = Canned::start(move |_| {
        if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Answer::json(503, r#"{"code":"ServiceUnavailable","message":"busy"}"#)
        } else {
            Answer::json(200, vm_json(7))
        }
    })
    .await;
    let vm = flaky
        .datacenter(fast_options())
        .vmapi
        .get(VM)
        .await
        .expect("second try works");
    assert_eq!(vm.alias.as_deref(), Some("vm7"));
    assert_eq!(flaky.requests().len(), 2);
}

#[tokio::test]
async fn every_request_carries_its_headers() {
    let server = Canned::start(|seen| match seen.path() {
        "/services" => Answer::json(200, "[]"),
        "/instances" => Answer::json(
            200,
            include_str!("../../shared/triton/fixtures/sapi-instance-create-async.json"),
        ),
        _ => Answer::json(200, vm_json(0)),
    })
    .await;
    let dc = server.datacenter(fast_options());
    dc.sapi.list_services(&vec![]).await.expect("list");
    dc.vmapi.get(VM).await.expect("get");
    let new = tritonsh::dc::sapi::NewInstance {
        service_uuid: "svc".into(),
        ..Default::default()
    };
    let created = dc
        .sapi
        .create_instance(&new, tritonsh::dc::sapi::ProvisionMode::Async)
        .await
        .expect("create");
    assert_eq!(
        created.job_uuid.as_deref(),
        Some("20e8799a-15e6-4362-8faa-a5f1fa55f5bd")
    );

    let seen = server.requests();
    let ids: Vec<&str> = seen
        .iter()
        .map(|r| r.header("x-request-id").expect("x-request-id"))
        .collect();
    for id in &ids {
        let parsed = uuid::Uuid::parse_str(id).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 4);
    }
    assert!(ids[0] != ids[1] && ids[1] != ids[2], "one id per operation");
    assert!(
        seen.iter()
            .all(|r| r.header("accept") == Some("application/json"))
    );
    assert_eq!(
        seen[0].header("accept-version"),
        Some("~2"),
        "SAPI asks for version 2"
    );
    assert_eq!(
        seen[1].header("accept-version"),
        None,
        "VMAPI is not versioned by us"
    );
    assert_eq!(seen[2].target, "/instances?async=true");
    assert_eq!(seen[2].header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&seen[2].body).expect("JSON body");
    assert_eq!(
        body,
        json!({"service_uuid": "svc", "params": {}, "metadata": {}})
    );
}

#[tokio::test]
async fn sapi_refuses_filters_it_would_ignore() {
    let server = Canned::start(|_| Answer::json(200, "[]")).await;
    let dc = server.datacenter(fast_options());
    let filters = vec![("alias".to_string(), "moray0".to_string())];
    let err = dc
        .sapi
        .list_instances(&filters)
        .await
        .expect_err("alias is not a SAPI filter");
    assert_one_line(
        &err,
        "SAPI GET /instances: SAPI has no filter `alias`",
        "service_uuid, type, include_master",
    );
    assert_eq!(server.connections(), 0);
    let filters = vec![
        ("service_uuid".to_string(), "s".to_string()),
        ("type".to_string(), "vm".to_string()),
    ];
    dc.sapi
        .list_instances(&filters)
        .await
        .expect("documented filters pass");
    assert_eq!(
        server.requests()[0].target,
        "/instances?service_uuid=s&type=vm"
    );
}

#[tokio::test]
async fn pings_report_health_instead_of_failing() {
    let server = Canned::start(|seen| match seen.path() {
        "/ping" if seen.header("accept-version").is_some() => Answer::json(
            500,
            r#"{"mode":"full","storType":"MorayLocalStorage","storAvailable":false}"#,
        ),
        _ => Answer::json(
            200,
            r#"{"ready":false,"services":{"workflow":"online","moray":"offline","amqp":"online"}}"#,
        ),
    })
    .await;
    let dc = server.datacenter(fast_options());
    let sapi = dc.sapi.ping().await.expect("ping answers");
    assert!(!sapi.ok);
    assert_eq!(sapi.status, 500);
    assert!(
        sapi.summary.contains("storage unavailable"),
        "{}",
        sapi.summary
    );
    let cnapi = dc.cnapi.ping().await.expect("ping answers");
    assert!(!cnapi.ok, "CNAPI's 200 with ready:false is not healthy");
    assert_eq!(cnapi.summary, "not ready: moray: offline");
    assert_eq!(
        server.requests().len(),
        2,
        "a ping is not retried on its status"
    );

    let html = Canned::start(|_| Answer::raw(503, "text/html", "<h1>down</h1>")).await;
    let vmapi = html
        .datacenter(fast_options())
        .vmapi
        .ping()
        .await
        .expect("HTML is an unhealthy ping, not an error");
    assert!(!vmapi.ok);
    assert_eq!(vmapi.status, 503);
    assert!(
        vmapi
            .summary
            .starts_with("bad response: expected JSON, got text/html"),
        "{}",
        vmapi.summary
    );
}

#[tokio::test]
async fn identifiers_cannot_escape_their_path() {
    let server = Canned::start(|_| Answer::json(202, r#"{"vm_uuid":"v","job_uuid":"j"}"#)).await;
    let dc = server.datacenter(fast_options());
    let err = dc.vmapi.delete("..").await.expect_err("..");
    assert_eq!(
        err.to_string(),
        "VMAPI DELETE /vms/..: \"..\" is not a valid identifier"
    );
    let err = dc.sapi.delete_instance("").await.expect_err("empty");
    assert_eq!(
        err.to_string(),
        "SAPI DELETE /instances/: \"\" is not a valid identifier"
    );
    assert_eq!(server.connections(), 0);
    dc.vmapi
        .delete("a/b?c")
        .await
        .expect("odd characters are encoded, not interpreted");
    assert_eq!(server.requests()[0].target, "/vms/a%2Fb%3Fc");
}

#[tokio::test]
async fn blocking_create_waits_longer_than_reads() {
    let instance = include_str!("../../shared/triton/fixtures/sapi-instance-moray.json");
    let server = Canned::start(move |_| {
        Answer::Later(
            Duration::from_millis(600),
            Box::new(Answer::json(200, instance)),
        )
    })
    .await;
    let options = tritonsh::dc::HttpOptions {
        timeout: Duration::from_millis(200),
        long_timeout: Duration::from_secs(5),
        ..fast_options()
    };
    let dc = server.datacenter(options);
    let err = dc
        .sapi
        .get_instance(VM)
        .await
        .expect_err("a read gets the short timeout");
    assert!(matches!(err, DcError::Timeout { .. }), "{err}");
    let new = tritonsh::dc::sapi::NewInstance {
        service_uuid: "svc".into(),
        ..Default::default()
    };
    let created = dc
        .sapi
        .create_instance(&new, tritonsh::dc::sapi::ProvisionMode::Blocking)
        .await
        .expect("a blocking create gets the long timeout");
    assert_eq!(created.alias(), Some("moray0"));
    assert_eq!(
        server.requests().last().map(|r| r.target.clone()),
        Some("/instances".to_string())
    );
}

#[tokio::test]
async fn a_url_too_long_to_send_is_the_callers_input_not_a_broken_connection() {
    let server = Canned::start(|_| Answer::json(200, "{}")).await;
    let dc = server.datacenter(fast_options());
    let huge = "a".repeat(70_000);
    let err = dc.vmapi.get(&huge).await.expect_err("a 70 kB URL");
    assert_one_line(&err, "VMAPI GET /vms/aaa", "use shorter filters");
    assert!(!err.to_string().contains("retry"), "{err}");
    assert_eq!(server.connections(), 0);
}
