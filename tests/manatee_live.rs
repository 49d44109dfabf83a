//! `tritonsh manatee …` against a live `ha` lab: real ZooKeeper and three
//! real PostgreSQL 15 peers. One lab answers every read (and the bad inputs,
//! which live under other shard names); the writes get their own lab.

mod lab_support;

use std::net::TcpListener;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use lab_support::{BIN, Lab};
use zookeeper_client as zkc;

fn manatee(lab: &Lab, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("--lab").arg(&lab.dir).arg("manatee").args(args);
    cmd.env("NO_COLOR", "1")
        .env_remove("ZK_IPS")
        .env_remove("SHARD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run tritonsh manatee")
}

fn text(out: &Output) -> (String, String, i32) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

fn zk_members(lab: &Lab) -> Vec<String> {
    lab.status()["zk"]
        .as_array()
        .expect("the lab's zk list")
        .iter()
        .filter_map(|m| m.as_str().map(String::from))
        .collect()
}

/// Writes `data` at `/manatee/<shard>/state` (parents made), as a sitter
/// would, through the lab's ZooKeeper.
fn put_state(members: &[String], shard: &str, data: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = zkc::Client::connect(&members.join(",")).await.expect("zk");
        let persistent = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all());
        for p in ["/manatee".to_string(), format!("/manatee/{shard}")] {
            let _ = client.create(&p, &[], &persistent).await;
        }
        let path = format!("/manatee/{shard}/state");
        match client.create(&path, data.as_bytes(), &persistent).await {
            Ok(_) => {}
            Err(zkc::Error::NodeExists) => {
                client.set_data(&path, data.as_bytes(), None).await.unwrap();
            }
            Err(e) => panic!("{path}: {e}"),
        }
    });
}

fn peer_json(ip: &str, port: u16, zone: &str) -> String {
    format!(
        r#"{{"id":"{ip}:{port}:12345","zoneId":"{zone}","ip":"{ip}","pgUrl":"tcp://postgres@{ip}:{port}/postgres","backupUrl":"http://{ip}:12345"}}"#
    )
}

/// Is every line of a `verify` either absent or the lab's known gap: on
/// loopback `client_addr` is 127.0.0.1 unless the lab installs local routes.
fn only_loopback_addr_issues(stdout: &str) -> bool {
    stdout.lines().all(|l| {
        l.contains("expected downstream peer to be") && l.ends_with("but found \"127.0.0.1\"")
    })
}

