//! A runbook that fails at step 3 of 5: the exit status, the journal and
//! the transcript; resuming it, and refusing to resume with another version.

mod runbook_support;

use runbook_support::{Home, text, write};

/// Five steps; step `fail_at` throws. Nothing here touches the datacenter.
const FIVE: &str = r#"//! Five steps, one of which fails.
fn plan(p) {
    let steps = [];
    for i in 1..=5 {
        steps.push(#{ name: `step ${i} of 5`, action: "act", verify: "check", wait: 1,
                      args: #{ i: i, fail_at: p.fail_at } });
    }
    steps
}
fn act(a) { if a.i == a.fail_at { throw `disk full on step ${a.i}`; } a.i }
fn check(a) { pass(`step ${a.i} checked`) }
#{ version: "VERSION", params: [ #{ name: "fail_at", type: "int", default_value: 3 } ] }
"#;

#[test]
fn failure_at_step_three_of_five() {
    let home = Home::with_lab("journal", &[]);
    let file = home.root.join("five.rhai");
    write(&file, &FIVE.replace("VERSION", "1.0.0"));
    let path = file.to_str().unwrap();

    let out = home.run(&["run", path, "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("step 3 (step 3 of 5): disk full on step 3"),
        "{err}"
    );

    let id = home.run_ids().pop().expect("a run");
    // The run's end is said once, on stderr, with what to do next.
    assert!(
        err.starts_with(&format!("Run {id} failed: "))
            && err.contains(&format!("tritonsh run --resume {id}")),
        "{err}"
    );
    let stdout = text(&out.stdout);
    assert!(!stdout.contains(&format!("Run {id}")), "{stdout}");
    let journal = home.journal(&id);
    assert_eq!(journal["status"], "failed");
    assert_eq!(journal["version"], "1.0.0");
    let statuses: Vec<&str> = journal["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        vec!["done", "done", "failed", "pending", "pending"]
    );
    assert!(
        journal["steps"][2]["reason"]
            .as_str()
            .unwrap()
            .contains("disk full on step 3")
    );
    assert!(journal["steps"][3]["started_at"].is_null());

    let transcript =
        std::fs::read_to_string(home.runs_dir().join(&id).join("transcript.txt")).unwrap();
    assert!(transcript.contains("[3/5] step 3 of 5"), "{transcript}");
    assert!(!transcript.contains("[4/5]"), "{transcript}");
    let events: Vec<serde_json::Value> =
        std::fs::read_to_string(home.runs_dir().join(&id).join("transcript.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    assert!(
        events
            .iter()
            .all(|e| e["at"].is_string() && e["elapsed_ms"].is_u64())
    );
    assert_eq!(events.last().unwrap()["event"], "run_ended");

    // A new version of the file: resume refuses unless forced.
    write(
        &file,
        &FIVE
            .replace("VERSION", "1.1.0")
            .replace("fail_at: p.fail_at", "fail_at: 0"),
    );
    let out = home.run(&["run", "--resume", &id, "--yes"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("version 1.0.0, which is now version 1.1.0: add --force"),
        "{err}"
    );

    // Forced, it replays the stored plan (whose args still say fail_at 3,
    // so the fixed file must not matter) from step 3.
    let out = home.run(&["run", "--resume", &id, "--yes", "--force"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the stored plan is replayed, args and all"
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("at step 3/5"), "{stdout}");
    assert!(
        !stdout.contains("[1/5]"),
        "steps already done ran again: {stdout}"
    );
}

#[test]
fn bad_inputs_are_one_line_errors() {
    let home = Home::new("bad");
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "no-such-runbook"],
            "no runbook named 'no-such-runbook'",
        ),
        (
            &["run", "scale-service", "--param", "sevice=papi"],
            "scale-service: unknown parameter 'sevice'; parameters: service (string, required), count (int, default 1), servers (list, optional), image (string, optional)",
        ),
        (
            &[
                "run",
                "scale-service",
                "--param",
                "service=papi",
                "--param",
                "count=two",
            ],
            "parameter count: expected an integer, got 'two'",
        ),
        (
            &["run", "scale-service"],
            "missing required parameter 'service'",
        ),
        (
            &["run", "scale-service", "--param", "service"],
            "--param 'service' is not NAME=VALUE",
        ),
        (
            &["run", "--resume", "20990101-000000-dead"],
            "no run '20990101-000000-dead' in ",
        ),
        (
            &["run", "/no/such/file.rhai"],
            "cannot read /no/such/file.rhai",
        ),
        (&["runbook", "show", "nope"], "no runbook named 'nope'"),
        (&["runbook", "export", "nope"], "no runbook named 'nope'"),
    ];
    for (args, expected) in cases {
        let out = home.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    assert!(home.run_ids().is_empty(), "a bad input started a run");
}

#[test]
fn a_verification_that_runs_out_of_time_is_unknown_not_ok() {
    let home = Home::with_lab("unknown", &[]);
    let file = home.root.join("slow.rhai");
    write(
        &file,
        r#"//! A change that never finishes.
fn plan(p) { [ #{ name: "start it", action: "start", verify: "finished", wait: 1 },
               #{ name: "after it", action: "start" } ] }
fn start(a) { () }
fn finished(a) { pending("still converging") }
#{ version: "1.0.0" }
"#,
    );
    let out = home.run(&["run", file.to_str().unwrap(), "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("? unknown: not verified within 1s: still converging"),
        "{stdout}"
    );
    assert!(!stdout.contains("✓ ok"), "{stdout}");
    let journal = home.journal(&home.run_ids().pop().unwrap());
    assert_eq!(journal["status"], "unknown");
    assert_eq!(journal["steps"][0]["status"], "unknown");
    assert_eq!(journal["steps"][1]["status"], "pending");
}

#[test]
fn a_check_that_tries_to_change_the_datacenter_is_refused() {
    let home = Home::with_lab("deny", &[]);
    let file = home.root.join("sneaky.rhai");
    write(
        &file,
        r#"//! A check with a side effect.
fn sneaky(p) { let papi = sapi::instances(#{ service: "papi" })[0]; sapi::delete_instance(papi.uuid); pass("done") }
fn plan(p) { [] }
#{ version: "1.0.0", checks: ["sneaky"] }
"#,
    );
    let out = home.run(&["run", file.to_str().unwrap(), "--yes", "--force"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("refused: checks must not change the datacenter"),
        "{err}"
    );
    assert!(
        home.mutating_requests().is_empty(),
        "the check's DELETE reached the lab"
    );
    assert_eq!(home.instances("papi").len(), 1);
}
