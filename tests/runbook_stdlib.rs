//! Every stdlib runbook loads and dry-runs against a lab, with the
//! parameters of the `Example:` line its doc comment gives the operator.
//! A new runbook is covered by adding its file; a broken one cannot land.
//! And a runbook in the first form (final map, listed checks) still runs.

mod runbook_support;

use runbook_support::{Fingerprint, Home, text, write};

/// The `--param NAME=VALUE` pairs of the doc comment's example run.
fn example_params(name: &str, source: &str) -> Vec<String> {
    let line = source
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .find(|l| l.contains(&format!("tritonsh run {name} ")))
        .unwrap_or_else(|| {
            panic!("{name}: the doc comment has no `tritonsh run {name} …` example")
        });
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0] == "--param" || w[0] == "-p")
        .map(|w| w[1].to_string())
        .collect()
}

#[test]
fn every_stdlib_runbook_dry_runs_on_the_lab() {
    let home = Home::with_lab("stdlib", &[]);
    let stdlib = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib");
    let mut names: Vec<String> = std::fs::read_dir(&stdlib)
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_name()?.to_str()?.strip_suffix(".rhai")?;
            Some(name.to_string())
        })
        .collect();
    names.sort();
    assert!(names.len() >= 2, "{names:?}");
    let untouched = home.fingerprint();
    for name in &names {
        let source = std::fs::read_to_string(stdlib.join(format!("{name}.rhai"))).unwrap();
        assert!(
            source.contains("form: 2"),
            "{name}: stdlib runbooks are written in form 2"
        );
        let mut args = vec!["run".to_string(), name.clone(), "--dry-run".to_string()];
        for pair in example_params(name, &source) {
            args.extend(["--param".to_string(), pair]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let before = home.mutating_requests().len();
        let out = home.run(&args);
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: its example dry run failed: {stdout}{}",
            text(&out.stderr)
        );
        assert!(
            stdout.contains("Dry run ") && stdout.contains("nothing was sent"),
            "{name}: {stdout}"
        );
        assert!(
            stdout.contains("by hand: "),
            "{name}: the plan names no manual command: {stdout}"
        );
        assert_eq!(
            home.mutating_requests().len(),
            before,
            "{name}: a dry run sent a change"
        );
        assert_same(&untouched, &home.fingerprint(), name);
        let id = home.run_ids().pop().unwrap();
        assert_eq!(home.journal(&id)["status"], "planned", "{name}");
        // The transcript says where it ran, for whoever reads it later.
        let lab = std::fs::canonicalize(home.lab.as_ref().unwrap()).unwrap();
        let transcript =
            std::fs::read_to_string(home.runs_dir().join(&id).join("transcript.txt")).unwrap();
        assert!(
            transcript.contains(&format!("on the lab in {}", lab.display())),
            "{name}: {transcript}"
        );
    }
    a_runbook_in_the_first_form_still_runs(&home);
}

/// Which znode or database a dry run changed, if one did.
fn assert_same(before: &Fingerprint, after: &Fingerprint, name: &str) {
    for (path, was) in &before.znodes {
        assert_eq!(
            after.znodes.get(path),
            Some(was),
            "{name}: a dry run changed or removed the znode {path}"
        );
    }
    let added: Vec<&String> = after
        .znodes
        .keys()
        .filter(|p| !before.znodes.contains_key(*p))
        .collect();
    assert!(added.is_empty(), "{name}: a dry run created {added:?}");
    assert_eq!(
        before.databases, after.databases,
        "{name}: a dry run changed a database"
    );
}

/// A fresh lab whose shard an operator unfroze: ha-binder's plan freezes
/// it around the new members and ha-manatee's unfreezes it — in a dry run
/// both are shown, and neither is written (manatee's history once gained
/// two rows here).
#[test]
fn dry_runs_of_manatee_writes_leave_zookeeper_alone() {
    let home = Home::with_lab("stdlib-fresh", &["--profile", "fresh"]);
    home.must(&["manatee", "unfreeze"]);
    let untouched = home.fingerprint();
    let history = |home: &Home| home.must(&["manatee", "history", "-j"]).lines().count();
    let rows = history(&home);
    let plan = home.must(&[
        "run",
        "ha-binder",
        "--dry-run",
        "-p",
        "servers=headnode,cn1,cn2",
    ]);
    assert!(
        plan.contains("ZooKeeper setData /manatee/sdc/state {\"removed\":[],\"set\":{\"freeze\""),
        "the plan shows the freeze it would write: {plan}"
    );
    assert_same(&untouched, &home.fingerprint(), "ha-binder");
    home.must(&["manatee", "freeze", "-r", "one-node write"]);
    let untouched = home.fingerprint();
    let rows = rows + 1;
    let plan = home.must(&["run", "ha-manatee", "--dry-run", "-p", "servers=cn1,cn2"]);
    assert!(plan.contains("nothing was sent"), "{plan}");
    assert_same(&untouched, &home.fingerprint(), "ha-manatee");
    assert_eq!(history(&home), rows, "manatee's history gained a row");
    let show = home.json("manatee::show()");
    assert_eq!(show["frozen"], true, "{show}");
}

/// On the same lab: operators' own runbooks written before form 2.
fn a_runbook_in_the_first_form_still_runs(home: &Home) {
    let file = home.root.join("old.rhai");
    write(
        &file,
        r#"//! An operator's runbook from before form 2.
fn ready(p) { pass(`${p.who} is ready`) }
fn plan(p) { [ #{ name: `greet ${p.who}`, action: "greet", verify: "greeted", mutates: false, args: #{ who: p.who } } ] }
fn greet(a) { `hello ${a.who}` }
fn greeted(a) { pass("greeted") }
#{ version: "1.0.0", params: [ #{ name: "who", default_value: "world", complete: "[\"world\"]" } ], checks: ["ready"] }
"#,
    );
    let out = home.must(&["run", file.to_str().unwrap(), "--param", "who=ops"]);
    assert!(out.contains("✓ ops is ready"), "{out}");
    assert!(out.contains("hello ops"), "{out}");
    assert!(out.contains("ok, 1 of 1 steps done"), "{out}");
}
