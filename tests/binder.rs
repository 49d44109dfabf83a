//! `binder::` against the lab's real binder: a DNS server per binder
//! member answering from its own ZooKeeper, where every instance is
//! registered as registrar registers it. Names resolve to exactly the live
//! instances; a stopped instance leaves the answer; bad names and
//! unreachable binders give one-line errors.

mod runbook_support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;
use std::time::{Duration, Instant};

use runbook_support::{Home, text};
use serde_json::Value;

fn eval(home: &Home, script: &str) -> Output {
    home.run(&["-c", &format!("to_json({script})")])
}

fn json(home: &Home, script: &str) -> Value {
    let out = eval(home, script);
    assert!(
        out.status.success(),
        "{script}: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_str(&text(&out.stdout)).expect("to_json prints JSON")
}

fn one_line_error(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "should fail: {}", text(&out.stdout));
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    stderr
}

fn addresses(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().expect("an address").to_string())
        .collect()
}

fn lab_status(home: &Home) -> Value {
    serde_json::from_str(&home.must(&["lab", "status", "--json"])).expect("lab status JSON")
}

fn ips_of(status: &Value, service: &str) -> Vec<String> {
    let mut ips: Vec<String> = status["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .filter(|i| i["service"] == service)
        .map(|i| i["ip"].as_str().expect("ip").to_string())
        .collect();
    ips.sort();
    ips
}

#[test]
fn names_resolve_to_the_live_instances_through_the_labs_binder() {
    let home = Home::with_lab("binder", &["--profile", "ha"]);
    let status = lab_status(&home);
    let morays = ips_of(&status, "moray");
    assert_eq!(morays.len(), 3, "{status}");

    // A short name completes to moray.<dc>.<domain>; the answer is sorted.
    // `lab up` returns before every registrar has written its record.
    let started = Instant::now();
    let mut found = Vec::new();
    while started.elapsed() < Duration::from_secs(10) {
        found = addresses(&json(&home, r#"binder::lookup("moray")"#));
        if found == morays {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(found, morays);
    eprintln!("every moray answered {:?} after lab up", started.elapsed());
    let full = format!(
        "sapi.{}.{}",
        status["datacenter_name"].as_str().unwrap_or_default(),
        status["dns_domain"].as_str().unwrap_or_default()
    );
    assert_eq!(
        addresses(&json(&home, &format!("binder::lookup(\"{full}.\")"))),
        ips_of(&status, "sapi")
    );

    // Every moray registers its four ports under _moray._tcp.
    let srv = json(&home, r#"binder::srv("moray")"#);
    let mut ports: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for record in srv.as_array().expect("records") {
        let address = record["address"].as_str().expect("an address").to_string();
        ports
            .entry(address)
            .or_default()
            .insert(record["port"].as_u64().expect("a port"));
        assert!(
            record["target"]
                .as_str()
                .is_some_and(|t| t.ends_with(&full[4..]))
        );
    }
    assert_eq!(ports.keys().cloned().collect::<Vec<_>>(), morays, "{srv}");
    assert!(ports.values().all(|p| p.len() == 4), "{ports:?}");

    let err = one_line_error(&eval(&home, r#"binder::lookup("nosuchservice")"#));
    assert!(err.contains("REFUSED nosuchservice."), "{err}");
    let err = one_line_error(&eval(&home, r#"binder::lookup("www.example.com")"#));
    assert!(err.contains("www.example.com is outside"), "{err}");
    let err = one_line_error(&eval(&home, r#"binder::srv("not a name")"#));
    assert!(err.contains("is not a DNS name"), "{err}");

    an_unreachable_or_silent_binder_is_one_line(&home);

    // A stopped moray closes its ZooKeeper session: its address leaves.
    let moray1 = status["instances"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["alias"] == "moray1"))
        .and_then(|i| i["ip"].as_str())
        .expect("moray1")
        .to_string();
    let lab = home.lab.clone().expect("a lab");
    home.must(&[
        "lab",
        "fault",
        "stop",
        "moray1",
        "--dir",
        &lab.to_string_lossy(),
    ]);
    let started = Instant::now();
    loop {
        let now = addresses(&json(&home, r#"binder::lookup("moray")"#));
        if !now.contains(&moray1) {
            assert_eq!(now.len(), 2, "{now:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{moray1} still answered after 5s: {now:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("moray1 left binder's answer in {:?}", started.elapsed());
    assert!(home.mutating_requests().is_empty(), "lookups sent a change");
}

/// On the same lab: a profile whose binder refuses, or never answers.
fn an_unreachable_or_silent_binder_is_one_line(home: &Home) {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let silent = silent.local_addr().expect("addr");
    let config = home.lab_profile("refused", &["127.0.0.1:9".into()])
        + &home.lab_profile("silent", &[silent.to_string()]);
    let profile =
        |name: &str| home.run_with_profile(&config, name, &["-c", r#"binder::lookup("moray")"#]);
    let err = one_line_error(&profile("refused"));
    assert!(err.contains("binder 127.0.0.1:9: cannot reach it"), "{err}");
    let started = Instant::now();
    let err = one_line_error(&profile("silent"));
    assert!(
        err.contains(&format!("binder {silent}: no answer")),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
