//! `tritonsh --lab DIR -c …` against a real lab: the service modules, name
//! lookups, tables and JSON, over the network like any datacenter.

mod lab_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

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
    // Piped: nothing is cut, whatever COLUMNS says.
    assert!(!text.contains('…'), "{text}");
}

#[test]
fn instances_are_named_by_their_alias_first() {
    let text = ok(
        &read_only_lab(),
        &["-c", r#"sapi::instances(#{service: "binder"})"#],
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("params.alias "), "{text}");
    assert!(lines[1].starts_with("binder0 "), "{text}");
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
    // A refused count says why, though a HEAD answer carries no body.
    let err = one_line_error(lab, &["-c", r#"vmapi::count(#{state: "nope"})"#]);
    assert!(err.contains("409 ValidationFailed"), "{err}");
    assert!(err.contains("state"), "{err}");
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

/// A closure in a change is refused before anything is sent: serde would
/// have written its internal name ("anon$…") into SAPI.
#[test]
fn functions_in_a_change_are_refused_not_sent() {
    let lab = read_only_lab();
    let err = one_line_error(
        &lab,
        &[
            "-c",
            r#"sapi::update_service("papi", #{params: #{a: |x| x}})"#,
        ],
    );
    assert!(
        err.ends_with(
            "sapi::update_service: changes.params.a is a Fn, which has no JSON form; leave it out"
        ),
        "{err}"
    );
    let code = r#"sapi::service("papi").params.a == ()"#;
    assert_eq!(ok(&lab, &["-c", code]).trim(), "true");
}

/// A misspelt option of a change is refused, not ignored: `asink` would
/// have provisioned and waited as if no option were given.
#[test]
fn unknown_create_options_are_refused_before_provisioning() {
    let lab = read_only_lab();
    let code =
        r#"sapi::create_instance(#{service_uuid: sapi::service("papi").uuid}, #{asink: true})"#;
    let err = one_line_error(&lab, &["-c", code]);
    assert!(
        err.ends_with(r#"sapi::create_instance: unknown option 'asink' (the only one is "async")"#),
        "{err}"
    );
    let count = r#"sapi::instances(#{service: "papi"}).len()"#;
    assert_eq!(ok(&lab, &["-c", count]).trim(), "1");
}

/// Absurd waits are the operator's call, not a crash: a float too big for
/// a Duration is refused in one line, and i64::MAX seconds is just long.
#[test]
fn absurd_job_waits_neither_panic_nor_hang() {
    let lab = Lab::up("cli-lab-wait", &[]);
    let err = one_line_error(&lab, &["-c", r#"jobs::wait("x", 1e308)"#]);
    assert!(err.contains("jobs::wait: seconds must be"), "{err}");
    let code = r#"
        let vm = vmapi::list(#{alias: "binder1"}).first();
        jobs::wait(vmapi::stop(vm.uuid).job_uuid, 9223372036854775807).outcome
    "#;
    assert_eq!(ok(&lab, &["-c", code]).trim(), "succeeded");
}

/// The REPL started before its lab: the first call says so, and once the
/// lab is up the next call finds it without restarting the shell.
#[test]
fn a_shell_started_before_its_lab_finds_it_later() {
    let lab = Lab {
        dir: lab_support::scratch_dir("cli-lab-late"),
    };
    let home = lab_support::scratch_dir("cli-lab-late-home");
    let mut child = Command::new(BIN)
        .arg("--lab")
        .arg(&lab.dir)
        .env("XDG_STATE_HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run tritonsh: {e}"));
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        panic!("no pipes");
    };
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let expect = |prefix: &str| loop {
        match lines.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.starts_with(prefix) => return line,
            Ok(_) => {}
            Err(e) => panic!("no line starting {prefix:?}: {e}"),
        }
    };
    let count =
        "let n = -1; try { n = cnapi::servers().count(); } catch { } print(`servers ${n}`);\n";
    let mut send = |line: &str| {
        stdin
            .write_all(line.as_bytes())
            .and_then(|_| stdin.flush())
            .unwrap_or_else(|e| panic!("{e}"));
    };
    send(count);
    assert_eq!(expect("servers "), "servers -1");
    lab.must(&["lab", "up"]);
    send(count);
    let found = expect("servers ");
    assert_ne!(found, "servers -1", "the lab that came up was not found");
    drop(stdin);
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.starts_with("tritonsh: no datacenter: no lab is running in"),
        "the REPL says at once that its lab is not running: {stderr}"
    );
    let _ = std::fs::remove_dir_all(&home);
}

/// As root, PostgreSQL runs as `postgres`: a directory above the lab that
/// shuts that user out is named in one line, before anything starts.
#[test]
fn a_parent_postgres_cannot_enter_is_named() {
    use std::os::unix::fs::PermissionsExt;
    if !nix::unistd::geteuid().is_root() {
        return;
    }
    let shut = lab_support::scratch_dir("shut");
    std::fs::create_dir_all(&shut).unwrap();
    std::fs::set_permissions(&shut, std::fs::Permissions::from_mode(0o700)).unwrap();
    let lab = shut.join("lab");
    let out = Command::new(BIN)
        .args(["lab", "up", "--profile", "fresh", "--dir"])
        .arg(&lab)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let _ = std::fs::remove_dir_all(&shut);
    assert!(!out.status.success(), "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "lab up: PostgreSQL runs as the postgres user, which cannot enter {} (mode 700): choose a --dir it can reach (under /var/tmp or /tmp), or chmod o+x {0}",
            shut.display()
        )
    );
}
