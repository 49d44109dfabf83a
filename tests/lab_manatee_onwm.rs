//! sdcadm's `post-setup ha-manatee` order (ha-core.md §7.2), by hand over
//! the network, on the `fresh` lab's one-node-write-mode manatee: manatee1
//! on another server (unassigned while the shard is ONWM), ONE_NODE_WRITE_MODE
//! deleted from manatee0's SAPI metadata, config-agent synced in its zone,
//! the shard unfrozen as manatee-adm writes it, the sitter restarted: the
//! primary's REPL becomes `sync`. Then manatee2 joins as async.

mod lab_support;
mod manatee_support;

use std::time::Duration;

use lab_support::{Lab, eventually, http};
use manatee_support::{
    edit_state, ip_of, provision_manatee, psql, psql_eventually, state, state_where, vm, zone_exec,
};
use serde_json::Value;

const CONFIG_AGENT_SYNC: &str =
    "/opt/smartdc/config-agent/build/node/bin/node /opt/smartdc/config-agent/agent.js -s";

#[test]
fn a_fresh_shard_leaves_one_node_write_mode_in_sdcadms_order() {
    let lab = Lab::up("manatee-onwm", &["--profile", "fresh"]);
    let ip0 = ip_of(&lab, "manatee0");
    psql(
        &ip0,
        "create table rows (n int); insert into rows select generate_series(1, 7)",
    )
    .expect("the ONWM primary takes writes");

    provision_manatee(&lab, "manatee1", "cn1");
    let ip1 = ip_of(&lab, "manatee1");
    // Present, but a one-node-write-mode shard takes no other peer.
    std::thread::sleep(Duration::from_secs(3));
    let s = state(&lab);
    assert_eq!(s["oneNodeWriteMode"], true, "{s}");
    assert_eq!(s["sync"], Value::Null, "{s}");
    assert!(psql(&ip1, "select 1").is_err(), "an unassigned peer serves");

    // Lift ONWM in SAPI; config-agent writes sitter.json, nothing restarts.
    let (uuid0, _) = vm(&lab, "manatee0");
    let sapi = lab.url("sapi");
    let lifted = http(
        "PUT",
        &format!("{sapi}/instances/{uuid0}"),
        Some(serde_json::json!({
            "action": "delete",
            "metadata": {"ONE_NODE_WRITE_MODE": true},
        })),
    )
    .expect("SAPI");
    assert!(lifted.status < 300, "{}", lifted.body);
    let synced = zone_exec(&lab, "manatee0", CONFIG_AGENT_SYNC);
    assert_eq!(synced["exitCode"], 0, "{synced}");
    assert!(
        synced["stdout"]
            .as_str()
            .is_some_and(|o| o.contains("manatee-sitter") && o.contains("when")),
        "{synced}"
    );
    let again = zone_exec(&lab, "manatee0", CONFIG_AGENT_SYNC);
    assert_eq!(
        again["stdout"], "config-agent: nothing changed\n",
        "{again}"
    );

    // Unfrozen, the running sitter (still configured ONWM) keeps the mode.
    edit_state(&lab, |s| {
        s.remove("freeze");
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(state(&lab)["generation"], 1);

    let restarted = zone_exec(&lab, "manatee0", "/usr/sbin/svcadm restart manatee-sitter");
    assert_eq!(restarted["exitCode"], 0, "{restarted}");
    let s = state_where(&lab, 60, |s| s["generation"] == 2).expect("the shard leaves ONWM");
    assert_eq!(s["primary"]["ip"], ip0.as_str(), "{s}");
    assert_eq!(s["sync"]["ip"], ip1.as_str(), "{s}");
    assert_eq!(s.get("oneNodeWriteMode"), None, "{s}");
    assert_eq!(s.get("freeze"), None, "{s}");
    // What sdcadm waits for: `pg-status -r primary -o pg-repl` says sync.
    assert!(psql_eventually(
        &ip0,
        "select sync_state from pg_stat_replication",
        "sync",
        60
    ));
    let writable = eventually(Duration::from_secs(30), || {
        psql(&ip0, "insert into rows values (8)").ok()
    });
    assert!(writable.is_some(), "the primary never took writes again");
    assert!(psql_eventually(&ip1, "select count(*) from rows", "8", 20));

    provision_manatee(&lab, "manatee2", "cn2");
    let ip2 = ip_of(&lab, "manatee2");
    let s = state_where(&lab, 60, |s| s["async"][0]["ip"] == ip2.as_str())
        .expect("manatee2 joins as async");
    assert_eq!(s["generation"], 2, "{s}");
    assert!(psql_eventually(&ip2, "select count(*) from rows", "8", 30));
}
