//! The manatee runbooks on a lab with real PostgreSQL and ZooKeeper:
//! `manatee-async-rebuild` after a server with a peer is lost (the async's,
//! the sync's, the primary's), and `ha-manatee` from a `fresh` lab's lone
//! peer to three, killed mid-way and resumed. Rows committed before a loss
//! are counted after it, on the new peer too.

mod lab_support;
mod manatee_support;
mod runbook_support;

use std::time::Duration;

use lab_support::eventually;

use manatee_support::psql;
use runbook_support::{Home, text};

fn ip_of(home: &Home, alias: &str) -> String {
    home.json(&format!(r#"vmapi::by_alias("{alias}").nics[0].ip"#))
        .as_str()
        .expect("an IP")
        .to_string()
}

/// `role alias` for each peer in manatee-adm's order, from `manatee::show()`.
fn roles(home: &Home) -> Vec<String> {
    let code = r#"manatee::show().peers.map(|p| `${p.role} ${vmapi::get(p.peername).alias}`)"#;
    serde_json::from_value(home.json(code)).expect("a list")
}

/// Commits 42 rows on the primary at `ip`.
fn write_rows(ip: &str) {
    psql(
        ip,
        "create table rows (n int); insert into rows select generate_series(1, 42)",
    )
    .expect("the primary takes writes");
}

fn rows_on(ip: &str) -> Option<String> {
    psql(ip, "select count(*) from rows").ok()
}

/// `server-down`, then the operator forgets the server in CNAPI, once
/// ZooKeeper serves again (a binder member goes with every compute node,
/// and the others elect a leader for a moment).
fn lose_server(home: &Home, hostname: &str) {
    power_off(home, hostname);
    home.json(&format!(r#"cnapi::forget("{hostname}"); true"#));
}

/// `server-down`, until ZooKeeper serves again.
fn power_off(home: &Home, hostname: &str) {
    home.must(&["lab", "fault", "server-down", hostname]);
    let serving = eventually(Duration::from_secs(30), || {
        home.run(&["manatee", "zk-state"])
            .status
            .success()
            .then_some(())
    });
    assert!(
        serving.is_some(),
        "ZooKeeper did not serve again after losing {hostname}"
    );
}

/// Runs the runbook to its end and says what it printed.
fn rebuild(home: &Home, args: &[&str]) -> String {
    let out = home.run(&[&["run", "manatee-async-rebuild", "--yes"], args].concat());
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "manatee-async-rebuild failed:\n{stdout}\n{}",
        text(&out.stderr)
    );
    stdout
}

fn verify_clean(home: &Home) {
    let out = home.run(&["manatee", "verify", "-v"]);
    assert_eq!(
        text(&out.stdout),
        "all checks passed\n",
        "{}",
        text(&out.stderr)
    );
    assert!(out.status.success());
}

#[test]
fn a_lost_async_is_replaced_by_a_new_peer_with_every_row() {
    let home = Home::with_lab("mar-async", &["--profile", "ha"]);
    write_rows(&ip_of(&home, "manatee0"));
    lose_server(&home, "cn2");

    // The dry run names the loss, what it risks, and the request it stands for.
    let plan = home.must(&["run", "manatee-async-rebuild", "--dry-run"]);
    assert!(plan.contains("lost: manatee2"), "{plan}");
    assert!(plan.contains("provision manatee3 on cn3"), "{plan}");
    assert!(
        plan.contains("by hand: sdc-sapi /instances -X POST"),
        "{plan}"
    );

    rebuild(&home, &[]);
    assert_eq!(
        roles(&home),
        ["primary manatee0", "sync manatee1", "async manatee3"]
    );
    verify_clean(&home);
    assert_eq!(rows_on(&ip_of(&home, "manatee3")).as_deref(), Some("42"));

    // The lost peer's SAPI record can go: its forgotten server is said so
    // (it was a raw CNAPI 404).
    let plan = home.must(&[
        "run",
        "remove-instance",
        "-p",
        "instance=manatee2",
        "--force",
        "--dry-run",
    ]);
    assert!(
        plan.contains("remove manatee2 from a server CNAPI no longer knows"),
        "{plan}"
    );
    assert!(
        plan.contains("manatee2 holds no role in the shard"),
        "{plan}"
    );

    // Again: nothing to do, nothing sent.
    let sent = home.mutating_requests().len();
    let again = rebuild(&home, &[]);
    assert!(again.contains("nothing to rebuild"), "{again}");
    assert_eq!(home.mutating_requests().len(), sent);
}

#[test]
fn a_lost_sync_is_replaced_after_the_primary_takes_the_async_as_sync() {
    let home = Home::with_lab("mar-sync", &["--profile", "ha"]);
    write_rows(&ip_of(&home, "manatee0"));
    lose_server(&home, "cn1");

    // A server that already has a peer is refused unless forced.
    let out = home.run(&[
        "run",
        "manatee-async-rebuild",
        "--param",
        "server=cn2",
        "--yes",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("cn2 already runs a manatee peer"),
        "{}",
        text(&out.stdout)
    );

    rebuild(&home, &["--param", "server=cn3"]);
    assert_eq!(
        roles(&home),
        ["primary manatee0", "sync manatee2", "async manatee3"]
    );
    verify_clean(&home);
    assert_eq!(rows_on(&ip_of(&home, "manatee3")).as_deref(), Some("42"));
}

/// A lost compute node that comes back before it is forgotten: its peer
/// rejoins behind the one that replaced it and streams from it, which
/// needs the older WAL that manatee's whole-dataset copy carries.
#[test]
fn a_returning_peer_streams_behind_the_peer_that_replaced_it() {
    let home = Home::with_lab("mar-return", &["--profile", "ha"]);
    write_rows(&ip_of(&home, "manatee0"));
    power_off(&home, "cn1");
    // Rows and a new WAL segment while manatee1 is away: it must fetch
    // them from a segment older than manatee3's copy.
    let primary = ip_of(&home, "manatee0");
    let sql = "insert into rows select generate_series(43, 84); select pg_switch_wal()";
    let written = eventually(Duration::from_secs(30), || psql(&primary, sql).ok());
    assert!(
        written.is_some(),
        "the primary took no writes with its new sync"
    );
    rebuild(&home, &["--param", "server=cn3"]);
    assert_eq!(
        roles(&home),
        ["primary manatee0", "sync manatee2", "async manatee3"]
    );

    home.must(&["lab", "fault", "server-up", "cn1"]);
    let want = [
        "primary manatee0",
        "sync manatee2",
        "async manatee3",
        "async manatee1",
    ];
    let clean = eventually(Duration::from_secs(90), || {
        let verified = home.run(&["manatee", "verify"]);
        (roles(&home) == want && verified.status.success()).then_some(())
    });
    assert!(
        clean.is_some(),
        "{:?}: {}",
        roles(&home),
        text(&home.run(&["manatee", "show", "-v"]).stdout)
    );
    let manatee1 = ip_of(&home, "manatee1");
    let rows = manatee_support::psql_eventually(&manatee1, "select count(*) from rows", "84", 30);
    assert!(rows, "{:?}", psql(&manatee1, "select count(*) from rows"));
}

/// The primary is on the headnode in a new lab: moved to cn1 first (the
/// primary stopped, the sync takes over, and the old primary, back,
/// rebuilt by the runbook), then cn1 is lost.
#[test]
fn a_lost_primary_is_taken_over_reaped_and_replaced() {
    let home = Home::with_lab("mar-primary", &["--profile", "ha"]);
    write_rows(&ip_of(&home, "manatee0"));

    home.must(&["lab", "fault", "stop", "manatee0"]);
    let moved = eventually(Duration::from_secs(60), || {
        roles(&home)
            .contains(&"deposed manatee0".to_string())
            .then_some(())
    });
    assert!(moved.is_some(), "no takeover: {:?}", roles(&home));
    home.must(&["lab", "fault", "start", "manatee0"]);
    let out = rebuild(&home, &[]);
    assert!(out.contains("rebuild manatee0 on headnode"), "{out}");
    assert_eq!(
        roles(&home),
        ["primary manatee1", "sync manatee2", "async manatee0"]
    );
    ha_manatee_finds_nothing_to_do(&home);

    lose_server(&home, "cn1");
    let out = rebuild(&home, &[]);
    assert!(out.contains("reap manatee1"), "{out}");
    assert_eq!(
        roles(&home),
        ["primary manatee2", "sync manatee0", "async manatee3"]
    );
    verify_clean(&home);
    for alias in ["manatee2", "manatee0", "manatee3"] {
        assert_eq!(
            rows_on(&ip_of(&home, alias)).as_deref(),
            Some("42"),
            "{alias}"
        );
    }
}

/// ha-manatee run again on a shard already in HA whose primary moved off
/// manatee0: its checks pass and it sends nothing.
fn ha_manatee_finds_nothing_to_do(home: &Home) {
    let before = home.mutating_requests().len();
    let out = home.must(&["run", "ha-manatee", "--param", "servers=cn1,cn2", "--yes"]);
    assert!(out.contains("the shard is already in HA"), "{out}");
    assert!(out.contains("manatee2 is the shard's sync"), "{out}");
    assert_eq!(home.mutating_requests().len(), before, "{out}");
}

/// sdcadm's ha-manatee on a `fresh` lab: killed once manatee1 exists, the
/// run resumes from its journal and ends with three peers, each row on each.
#[test]
fn ha_manatee_takes_a_fresh_shard_to_three_peers_and_resumes_when_killed() {
    let home = Home::with_lab("ha-manatee", &["--profile", "fresh"]);
    assert_eq!(roles(&home), ["primary manatee0"]);
    write_rows(&ip_of(&home, "manatee0"));

    let out = home.run(&["run", "ha-manatee", "--param", "servers=cn1,cn1", "--yes"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("cn1 is named twice"),
        "{}",
        text(&out.stdout)
    );
    let plan = home.must(&[
        "run",
        "ha-manatee",
        "--param",
        "servers=cn1,cn2",
        "--dry-run",
    ]);
    assert!(plan.contains("create manatee1 on cn1"), "{plan}");
    assert!(plan.contains("by hand: "), "{plan}");

    let mut child = home
        .command(&["run", "ha-manatee", "--param", "servers=cn1,cn2", "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn tritonsh");
    let created = eventually(Duration::from_secs(60), || {
        home.instances("manatee")
            .iter()
            .any(|(alias, _, _)| alias == "manatee1")
            .then_some(())
    });
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(created.is_some(), "manatee1 never appeared");

    let killed: Vec<String> = home
        .run_ids()
        .into_iter()
        .filter(|id| home.journal(id)["status"] == "running")
        .collect();
    assert_eq!(killed.len(), 1, "{killed:?}");
    let out = home.run(&["run", "--resume", &killed[0], "--yes"]);
    assert!(
        out.status.success(),
        "resume failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        roles(&home),
        ["primary manatee0", "sync manatee1", "async manatee2"]
    );
    verify_clean(&home);
    for alias in ["manatee1", "manatee2"] {
        assert_eq!(
            rows_on(&ip_of(&home, alias)).as_deref(),
            Some("42"),
            "{alias}"
        );
    }
    assert_eq!(
        home.instances("manatee").len(),
        3,
        "a resumed run created a duplicate"
    );
}
