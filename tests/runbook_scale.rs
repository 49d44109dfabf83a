//! scale-service and remove-instance against a lab: the dry run sends
//! nothing and places by Triton's advice (cn3, which runs no core instance,
//! first; the same plan twice), the run puts papi1 and papi2 on two
//! different compute nodes, and remove-instance refuses what it must refuse.

mod runbook_support;

use runbook_support::{Home, text};

#[test]
fn dry_run_then_scale_then_remove() {
    let home = Home::with_lab("scale", &[]);

    // Dry run: the plan, the requests it would send, and none sent.
    let before = home.mutating_requests().len();
    let seen = home.requests().len();
    let plan = home.must(&[
        "run",
        "scale-service",
        "--param",
        "service=papi",
        "--param",
        "count=2",
        "--dry-run",
    ]);
    assert!(
        plan.contains("1. provision papi1 on cn3: no core instance"),
        "{plan}"
    );
    assert!(
        plan.contains(
            "2. provision papi2 on cn1: no papi; fewest core instances (3: binder, manatee, moray), tied with cn2: first by hostname"
        ),
        "{plan}"
    );
    assert!(
        plan.contains("in the order they will be used: cn3: no core instance; cn1: "),
        "the preflight lists the servers in the order they are used: {plan}"
    );
    assert!(plan.contains("would send: SAPI POST /instances"), "{plan}");
    assert!(plan.contains("by hand: sdcadm create papi -s "), "{plan}");
    assert!(
        plan.contains("✓ the service runs as several instances: papi has 1 instance(s)"),
        "a check's title and verdict: {plan}"
    );
    assert!(plan.contains(r#""alias":"papi1""#), "{plan}");
    // The same datacenter, the same plan.
    let again = home.must(&[
        "run",
        "scale-service",
        "--param",
        "service=papi",
        "--param",
        "count=2",
        "--dry-run",
    ]);
    let steps = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(steps(&plan), steps(&again));
    assert_eq!(
        home.mutating_requests().len(),
        before,
        "a dry run sent a mutating request"
    );
    // The plan was computed from the lab (reads), so the log did see the run:
    // "no mutating request" is not an empty or missing log.
    assert!(home.requests().len() > seen, "the dry run read nothing");
    assert_eq!(home.instances("papi").len(), 1);

    // The run: two instances, two different compute nodes, all running.
    let out = home.must(&[
        "run",
        "scale-service",
        "--param",
        "service=papi",
        "--param",
        "count=2",
        "--yes",
    ]);
    assert!(
        out.contains("Run ") && out.contains(": ok, 2 of 2 steps done."),
        "{out}"
    );
    let papi = home.instances("papi");
    let new: Vec<_> = papi
        .iter()
        .filter(|(alias, _, _)| alias != "papi0")
        .collect();
    assert_eq!(new.len(), 2, "{papi:?}");
    assert_eq!(new[0].0, "papi1");
    assert_eq!(new[0].1, "cn3");
    assert_eq!(new[1].0, "papi2");
    assert_ne!(new[0].1, new[1].1, "both on one server: {papi:?}");
    assert!(
        new.iter()
            .all(|(_, server, state)| server.starts_with("cn") && state == "running"),
        "{papi:?}"
    );
    let posts = home
        .mutating_requests()
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["path"] == "/instances")
        .count();
    assert_eq!(posts, 2);

    // Every run, dry or not, left a journal and a transcript.
    let ids = home.run_ids();
    assert_eq!(ids.len(), 3);
    for id in &ids {
        let dir = home.runs_dir().join(id);
        for file in ["journal.json", "transcript.jsonl", "transcript.txt"] {
            assert!(dir.join(file).is_file(), "{id}: no {file}");
        }
        let journal = home.journal(id);
        assert_eq!(journal["runbook"], "scale-service");
        assert_eq!(journal["version"], "2.4.0");
        // The facts gathered once are kept beside the plan.
        assert_eq!(journal["context"]["service"]["name"], "papi");
    }
    assert_eq!(home.journal(&ids[0])["status"], "planned");
    assert_eq!(home.journal(&ids[2])["status"], "ok");
    let transcript =
        std::fs::read_to_string(home.runs_dir().join(&ids[2]).join("transcript.jsonl")).unwrap();
    assert!(
        transcript.contains(r#""event":"answer""#) && transcript.contains("--yes"),
        "{transcript}"
    );

    // A destructive step without a terminal and without its name: one
    // line naming the flag, and nothing sent. --force is not its name.
    let before = home.mutating_requests().len();
    let out = home.run(&[
        "run",
        "remove-instance",
        "--param",
        "instance=papi2",
        "--yes",
        "--force",
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("destroys papi2") && err.contains("add --confirm papi2 to answer it"),
        "{err}"
    );
    assert_eq!(home.mutating_requests().len(), before);

    // Quorum services need --force, and say why.
    let out = home.run(&[
        "run",
        "remove-instance",
        "--param",
        "instance=binder1",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("majority (2 of 3)") && err.contains("add --force"),
        "{err}"
    );
    // With 2 of 3 members left, one more failure stops binder (issue 11, 16).
    assert!(
        err.contains("once it is gone 1 more failure(s) would stop binder"),
        "{err}"
    );

    // manatee's primary and sync are never removed, --force or not: the
    // refusal names the peer to promote first.
    for (peer, role, promote) in [
        ("manatee0", "primary", "-r sync -n"),
        ("manatee1", "sync", "-r async -n"),
    ] {
        let out = home.run(&[
            "run",
            "remove-instance",
            "--param",
            &format!("instance={peer}"),
            "--force",
            "--confirm",
            peer,
        ]);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("{peer} is the shard's {role}"))
                && err.contains(&format!("tritonsh manatee promote {promote} ")),
            "{err}"
        );
    }
    assert_eq!(home.mutating_requests().len(), before);

    // With its name confirmed, papi2 goes; papi1 and papi0 stay.
    home.must(&[
        "run",
        "remove-instance",
        "--param",
        "instance=papi2",
        "--confirm",
        "papi2",
    ]);
    let aliases: Vec<String> = home.instances("papi").into_iter().map(|i| i.0).collect();
    assert_eq!(aliases, vec!["papi0".to_string(), "papi1".to_string()]);
}

#[test]
fn the_last_instance_is_never_removed() {
    let home = Home::with_lab("last", &[]);
    let out = home.run(&[
        "run",
        "remove-instance",
        "--param",
        "instance=papi0",
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("papi0 is the only instance of papi"), "{err}");
    assert!(home.mutating_requests().is_empty());

    // A service that does not exist: said once, with the ones that do, and
    // without the script's line (the transcript keeps it for the author).
    let out = home.run(&[
        "run",
        "scale-service",
        "--param",
        "service=nosuch",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(err.matches("no service named nosuch").count(), 1, "{err}");
    assert!(err.contains("(services: ") && err.contains("papi"), "{err}");
    assert!(
        !err.contains("position") && !err.contains("--force"),
        "{err}"
    );
    assert_eq!(home.instances("papi").len(), 1);
}

/// Issue 11, item 19: an image that is not a UUID and a server named twice
/// are refused before any step; an image the datacenter does not have is
/// refused by VMAPI (through SAPI), and SAPI keeps no record of it.
#[test]
fn bad_images_and_a_server_named_twice_are_refused() {
    let home = Home::with_lab("images", &[]);
    let scale = |extra: &[&str]| {
        home.run(&[&["run", "scale-service", "-p", "service=papi"], extra].concat())
    };

    let out = scale(&["-p", "image=not-a-uuid", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("image not-a-uuid is not an image UUID (sdc-imgadm list shows them)"),
        "{err}"
    );

    let out = scale(&["-p", "count=2", "-p", "servers=cn1,cn1", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(r#"["cn1"] named more than once"#) && err.contains("add --force"),
        "{err}"
    );
    assert!(home.mutating_requests().is_empty());

    let unknown = "00000000-0000-4000-8000-000000000001";
    let out = scale(&["-p", &format!("image={unknown}"), "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("SAPI POST /instances: 409 ValidationFailed: Invalid VM parameters (image_uuid: Image not found)"),
        "{err}"
    );
    assert_eq!(home.instances("papi").len(), 1, "SAPI kept the instance");

    // The service's own image is one the datacenter has.
    let out = home.must(&[
        "--json",
        "-c",
        r#"let s = sapi::service_named("papi");
           sapi::create_instance(#{ service_uuid: s.uuid, params: #{ alias: "papi7", image_uuid: s.params.image_uuid } }).params.alias"#,
    ]);
    assert_eq!(out.trim(), r#""papi7""#);
}

/// Issue 15, item 10: a count out of range is refused before the runbook
/// runs any code — once a million instances were placed (17 GB) before the
/// check that allows ten. No datacenter is needed to say so.
#[test]
fn a_count_out_of_range_is_refused_before_anything_runs() {
    let home = Home::new("huge-count");
    let out = home.run(&[
        "run",
        "scale-service",
        "-p",
        "service=papi",
        "-p",
        "count=1000000",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(
            "error: scale-service: parameter count: must be between 1 and 10, got 1000000;"
        ),
        "{err}"
    );
    assert!(home.run_ids().is_empty(), "no run was started");
}
