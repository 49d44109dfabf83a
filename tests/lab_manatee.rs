//! The lab's manatee is real: three PostgreSQL 15 peers streaming primary →
//! sync → async, a shard state in ZooKeeper in manatee's own format, and
//! the sync taking over manatee's way when the primary stops. The test
//! reads ZooKeeper through the shell and PostgreSQL with psql, as an
//! operator would.

mod lab_support;
mod manatee_support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use lab_support::{Lab, eventually};
use manatee_support::{
    edit_state, ip_of, provision_manatee, psql, psql_eventually, state, try_state,
};
use serde_json::Value;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../shared/triton/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("fixture JSON")
}

#[test]
fn ha_shard_streams_primary_sync_async_and_the_sync_takes_over_losing_nothing() {
    let started = Instant::now();
    let lab = Lab::up("manatee-ha", &["--profile", "ha"]);
    eprintln!("lab up to a healthy shard: {:?}", started.elapsed());
    let (ip0, ip1, ip2) = (
        ip_of(&lab, "manatee0"),
        ip_of(&lab, "manatee1"),
        ip_of(&lab, "manatee2"),
    );

    // The state names the layout's peers, in manatee's exact field set.
    let s = state(&lab);
    let normal = fixture("manatee-state-normal.json");
    assert_eq!(keys(&s), keys(&normal), "state fields: {s}");
    for peer in [&s["primary"], &s["sync"], &s["async"][0]] {
        assert_eq!(keys(peer), keys(&normal["primary"]), "peer fields: {peer}");
    }
    assert_eq!(s["primary"]["ip"], ip0.as_str(), "{s}");
    assert_eq!(s["sync"]["ip"], ip1.as_str(), "{s}");
    assert_eq!(s["async"].as_array().map(Vec::len), Some(1), "{s}");
    assert_eq!(s["async"][0]["ip"], ip2.as_str(), "{s}");
    assert_eq!(
        s["primary"]["pgUrl"],
        format!("tcp://postgres@{ip0}:5432/postgres").as_str()
    );
    assert_eq!(s["deposed"], Value::Array(Vec::new()));
    let generation = s["generation"].as_u64().expect("a generation");
    assert!(generation >= 1, "{s}");

    // Chained: the primary's sync is manatee1, manatee1's downstream manatee2,
    // each known by its pgUrl.
    let sync_row = psql(
        &ip0,
        "select application_name || ' ' || sync_state from pg_stat_replication",
    );
    assert_eq!(
        sync_row.as_deref(),
        Ok(format!("tcp://postgres@{ip1}:5432/postgres sync").as_str())
    );
    let async_row = psql(
        &ip1,
        "select application_name || ' ' || sync_state from pg_stat_replication",
    );
    assert_eq!(
        async_row.as_deref(),
        Ok(format!("tcp://postgres@{ip2}:5432/postgres async").as_str())
    );
    // As root, one local route per link makes client_addr each
    // downstream's own address, as manatee-adm's verify expects (§8.3).
    if nix::unistd::Uid::effective().is_root() {
        let sql = "select host(client_addr) from pg_stat_replication";
        assert_eq!(psql(&ip0, sql).as_deref(), Ok(ip1.as_str()));
        assert_eq!(psql(&ip1, sql).as_deref(), Ok(ip2.as_str()));
    }

    // Rows committed on the primary reach the async.
    psql(
        &ip0,
        "create table rows (n int); insert into rows select generate_series(1, 500)",
    )
    .expect("the primary takes writes");
    let on_async = eventually(Duration::from_secs(10), || {
        (psql(&ip2, "select count(*) from rows").ok()? == "500").then_some(())
    });
    assert!(on_async.is_some(), "the async never saw the 500 rows");

    // The primary stops: the sync takes over, the primary is deposed.
    let stopped = Instant::now();
    lab.must(&["lab", "fault", "stop", "manatee0"]);
    let after = eventually(Duration::from_secs(30), || {
        let s = try_state(&lab)?;
        (s["generation"].as_u64() == Some(generation + 1)).then_some(s)
    })
    .expect("the sync took over within 30 s");
    assert_eq!(after["primary"]["ip"], ip1.as_str(), "{after}");
    assert_eq!(after["sync"]["ip"], ip2.as_str(), "{after}");
    assert_eq!(after["async"], Value::Array(Vec::new()), "{after}");
    assert_eq!(after["deposed"][0]["ip"], ip0.as_str(), "{after}");
    assert_ne!(after["initWal"], "0/00000000");
    let writable = eventually(Duration::from_secs(30), || {
        psql(&ip1, "insert into rows values (501)").ok()
    });
    assert!(writable.is_some(), "the new primary never took writes");
    eprintln!(
        "primary stopped to new primary writable: {:?}",
        stopped.elapsed()
    );
    assert_eq!(
        psql(&ip1, "select count(*) from rows").as_deref(),
        Ok("501")
    );

    // Back, the old primary stays deposed with PostgreSQL stopped.
    lab.must(&["lab", "fault", "start", "manatee0"]);
    std::thread::sleep(Duration::from_secs(2));
    assert!(psql(&ip0, "select 1").is_err(), "a deposed peer serves");
    assert_eq!(state(&lab)["generation"].as_u64(), Some(generation + 1));
}

