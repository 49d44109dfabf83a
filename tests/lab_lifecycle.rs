//! `tritonsh lab up/status/fault/down`: the lab's layout, addresses, faults,
//! request log and persistence, driven through the real binary and checked
//! over the network.

mod lab_support;
mod manatee_support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lab_support::{Lab, eventually, http, process_alive, scratch_dir};
use manatee_support::{ip_of, psql, psql_eventually};
use serde_json::{Value, json};

const CORE: [&str; 21] = [
    "adminui",
    "amon",
    "amonredis",
    "assets",
    "binder",
    "cloudapi",
    "cnapi",
    "dhcpd",
    "fwapi",
    "imgapi",
    "mahi",
    "manatee",
    "moray",
    "napi",
    "papi",
    "rabbitmq",
    "sapi",
    "sdc",
    "ufds",
    "vmapi",
    "workflow",
];

fn instances(status: &Value) -> Vec<Value> {
    status["instances"].as_array().cloned().unwrap_or_default()
}

fn host_of(url: &str) -> String {
    let rest = url.trim_start_matches("http://");
    rest.split([':', '/'])
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn ha_lab_has_the_recommended_layout_on_its_own_addresses() {
    let lab = Lab::up("ha", &[]);
    let status = lab.status();
    assert_eq!(status["datacenter_name"], "coal");
    assert_eq!(status["dns_domain"], "joyent.us");
    // binder0's DNS, on its own address (port 53 as root).
    let binder0 = Lab::instance(&status, "binder0")["ip"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let dns = status["dns"].as_str().unwrap_or("");
    assert!(dns.starts_with(&format!("{binder0}:")), "{dns}");
    assert_eq!(Lab::instance(&status, "binder0")["dns"], dns);
    let binders: Vec<String> = ["binder0", "binder1", "binder2"]
        .iter()
        .map(|b| {
            format!(
                "{}:2181",
                Lab::instance(&status, b)["ip"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(status["zk"], json!(binders));

    for service in ["binder", "manatee", "moray"] {
        for (n, server) in ["headnode", "cn1", "cn2"].iter().enumerate() {
            let inst = Lab::instance(&status, &format!("{service}{n}"));
            assert_eq!(inst["service"], service);
            assert_eq!(inst["server"], *server, "{inst}");
            assert_eq!(inst["state"], "running");
        }
    }
    for service in CORE
        .iter()
        .filter(|s| !["binder", "manatee", "moray"].contains(s))
    {
        let of_service: Vec<_> = instances(&status)
            .into_iter()
            .filter(|i| i["service"] == *service)
            .collect();
        assert_eq!(of_service.len(), 1, "{service}: {of_service:?}");
        assert_eq!(of_service[0]["alias"], format!("{service}0"));
        assert_eq!(of_service[0]["server"], "headnode");
    }

    // One /16 per lab, one address per instance.
    let ips: Vec<String> = instances(&status)
        .iter()
        .map(|i| i["ip"].as_str().unwrap_or_default().to_string())
        .collect();
    let distinct: HashSet<&String> = ips.iter().collect();
    assert_eq!(distinct.len(), ips.len(), "{ips:?}");
    let block: HashSet<String> = ips
        .iter()
        .map(|ip| ip.split('.').take(2).collect::<Vec<_>>().join("."))
        .collect();
    assert_eq!(block.len(), 1, "{block:?}");
    assert!(ips[0].starts_with("127.") && !ips[0].starts_with("127.0."));

    // Each API answers on the admin IP of its instance.
    for api in ["sapi", "vmapi", "cnapi"] {
        let url = status[format!("{api}_url")].as_str().unwrap_or_default();
        assert_eq!(
            host_of(url),
            Lab::instance(&status, &format!("{api}0"))["ip"]
        );
        let ping = http("GET", &format!("{url}/ping"), None).expect("ping answers");
        assert_eq!(ping.status, 200, "{api} ping");
    }

    // The sdc application says how the datacenter is named and laid out.
    let sapi = status["sapi_url"].as_str().unwrap_or_default();
    let apps = http("GET", &format!("{sapi}/applications?name=sdc"), None).expect("SAPI");
    let meta = &apps.body[0]["metadata"];
    assert_eq!(meta["datacenter_name"], "coal", "{meta}");
    assert_eq!(meta["dns_domain"], "joyent.us");
    assert_eq!(
        meta["ufds_admin_uuid"],
        "930896af-bf8c-48d4-885c-6573a94b1853"
    );
    assert_eq!(meta["VMAPI_SERVICE"], "vmapi.coal.joyent.us");
    let ip = |alias: &str| {
        Lab::instance(&status, alias)["ip"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(meta["sapi_admin_ips"], ip("sapi0"));
    assert_eq!(
        meta["binder_admin_ips"],
        format!("{},{},{}", ip("binder0"), ip("binder1"), ip("binder2"))
    );
    assert_eq!(meta["ZK_SERVERS"][2]["host"], ip("binder2"));
    assert_eq!(meta["ZK_SERVERS"][2]["port"], 2181);
    assert_eq!(meta["ZK_SERVERS"][2]["last"], true);

    // up again: says so, changes nothing.
    let again = lab.run(&["lab", "up"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already running"));
    assert_eq!(
        String::from_utf8_lossy(&again.stderr),
        "",
        "nothing was ignored"
    );
    // Asking for another layout does not get it, and is told so.
    let other = lab.run(&["lab", "up", "--profile", "fresh", "--vms", "5"]);
    assert!(other.status.success());
    let warning = String::from_utf8_lossy(&other.stderr);
    assert!(
        warning.contains("already exists as profile ha with 0 customer VMs")
            && warning.contains("--profile and --vms shape a new lab only"),
        "{warning}"
    );
    let delay = lab.run(&["lab", "up", "--provision-delay-ms", "100"]);
    assert!(delay.status.success());
    let warning = String::from_utf8_lossy(&delay.stderr);
    assert!(
        warning.contains("--provision-delay-ms 100 takes effect when it starts"),
        "{warning}"
    );
    let table = lab.must(&["lab", "status"]);
    assert!(table.contains("ALIAS") && table.contains("manatee2") && table.contains("cn2"));
}

#[test]
fn fresh_lab_has_one_instance_of_every_core_service_on_the_headnode() {
    let lab = Lab::up("fresh", &["--profile", "fresh"]);
    let status = lab.status();
    let all = instances(&status);
    assert_eq!(all.len(), CORE.len(), "{all:?}");
    for service in CORE {
        let inst = Lab::instance(&status, &format!("{service}0"));
        assert_eq!(inst["server"], "headnode");
    }
    let third = all.iter().find(|i| i["alias"] == "binder1");
    assert!(third.is_none());
}

#[test]
fn down_stops_everything_and_up_brings_back_the_same_datacenter() {
    let lab = Lab::up("restart", &["--provision-delay-ms", "100"]);
    let before = lab.status();
    let vmapi = before["vmapi_url"].as_str().unwrap_or_default().to_string();
    let cnapi = before["cnapi_url"].as_str().unwrap_or_default().to_string();

    // Something to remember: a stopped instance and a new VM.
    lab.must(&["lab", "fault", "stop", "moray2"]);
    let servers = http("GET", &format!("{cnapi}/servers?hostname=cn3"), None).expect("CNAPI");
    let cn3 = servers.body[0]["uuid"]
        .as_str()
        .expect("cn3 has a uuid")
        .to_string();
    let owner = "930896af-bf8c-48d4-885c-6573a94b1853";
    let created = http(
        "POST",
        &format!("{vmapi}/vms"),
        Some(json!({
            "owner_uuid": owner, "brand": "joyent", "alias": "keepme",
            "image_uuid": "2b683a82-a066-11e3-97ab-2faa44701c5a", "ram": 256,
            "networks": [{"name": "admin"}], "server_uuid": cn3,
        })),
    )
    .expect("CreateVm");
    assert_eq!(created.status, 202, "{}", created.body);
    let vm_uuid = created.body["vm_uuid"]
        .as_str()
        .expect("vm_uuid")
        .to_string();
    let job_uuid = created.body["job_uuid"]
        .as_str()
        .expect("job_uuid")
        .to_string();
    let done = eventually(Duration::from_secs(20), || {
        let job = http("GET", &format!("{vmapi}/jobs/{job_uuid}"), None).ok()?;
        (job.body["execution"] == "succeeded").then_some(())
    });
    assert!(done.is_some(), "provision job did not succeed");
    // And in the datacenter's own stores: a table on the primary, and the
    // shard's history in ZooKeeper.
    let manatee0 = ip_of(&lab, "manatee0");
    psql(
        &manatee0,
        "create table kept (n int); insert into kept select generate_series(1, 7)",
    )
    .expect("the primary takes writes");
    let history = zk_children(&lab, "/manatee/sdc/history");
    assert!(!history.is_empty(), "the shard has no history");

    let pid = lab.daemon_pid().expect("daemon.pid while running");
    let pids = pids_in(&lab.dir);
    assert!(
        pids.len() >= 7,
        "the daemon, 3 ZooKeeper servers and 3 PostgreSQL peers have pid files: {pids:?}"
    );
    let out = lab.run(&["lab", "down"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("stopped"));
    // Piped, progress is a line per step the daemon takes, naming what it stops.
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(
        progress
            .lines()
            .any(|l| l.starts_with("lab down: stopping ZooKeeper (binder0, binder1, binder2)")),
        "{progress}"
    );
    assert!(
        progress
            .lines()
            .any(|l| l.starts_with("lab down: stopping ") && l.contains("manatee-sitter")),
        "{progress}"
    );
    assert!(!process_alive(pid), "daemon {pid} still runs");
    for (file, pid) in &pids {
        assert!(
            !process_alive(*pid),
            "{} (pid {pid}) still runs",
            file.display()
        );
    }
    assert!(
        http("GET", &format!("{vmapi}/ping"), None).is_err(),
        "VMAPI still answers"
    );
    let err = lab.must_fail(&["lab", "status"]);
    assert!(err.starts_with("lab status: no lab is running in"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let again = lab.must(&["lab", "down"]);
    assert!(again.contains("no lab was running"), "{again}");

    lab.must(&["lab", "up"]);
    let after = lab.status();
    assert_eq!(
        after["vmapi_url"], before["vmapi_url"],
        "URLs change across restarts"
    );
    assert_eq!(Lab::instance(&after, "moray2")["state"], "stopped");
    assert_eq!(Lab::instance(&after, "moray1")["state"], "running");
    let vm = http("GET", &format!("{vmapi}/vms/{vm_uuid}"), None).expect("GetVm");
    assert_eq!(vm.status, 200, "{}", vm.body);
    assert_eq!(vm.body["alias"], "keepme");
    assert_eq!(vm.body["state"], "running");
    assert!(
        psql_eventually(&manatee0, "select count(*) from kept", "7", 30),
        "the table on the shard did not survive down and up"
    );
    let kept = zk_children(&lab, "/manatee/sdc/history");
    assert!(
        history.iter().all(|h| kept.contains(h)),
        "{history:?} became {kept:?}"
    );
}

/// Every pid file under `dir`, with its pid.
fn pids_in(dir: &Path) -> Vec<(PathBuf, i32)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            found.extend(pids_in(&path));
        } else if path.extension().is_some_and(|ext| ext == "pid") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if let Ok(pid) = text.trim().parse() {
                found.push((path, pid));
            }
        }
    }
    found
}

/// The children of a znode, read through the shell.
fn zk_children(lab: &Lab, path: &str) -> Vec<String> {
    serde_json::from_value(eval(lab, &format!("zk::children({path:?})"))).expect("names")
}

/// `tritonsh --lab DIR --json -c CODE`, parsed.
fn eval(lab: &Lab, code: &str) -> Value {
    let out = std::process::Command::new(lab_support::BIN)
        .arg("--lab")
        .arg(&lab.dir)
        .args(["--json", "-c", code])
        .env_remove("ZK_IPS")
        .output()
        .expect("run tritonsh");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{code}: {e}: {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn faults_stop_servers_and_instances_and_their_apis() {
    let lab = Lab::up("faults", &[]);
    let status = lab.status();
    let vmapi = status["vmapi_url"].as_str().unwrap_or_default().to_string();
    let cnapi = status["cnapi_url"].as_str().unwrap_or_default().to_string();

    let out = lab.must(&["lab", "fault", "server-down", "cn1"]);
    assert!(out.contains("cn1"), "{out}");
    let servers = http("GET", &format!("{cnapi}/servers?hostname=cn1"), None).expect("CNAPI");
    assert_eq!(servers.body[0]["status"], "unknown", "{}", servers.body);
    let down = lab.status();
    for alias in ["binder1", "manatee1", "moray1"] {
        assert_eq!(Lab::instance(&down, alias)["state"], "stopped", "{alias}");
    }
    assert_eq!(Lab::instance(&down, "binder2")["state"], "running");
    // Nothing starts on a dead server, as VMAPI's start refuses.
    let refused = lab.must_fail(&["lab", "fault", "start", "moray1"]);
    assert!(
        refused.contains("moray1 cannot start: its server cn1 is down"),
        "{refused}"
    );
    assert_eq!(Lab::instance(&lab.status(), "moray1")["state"], "stopped");
    lab.must(&["lab", "fault", "server-up", "cn1"]);
    let servers = http("GET", &format!("{cnapi}/servers?hostname=cn1"), None).expect("CNAPI");
    assert_eq!(servers.body[0]["status"], "running");
    assert_eq!(Lab::instance(&lab.status(), "moray1")["state"], "running");

    // The API goes with its instance.
    lab.must(&["lab", "fault", "stop", "vmapi0"]);
    let refused = http("GET", &format!("{vmapi}/ping"), None);
    assert!(refused.is_err(), "VMAPI answers while vmapi0 is stopped");
    assert_eq!(Lab::instance(&lab.status(), "vmapi0")["state"], "stopped");
    lab.must(&["lab", "fault", "start", "vmapi0"]);
    let ping = http("GET", &format!("{vmapi}/ping"), None).expect("VMAPI answers again");
    assert_eq!(ping.status, 200);

    // A server going down takes the APIs on it too.
    let said = lab.must(&["lab", "fault", "server-down", "headnode"]);
    assert!(
        said.contains("every API on it stops answering") && !said.contains("CNAPI reports"),
        "{said}"
    );
    assert!(http("GET", &format!("{cnapi}/ping"), None).is_err());
    // With SAPI, VMAPI and CNAPI gone, binder is still reported: its
    // members from the ZooKeeper list, names through its own DNS.
    let members = eval(&lab, "binder::status()");
    let members = members.as_array().expect("members");
    assert_eq!(members.len(), 3, "{members:?}");
    assert_eq!(
        members.iter().filter(|m| m["ruok"] == true).count(),
        2,
        "{members:?}"
    );
    assert_eq!(eval(&lab, r#"binder::lookup("moray").len() > 0"#), true);
    lab.must(&["lab", "fault", "server-up", "headnode"]);
    assert!(http("GET", &format!("{cnapi}/ping"), None).is_ok());
}

#[test]
fn every_request_is_logged_with_api_method_path_and_status() {
    let lab = Lab::up("requests", &[]);
    let status = lab.status();
    let sapi = status["sapi_url"].as_str().unwrap_or_default().to_string();
    let vmapi = status["vmapi_url"].as_str().unwrap_or_default().to_string();
    http("GET", &format!("{sapi}/ping?probe=1"), None).expect("SAPI ping");
    http("GET", &format!("{vmapi}/no-such-route"), None).expect("VMAPI answers");
    lab.must(&["lab", "fault", "stop", "vmapi0"]);
    let _ = http("GET", &format!("{vmapi}/never-logged"), None);

    let log = lab.request_log();
    let ping = log
        .iter()
        .find(|e| e["path"] == "/ping?probe=1")
        .unwrap_or_else(|| panic!("no /ping?probe=1 in {log:?}"));
    assert_eq!(ping["api"], "sapi");
    assert_eq!(ping["method"], "GET");
    assert_eq!(ping["status"], 200);
    assert_eq!(ping["request_id"], "lab-test-request");
    assert!(ping["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    let missing = log
        .iter()
        .find(|e| e["path"] == "/no-such-route")
        .expect("the 404 is logged");
    assert_eq!(missing["api"], "vmapi");
    assert_eq!(missing["status"], 404);
    assert!(log.iter().all(|e| e["path"] != "/never-logged"));
}

#[test]
fn bad_input_gets_one_line_that_says_what_to_do() {
    let lab = Lab::up("bad", &[]);
    let err = lab.must_fail(&["lab", "fault", "stop", "moray9"]);
    assert_eq!(
        err.trim(),
        "lab fault stop: no instance named moray9 (lab status lists them)"
    );
    let err = lab.must_fail(&["lab", "fault", "server-down", "cn9"]);
    assert!(
        err.starts_with("lab fault server-down: no server named cn9"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1);

    // A directory that cannot be created.
    let file = scratch_dir("not-a-dir");
    std::fs::write(&file, b"").expect("a plain file");
    let nested = file.join("lab");
    let out = std::process::Command::new(lab_support::BIN)
        .args(["lab", "up", "--dir"])
        .arg(&nested)
        .output()
        .expect("run tritonsh");
    let _ = std::fs::remove_file(&file);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(
        err.trim(),
        format!(
            "lab up: {} is not writable: Not a directory (choose another --dir)",
            nested.display()
        )
    );

    // Customer VMs beyond the lab's address block are refused up front,
    // not seeded until the daemon runs out of memory.
    let out = std::process::Command::new(lab_support::BIN)
        .args(["lab", "up", "--vms", "4000000000", "--dir"])
        .arg(&nested)
        .output()
        .expect("run tritonsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("4000000000 is not in 0..=49151"), "{err}");

    // A damaged world is reported, not replaced.
    lab.must(&["lab", "down"]);
    std::fs::write(lab.dir.join("world.json"), b"{not json").expect("damage the world");
    let err = lab.must_fail(&["lab", "up"]);
    assert!(err.starts_with("lab up: the lab in "), "{err}");
    assert!(err.contains("world.json is damaged"), "{err}");
    assert!(err.contains("move it away to start a fresh lab"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    // Faults on a lab that is not running.
    let idle = scratch_dir("idle");
    let out = std::process::Command::new(lab_support::BIN)
        .args(["lab", "fault", "stop", "vmapi0", "--dir"])
        .arg(&idle)
        .output()
        .expect("run tritonsh");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("lab fault stop: no lab is running in"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&idle);
}

#[test]
fn labs_in_different_directories_get_different_blocks() {
    let one = Lab::up("pair-a", &["--profile", "fresh"]);
    let two = Lab::up("pair-b", &["--profile", "fresh"]);
    let a = host_of(&one.url("sapi"));
    let b = host_of(&two.url("sapi"));
    let block = |ip: &str| ip.split('.').nth(1).unwrap_or_default().to_string();
    assert_ne!(block(&a), block(&b), "{a} and {b} share a block");
}

#[test]
fn ten_thousand_customer_vms_are_listed_and_counted() {
    let lab = Lab::up("scale", &["--vms", "10000", "--profile", "fresh"]);
    let vmapi = lab.url("vmapi");
    let head = http("HEAD", &format!("{vmapi}/vms?limit=1"), None).expect("HEAD /vms");
    let count: u64 = head
        .headers
        .get("x-joyent-resource-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("x-joyent-resource-count");
    assert_eq!(count, 10_000 + CORE.len() as u64);
    let page = http("GET", &format!("{vmapi}/vms?limit=1000&offset=9000"), None).expect("a page");
    assert_eq!(page.body.as_array().map(Vec::len), Some(1000));
    // Customers live on the compute nodes, not the headnode.
    let cnapi = lab.url("cnapi");
    let headnode = http("GET", &format!("{cnapi}/servers?headnode=true"), None).expect("CNAPI");
    let headnode = headnode.body[0]["uuid"].clone();
    assert!(headnode.is_string());
    let customers: Vec<&Value> = page
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter(|vm| vm["owner_uuid"] != "930896af-bf8c-48d4-885c-6573a94b1853")
        .collect();
    assert!(customers.len() > 900);
    assert!(customers.iter().all(|vm| vm["server_uuid"] != headnode));
}
