//! Runbook engine paths through the real binary, as an operator meets them:
//! the y/N question answered `n` and `y` and the typed name of what a step
//! destroys answered wrongly and rightly (on a pseudo-terminal, since only
//! a terminal is asked), `run --json`, two processes resuming one run, and
//! SIGTERM in the middle of a step of a FILE.rhai runbook and of a stdlib
//! one.
//!
//! What is asserted is what the engine promises, not its wording: exit
//! statuses, the journal's status fields, the lab's `requests.log`, and
//! SAPI's state read back with `tritonsh -c`. Tests that only read share
//! one lab; tests that change a lab have their own.

mod pty_support;
mod runbook_support;

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use pty_support::{Tty, WAIT};
use runbook_support::{Home, text, write};
use serde_json::Value;

// Labs -----------------------------------------------------------------------

/// The lab the read-only tests share: started by the first of them that
/// needs it and stopped (by `Home`'s drop) when the last one holding it
/// ends, pass or fail.
fn shared_lab() -> Arc<Home> {
    static SHARED: Mutex<Weak<Home>> = Mutex::new(Weak::new());
    let mut slot = SHARED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(lab) = slot.upgrade() {
        return lab;
    }
    let lab = Arc::new(Home::with_lab("engine-shared", &[]));
    *slot = Arc::downgrade(&lab);
    lab
}

/// A test's own XDG directories (so its journals are its own), on the
/// shared lab.
struct OnShared {
    home: Home,
    lab: Arc<Home>,
}

impl OnShared {
    fn new(name: &str) -> OnShared {
        OnShared {
            home: Home::new(name),
            lab: shared_lab(),
        }
    }

    fn lab_dir(&self) -> &PathBuf {
        self.lab.lab.as_ref().expect("the shared lab")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = self.home.command(args);
        command.env("TRITONSH_LAB", self.lab_dir());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run tritonsh")
    }
}

// What the lab and the journal say ------------------------------------------

fn count(requests: &[Value], method: &str, path: &str) -> usize {
    requests
        .iter()
        .filter(|r| {
            r["method"] == method && r["path"].as_str().is_some_and(|p| p.starts_with(path))
        })
        .count()
}