/// A server losing power takes its peer down with its session left to
/// expire: the primary then picks the async as its new sync (G+1), the
/// commit that waited goes through, and the peer, back, joins as an async.
#[test]
fn the_primary_replaces_a_sync_lost_with_its_server_and_takes_it_back_as_async() {
    let lab = Lab::up("manatee-sync-down", &["--profile", "ha"]);
    let (ip0, ip1, ip2) = (
        ip_of(&lab, "manatee0"),
        ip_of(&lab, "manatee1"),
        ip_of(&lab, "manatee2"),
    );
    let generation = state(&lab)["generation"].as_u64().expect("a generation");
    psql(
        &ip0,
        "create table rows (n int); insert into rows select generate_series(1, 10)",
    )
    .expect("the primary takes writes");

    let lost = Instant::now();
    lab.must(&["lab", "fault", "server-down", "cn1"]);
    // Waits for the new sync: the session expires in the lab's 10 s.
    psql(&ip0, "insert into rows values (11)").expect("the commit goes through");
    eprintln!("sync lost to commit done: {:?}", lost.elapsed());
    let s = state(&lab);
    assert_eq!(s["generation"].as_u64(), Some(generation + 1), "{s}");
    assert_eq!(s["primary"]["ip"], ip0.as_str(), "{s}");
    assert_eq!(s["sync"]["ip"], ip2.as_str(), "{s}");
    assert_eq!(
        s["deposed"],
        Value::Array(Vec::new()),
        "a lost sync is dropped: {s}"
    );

    lab.must(&["lab", "fault", "server-up", "cn1"]);
    let back = eventually(Duration::from_secs(30), || {
        let s = try_state(&lab)?;
        (s["async"][0]["ip"] == ip1.as_str()).then_some(s)
    })
    .expect("manatee1 joins as async");
    assert_eq!(back["generation"].as_u64(), Some(generation + 1), "{back}");
    let streaming = eventually(Duration::from_secs(30), || {
        (psql(&ip1, "select count(*) from rows").ok()? == "11").then_some(())
    });
    assert!(streaming.is_some(), "manatee1 never caught up");
}

