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
    header_says_all_a_reader_needs(&transcript, &id);
    // Steps that change the datacenter say how they were confirmed; the
    // run's end is the transcript's last line.
    assert!(transcript.contains("    confirmed: --yes"), "{transcript}");
    assert!(
        transcript
            .lines()
            .last()
            .is_some_and(|l| l.contains(&format!("Run {id} failed: step 3 (step 3 of 5)"))),
        "{transcript}"
    );
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
    // The resume says again when, with which tritonsh and runbook version.
    let transcript =
        std::fs::read_to_string(home.runs_dir().join(&id).join("transcript.txt")).unwrap();
    let resumed = format!(
        "  tritonsh {} — run {id} of five 1.1.0 (",
        env!("CARGO_PKG_VERSION")
    );
    let line = transcript
        .lines()
        .find(|l| l.contains(&resumed))
        .unwrap_or_else(|| panic!("no resume header: {transcript}"));
    assert!(
        line.contains(" resumed 20") && line.contains(" on the lab in "),
        "{line}"
    );

    a_step_done_by_an_earlier_step_of_the_run(&home);
}

/// The header of a transcript: the date and zone, tritonsh's version, the
/// runbook, where it ran and with what.
fn header_says_all_a_reader_needs(transcript: &str, id: &str) {
    let lines: Vec<&str> = transcript.lines().take(5).collect();
    let first = format!(
        "  tritonsh {} — run {id}, started ",
        env!("CARGO_PKG_VERSION")
    );
    let started = lines[0]
        .split_once(&first)
        .map(|(_, when)| when)
        .unwrap_or_else(|| panic!("{transcript}"));
    let (date, zone) = started.rsplit_once(' ').unwrap_or_default();
    assert!(
        chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S").is_ok()
            && (zone == "UTC" || zone.starts_with(['+', '-'])),
        "{started}"
    );
    assert!(
        lines[1].contains("  runbook: five 1.0.0 (") && lines[1].ends_with("five.rhai)"),
        "{transcript}"
    );
    assert!(
        lines[2].contains("  datacenter: the lab in "),
        "{transcript}"
    );
    assert!(
        lines[3].ends_with("  parameters: fail_at=3"),
        "{transcript}"
    );
    assert!(lines[4].contains("  Transcript redacted: "), "{transcript}");
}

/// Step 2's done check finds what step 1 of the same run did: done by this
/// run, not found done by someone else.
fn a_step_done_by_an_earlier_step_of_the_run(home: &Home) {
    let file = home.root.join("twice.rhai");
    write(
        &file,
        r#"//! Step 2 finds what step 1 did.
fn plan(p) { [ #{ name: "mark sdc", action: "mark" },
               #{ name: "mark sdc again", done: "marked", action: "mark" } ] }
fn mark(a) { sapi::update_application("sdc", #{ metadata: #{ transcript_mark: "yes" } }); }
fn marked(a) {
    if (sapi::application("sdc").metadata.transcript_mark ?? "") == "yes" { pass("sdc is marked") }
    else { fail("sdc is not marked") }
}
#{ version: "1.0.0" }
"#,
    );
    let out = home.run(&["run", file.to_str().unwrap(), "--yes"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "already done by this run (its step 1 changed the datacenter): sdc is marked"
        ) && stdout.contains("✓ skipped: sdc is marked")
            && stdout.contains(": ok, 2 of 2 steps done."),
        "{stdout}"
    );
    assert!(!stdout.contains("not by this run"), "{stdout}");
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
            "scale-service: unknown parameter 'sevice'; parameters: service (string, required), count (int 1..10, default 1), servers (list, optional), image (string, optional)",
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
