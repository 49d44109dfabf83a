//! `tritonsh --lab DIR -c …` against a real lab: the service modules, name
//! lookups, tables and JSON, over the network like any datacenter.

mod lab_support;

use std::process::{Command, Output};

use lab_support::{BIN, Lab};

/// A lab per test: starting one takes a fraction of a second, and a lab
/// held in a static would never be stopped.
fn read_only_lab() -> Lab {
    Lab::up("cli-lab", &[])
}

fn tritonsh(lab: &Lab, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--lab")
        .arg(&lab.dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "160")
        .env_remove("TRITONSH_PROFILE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run tritonsh: {e}"))
}

fn ok(lab: &Lab, args: &[&str]) -> String {
    let out = tritonsh(lab, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tritonsh {args:?}: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn one_line_error(lab: &Lab, args: &[&str]) -> String {
    let out = tritonsh(lab, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "tritonsh {args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    stderr.trim_end().to_string()
}

const BINDERS: &str = r#"vmapi::list(#{"tag.smartdc_role": "binder"})"#;

#[test]
fn binders_print_as_a_table() {
    let text = ok(&read_only_lab(), &["-c", BINDERS]);
    let lines: Vec<&str> = text.lines().collect();
    let header: Vec<&str> = lines[0].split_whitespace().take(2).collect();
    assert_eq!(header, ["alias", "state"], "{text}");
    let mut aliases: Vec<&str> = lines[1..4]
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    aliases.sort();
    assert_eq!(aliases, ["binder0", "binder1", "binder2"], "{text}");
    assert!(lines.iter().all(|l| l.chars().count() <= 160), "{text}");
}

#[test]
fn binders_as_json_keep_every_field() {
    let text = ok(&read_only_lab(), &["--json", "-c", BINDERS]);
    let vms: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let vms = vms.as_array().cloned().unwrap_or_default();
    assert_eq!(vms.len(), 3, "{text}");
    for vm in &vms {
        assert_eq!(vm["tags"]["smartdc_role"], "binder", "{vm}");
        assert!(vm["uuid"].as_str().is_some_and(|u| u.len() == 36), "{vm}");
        assert!(vm["nics"].is_array(), "extra fields kept: {vm}");
    }
}

#[test]
fn names_are_looked_up_and_missing_ones_explained() {
    let lab = &read_only_lab();
    let code = r#"let s = sapi::service("binder"); sapi::instances(#{service: "binder"}).count() + s.name.len()"#;
    assert_eq!(ok(lab, &["-c", code]), "9\n");
    assert_eq!(
        ok(lab, &["-c", r#"cnapi::server("headnode").hostname"#]),
        "headnode\n"
    );
    let err = one_line_error(lab, &["-c", r#"sapi::service("papx")"#]);
    assert_eq!(
        err,
        "line 1, col 7: no SAPI service named papx (sapi::services() lists them)"
    );
    let err = one_line_error(lab, &["-c", r#"cnapi::server("cn99")"#]);
    assert!(err.contains("no CNAPI server named cn99"), "{err}");
}

#[test]
fn api_errors_are_one_line_with_the_call() {
    let lab = &read_only_lab();
    let err = one_line_error(
        lab,
        &["-c", "vmapi::get(\"3f0b2c1e-8a5d-4e7f-9b6a-1c2d3e4f5a6b\")"],
    );
    assert!(
        err.starts_with("line 1, col 8: VMAPI GET /vms/3f0b2c1e"),
        "{err}"
    );
    assert!(err.contains("404"), "{err}");
    let err = one_line_error(lab, &["-c", "sapi::instances(#{alias: \"moray0\"})"]);
    assert!(err.contains("SAPI GET /instances"), "{err}");
}

#[test]
fn counts_and_pings_answer() {
    let lab = &read_only_lab();
    let listed = ok(lab, &["-c", "vmapi::list().count()"]);
    let counted = ok(lab, &["-c", "vmapi::count()"]);
    assert_eq!(listed, counted);
    assert_eq!(
        ok(
            lab,
            &[
                "-c",
                "vmapi::ping().ok && cnapi::ping().ok && sapi::ping().ok"
            ]
        ),
        "true\n"
    );
    assert_eq!(ok(lab, &["-c", "sapi::mode()"]), "full\n");
}

#[test]
fn stopping_a_vm_is_a_job_to_wait_for() {
    // This one changes the datacenter: it gets a lab of its own.
    let lab = Lab::up("cli-lab-stop", &[]);
    let code = r#"
        let vm = vmapi::list(#{alias: "binder2"}).first();
        let job = vmapi::stop(vm.uuid);
        let done = jobs::wait(job.job_uuid, 60);
        [done.outcome, vmapi::get(vm.uuid).state]
    "#;
    let text = ok(&lab, &["--json", "-c", code]);
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(value, serde_json::json!(["succeeded", "stopped"]));
}