/// The seed procedure: the async's server is lost, and a replacement
/// provisioned through SAPI on another server copies the primary's data and
/// joins as the async, streaming from the sync.
#[test]
fn a_manatee_provisioned_through_sapi_joins_as_async_with_the_data() {
    let lab = Lab::up("manatee-new-async", &["--profile", "ha"]);
    let (ip0, ip1) = (ip_of(&lab, "manatee0"), ip_of(&lab, "manatee1"));
    psql(
        &ip0,
        "create table rows (n int); insert into rows select generate_series(1, 42)",
    )
    .expect("the primary takes writes");
    lab.must(&["lab", "fault", "server-down", "cn2"]);
    // manatee2's session expires; the primary drops it from the asyncs.
    let without = eventually(Duration::from_secs(30), || {
        let s = try_state(&lab)?;
        (s["async"] == Value::Array(Vec::new())).then_some(s)
    });
    assert!(without.is_some(), "the lost async stayed in the state");

    provision_manatee(&lab, "manatee3", "cn3");

    let s = eventually(Duration::from_secs(60), || {
        let s = try_state(&lab)?;
        (s["async"].as_array().map(Vec::len) == Some(1)).then_some(s)
    })
    .expect("manatee3 joins as async");
    let ip3 = ip_of(&lab, "manatee3");
    assert_eq!(s["async"][0]["ip"], ip3.as_str(), "{s}");
    assert_eq!(s["sync"]["ip"], ip1.as_str(), "{s}");
    assert!(
        psql_eventually(&ip3, "select count(*) from rows", "42", 30),
        "manatee3 does not have the rows"
    );
    // Restored from the primary, then streaming from the sync: its WAL
    // receiver connects a moment after PostgreSQL accepts queries.
    let want = format!("tcp://postgres@{ip3}:5432/postgres streaming");
    assert!(
        psql_eventually(
            &ip1,
            "select application_name || ' ' || state from pg_stat_replication",
            &want,
            30
        ),
        "manatee3 never streamed from the sync manatee1"
    );
}

/// A frozen shard does not fail over; unfrozen, the sync takes over.
#[test]
fn a_frozen_shard_keeps_its_primary_until_unfrozen() {
    let lab = Lab::up("manatee-frozen", &["--profile", "ha"]);
    let (ip0, ip1) = (ip_of(&lab, "manatee0"), ip_of(&lab, "manatee1"));
    let generation = state(&lab)["generation"].as_u64().expect("a generation");
    edit_state(&lab, |s| {
        s.insert(
            "freeze".into(),
            serde_json::json!({"date": "2026-12-02T05:00:00.000Z", "reason": "test"}),
        );
    });
    lab.must(&["lab", "fault", "stop", "manatee0"]);
    std::thread::sleep(Duration::from_secs(4));
    let s = state(&lab);
    assert_eq!(s["generation"].as_u64(), Some(generation), "{s}");
    assert_eq!(s["primary"]["ip"], ip0.as_str(), "{s}");

    edit_state(&lab, |s| {
        s.remove("freeze");
    });
    let after = eventually(Duration::from_secs(20), || {
        let s = try_state(&lab)?;
        (s["generation"].as_u64() == Some(generation + 1)).then_some(s)
    })
    .expect("the sync took over once unfrozen");
    assert_eq!(after["primary"]["ip"], ip1.as_str(), "{after}");
    assert_eq!(after["deposed"][0]["ip"], ip0.as_str(), "{after}");
}

/// The `fresh` profile's single peer sets the shard up alone, in
/// one-node-write mode, frozen, and takes writes.
#[test]
fn a_fresh_lab_runs_its_lone_peer_in_one_node_write_mode() {
    let lab = Lab::up("manatee-fresh", &["--profile", "fresh"]);
    let s = state(&lab);
    let onwm = fixture("manatee-state-onwm.json");
    assert_eq!(keys(&s), keys(&onwm), "state fields: {s}");
    assert_eq!(s["oneNodeWriteMode"], true);
    assert_eq!(s["sync"], Value::Null);
    assert_eq!(s["freeze"]["reason"], "manatee setup: one node write mode");
    let ip0 = ip_of(&lab, "manatee0");
    assert_eq!(
        psql(
            &ip0,
            "create table rows (n int); insert into rows values (1); select count(*) from rows"
        )
        .as_deref(),
        Ok("1")
    );
}
