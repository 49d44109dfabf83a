//! moray-scale-out on an `ha` lab: one moray on cn3 (the only set-up
//! compute node with no moray, manatee or binder), the second breaking the
//! advice, which needs --force and says so before anything is asked; both answered by every
//! binder member in A and SRV; the seed's table; cn4 (not set up) refused.

mod runbook_support;

use runbook_support::{Home, text};

#[test]
fn two_morays_by_the_advice_then_verified_in_every_binder() {
    let home = Home::with_lab("moray", &[]);

    // Breaking Triton's advice needs --force: said before anything is planned.
    let out = home.run(&["run", "moray-scale-out", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("1 of 2 cannot follow it") && err.contains("add --force"),
        "{err}"
    );
    let plan = home.must(&["run", "moray-scale-out", "--dry-run", "--force"]);
    assert!(
        plan.contains("1. provision moray3 on cn3: no core instance"),
        "{plan}"
    );
    let broken =
        "moray4 goes to cn3: core instances (1: moray) — breaks the advice: it already runs moray";
    assert!(plan.contains(broken), "the preflight says it: {plan}");
    assert!(
        plan.contains("by hand: sdcadm create moray -s cn3"),
        "{plan}"
    );
    assert!(
        plan.contains(
            "3. wait until every binder member answers moray3 for moray.coal.joyent.us (A and SRV)"
        ),
        "{plan}"
    );
    assert!(home.mutating_requests().is_empty());

    let out = home.must(&["run", "moray-scale-out", "--yes", "--force"]);
    let said = out.find(broken).expect("the advice broken is said");
    let first_step = out.find("[1/4]").expect("the first step");
    assert!(said < first_step, "said before the steps: {out}");
    assert!(out.contains(": ok, 4 of 4 steps done."), "{out}");

    let morays = home.instances("moray");
    let new: Vec<_> = morays
        .iter()
        .filter(|(alias, _, _)| alias == "moray3" || alias == "moray4")
        .collect();
    assert_eq!(new.len(), 2, "{morays:?}");
    assert!(
        new.iter()
            .all(|(_, server, state)| server == "cn3" && state == "running"),
        "{morays:?}"
    );

    // Every binder member, asked on its own, has both in A and SRV.
    let ips = home.json(r#"["moray3", "moray4"].map(|a| vmapi::by_alias(a).nics[0].ip)"#);
    let members = home.json(r#"binder::each("moray")"#);
    let members = members.as_array().expect("members");
    assert_eq!(members.len(), 3, "{members:?}");
    for member in members {
        for ip in ips.as_array().unwrap() {
            assert!(
                member["a"].as_array().unwrap().contains(ip),
                "{ip} not in {member}"
            );
            let mut ports: Vec<u64> = member["srv"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| &r["address"] == ip)
                .map(|r| r["port"].as_u64().unwrap())
                .collect();
            ports.sort();
            assert_eq!(ports, [2021, 2022, 2023, 2024], "{member}");
        }
    }

    // The seed's table: every moray, running.
    let id = home.run_ids().pop().expect("a run");
    let report = home.journal(&id)["report"].clone();
    let aliases: Vec<&str> = report
        .as_array()
        .expect("a report")
        .iter()
        .map(|r| r["alias"].as_str().unwrap())
        .collect();
    assert_eq!(aliases, ["moray0", "moray1", "moray2", "moray3", "moray4"]);
    assert!(
        report
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["state"] == "running" && r["ip"].is_string() && r["uuid"].is_string()),
        "{report}"
    );
    assert!(
        out.contains("ALIAS") || out.contains("alias"),
        "the table: {out}"
    );

    // cn4 is booted but not set up: refused before anything is sent.
    let before = home.mutating_requests().len();
    let out = home.run(&["run", "moray-scale-out", "--param", "servers=cn4", "--yes"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot put a moray on cn4 (not set up)"),
        "{err}"
    );
    assert_eq!(home.mutating_requests().len(), before);
}

/// ZooKeeper without quorum: the new moray runs but its registrar cannot
/// register, and the step fails with that cause rather than "unknown".
#[test]
fn a_moray_that_never_appears_in_dns_fails_with_the_likely_cause() {
    let home = Home::with_lab("moray-noquorum", &[]);
    for member in ["binder1", "binder2"] {
        home.json(&format!(
            r#"zone::svcadm("{member}", "disable", "zookeeper")"#
        ));
    }
    let out = home.run(&[
        "run",
        "moray-scale-out",
        "--param",
        "count=1",
        "--param",
        "dns_wait=5",
        "--yes",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("step 2 (wait until every binder member answers moray3")
            && err.contains("still does not answer moray3")
            && err.contains("ZooKeeper is without quorum"),
        "{err}"
    );
    let id = home.run_ids().pop().expect("a run");
    assert_eq!(home.journal(&id)["steps"][1]["status"], "failed");
}
