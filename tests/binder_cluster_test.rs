//! The runbook binder-cluster-test on the lab's real 3-member ZooKeeper
//! ensemble: healthy as `echo srvr | nc` sees every member, degraded with
//! one member stopped, no quorum with two; read-only throughout (the lab's
//! request log), with one-line verdicts and errors.

mod runbook_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Output;
use std::time::{Duration, Instant};

use runbook_support::{Home, text, write};
use serde_json::Value;

/// `echo srvr | nc ADDR | grep Mode`, or what the member said instead.
fn srvr_mode(addr: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return "down".into();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.write_all(b"srvr");
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    if answer.contains("not currently serving requests") {
        return "not serving".into();
    }
    answer
        .lines()
        .find_map(|l| l.strip_prefix("Mode: "))
        .unwrap_or("?")
        .to_string()
}

fn zk_members(home: &Home) -> Vec<String> {
    let status: Value =
        serde_json::from_str(&home.must(&["lab", "status", "--json"])).expect("lab status JSON");
    status["zk"]
        .as_array()
        .expect("zk")
        .iter()
        .map(|m| m.as_str().expect("ip:port").to_string())
        .collect()
}

/// Waits until the members' modes, sorted, are `want`.
fn wait_for_modes(members: &[String], want: &[&str]) {
    let started = Instant::now();
    loop {
        let mut modes: Vec<String> = members.iter().map(|m| srvr_mode(m)).collect();
        modes.sort();
        if modes == want {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "modes {modes:?}, wanted {want:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn run_json(home: &Home) -> (Output, Value) {
    let out = home.run(&["run", "binder-cluster-test", "--json"]);
    let journal = serde_json::from_str(&text(&out.stdout)).unwrap_or_else(|e| {
        panic!(
            "--json prints the journal ({e}): {}{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    (out, journal)
}

/// The verdict: the reason of the last step.
fn verdict(journal: &Value) -> String {
    journal["steps"]
        .as_array()
        .and_then(|s| s.last())
        .and_then(|s| s["reason"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn record<'a>(journal: &'a Value, alias: &str) -> &'a Value {
    journal["report"]
        .as_array()
        .and_then(|r| r.iter().find(|m| m["alias"] == alias))
        .unwrap_or_else(|| panic!("no {alias} in the report: {journal}"))
}

/// Writes nothing but POST/PUT/DELETE would: none may reach the lab.
fn assert_read_only(home: &Home) {
    let sent = home.mutating_requests();
    assert!(
        sent.is_empty(),
        "binder-cluster-test sent changes: {sent:?}"
    );
}

fn one_line_stderr(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn healthy_on_the_ha_lab_as_srvr_sees_each_member() {
    let home = Home::with_lab("bct-healthy", &["--profile", "ha"]);
    let members = zk_members(&home);
    assert_eq!(members.len(), 3);
    wait_for_modes(&members, &["follower", "follower", "leader"]);

    let out = home.run(&["run", "binder-cluster-test"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for seed in [
        "by hand: sdc-vmapi '/vms?query=(%26(tags=*-smartdc_role=binder-*)(state=running))' | json -Hag alias nics.0.ip",
        "do echo ruok | nc $IP 2181; done",
        "do echo stat | nc $IP 2181 | egrep \"(leader|follower|standalone)\"; done",
    ] {
        assert!(
            stdout.contains(seed),
            "the seed's step {seed:?} is missing: {stdout}"
        );
    }
    assert!(stdout.contains("✓ ok: healthy: leader binder"), "{stdout}");
    assert!(stdout.contains("ok, 7 of 7 steps done"), "{stdout}");

    let (out, journal) = run_json(&home);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(verdict(&journal).starts_with("healthy: "), "{journal}");
    let report = journal["report"].as_array().expect("report records");
    assert_eq!(report.len(), 3, "{journal}");
    let mut modes = Vec::new();
    for member in report {
        let address = format!("{}:2181", member["address"].as_str().expect("address"));
        assert_eq!(member["mode"], srvr_mode(&address), "{member}");
        assert_eq!(member["ruok"], true, "{member}");
        assert_eq!(member["dns"], true, "{member}");
        assert!(member["zxid"].as_str().is_some_and(|z| z.starts_with("0x")));
        modes.push(member["mode"].as_str().unwrap_or_default().to_string());
    }
    modes.sort();
    assert_eq!(modes, ["follower", "follower", "leader"]);
    let leader = report
        .iter()
        .find(|m| m["mode"] == "leader")
        .expect("a leader");
    assert_eq!(leader["followers"], 2, "{leader}");
    assert_read_only(&home);

    a_member_whose_dns_cannot_be_reached_is_named(&home);
    misconfigurations_are_named(&home);
    assert_read_only(&home);
}

/// On the same lab: the stdlib runbook, run from a copy whose view of the
/// cluster is changed in one place, says misconfigured and why.
fn misconfigurations_are_named(home: &Home) {
    let source = include_str!("../stdlib/binder-cluster-test.rhai");
    let cases = [
        (
            "servers.map(|s| s.host)",
            r#"servers.map(|s| s.host) + ["10.0.0.99"]"#,
            "misconfigured: ZK_SERVERS names 4 members, an even number: it tolerates no more losses than 3 would; \
             ZK_SERVERS names 10.0.0.99, where no binder VM is",
        ),
        (
            "servers.map(|s| s.host)",
            "servers.filter(|s| s.num != 3).map(|s| s.host)",
            "misconfigured: ZK_SERVERS names 2 members, an even number: it tolerates no more losses than 1 would; \
             the running binder VM binder2 on cn2 is missing from ZK_SERVERS",
        ),
        (
            "members: binder::status(),",
            r#"members: binder::status().map(|m| { m.mode = "leader"; m }),"#,
            "misconfigured: 3 leaders: binder0 on headnode, binder1 on cn1, binder2 on cn2",
        ),
        (
            "members: binder::status(),",
            r#"members: binder::status().map(|m| { if m.alias == "binder0" { m.mode = "standalone"; } m }),"#,
            "misconfigured: binder0 on headnode runs standalone in a 3-member ensemble",
        ),
    ];
    for (i, (from, to, want)) in cases.iter().enumerate() {
        assert!(source.contains(from), "{from}");
        let file = home.root.join(format!("bct-{i}.rhai"));
        write(&file, &source.replacen(from, to, 1));
        let out = home.run(&["run", file.to_str().expect("utf-8")]);
        assert!(!out.status.success(), "{}", text(&out.stdout));
        let stderr = one_line_stderr(&out);
        assert!(stderr.contains(want), "{want}\n{stderr}");
    }
}

/// On the same lab: a profile that puts binder0's DNS where nothing
/// listens. ZooKeeper is whole, so the verdict is degraded, naming it.
fn a_member_whose_dns_cannot_be_reached_is_named(home: &Home) {
    let status: Value =
        serde_json::from_str(&home.must(&["lab", "status", "--json"])).expect("lab status JSON");
    let binder0 = status["instances"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["alias"] == "binder0"))
        .expect("binder0");
    let ip = binder0["ip"].as_str().expect("ip");
    let config = home.lab_profile("lab", &[format!("{ip}:1")]);
    let out = home.run_with_profile(&config, "lab", &["run", "binder-cluster-test"]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let stderr = one_line_stderr(&out);
    assert!(
        stderr.contains(&format!(
            "degraded: binder0's DNS on headnode does not answer sapi.coal.joyent.us: DNS {ip}:1 cannot reach it"
        )),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("binder0 does not ({ip}:1)")),
        "{stdout}"
    );
}

#[test]
fn one_member_down_is_degraded_and_two_is_no_quorum() {
    let home = Home::with_lab("bct-faults", &["--profile", "ha"]);
    let members = zk_members(&home);
    wait_for_modes(&members, &["follower", "follower", "leader"]);
    let lab = home.lab.clone().expect("a lab");
    let lab = lab.to_string_lossy();

    home.must(&["lab", "fault", "stop", "binder2", "--dir", &lab]);
    // binder2 may have led: the other two elect a new leader first.
    let rest: Vec<String> = members[..2].to_vec();
    wait_for_modes(&rest, &["follower", "leader"]);
    // The survivors' mirrors settle after the election: a few seconds at most.
    let want =
        "degraded: binder2 on cn2 is down; quorum holds with 2 of 3, but one more loss = no quorum";
    let started = Instant::now();
    let (out, journal) = loop {
        let (out, journal) = run_json(&home);
        if verdict(&journal).starts_with(want) || started.elapsed() > Duration::from_secs(10) {
            break (out, journal);
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(!out.status.success(), "degraded must fail: {journal}");
    let line = verdict(&journal);
    assert!(line.starts_with(want), "{line}\n{}", journal["report"]);
    assert!(
        one_line_stderr(&out).contains(&line),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(record(&journal, "binder2")["mode"], "down");
    assert_eq!(record(&journal, "binder2")["server"], "cn2");
    // A step that sees binder2 down is a warning, never a ✓.
    let steps: Vec<(&str, &str)> = journal["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["status"].as_str().unwrap_or(""),
                s["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for (status, reason) in &steps {
        let sees_it_down = reason.contains("no answer") || reason.contains("binder2 down");
        assert!(!sees_it_down || *status == "warned", "{status}: {reason}");
    }
    assert!(
        steps.iter().any(|(status, _)| *status == "warned"),
        "{steps:?}"
    );

    home.must(&["lab", "fault", "stop", "binder1", "--dir", &lab]);
    wait_for_modes(&members[..1], &["not serving"]);
    let out = home.run(&["run", "binder-cluster-test"]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "✗ failed: no quorum: 0 of 3 members serve (binder0 on headnode is not serving, \
             binder1 on cn1 is down, binder2 on cn2 is down); 1 of binder1 on cn1, binder2 on cn2 \
             must come back for a quorum of 2. Meanwhile manatee cannot fail over, registrations \
             expire"
        ),
        "{stdout}"
    );
    assert!(one_line_stderr(&out).contains("no quorum: "));
    let table = stdout
        .lines()
        .skip_while(|l| !l.starts_with("alias"))
        .collect::<Vec<_>>();
    assert!(
        table
            .iter()
            .any(|l| l.starts_with("binder0") && l.contains("not serving")),
        "{stdout}"
    );
    assert_read_only(&home);
}