fn step_statuses(journal: &Value) -> Vec<String> {
    journal["steps"]
        .as_array()
        .expect("the journal has steps")
        .iter()
        .map(|s| s["status"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// The aliases SAPI has for `service`, read with `tritonsh -c` as an
/// operator would, sorted.
fn sapi_aliases(home: &Home, service: &str) -> Vec<String> {
    let code = format!(
        r#"let s = sapi::services(#{{ name: "{service}" }})[0];
           sapi::instances(#{{ service_uuid: s.uuid }}).map(|i| i.params.alias ?? i.uuid)"#
    );
    let out = home.must(&["--json", "-c", &code]);
    let mut aliases: Vec<String> =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: not a JSON list: {out}"));
    aliases.sort();
    aliases
}

/// VMs not destroyed whose alias is exactly `alias`, read with `tritonsh -c`.
fn live_vms(home: &Home, alias: &str) -> usize {
    let code = format!(
        r#"vmapi::list(#{{ alias: "{alias}" }}).filter(|vm| vm.alias == "{alias}" && vm.state != "destroyed").len()"#
    );
    let out = home.must(&["--json", "-c", &code]);
    out.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: not a count: {out}"))
}

fn transcript_text(home: &Home, id: &str) -> String {
    std::fs::read_to_string(home.runs_dir().join(id).join("transcript.txt"))
        .expect("transcript.txt")
}

fn only_run(home: &Home) -> String {
    let ids = home.run_ids();
    assert_eq!(ids.len(), 1, "one run expected: {ids:?}");
    ids[0].clone()
}

const SCALE_PAPI: &[&str] = &[
    "run",
    "scale-service",
    "--param",
    "service=papi",
    "--param",
    "count=1",
];

// 1. y/N ---------------------------------------------------------------------

#[test]
fn yes_no_question_answered_n_sends_nothing_and_y_makes_the_change() {
    let home = Home::with_lab("yes-no", &[]);
    let before = home.requests().len();

    let mut tty = Tty::spawn(home.command(SCALE_PAPI));
    tty.expect("[y/N");
    assert!(
        home.mutating_requests().is_empty(),
        "something was sent before the answer: {:?}",
        home.mutating_requests()
    );
    tty.answer("n");
    let (status, shown) = tty.wait_exit();
    assert_eq!(status.code(), Some(1), "{shown}");
    assert!(shown.contains("not confirmed"), "{shown}");

    let declined = only_run(&home);
    let journal = home.journal(&declined);
    assert_eq!(journal["status"], "declined", "{journal}");
    assert_eq!(step_statuses(&journal), vec!["pending"]);
    assert!(
        home.mutating_requests().is_empty(),
        "answered n, yet sent: {:?}",
        home.mutating_requests()
    );
    // Nothing sent is not nothing logged: the run did read the lab.
    assert!(home.requests().len() > before, "the run read nothing");
    assert_eq!(sapi_aliases(&home, "papi"), vec!["papi0"]);

    let mut tty = Tty::spawn(home.command(SCALE_PAPI));
    tty.expect("[y/N");
    tty.answer("y");
    let (status, shown) = tty.wait_exit();
    assert_eq!(status.code(), Some(0), "{shown}");
    let id = home.run_ids().pop().expect("a second run");
    assert_ne!(id, declined);
    let journal = home.journal(&id);
    assert_eq!(journal["status"], "ok", "{journal}");
    assert_eq!(step_statuses(&journal), vec!["done"]);
    let transcript =
        std::fs::read_to_string(home.runs_dir().join(&id).join("transcript.jsonl")).unwrap();
    assert!(
        transcript.contains(r#""event":"answer""#),
        "the answer is not in the transcript: {transcript}"
    );
    assert_eq!(count(&home.mutating_requests(), "POST", "/instances"), 1);
    assert_eq!(sapi_aliases(&home, "papi"), vec!["papi0", "papi1"]);
    assert_eq!(live_vms(&home, "papi1"), 1);
}

// 2. The typed name of what is destroyed --------------------------------------

const REMOVE_MORAY2: &[&str] = &["run", "remove-instance", "--param", "instance=moray2"];

#[test]
fn typed_name_answered_wrongly_destroys_nothing_and_rightly_destroys() {
    let home = Home::with_lab("typed-name", &[]);

    let mut tty = Tty::spawn(home.command(REMOVE_MORAY2));
    // A prefix of the name is not the name.
    tty.expect("Type moray2");
    tty.answer("moray");
    let (status, shown) = tty.wait_exit();
    assert_eq!(status.code(), Some(1), "{shown}");
    assert!(shown.contains("not confirmed"), "{shown}");
    let wrong = only_run(&home);
    let journal = home.journal(&wrong);
    assert_eq!(journal["status"], "declined", "{journal}");
    assert_eq!(step_statuses(&journal), vec!["pending"]);
    assert!(
        journal["stopped"]
            .as_str()
            .is_some_and(|s| s.contains("not confirmed")),
        "{journal}"
    );
    assert!(
        home.mutating_requests().is_empty(),
        "a wrong name sent: {:?}",
        home.mutating_requests()
    );
    assert_eq!(
        sapi_aliases(&home, "moray"),
        vec!["moray0", "moray1", "moray2"]
    );

    let mut tty = Tty::spawn(home.command(REMOVE_MORAY2));
    tty.expect("Type moray2");
    tty.answer("moray2");
    let (status, shown) = tty.wait_exit();
    assert_eq!(status.code(), Some(0), "{shown}");
    let id = home.run_ids().pop().expect("a second run");
    let journal = home.journal(&id);
    assert_eq!(journal["status"], "ok", "{journal}");
    assert_eq!(step_statuses(&journal), vec!["done"]);
    let mutating = home.mutating_requests();
    assert_eq!(count(&mutating, "DELETE", "/instances/"), 1, "{mutating:?}");
    assert_eq!(sapi_aliases(&home, "moray"), vec!["moray0", "moray1"]);
    assert_eq!(live_vms(&home, "moray2"), 0);
}

// 3. run --json -----------------------------------------------------------------

/// Three steps that change nothing; the second throws.
const FAILS_AT_TWO: &str = r#"//! Three steps that change nothing; the second fails.
fn plan(p) {
    [1, 2, 3].map(|i| #{ name: `step ${i} of 3`, action: "act", verify: "check", wait: 1,
                          mutates: false, args: #{ i: i } })
}
fn act(a) { if a.i == 2 { throw "the second step fails"; } a.i }
fn check(a) { pass(`step ${a.i} checked`) }
#{ version: "1.0.0" }
"#;

#[test]
fn run_json_prints_the_journal_as_one_json_document() {
    let t = OnShared::new("json");
    let before = t.lab.mutating_requests().len();

    // A dry run of a stdlib runbook.
    let out = t.run(&[
        "run",
        "--json",
        "scale-service",
        "--param",
        "service=papi",
        "--param",
        "count=2",
        "--dry-run",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    // from_str refuses anything after the document: no progress lines.
    let printed: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"));
    let id = only_run(&t.home);
    assert_eq!(printed["id"], id.as_str());
    assert_eq!(printed["runbook"], "scale-service");
    assert_eq!(printed["status"], "planned");
    assert_eq!(printed["dry_run"], true);
    assert_eq!(printed["params"]["service"], "papi");
    assert_eq!(printed["params"]["count"], 2);
    assert!(
        printed["preflight"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{printed}"
    );
    assert_eq!(step_statuses(&printed), vec!["pending", "pending"]);
    assert!(
        printed["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["mutates"] == true && s["name"].as_str().is_some_and(|n| n.contains("papi"))),
        "{printed}"
    );
    let journal = t.home.journal(&id);
    assert_eq!(journal["status"], printed["status"]);
    assert_eq!(journal["steps"], printed["steps"]);
    // Each step of the dry run stops at its first request: said in a few
    // words, the journal keeps why.
    let transcript = transcript_text(&t.home, &id);
    assert_eq!(
        transcript
            .matches("(the dry run stops here: what would follow is not shown)")
            .count(),
        2,
        "{transcript}"
    );
    assert!(
        !transcript.contains("effect not fully previewed"),
        "{transcript}"
    );
    assert!(
        journal["steps"][0]["preview"]["not_fully_previewed"].is_string(),
        "{journal}"
    );

    // A run that fails: still one document, on stdout; the error on stderr.
    let file = t.home.root.join("fails-at-two.rhai");
    write(&file, FAILS_AT_TWO);
    let out = t.run(&["run", "--json", file.to_str().unwrap(), "--yes"]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let printed: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"));
    assert_eq!(printed["status"], "failed");
    assert_eq!(printed["dry_run"], false);
    assert_eq!(step_statuses(&printed), vec!["done", "failed", "pending"]);
    assert!(
        printed["steps"][1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("the second step fails")),
        "{printed}"
    );
    assert!(
        printed["stopped"]
            .as_str()
            .is_some_and(|r| r.contains("the second step fails")),
        "{printed}"
    );
    let id = printed["id"].as_str().expect("an id");
    assert!(stderr.contains(id), "{stderr}");
    assert_eq!(t.home.journal(id)["status"], "failed");
    // Steps that change nothing are not confirmed, and say nothing of it.
    let transcript = transcript_text(&t.home, id);
    assert!(
        transcript.contains("[2/3] step 2 of 3") && !transcript.contains("confirmed"),
        "{transcript}"
    );

    assert_eq!(
        t.lab.mutating_requests().len(),
        before,
        "a dry run or a run that changes nothing sent a mutating request"
    );
}

/// Its first change cannot succeed: its action fails before it asks to
/// send anything (a rebuild of a peer whose zone is stopped).
const BOUND_TO_FAIL: &str = r#"//! A plan bound to fail.
fn plan(p) {
    [ #{ name: "rebuild manatee0", action: "rebuild", mutates: true, wait: 1 },
      #{ name: "look around", action: "look", mutates: false, wait: 1 } ]
}
fn look(a) { "looked" }
fn rebuild(a) { throw "manatee0's zone is stopped: start it first"; }
#{ version: "1.0.0" }
"#;

/// Issue 15, item 20: a plan whose dry run shows its first change cannot
/// succeed fails before any step runs, rather than half-way.
#[test]
fn a_plan_bound_to_fail_stops_before_its_first_step() {
    let t = OnShared::new("bound-to-fail");
    let before = t.lab.mutating_requests().len();
    let file = t.home.root.join("bound.rhai");
    write(&file, BOUND_TO_FAIL);
    let out = t.run(&["run", file.to_str().unwrap(), "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("step 1 (rebuild manatee0) cannot succeed now: manatee0's zone is stopped: start it first"),
        "{err}"
    );
    let journal = t.home.journal(&only_run(&t.home));
    assert_eq!(journal["status"], "failed");
    assert_eq!(step_statuses(&journal), vec!["pending", "pending"]);
    assert_eq!(t.lab.mutating_requests().len(), before);
}

// 4. Two resumes at once ------------------------------------------------------

/// One step that asks before it goes on and sends nothing.
const ASKS: &str = r#"//! One step that asks first.
fn plan(p) { [ #{ name: "note it", action: "note", verify: "noted", mutates: true, wait: 1 } ] }
fn note(a) { "noted" }
fn noted(a) { pass("noted") }
#{ version: "1.0.0" }
"#;

#[test]
fn two_processes_resuming_one_run_one_refuses() {
    let t = OnShared::new("two-resumes");
    let before = t.lab.mutating_requests().len();
    let file = t.home.root.join("asks.rhai");
    write(&file, ASKS);
    let path = file.to_str().unwrap();

    // While the run itself waits at its question, a resume is refused.
    let mut original = Tty::spawn(t.command(&["run", path]));
    original.expect("[y/N");
    let id = only_run(&t.home);
    refused_while_held(&t, &id, original.pid());

    // Declined at its only step, the run can be resumed.
    original.answer("n");
    let (status, shown) = original.wait_exit();
    assert_eq!(status.code(), Some(1), "{shown}");
    assert_eq!(t.home.journal(&id)["status"], "declined");

    // The first resume waits at its question, holding the run; the second
    // is refused.
    let mut first = Tty::spawn(t.command(&["run", "--resume", &id]));
    first.expect("[y/N");
    refused_while_held(&t, &id, first.pid());

    // The first goes on, undisturbed.
    first.answer("y");
    let (status, shown) = first.wait_exit();
    assert_eq!(status.code(), Some(0), "{shown}");
    let journal = t.home.journal(&id);
    assert_eq!(journal["status"], "ok", "{journal}");
    assert_eq!(step_statuses(&journal), vec!["done"]);
    assert_eq!(t.lab.mutating_requests().len(), before);
}

/// `run --resume ID` while `holder` has the run: refused at once, in one
/// line naming the run and the holder, and the run is left as it was.
fn refused_while_held(t: &OnShared, id: &str, holder: u32) {
    let out = t.run(&["run", "--resume", id, "--yes"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}{stderr}", text(&out.stdout));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(id)
            && stderr.contains("running now")
            && stderr.contains(&format!("pid {holder}")),
        "{stderr}"
    );
    let journal = t.home.journal(id);
    assert_eq!(
        step_statuses(&journal),
        vec!["started"],
        "the refused resume touched the run: {journal}"
    );
}

/// Three steps that each ask and send nothing.
const ASKS_THRICE: &str = r#"//! Three steps that ask first.
fn plan(p) { [1, 2, 3].map(|i| #{ name: `note ${i}`, action: "note", mutates: true, args: #{ i: i } }) }
fn note(a) { a.i }
#{ version: "1.0.0" }
"#;

#[test]
fn answer_a_confirms_the_rest_of_the_run() {
    let t = OnShared::new("answer-all");
    let file = t.home.root.join("asks-thrice.rhai");
    write(&file, ASKS_THRICE);
    let mut tty = Tty::spawn(t.command(&["run", file.to_str().unwrap()]));
    tty.expect("[y/N");
    tty.answer("a");
    let (status, shown) = tty.wait_exit();
    assert_eq!(status.code(), Some(0), "{shown}");
    assert_eq!(shown.matches("[y/N").count(), 1, "asked again: {shown}");
    let journal = t.home.journal(&only_run(&t.home));
    assert_eq!(journal["status"], "ok", "{journal}");
    assert_eq!(step_statuses(&journal), vec!["done", "done", "done"]);
}

// 5. SIGTERM during a step ------------------------------------------------------

/// Provisions papi1 on the first usable server; slow in a lab started with
/// --provision-delay-ms.
const PROVISION_PAPI1: &str = r#"//! Provision papi1.
fn plan(p) {
    let service = sapi::services(#{ name: "papi" })[0];
    let server = cnapi::servers().filter(|s| s.setup && s.status == "running")[0];
    [ #{ name: "provision papi1", done: "exists", action: "provision", verify: "running", wait: 60,
         args: #{ service_uuid: service.uuid, server_uuid: server.uuid } } ]
}
fn exists(a) {
    let found = sapi::instances(#{ service_uuid: a.service_uuid }).filter(|i| i.params.alias == "papi1");
    if found.is_empty() { fail("no papi1 yet") } else { pass("SAPI already has papi1") }
}
fn provision(a) {
    sapi::create_instance(#{ service_uuid: a.service_uuid,
                             params: #{ alias: "papi1", server_uuid: a.server_uuid } }).uuid
}
fn running(a) {
    let vms = vmapi::list(#{ alias: "papi1" }).filter(|vm| vm.alias == "papi1" && vm.state != "destroyed");
    if vms.is_empty() { return pending("no VM papi1 yet"); }
    if vms[0].state == "running" { pass("papi1 is running") } else { pending(`papi1 is ${vms[0].state}`) }
}
#{ version: "1.0.0" }
"#;

/// Long enough to catch the run inside the provisioning step.
const SLOW: &[&str] = &["--provision-delay-ms", "2000"];

/// Runs `args` (which provision papi1), sends `signal` once SAPI has papi1
/// (the provision is in flight), then checks the journal says interrupted
/// and that `run --resume` finishes with one papi1.
fn signal_during_the_step_then_resume(home: &Home, args: &[&str], signal: Signal) {
    let child = home
        .command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tritonsh");
    let start = Instant::now();
    while !home.instances("papi").iter().any(|(a, _, _)| a == "papi1") {
        assert!(start.elapsed() < WAIT, "papi1 never appeared");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, signal).expect("signal");
    let out = child.wait_with_output().expect("wait");
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{shown}");

    let id = only_run(home);
    let journal = home.journal(&id);
    assert_eq!(journal["status"], "interrupted", "{journal}");
    assert_eq!(step_statuses(&journal), vec!["interrupted"]);
    // The provision was sent before the interruption: the transcript says
    // it may have been applied, and how the resume will find out.
    let transcript = transcript_text(home, &id);
    assert!(
        transcript.contains("sending: SAPI POST /instances")
            && transcript.contains("interrupted after sending SAPI POST /instances")
            && transcript.contains("it may have been applied; --resume asks"),
        "{transcript}"
    );

    let out = home.run(&["run", "--resume", &id, "--yes"]);
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let journal = home.journal(&id);
    assert_eq!(journal["status"], "ok", "{journal}");
    // Its check found papi1 already there: the action did not run again.
    assert_eq!(step_statuses(&journal), vec!["skipped"], "{journal}");
    assert_eq!(only_run(home), id, "the resume started a new run");

    assert_eq!(sapi_aliases(home, "papi"), vec!["papi0", "papi1"]);
    assert_eq!(live_vms(home, "papi1"), 1);
    // The interrupted request is logged although its client went away; a
    // second provision would be too.
    let posts = count(&home.mutating_requests(), "POST", "/instances");
    assert_eq!(posts, 1, "{posts} provisions of papi1");
}

#[test]
fn sigterm_during_a_step_of_a_file_runbook_then_resume() {
    let home = Home::with_lab("sigterm-file", SLOW);
    let file = home.root.join("provision-papi1.rhai");
    write(&file, PROVISION_PAPI1);
    signal_during_the_step_then_resume(
        &home,
        &["run", file.to_str().unwrap(), "--yes"],
        Signal::SIGTERM,
    );
}

/// A closed terminal (SIGHUP) interrupts a run as SIGTERM does.
#[test]
fn sighup_during_a_step_of_a_stdlib_runbook_then_resume() {
    let home = Home::with_lab("sighup-stdlib", SLOW);
    signal_during_the_step_then_resume(&home, &[SCALE_PAPI, &["--yes"]].concat(), Signal::SIGHUP);
}

// Found by these tests ----------------------------------------------------------

/// The run waits at its question; `interrupt` interrupts it there. It
/// must end at once, as interrupted, and resume.
fn interrupted_at_a_question(name: &str, interrupt: impl FnOnce(&mut Tty)) {
    let t = OnShared::new(name);
    let file = t.home.root.join("asks.rhai");
    write(&file, ASKS);
    let mut tty = Tty::spawn(t.command(&["run", file.to_str().unwrap()]));
    tty.expect("[y/N");
    interrupt(&mut tty);
    let start = Instant::now();
    while tty.child.try_wait().expect("wait").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still running 10s after the interrupt at the question; the terminal shows:\n{}",
            tty.shown()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, shown) = tty.wait_exit();
    assert_eq!(status.code(), Some(130), "{shown}");
    let id = only_run(&t.home);
    let journal = t.home.journal(&id);
    assert_eq!(journal["status"], "interrupted", "{journal}");
    assert_eq!(step_statuses(&journal), vec!["interrupted"]);
    let out = t.run(&["run", "--resume", &id, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(t.home.journal(&id)["status"], "ok");
}

// Interrupted at a confirmation question, the run ends at once: the
// blocking read of stdin is left behind, not waited for.

#[test]
fn sigterm_at_a_question_ends_the_run_at_once() {
    interrupted_at_a_question("term-at-question", |tty| {
        let pid = nix::unistd::Pid::from_raw(tty.pid() as i32);
        nix::sys::signal::kill(pid, Signal::SIGTERM).expect("SIGTERM");
    });
}

#[test]
fn ctrl_c_at_a_question_ends_the_run_at_once() {
    interrupted_at_a_question("ctrl-c-at-question", |tty| tty.type_keys("\x03"));
}

#[test]
fn run_json_asks_on_the_terminal_and_keeps_stdout_one_document() {
    let t = OnShared::new("json-tty");
    let file = t.home.root.join("asks.rhai");
    write(&file, ASKS);
    let printed = t.home.root.join("stdout.json");
    let mut command = t.command(&["run", "--json", file.to_str().unwrap()]);
    command.stdout(Stdio::from(
        File::create(&printed).expect("create stdout.json"),
    ));
    // stdin and stderr on the terminal; stdout to a file, as `> run.json`.
    let mut tty = Tty::spawn_with(command, false);
    tty.expect("[y/N");
    tty.answer("y");
    let (status, shown) = tty.wait_exit();
    assert_eq!(status.code(), Some(0), "{shown}");
    let stdout = std::fs::read_to_string(&printed).expect("read stdout.json");
    let journal: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{stdout}"));
    assert_eq!(journal["status"], "ok");
}
