//! `tritonsh health` and service discovery on an `ha` lab with papi in two
//! instances (issue 9 §3, §4), with the real ZooKeeper and the lab's
//! binder: a stopped instance leaves every binder member's answers and
//! health names it, with its server and why; started, it comes back; a
//! restarted instance never leaves the name without an answer.

mod dns_support;
mod runbook_support;

use std::time::{Duration, Instant};

use dns_support::{Sampler, ask, binders_and_name};
use runbook_support::{Home, text};
use serde_json::Value;

/// Polls `check` for at most `within`; false if it never held.
fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !check() {
        if start.elapsed() > within {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

#[test]
fn health_and_service_discovery_of_papi() {
    let home = Home::with_lab("health", &[]);
    home.must(&[
        "run",
        "scale-service",
        "--param",
        "service=papi",
        "--param",
        "servers=cn1",
        "--yes",
    ]);
    let status: Value =
        serde_json::from_str(&home.must(&["lab", "status", "--json"])).expect("lab status JSON");
    let (binders, name) = binders_and_name(&status, "papi");
    let ip = |alias: &str| {
        let script = format!(r#"vmapi::by_alias("{alias}").nics.filter(|n| n.primary)[0].ip"#);
        home.json(&script).as_str().expect("an IP").to_string()
    };
    let (papi0, papi1) = (ip("papi0"), ip("papi1"));
    let everywhere = |wanted: &[&str], gone: &[&str]| {
        ask(&binders, &name).iter().all(|m| {
            wanted.iter().all(|ip| m.addresses.iter().any(|a| a == ip))
                && gone.iter().all(|ip| !m.addresses.iter().any(|a| a == ip))
        })
    };
    assert!(
        eventually(Duration::from_secs(30), || everywhere(
            &[&papi0, &papi1],
            &[]
        )),
        "papi1 never registered: {:?}",
        ask(&binders, &name)
    );
    let out = home.run(&["health"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    // Stopped: out of every member's answers, and health says so.
    home.must(&["lab", "fault", "stop", "papi1"]);
    assert!(
        eventually(Duration::from_secs(60), || everywhere(&[&papi0], &[&papi1])),
        "papi1 stayed in binder: {:?}",
        ask(&binders, &name)
    );
    let out = home.run(&["health"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("some instances appear unhealthy"));
    let papi_line = stdout
        .lines()
        .find(|l| l.starts_with("papi "))
        .unwrap_or_default();
    assert!(papi_line.contains("1 of 2 healthy"), "{stdout}");
    assert!(papi_line.contains("takes it down"), "{stdout}");
    assert!(stdout.contains("   Alias: papi1\n"), "{stdout}");
    assert!(stdout.contains("Hostname: cn1\n"), "{stdout}");
    assert!(stdout.contains("   Error: its VM is stopped"), "{stdout}");
    let out = home.run(&["health", "-q", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&text(&out.stdout)).expect("JSON");
    let sick = report["instances"].as_array().expect("instances");
    assert_eq!(sick.len(), 1, "{report}");
    assert_eq!(sick[0]["alias"], "papi1");
    assert_eq!(sick[0]["server"], "cn1");
    assert_eq!(sick[0]["vm_state"], "stopped");
    assert_eq!(report["services"][0]["summary"], "1 of 2 healthy");

    // Started: back in every member's answers.
    home.must(&["lab", "fault", "start", "papi1"]);
    assert!(
        eventually(Duration::from_secs(60), || everywhere(
            &[&papi0, &papi1],
            &[]
        )),
        "papi1 never came back: {:?}",
        ask(&binders, &name)
    );
    assert!(home.run(&["health", "-q"]).status.success());

    // Restarted: the name keeps an answer throughout.
    let sampler = Sampler::start(binders.clone(), name.clone());
    home.must(&[
        "-c",
        r#"jobs::wait(vmapi::reboot(vmapi::by_alias("papi1").uuid).job_uuid, 60)"#,
    ]);
    let back = eventually(Duration::from_secs(60), || {
        everywhere(&[&papi0, &papi1], &[])
    });
    let samples = sampler.finish();
    assert!(back, "papi1 did not come back after its reboot");
    assert!(samples.len() >= 10, "only {} samples", samples.len());
    assert!(
        samples.iter().all(|n| *n >= 1),
        "papi had no answer at some sample: {samples:?}"
    );

    // VMAPI down: every instance is still reported; the cause is said
    // once, an instance is unknown rather than down, and its server comes
    // from SAPI and CNAPI, which still answer.
    home.must(&["lab", "fault", "stop", "vmapi0"]);
    let out = home.run(&["health", "--json"]);
    let shown = home.run(&["health"]);
    home.must(&["lab", "fault", "start", "vmapi0"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_str(&text(&out.stdout)).expect("JSON");
    let causes = report["causes"].as_array().expect("causes");
    assert_eq!(causes.len(), 1, "{report}");
    assert!(
        causes[0]
            .as_str()
            .is_some_and(|c| c.starts_with("VMAPI does not answer: VMAPI GET /vms")),
        "{report}"
    );
    let all = report["instances"].as_array().expect("instances");
    assert!(all.len() > 20, "{report}");
    for i in all {
        assert_eq!(i["vm_state"], "unknown", "{i}");
        assert_ne!(i["verdict"], "healthy", "{i}");
        assert!(
            i["problems"].as_array().is_some_and(|p| p
                .iter()
                .all(|p| !p.as_str().unwrap_or_default().contains("VMAPI"))),
            "the cause is not repeated per instance: {i}"
        );
    }
    let binder = &report["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["service"] == "binder")
        .expect("binder")["one_more_loss"];
    assert!(
        !binder
            .as_str()
            .unwrap_or_default()
            .starts_with("down already"),
        "{report}"
    );
    let stdout = text(&shown.stdout);
    assert!(stdout.starts_with("VMAPI does not answer: "), "{stdout}");
    assert_eq!(stdout.matches("VMAPI GET").count(), 1, "{stdout}");
    let papi = all.iter().find(|i| i["alias"] == "papi1").expect("papi1");
    assert_eq!(papi["server"], "cn1", "{papi}");
}

#[test]
fn health_without_a_datacenter_is_one_line() {
    let home = Home::new("health-dead");
    let dead = "http://127.0.0.1:1";
    let config = format!(
        "[profiles.dead]\nsapi_url = \"{dead}\"\nvmapi_url = \"{dead}\"\ncnapi_url = \"{dead}\"\n"
    );
    let out = home.run_with_profile(&config, "dead", &["health"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("tritonsh health: SAPI GET /services") && err.contains("127.0.0.1:1"),
        "{err}"
    );
    assert!(text(&out.stdout).is_empty());
}
