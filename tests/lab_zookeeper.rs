//! The lab's ZooKeeper is a real 3.8 ensemble, one server per binder
//! instance; the shell reads it through `zk::` as it would a datacenter's.
//! Bad peers (nothing listening, a half-open connection, a word refused by
//! the whitelist) give one-line errors.

mod lab_support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use lab_support::{BIN, Lab, scratch_dir};

/// `echo WORD | nc ADDR`, as Triton's "Test the binder cluster" does.
fn four_letter(addr: &str, word: &str) -> String {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return String::from("(refused)");
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.write_all(word.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}

fn mode(addr: &str) -> String {
    let text = four_letter(addr, "srvr");
    text.lines()
        .find_map(|l| l.strip_prefix("Mode: "))
        .map(str::to_string)
        .unwrap_or(text.trim().to_string())
}

/// Waits until the members' modes, sorted, are `want`.
fn wait_for_modes(members: &[String], want: &[&str]) -> Vec<String> {
    let started = Instant::now();
    loop {
        let mut modes: Vec<String> = members.iter().map(|m| mode(m)).collect();
        modes.sort();
        if modes == want {
            return modes;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "modes {modes:?}, wanted {want:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn shell(lab: &Lab, script: &str) -> Output {
    Command::new(BIN)
        .arg("--lab")
        .arg(&lab.dir)
        .args(["-c", script])
        .env("NO_COLOR", "1")
        .env_remove("ZK_IPS")
        .output()
        .expect("run tritonsh")
}

fn one_line_error(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "should fail; stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    stderr
}

#[test]
fn ha_ensemble_elects_a_leader_serves_reads_and_loses_quorum_with_two_down() {
    let started = Instant::now();
    let lab = Lab::up("zk-ha", &["--profile", "ha"]);
    let status = lab.status();
    let members: Vec<String> = status["zk"]
        .as_array()
        .expect("zk is a list")
        .iter()
        .map(|m| m.as_str().expect("ip:port").to_string())
        .collect();
    assert_eq!(members.len(), 3, "{status}");
    assert!(members.iter().all(|m| m.ends_with(":2181")), "{members:?}");
    wait_for_modes(&members, &["follower", "follower", "leader"]);
    eprintln!(
        "lab up --profile ha to one leader + two followers: {:?}",
        started.elapsed()
    );
    for m in &members {
        assert_eq!(four_letter(m, "ruok"), "imok");
    }
    let binder2 = Lab::instance(&status, "binder2");
    assert!(
        ["leader", "follower"].contains(&binder2["zk_mode"].as_str().unwrap_or_default()),
        "{binder2}"
    );

    let out = shell(&lab, r#"zk::children("/")"#);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("zookeeper"));
    let err = one_line_error(&shell(&lab, r#"zk::get("/no/such/znode")"#));
    assert!(err.contains("no node /no/such/znode"), "{err}");

    // One member stopped: the other two keep (or re-elect) a leader.
    lab.must(&["lab", "fault", "stop", "binder2"]);
    let binder2_addr = format!("{}:2181", binder2["ip"].as_str().expect("ip"));
    let rest: Vec<String> = members
        .iter()
        .filter(|m| **m != binder2_addr)
        .cloned()
        .collect();
    assert_eq!(mode(&binder2_addr), "(refused)");
    wait_for_modes(&rest, &["follower", "leader"]);
    let status = lab.status();
    assert_eq!(Lab::instance(&status, "binder2")["zk_mode"], "down");
    let out = shell(&lab, r#"zk::children("/")"#);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Two stopped: the survivor still says imok but serves nothing.
    lab.must(&["lab", "fault", "stop", "binder1"]);
    let binder0 = format!(
        "{}:2181",
        Lab::instance(&status, "binder0")["ip"]
            .as_str()
            .expect("ip")
    );
    wait_for_modes(
        std::slice::from_ref(&binder0),
        &["This ZooKeeper instance is not currently serving requests"],
    );
    assert_eq!(four_letter(&binder0, "ruok"), "imok");
    assert_eq!(four_letter(&binder0, "isro"), "null");
    let table = lab.must(&["lab", "status"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("binder0") && l.contains("not serving")),
        "{table}"
    );
    let err = one_line_error(&shell(&lab, r#"zk::children("/")"#));
    assert!(err.contains("does not serve requests"), "{err}");
    let err = one_line_error(&shell(&lab, &format!(r#"zk::admin("{binder0}", "srvr")"#)));
    assert!(err.contains("not currently serving requests"), "{err}");

    // Back, then a power loss of cn1 (binder1): SIGKILL, and back with its data.
    lab.must(&["lab", "fault", "start", "binder1"]);
    lab.must(&["lab", "fault", "start", "binder2"]);
    wait_for_modes(&members, &["follower", "follower", "leader"]);
    let binder1 = Lab::instance(&status, "binder1");
    let binder1_addr = format!("{}:2181", binder1["ip"].as_str().expect("ip"));
    let member_dir = member_dir_of(&lab, &binder1_addr);
    let pid: i32 = std::fs::read_to_string(member_dir.join("zookeeper.pid"))
        .expect("binder1's pid file")
        .trim()
        .parse()
        .expect("a pid");
    lab.must(&["lab", "fault", "server-down", "cn1"]);
    assert!(
        !lab_support::process_alive(pid),
        "binder1's JVM {pid} survived"
    );
    assert_eq!(mode(&binder1_addr), "(refused)");
    lab.must(&["lab", "fault", "server-up", "cn1"]);
    wait_for_modes(&members, &["follower", "follower", "leader"]);
    assert!(member_dir.join("data/version-2").is_dir());

    a_read_outlasts_the_leaders_loss(&lab, &members);
    wait_for_modes(&members, &["follower", "follower", "leader"]);
    a_new_session_waits_out_the_election(&lab, &members);
}

/// The leader's server goes down; at once a new process reads: the two members left
/// answer but do not serve while they elect, and the read waits for them
/// (it once failed with "no quorum" for several seconds).
fn a_new_session_waits_out_the_election(lab: &Lab, members: &[String]) {
    // A power loss, not a clean stop: the followers notice the leader is
    // gone only after their sync timeout, then elect — seconds in which a
    // new session used to fail with "no quorum".
    let (_, alias) = leader(lab, members);
    let server = Lab::instance(&lab.status(), &alias)["server"]
        .as_str()
        .expect("its server")
        .to_string();
    lab.must(&["lab", "fault", "server-down", &server]);
    let out = shell(lab, r#"zk::children("/manatee").len()"#);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "a read during the election: {err}");
    assert!(
        err.is_empty() || err.contains("electing a leader; waiting up to 30 s"),
        "{err}"
    );
    lab.must(&["lab", "fault", "server-up", &server]);
}

/// The leader's address and its binder instance's alias.
fn leader(lab: &Lab, members: &[String]) -> (String, String) {
    let leader = members
        .iter()
        .find(|m| mode(m) == "leader")
        .expect("a leader")
        .clone();
    let status = lab.status();
    let alias = status["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .find(|i| format!("{}:2181", i["ip"].as_str().unwrap_or_default()) == leader)
        .and_then(|i| i["alias"].as_str())
        .expect("the leader's alias")
        .to_string();
    (leader, alias)
}

/// One script holds a session, stops the leader through CNAPI (the
/// ensemble re-elects) and reads on through the election: the session
/// moves to a survivor and no read fails.
fn a_read_outlasts_the_leaders_loss(lab: &Lab, members: &[String]) {
    let (leader, alias) = leader(lab, members);
    let leader = &leader;
    let script = format!(
        r#"let before = zk::children("/").len();
           zone::svcadm("{alias}", "disable", "zookeeper");
           let failed = [];
           for i in 0..40 {{
               try {{ zk::children("/"); }} catch (e) {{ failed.push(e); }}
               sleep(0.05);
           }}
           if failed.is_empty() {{ `${{before}} ok` }} else {{ `${{failed.len()}} failed: ${{failed[0]}}` }}"#
    );
    let out = shell(lab, &script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        said.ends_with(" ok"),
        "reads during the re-election: {said}"
    );
    assert_eq!(mode(leader), "(refused)");
    lab.must(&["lab", "fault", "start", &alias]);
    // Disabled in its zone, the service stays down until enabled again.
    let out = shell(
        lab,
        &format!(r#"zone::svcadm("{alias}", "enable", "zookeeper")"#),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The member directory whose zoo.cfg listens on `addr`.
fn member_dir_of(lab: &Lab, addr: &str) -> std::path::PathBuf {
    let ip = addr.trim_end_matches(":2181");
    std::fs::read_dir(lab.dir.join("zookeeper"))
        .expect("zookeeper dir")
        .flatten()
        .map(|e| e.path())
        .find(|dir| {
            std::fs::read_to_string(dir.join("zoo.cfg"))
                .is_ok_and(|cfg| cfg.lines().any(|l| l == format!("clientPortAddress={ip}")))
        })
        .unwrap_or_else(|| panic!("no member directory for {addr}"))
}

#[test]
fn a_fresh_lab_has_one_standalone_member() {
    let lab = Lab::up("zk-fresh", &["--profile", "fresh"]);
    let status = lab.status();
    let members = status["zk"].as_array().expect("zk is a list");
    assert_eq!(members.len(), 1, "{status}");
    let member = members[0].as_str().expect("ip:port").to_string();
    wait_for_modes(std::slice::from_ref(&member), &["standalone"]);
    // The first status may be taken while the JVM still starts: ask again
    // once the member answers.
    let status = lab.status();
    assert_eq!(Lab::instance(&status, "binder0")["zk_mode"], "standalone");
}

/// A shell with no datacenter but the ZooKeeper members in `ZK_IPS`.
fn shell_with_zk(name: &str, zk_ips: &str, script: &str) -> Output {
    let home = scratch_dir(name);
    let config = home.join("config/tritonsh");
    std::fs::create_dir_all(&config).expect("config dir");
    // APIs nobody answers: these calls never reach them.
    let url = "http://127.0.0.1:9";
    std::fs::write(
        config.join("config.toml"),
        format!(
            "default = \"z\"\n[profiles.z]\nsapi_url = \"{url}\"\nvmapi_url = \"{url}\"\ncnapi_url = \"{url}\"\n"
        ),
    )
    .expect("config");
    let out = Command::new(BIN)
        .args(["-c", script])
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("ZK_IPS", zk_ips)
        .env("NO_COLOR", "1")
        .env_remove("TRITONSH_LAB")
        .env_remove("TRITONSH_PROFILE")
        .output()
        .expect("run tritonsh");
    let _ = std::fs::remove_dir_all(&home);
    out
}

fn refused_addr() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").to_string()
}

#[test]
fn an_unreachable_member_is_connection_refused() {
    let addr = refused_addr();
    let err = one_line_error(&shell_with_zk("zk-refused", &addr, r#"zk::children("/")"#));
    assert!(err.contains("connection refused by every member"), "{err}");
    let err = one_line_error(&shell_with_zk(
        "zk-refused-4lw",
        &addr,
        &format!(r#"zk::admin("{addr}", "ruok")"#),
    ));
    assert!(err.contains("connection refused"), "{err}");
}

/// A listener that accepts and never answers (a hung host, a firewall
/// that lets SYNs through): the calls time out.
#[test]
fn a_half_open_connection_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let started = Instant::now();
    let err = one_line_error(&shell_with_zk(
        "zk-half-open-4lw",
        &addr,
        &format!(r#"zk::admin("{addr}", "srvr")"#),
    ));
    assert!(err.contains("did not answer `srvr` within 2s"), "{err}");
    let err = one_line_error(&shell_with_zk(
        "zk-half-open",
        &addr,
        r#"zk::children("/")"#,
    ));
    assert!(err.contains(&addr), "{err}");
    assert!(err.contains("within"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

/// ZooKeeper 3.5+ answers a word outside `4lw.commands.whitelist` with a
/// sentence instead of data.
#[test]
fn a_word_refused_by_the_whitelist_is_said_plainly() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut word = [0u8; 4];
            let _ = stream.read_exact(&mut word);
            let word = String::from_utf8_lossy(&word).into_owned();
            let _ = writeln!(
                stream,
                "{word} is not executed because it is not in the whitelist."
            );
        }
    });
    let err = one_line_error(&shell_with_zk(
        "zk-whitelist",
        &addr,
        &format!(r#"zk::admin("{addr}", "stat")"#),
    ));
    assert!(
        err.contains("refuses `stat`: it is not in the server's 4lw.commands.whitelist"),
        "{err}"
    );
}

/// A TCP relay to `target` that can cut every connection and refuse new
/// ones for a while: a partition between client and server.
struct Relay {
    addr: String,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    fn to(target: String) -> Relay {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let cut = Arc::new(AtomicBool::new(false));
        let flag = cut.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if flag.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(&target) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    ),
                    (server, client),
                ] {
                    let flag = flag.clone();
                    std::thread::spawn(move || {
                        let _ = from.set_read_timeout(Some(Duration::from_millis(50)));
                        let mut buf = [0u8; 4096];
                        loop {
                            if flag.load(Ordering::SeqCst) {
                                break;
                            }
                            match from.read(&mut buf) {
                                Ok(0) => break,
                                Ok(n) => {
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                                Err(e)
                                    if e.kind() == std::io::ErrorKind::WouldBlock
                                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                                Err(_) => break,
                            }
                        }
                        let _ = from.shutdown(std::net::Shutdown::Both);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay { addr, cut }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.store(cut, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A session the ensemble dropped while the client could not reach it (a
/// partition longer than the session timeout) is said to have expired;
/// the next call opens a new one.
#[test]
fn an_expired_session_is_said_and_the_next_call_opens_a_new_one() {
    use tritonsh::dc::zk::{ZkEnsemble, ZkError};

    let lab = Lab::up("zk-expire", &["--profile", "fresh"]);
    let status = lab.status();
    let member = status["zk"][0].as_str().expect("ip:port").to_string();
    wait_for_modes(std::slice::from_ref(&member), &["standalone"]);
    let relay = Relay::to(member);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The lab's minimum: 1 s.
    let zk = ZkEnsemble::new(
        std::slice::from_ref(&relay.addr),
        Duration::from_secs(1),
        tritonsh::dc::MutationGate::default(),
    );
    rt.block_on(zk.children("/")).expect("a first read");

    relay.set_cut(true);
    std::thread::sleep(Duration::from_secs(3));
    relay.set_cut(false);

    let err = rt
        .block_on(zk.children("/"))
        .expect_err("the session expired");
    assert!(
        matches!(err, ZkError::SessionExpired { .. }),
        "{err:?}: {err}"
    );
    assert_eq!(err.to_string().lines().count(), 1);
    rt.block_on(zk.children("/")).expect("a new session");
}
