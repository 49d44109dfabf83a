//! Preflight checks as the operator reads them (issue 11, item 14): a
//! check that could not tell says why once, without the script's position
//! (kept in the transcript, and shown with -v), and the checks after it do
//! not offer --force, which would not get the run through.

mod runbook_support;

use runbook_support::{Home, text, write};

const CANNOT_TELL: &str = r#"//! The first two checks cannot tell; the third needs --force.
const RUNBOOK = #{ form: 2, version: "1.0.0", params: [] };

/// the service exists
fn check_service(p) {
    let s = sapi::service_named("nosuch");
    pass(s.name)
}

/// the service has instances
fn check_instances(p) {
    let s = sapi::service_named("nosuch");
    pass(s.name)
}

/// no server is named twice
fn check_servers(p) { needs_force("cn1 named twice") }

fn plan(p) { [] }
"#;

/// Only a needs_force check fails: there --force is the way on.
const NEEDS_FORCE: &str = r#"//! One check that needs --force.
const RUNBOOK = #{ form: 2, version: "1.0.0", params: [] };

/// no server is named twice
fn check_servers(p) { needs_force("cn1 named twice") }

fn plan(p) { [] }
"#;

#[test]
fn a_check_that_cannot_tell_says_why_once_and_offers_no_force() {
    let home = Home::with_lab("checks", &[]);
    let file = home.root.join("cannot-tell.rhai");
    write(&file, CANNOT_TELL);

    let out = home.run(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        stdout.matches("SAPI has no service named nosuch").count(),
        1,
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "✗ the service has instances: check_instances could not tell either (as above)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("✗ no server is named twice: cn1 named twice\n"),
        "--force offered after a check that could not tell: {stdout}"
    );
    assert!(!stdout.contains("position"), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "3 preflight checks failed, first: check_service could not tell: SAPI has no service named nosuch (services: "
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("position") && !stderr.contains("--force"),
        "{stderr}"
    );

    // The transcript keeps where in the script it failed, for its author.
    let id = home.run_ids().pop().expect("a run");
    let transcript =
        std::fs::read_to_string(home.runs_dir().join(&id).join("transcript.txt")).unwrap();
    assert!(transcript.contains("(line 6, position "), "{transcript}");

    // So does -v.
    let out = home.run(&["-v", "run", file.to_str().unwrap()]);
    assert!(
        text(&out.stdout).contains("(line 6, position "),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("(line 6, position "),
        "{}",
        text(&out.stderr)
    );

    // Where --force is what stands in the way, it is offered.
    let file = home.root.join("needs-force.rhai");
    write(&file, NEEDS_FORCE);
    let out = home.run(&["run", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("cn1 named twice (add --force to go on anyway)"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("cn1 named twice; add --force to go on anyway"),
        "{}",
        text(&out.stderr)
    );
    home.must(&["run", file.to_str().unwrap(), "--force"]);
}
