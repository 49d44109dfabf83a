//! A run killed half-way resumes from its journal with the plan it made,
//! so it ends with exactly the instances it planned and no duplicate; a
//! run stopped by SIGTERM records the step as interrupted.

mod runbook_support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use runbook_support::{Home, text};

const SCALE: &[&str] = &[
    "run",
    "scale-service",
    "--param",
    "service=papi",
    "--param",
    "count=2",
    "--yes",
];

fn spawn(home: &Home, args: &[&str]) -> Child {
    home.command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tritonsh")
}

/// Waits until `alias` shows up in the lab (in any state).
fn wait_for_instance(home: &Home, alias: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !home.instances("papi").iter().any(|(a, _, _)| a == alias) {
        assert!(Instant::now() < deadline, "{alias} never appeared");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn killed_run_resumes_without_duplicates() {
    // Long enough to kill the run while papi1 is still provisioning.
    let home = Home::with_lab("resume", &["--provision-delay-ms", "3000"]);
    let mut child = spawn(&home, SCALE);
    wait_for_instance(&home, "papi1");
    child.kill().expect("SIGKILL");
    let _ = child.wait();

    let ids = home.run_ids();
    assert_eq!(ids.len(), 1);
    let id = &ids[0];
    let journal = home.journal(id);
    assert_eq!(
        journal["status"], "running",
        "the killed run could not record its end"
    );
    assert_eq!(journal["steps"][0]["status"], "started");
    assert_eq!(journal["steps"][1]["status"], "pending");
    // The provision the killed run sent is in the lab's request log and,
    // written before it was sent, in the run's transcript. The lab writes
    // the line once it notices its client went away: soon, not at once.
    let posted = || {
        home.mutating_requests()
            .iter()
            .filter(|r| r["method"] == "POST" && r["path"].as_str() == Some("/instances"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while posted() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(posted(), 1, "{:?}", home.mutating_requests());
    let transcript =
        std::fs::read_to_string(home.runs_dir().join(id).join("transcript.jsonl")).unwrap();
    assert!(
        transcript
            .lines()
            .any(|l| l.contains("\"event\":\"sending\"") && l.contains("/instances")),
        "{transcript}"
    );
    // Its process is gone: the list says so, and how to go on.
    let runs = home.must(&["runbook", "runs"]);
    let row = runs
        .lines()
        .find(|l| l.contains(id.as_str()))
        .unwrap_or_default();
    assert!(row.contains("interrupted (process gone)"), "{runs}");
    assert!(
        row.contains(&format!("tritonsh run --resume {id}")),
        "{runs}"
    );
    assert!(runs.starts_with("id "), "a header first: {runs}");

    // Another datacenter is named with a flag (the environment names this
    // one): the run is refused there, before anything is asked or sent.
    let elsewhere = home.root.join("lab-b");
    let sent = home.mutating_requests().len();
    let out = home.run(&[
        "--lab",
        elsewhere.to_str().unwrap(),
        "run",
        "--resume",
        id,
        "--yes",
    ]);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    let lab_a = std::fs::canonicalize(home.lab.as_ref().unwrap()).unwrap();
    assert_eq!(
        err.trim(),
        format!(
            "error: run {id}: it ran on the lab in {}, and this shell is on the lab in {}: nothing was sent; resume it there (tritonsh --lab {0} run --resume {id})",
            lab_a.display(),
            elsewhere.display()
        )
    );
    assert_eq!(home.mutating_requests().len(), sent);
    assert_eq!(home.journal(id)["status"], "running");
    assert_eq!(
        home.journal(id)["datacenter"],
        serde_json::json!({"kind": "lab", "dir": lab_a})
    );

    let out = home.run(&["run", "--resume", id, "--yes"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("already done: SAPI already has papi1"),
        "{stdout}"
    );

    let papi = home.instances("papi");
    let aliases: Vec<&str> = papi.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(aliases, vec!["papi0", "papi1", "papi2"], "{papi:?}");
    assert_ne!(
        papi[1].1, papi[2].1,
        "papi1 and papi2 on one server: {papi:?}"
    );
    let posts = home
        .mutating_requests()
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/instances")
        .count();
    // The killed request may never be logged (its client went away), but
    // a second provision of papi1 would be.
    assert!(
        (1..=2).contains(&posts),
        "{posts} provisions for two instances"
    );

    let journal = home.journal(id);
    assert_eq!(journal["status"], "ok");
    assert_eq!(journal["steps"][0]["status"], "skipped");
    assert_eq!(journal["steps"][1]["status"], "done");
    let transcript =
        std::fs::read_to_string(home.runs_dir().join(id).join("transcript.jsonl")).unwrap();
    assert!(transcript.contains(r#""event":"resumed""#), "{transcript}");

    // Nothing is left to resume.
    let out = home.run(&["run", "--resume", id]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("every step is already done"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn sigterm_interrupts_the_step_and_the_run_resumes() {
    let home = Home::with_lab("sigterm", &["--provision-delay-ms", "3000"]);
    let child = spawn(&home, SCALE);
    wait_for_instance(&home, "papi1");
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(
        output.status.code(),
        Some(130),
        "an interrupted run exits 130"
    );

    let id = home.run_ids().pop().expect("a run");
    let journal = home.journal(&id);
    assert_eq!(journal["status"], "interrupted");
    assert_eq!(journal["steps"][0]["status"], "interrupted");
    assert_eq!(journal["steps"][1]["status"], "pending");

    home.must(&["run", "--resume", &id, "--yes"]);
    let aliases: Vec<String> = home.instances("papi").into_iter().map(|i| i.0).collect();
    assert_eq!(aliases, vec!["papi0", "papi1", "papi2"]);
}

/// Issue 11, item 5: a run resumed after someone else did part of its
/// plan asks its checks again, says how old its plan is, and does not
/// take the credit for what it did not do.
#[test]
fn a_resume_checks_again_and_takes_no_credit_for_others_work() {
    let home = Home::with_lab("credit", &[]);
    // No terminal and no --yes: the run stops before its first step.
    let out = home.run(&SCALE[..SCALE.len() - 1]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let id = home.run_ids().pop().expect("a run");
    // Meanwhile another run makes papi1, the alias step 1 wanted.
    home.must(&["run", "scale-service", "-p", "service=papi", "--yes"]);

    let out = home.run(&["run", "--resume", &id, "--yes"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("Its plan was made ") && stdout.contains(" s ago ("),
        "{stdout}"
    );
    assert!(
        stdout.contains("Preflight checks, asked again (read-only):")
            && stdout.contains("✓ the service runs as several instances: papi has 2 instance(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("already done, not by this run: SAPI already has papi1"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            ": ok, 1 of 2 steps done by this run; step(s) 1 found already done, not by this run."
        ),
        "{stdout}"
    );
    let journal = home.journal(&id);
    assert_eq!(journal["status"], "ok");
    assert_eq!(journal["steps"][0]["status"], "found");
    assert_eq!(journal["steps"][1]["status"], "done");
    let aliases: Vec<String> = home.instances("papi").into_iter().map(|i| i.0).collect();
    assert_eq!(aliases, vec!["papi0", "papi1", "papi2"]);

    // A check that fails now stops the resume before any step, and says
    // --force goes on anyway.
    let out = home.run(&[&SCALE[..SCALE.len() - 1], &["--param", "servers=cn1"]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let id = home.run_ids().pop().expect("a run");
    home.must(&["lab", "fault", "server-down", "cn1"]);
    let before = home.mutating_requests().len();
    let out = home.run(&["run", "--resume", &id, "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot provision on: [\"cn1 is unknown\"]")
            && err.contains("add --force to resume anyway, or start a new run"),
        "{err}"
    );
    assert_eq!(home.mutating_requests().len(), before, "a step ran");
}

/// Issue 15, item 9: resumed after its server went down, a provision's
/// wait ends at once with the reason and what to do, instead of waiting
/// out its 300 s for a VM that cannot come up.
#[test]
fn a_wait_for_a_vm_on_a_down_server_ends_early() {
    let home = Home::with_lab("resume-down", &["--provision-delay-ms", "3000"]);
    let mut child = spawn(
        &home,
        &[
            "run",
            "scale-service",
            "--param",
            "service=papi",
            "--param",
            "servers=cn3",
            "--yes",
        ],
    );
    wait_for_instance(&home, "papi1");
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    home.must(&["lab", "fault", "server-down", "cn3"]);
    let id = home.run_ids().pop().expect("the killed run");
    // The preflight sees it first; past it (--force), the wait does too.
    let out = home.run(&["run", "--resume", &id, "--yes"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let out = home.run(&["run", "--resume", &id, "--yes", "--force"]);
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{said}");
    let journal = home.journal(&id);
    assert_eq!(journal["status"], "failed", "not unknown: {said}");
    let why = journal["stopped"].as_str().unwrap_or_default();
    // Either the lab failed the provision with its server, or the VM
    // waits for a server that is down: both are said at once.
    assert!(
        why.contains("cn3 is unknown: papi1 cannot come up until the server is back")
            || why.contains("papi1 failed to provision"),
        "{why}"
    );
}
