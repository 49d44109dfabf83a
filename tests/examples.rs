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
    let stdout = String::from_utf8_lossy(&out.stdout);
    // A script may print a line before its result: the result is the last JSON value.
    let start = stdout.find(['[', '{']).unwrap_or(0);
    serde_json::from_str(&stdout[start..]).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[test]
fn health_finds_nothing_then_names_the_server_that_went_down() {
    let lab = Lab::up("example-health", &[]);
    assert_eq!(
        json(&example(&lab, &["health.rhai"])),
        serde_json::json!([])
    );

    lab.must(&["lab", "fault", "server-down", "cn2"]);
    let problems = json(&example(&lab, &["health.rhai"]));
    let what: Vec<&str> = problems
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["what"].as_str())
        .collect();
    assert!(what.contains(&"cn2"), "{problems}");
    for alias in ["binder2", "manatee2", "moray2"] {
        assert!(what.contains(&alias), "{alias} missing from {problems}");
    }
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