#[test]
fn live_reads_and_bad_inputs() {
    let lab = Lab::up("manatee-live-reads", &["--profile", "ha"]);

    // show: three peers in the chain, every PostgreSQL answering.
    let out = manatee(&lab, &["show", "-v"], &[]);
    let (stdout, stderr, rc) = text(&out);
    assert_eq!(rc, 0, "{stdout}{stderr}");
    let members = zk_members(&lab);
    assert!(
        stdout.starts_with(&format!(
            "zookeeper:   {}\ncluster:     sdc\n",
            members.join(",")
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("mode:        normal\nfreeze:      not frozen\n"),
        "{stdout}"
    );
    for role in ["primary  ", "sync     ", "async    "] {
        assert_eq!(
            stdout.lines().filter(|l| l.starts_with(role)).count(),
            2,
            "{role}: {stdout}"
        );
    }
    assert!(!stdout.contains(" fail "), "{stdout}");

    // --zk as given is printed verbatim.
    let first = members[0].trim_end_matches(":2181").to_string();
    let (stdout, _, _) = text(&manatee(&lab, &["show"], &[("ZK_IPS", &first)]));
    assert!(
        stdout.starts_with(&format!("zookeeper:   {first}\n")),
        "{stdout}"
    );

    // peers: the committed format.
    let (stdout, _, rc) = text(&manatee(&lab, &["peers", "-H", "-o", "role"], &[]));
    assert_eq!((stdout.as_str(), rc), ("primary \nsync    \nasync   \n", 0));
    let (_, stderr, rc) = text(&manatee(&lab, &["peers", "-o", "pg-sent"], &[]));
    assert_eq!(rc, 2, "{stderr}");
    assert!(
        stderr.contains("column not available with this subcommand: \"SENT\""),
        "{stderr}"
    );

    // The shell's PostgreSQL sessions only read: a write is refused by the
    // primary itself, so no query can change the shard outside the gate.
    let state: serde_json::Value =
        serde_json::from_str(&text(&manatee(&lab, &["zk-state"], &[])).0).expect("state");
    let primary = state["primary"]["pgUrl"]
        .as_str()
        .expect("pgUrl")
        .to_string();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let refused = rt.block_on(tritonsh::dc::manatee::pg_query::first_row_of(
        &primary,
        "create table written_by_a_read (n int)",
    ));
    // A database error reads "postgres: " as manatee-adm prints it.
    assert_eq!(refused, Err("postgres: ".to_string()));
    let table = rt.block_on(tritonsh::dc::manatee::pg_query::first_row_of(
        &primary,
        "select to_regclass('written_by_a_read')::text",
    ));
    assert_eq!(table, Ok(vec![None]), "the table was created");

    // pg-status: the primary streams to the sync as sync, the sync to the async.
    let (stdout, _, rc) = text(&manatee(
        &lab,
        &["pg-status", "-H", "-o", "role,pg-online,pg-repl"],
        &[],
    ));
    assert_eq!(rc, 0);
    assert_eq!(
        stdout,
        "primary  ok   sync \nsync     ok   async\nasync    ok   -    \n"
    );
    let started = Instant::now();
    let (stdout, _, _) = text(&manatee(
        &lab,
        &["pg-status", "-H", "-o", "role", "1", "2"],
        &[],
    ));
    assert_eq!(stdout.matches("primary").count(), 2, "{stdout}");
    assert!(started.elapsed() >= Duration::from_secs(1));

    // verify: healthy but for the lab's loopback addresses (see helper).
    let (stdout, _, rc) = text(&manatee(&lab, &["verify"], &[]));
    if stdout.is_empty() {
        assert_eq!(rc, 0);
    } else {
        assert!(only_loopback_addr_issues(&stdout), "{stdout}");
        assert_eq!(rc, 1);
    }

    // history, zk-state, zk-active.
    let (stdout, _, rc) = text(&manatee(&lab, &["history", "-v"], &[]));
    assert_eq!(rc, 0);
    assert!(
        stdout.starts_with(
            "TIME                     G# MODE  FRZ PRIMARY  SYNC     ASYNC    DEPOSED  SUMMARY\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("cluster setup for normal (multi-peer) mode"),
        "{stdout}"
    );
    let (stdout, _, _) = text(&manatee(&lab, &["history", "-j"], &[]));
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert!(
        first["zkSeq"].as_str().is_some_and(|s| s.len() == 10),
        "{first}"
    );
    let (stdout, _, rc) = text(&manatee(&lab, &["zk-state"], &[]));
    assert_eq!(rc, 0);
    assert_eq!(stdout.lines().count(), 1);
    let state: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(state["async"].as_array().map(Vec::len), Some(1));
    let (stdout, _, _) = text(&manatee(&lab, &["zk-active"], &[]));
    let active: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(active.as_object().map(|o| o.len()), Some(3), "{active}");

    // snapshot round trip: the file renders as the live shard did.
    let file = lab.dir.join("shard.json");
    let (snap, _, rc) = text(&manatee(&lab, &["snapshot"], &[]));
    assert_eq!(rc, 0);
    std::fs::write(&file, &snap).unwrap();
    let f = file.to_str().unwrap();
    let (offline, _, rc) = text(&manatee(&lab, &["peers", "--snapshot", f], &[]));
    assert_eq!(rc, 0);
    assert_eq!(offline, text(&manatee(&lab, &["peers"], &[])).0);
    // show needs no ZK_IPS or SHARD: the snapshot says where it was taken.
    let (offline, err, rc) = text(&manatee(&lab, &["show", "--snapshot", f], &[]));
    assert_eq!(rc, 0, "{err}");
    let live = text(&manatee(&lab, &["show"], &[])).0;
    assert_eq!(
        offline.lines().take(2).collect::<Vec<_>>(),
        live.lines().take(2).collect::<Vec<_>>()
    );

    // Rhai.
    let out = Command::new(BIN)
        .arg("--lab")
        .arg(&lab.dir)
        .args([
            "-c",
            "manatee::show().peers.len() == 3 && manatee::peers()[0].role == \"primary\"",
        ])
        .env_remove("ZK_IPS")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "true",
        "{out:?}"
    );

    // Bad inputs, each one line.
    let one_line = |out: &Output, want: &str| {
        let (stdout, stderr, rc) = text(out);
        assert_eq!(rc, 1, "{stdout}{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(want), "want {want:?} in {stderr}");
    };
    one_line(
        &manatee(&lab, &["show", "-s", "nosuch"], &[]),
        "No state exists for shard nosuch",
    );
    put_state(&members, "badjson", "{not json");
    one_line(
        &manatee(&lab, &["show", "-s", "badjson"], &[]),
        "/manatee/badjson/state on ZooKeeper",
    );
    let zone = "aaaaaaaa-0000-0000-0000-000000000001";
    let state = |primary: &str, sync: &str| {
        format!(
            r#"{{"generation":1,"primary":{primary},"sync":{sync},"async":[],"deposed":[],"initWal":"0/0"}}"#
        )
    };
    put_state(
        &members,
        "noprimary",
        &state("null", &peer_json("127.0.0.1", 1, zone)),
    );
    one_line(
        &manatee(&lab, &["show", "-s", "noprimary"], &[]),
        "names no primary",
    );
    // Nothing listens at 127.0.0.1:1: refused, as node reports it.
    put_state(
        &members,
        "refused",
        &state(&peer_json("127.0.0.1", 1, zone), "null"),
    );
    let (stdout, _, _) = text(&manatee(&lab, &["show", "-s", "refused"], &[]));
    assert!(stdout.contains("primary  aaaaaaaa fail "), "{stdout}");
    assert!(
        stdout
            .contains("error: cannot query postgres on primary: peer \"aaaaaaaa\": ECONNREFUSED\n"),
        "{stdout}"
    );
    // A peer that accepts and never answers.
    let hang = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hang.local_addr().unwrap().port();
    put_state(
        &members,
        "hangs",
        &state(&peer_json("127.0.0.1", port, zone), "null"),
    );
    let started = Instant::now();
    let (stdout, _, _) = text(&manatee(&lab, &["show", "-s", "hangs"], &[]));
    assert!(
        stdout.contains("peer \"aaaaaaaa\": postgres request timed out\n"),
        "{stdout}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(hang);
    // verify keeps manatee-adm's stdout line.
    let (stdout, stderr, rc) = text(&manatee(&lab, &["verify", "-s", "nosuch"], &[]));
    assert_eq!(
        (stdout.as_str(), rc),
        ("error: failed to fetch cluster state\n", 1),
        "{stderr}"
    );
    // No ZooKeeper at all.
    let (_, stderr, rc) = text(&manatee(&lab, &["show"], &[("ZK_IPS", "127.0.0.1:1")]));
    assert_eq!(rc, 1);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("ZooKeeper 127.0.0.1:1: connection refused by every member"),
        "{stderr}"
    );
}

#[test]
fn writes_are_test_and_set_with_a_history_node() {
    let lab = Lab::up("manatee-live-writes", &["--profile", "ha"]);
    let history = |lab: &Lab| {
        text(&manatee(lab, &["history", "-j"], &[]))
            .0
            .lines()
            .count()
    };
    let before = history(&lab);

    let (stdout, stderr, rc) = text(&manatee(&lab, &["freeze", "-r", "maintenance"], &[]));
    assert_eq!((stdout.as_str(), rc), ("Frozen.\n", 0), "{stderr}");
    let (stdout, _, _) = text(&manatee(&lab, &["show"], &[]));
    assert!(stdout.contains("freeze info: maintenance\n"), "{stdout}");
    let (_, stderr, rc) = text(&manatee(&lab, &["freeze", "-r", "again"], &[]));
    assert_eq!(rc, 1);
    assert!(
        stderr.contains("shard is already been frozen: maintenance"),
        "{stderr}"
    );
    // While frozen, so that the primary does not act on the flag.
    let (stdout, _, rc) = text(&manatee(&lab, &["set-onwm", "-m", "off", "-y"], &[]));
    assert_eq!(rc, 1, "{stdout}");
    let (stdout, _, rc) = text(&manatee(&lab, &["set-onwm", "-m", "on", "-y"], &[]));
    assert_eq!(
        (stdout.as_str(), rc),
        ("One Node Write Mode set to: on\n", 0)
    );
    let (stdout, _, rc) = text(&manatee(&lab, &["set-onwm", "-m", "off", "-y"], &[]));
    assert_eq!(
        (stdout.as_str(), rc),
        ("One Node Write Mode set to: off\n", 0)
    );
    let (state, _, _) = text(&manatee(&lab, &["zk-state"], &[]));
    assert!(
        !state.contains("oneNodeWriteMode"),
        "off deletes the key: {state}"
    );

    let (stdout, _, rc) = text(&manatee(&lab, &["unfreeze"], &[]));
    assert_eq!((stdout.as_str(), rc), ("Unfrozen.\n", 0));
    let (state, _, _) = text(&manatee(&lab, &["zk-state"], &[]));
    assert!(
        !state.contains("\"freeze\""),
        "unfreeze deletes the key: {state}"
    );
    let (_, stderr, rc) = text(&manatee(&lab, &["unfreeze"], &[]));
    assert_eq!(rc, 1);
    assert!(stderr.contains("shard is not frozen"), "{stderr}");
    // Two writes, two history/0- nodes (a sitter may add its own too).
    let (lines, _, _) = text(&manatee(&lab, &["history", "-v"], &[]));
    assert!(
        lines.contains("cluster frozen: maintenance") && lines.contains("cluster unfrozen"),
        "{lines}"
    );
    assert!(history(&lab) >= before + 2);

    let (_, stderr, rc) = text(&manatee(&lab, &["reap", "-n", "nosuch-zone"], &[]));
    assert_eq!(rc, 1);
    assert!(
        stderr.contains("nosuch-zone not in deposed or does not exist"),
        "{stderr}"
    );

    let (_, stderr, rc) = text(&manatee(&lab, &["clear-promote"], &[]));
    assert_eq!(rc, 1);
    assert!(
        stderr.contains("cluster has no outstanding promotion request"),
        "{stderr}"
    );
}
