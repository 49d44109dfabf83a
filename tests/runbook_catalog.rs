//! `tritonsh runbook list/show/export` and local overrides, which take
//! effect without a rebuild.

mod runbook_support;

use runbook_support::{Home, text, write};

fn listed(home: &Home) -> Vec<serde_json::Value> {
    serde_json::from_str(&home.must(&["runbook", "list", "--json"])).expect("list --json")
}

fn entry(list: &[serde_json::Value], name: &str) -> serde_json::Value {
    list.iter()
        .find(|e| e["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} not listed: {list:?}"))
}

#[test]
fn list_show_export_and_local_copies() {
    let home = Home::new("catalog");
    let list = listed(&home);
    let scale = entry(&list, "scale-service");
    assert_eq!(scale["version"], "2.4.0");
    assert_eq!(scale["source"], "stdlib");
    assert_eq!(
        scale["summary"],
        "Add instances of a stateless service, spread over the compute nodes."
    );
    assert_eq!(entry(&list, "remove-instance")["source"], "stdlib");
    let table = home.must(&["runbook", "list"]);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(
        table.contains("scale-service") && table.contains("2.4.0"),
        "{table}"
    );

    let shown = home.must(&["runbook", "show", "scale-service"]);
    assert!(
        shown.starts_with("//! Add instances of a stateless service"),
        "{shown}"
    );

    // Export: an identical local copy, then an edited one.
    let path = home.must(&["runbook", "export", "scale-service"]);
    let path = std::path::PathBuf::from(path.trim());
    assert_eq!(path, home.runbook_dir().join("scale-service.rhai"));
    assert_eq!(
        entry(&listed(&home), "scale-service")["source"],
        "local, same as stdlib 2.4.0"
    );
    let out = home.run(&["runbook", "export", "scale-service"]);
    assert!(
        text(&out.stderr).contains("already exists"),
        "export overwrote a local copy"
    );

    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("version: \"2.4.0\"", "version: \"2.0.1-local\"");
    write(&path, &edited);
    let scale = entry(&listed(&home), "scale-service");
    assert_eq!(scale["version"], "2.0.1-local");
    assert_eq!(scale["source"], "local, edited from stdlib 2.4.0");
    assert!(
        home.must(&["runbook", "show", "scale-service"])
            .contains("2.0.1-local")
    );

    // A runbook only the operator has.
    write(
        &home.runbook_dir().join("mine.rhai"),
        "//! Mine.\nfn plan(p) { [] }\n#{ version: \"0.1\" }\n",
    );
    let mine = entry(&listed(&home), "mine");
    assert_eq!(
        (mine["source"].as_str(), mine["version"].as_str()),
        (Some("local"), Some("0.1"))
    );

    // A broken local runbook is listed with its error, not hidden.
    write(
        &home.runbook_dir().join("broken.rhai"),
        "fn plan(p) { [ }\n",
    );
    let broken = entry(&listed(&home), "broken");
    assert!(
        broken["summary"]
            .as_str()
            .unwrap()
            .starts_with("cannot load: runbook broken:"),
        "{broken}"
    );
}

#[test]
fn a_local_override_runs_instead_of_the_stdlib() {
    let home = Home::with_lab("override", &[]);
    // Same name as the stdlib runbook, different behaviour: one harmless
    // step that says where it came from.
    write(
        &home.runbook_dir().join("scale-service.rhai"),
        r#"//! Local scale-service.
fn plan(p) { [ #{ name: `local plan for ${p.service}`, action: "hello", mutates: false } ] }
fn hello(a) { "from the local copy" }
#{ version: "7.0.0", params: [ #{ name: "service" } ] }
"#,
    );
    let out = home.must(&["run", "scale-service", "--param", "service=papi"]);
    assert!(out.contains("scale-service 7.0.0 ("), "{out}");
    assert!(out.contains("local plan for papi"), "{out}");
    assert!(out.contains("from the local copy"), "{out}");
    assert!(home.mutating_requests().is_empty());
    let id = home.run_ids().pop().unwrap();
    assert_eq!(home.journal(&id)["version"], "7.0.0");
    assert_eq!(home.journal(&id)["origin"]["kind"], "local");

    // The same run from a script: `run("name", #{params})` returns the journal.
    let out = home.must(&["-c", r#"let r = run("scale-service", #{ service: "cloudapi" }); `${r.status} ${r.steps[0].name}`"#]);
    assert!(out.contains("ok local plan for cloudapi"), "{out}");
    let out = home.run(&["-c", r#"run("scale-service", #{ sevice: "x" })"#]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr)
            .contains("unknown parameter 'sevice'; parameters: service (string, required)"),
        "{}",
        text(&out.stderr)
    );
}
