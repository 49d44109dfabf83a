//! The scripts in examples/ are documentation: each must run against a lab
//! and say what it claims to say.

mod lab_support;

use std::process::{Command, Output};

use lab_support::{BIN, Lab};

fn example(lab: &Lab, args: &[&str]) -> Output {
    let script = format!("{}/examples/{}", env!("CARGO_MANIFEST_DIR"), args[0]);
    Command::new(BIN)
        .arg("--lab")
        .arg(&lab.dir)
        .arg("--json")
        .arg(script)
        .args(&args[1..])
        .output()
        .expect("run tritonsh")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parsed(out)
}

/// stdout, which must be one JSON value whatever the script printed.
fn parsed(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// The `what` of each problem health.rhai reported with exit status 1.
fn problems(out: &Output) -> Vec<String> {
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let problems = parsed(out);
    problems
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["what"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn health_finds_nothing_then_names_the_server_then_the_api_that_went_down() {
    let lab = Lab::up("example-health", &[]);
    assert_eq!(
        json(&example(&lab, &["health.rhai"])),
        serde_json::json!([])
    );

    lab.must(&["lab", "fault", "server-down", "cn2"]);
    let what = problems(&example(&lab, &["health.rhai"]));
    assert!(what.iter().any(|w| w == "cn2"), "{what:?}");
    for alias in ["binder2", "manatee2", "moray2"] {
        assert!(
            what.iter().any(|w| w == alias),
            "{alias} missing from {what:?}"
        );
    }

    // The check must work during the outage it exists for.
    let stopped = lab.must(&["--json", "lab", "fault", "stop", "vmapi0"]);
    let stopped: serde_json::Value =
        serde_json::from_str(&stopped).unwrap_or_else(|e| panic!("{e}: {stopped}"));
    assert_eq!(stopped["target"], "vmapi0", "{stopped}");
    let what = problems(&example(&lab, &["health.rhai"]));
    assert!(what.iter().any(|w| w == "VMAPI"), "{what:?}");
    assert!(what.iter().any(|w| w == "cn2"), "{what:?}");
}

#[test]
fn core_zones_shows_where_each_moray_runs() {
    let lab = Lab::up("example-core-zones", &[]);
    let rows = json(&example(&lab, &["core-zones.rhai", "moray"]));
    let placed: Vec<(String, String)> = rows
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["alias"].as_str().unwrap_or_default().to_string(),
                r["server"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected = [("moray0", "headnode"), ("moray1", "cn1"), ("moray2", "cn2")];
    assert_eq!(
        placed,
        expected.map(|(a, s)| (a.to_string(), s.to_string()))
    );
    assert!(
        rows[0]["ip"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("127."))
    );
}
