//! Commands in zones through CNAPI's CommandExecute, and the ha-binder
//! runbook taking a `fresh` lab's binder from one ZooKeeper member to three,
//! with the real ZooKeeper.

mod runbook_support;

use runbook_support::{Home, text};
use serde_json::Value;

fn lab_status(home: &Home) -> Value {
    serde_json::from_str(&home.must(&["lab", "status", "--json"])).expect("lab status JSON")
}

fn binder_modes(home: &Home) -> Vec<String> {
    let mut modes: Vec<String> = lab_status(home)["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .filter(|i| i["service"] == "binder")
        .map(|i| i["zk_mode"].as_str().unwrap_or("?").to_string())
        .collect();
    modes.sort();
    modes
}

#[test]
fn commands_in_zones_act_on_the_real_processes_and_refuse_the_rest() {
    let home = Home::with_lab("zone", &["--profile", "fresh"]);
    assert_eq!(binder_modes(&home), ["standalone"]);

    // A command the lab does not imitate: exit 127, and it says so.
    let out = home.json(r#"zone::exec("binder0", "uptime")"#);
    assert_eq!(out["exit_code"], 127, "{out}");
    assert!(
        out["stderr"]
            .as_str()
            .unwrap()
            .contains("the lab does not imitate"),
        "{out}"
    );

    // svcadm disable stops the real ZooKeeper, and the VM keeps running.
    home.json(r#"zone::svcadm("binder0", "disable", "zookeeper")"#);
    assert_eq!(binder_modes(&home), ["down"]);
    let vm = home.json(r#"vmapi::by_alias("binder0").state"#);
    assert_eq!(vm, "running");
    home.json(r#"zone::svcadm("binder0", "enable", "svc:/smartdc/application/zookeeper:default")"#);
    let mut modes = binder_modes(&home);
    for _ in 0..50 {
        if modes == ["standalone"] {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        modes = binder_modes(&home);
    }
    assert_eq!(modes, ["standalone"]);

    // A profile that names only binder and the DNS names reaches the lab's
    // APIs through the lab's binder, as in a real datacenter.
    let dns = lab_status(&home)["dns"]
        .as_str()
        .expect("binder0's DNS")
        .to_string();
    runbook_support::write(
        &home.root.join("config/tritonsh/config.toml"),
        &format!(
            "[profiles.viabinder]\nbinder = [\"{dns}\"]\ndatacenter_name = \"coal\"\ndns_domain = \"joyent.us\"\n"
        ),
    );
    let ok = home.must(&[
        "--profile",
        "viabinder",
        "-c",
        "sapi::ping().ok && vmapi::ping().ok && cnapi::ping().ok",
    ]);
    assert_eq!(ok.trim(), "true");

    // Bad inputs: one line each, naming what failed.
    for (code, expected) in [
        (
            r#"zone::svcadm("binder0", "restart", "nosuch")"#,
            "doesn't match any instances",
        ),
        (
            r#"zone::svcadm("binder0", "mark", "zookeeper")"#,
            "the verbs are enable, disable and restart",
        ),
        (r#"zone::exec("nosuch0", "uptime")"#, "no VM named nosuch0"),
        (r#"zone::exec("binder0", "")"#, "one non-empty line"),
    ] {
        let out = home.run(&["-c", code]);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{code}");
        assert!(err.contains(expected), "{code}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{code}: {err}");
    }
}

#[test]
fn ha_binder_takes_a_fresh_lab_to_three_members_without_losing_data() {
    let home = Home::with_lab("ha-binder", &["--profile", "fresh"]);
    let before: Vec<String> = serde_json::from_value(home.json(r#"zk::tree("/")"#)).unwrap();
    assert!(
        before
            .iter()
            .any(|p| p.starts_with("/us/joyent/coal/sapi/")),
        "{before:?}"
    );

    // Refused, with the reason: an even ensemble, or too few servers.
    let out = home.run(&[
        "run",
        "ha-binder",
        "--param",
        "servers=headnode,cn1",
        "--yes",
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("needs 3 or 5 members"),
        "{}",
        text(&out.stdout)
    );

    // The dry run: the plan, by hand commands, and nothing sent.
    let sent = home.mutating_requests().len();
    let plan = home.must(&[
        "run",
        "ha-binder",
        "--param",
        "servers=headnode,cn1,cn2",
        "--dry-run",
    ]);
    assert!(plan.contains("create binder1 on cn1 (ZK_ID 2)"), "{plan}");
    assert!(plan.contains("create binder2 on cn2 (ZK_ID 3)"), "{plan}");
    assert!(plan.contains("by hand: "), "{plan}");
    assert_eq!(
        home.mutating_requests().len(),
        sent,
        "a dry run sent a change"
    );

    // The run: three members, one leader, two followers, nothing lost.
    let out = home.must(&[
        "run",
        "ha-binder",
        "--param",
        "servers=headnode,cn1,cn2",
        "--yes",
    ]);
    assert!(out.contains("steps done"), "{out}");
    assert_eq!(binder_modes(&home), ["follower", "follower", "leader"]);
    let after: Vec<String> = serde_json::from_value(home.json(r#"zk::tree("/")"#)).unwrap();
    let lost: Vec<&String> = before
        .iter()
        .filter(|p| !after.contains(p) && !p.contains("/zookeeper/"))
        .collect();
    assert!(lost.is_empty(), "znodes lost: {lost:?}");
    let zk_servers = home.json(r#"sapi::application("sdc").metadata.ZK_SERVERS.map(|e| e.num)"#);
    assert_eq!(zk_servers, serde_json::json!([1, 2, 3]));

    // Again: nothing left to do.
    let sent = home.mutating_requests().len();
    let again = home.must(&[
        "run",
        "ha-binder",
        "--param",
        "servers=headnode,cn1,cn2",
        "--yes",
    ]);
    assert!(again.contains("steps done"), "{again}");
    let changes: Vec<Value> = home.mutating_requests().split_off(sent);
    assert!(
        changes
            .iter()
            .all(|r| r["path"].as_str().unwrap_or("").ends_with("/execute")),
        "a second run changed SAPI or VMAPI: {changes:?}"
    );
}
