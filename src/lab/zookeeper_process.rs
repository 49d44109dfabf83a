//! The ZooKeeper server of a binder instance: a real one (Debian's
//! `zookeeper` 3.8 on OpenJDK), listening on the instance's own address,
//! client port 2181 and quorum ports 2888/3888, as in a binder zone.
//!
//! Its `zoo.cfg` and `myid` are rendered from SAPI each time it starts, as
//! config-agent renders them in the zone before SMF starts ZooKeeper
//! (ha-core.md §6.1): the servers from the `sdc` application's
//! `ZK_HA_SERVERS` (else `ZK_SERVERS`), myid from the instance's `ZK_ID`.
//! Two things differ from Triton, on purpose (README, "ZooKeeper in the
//! lab"): `tickTime=500` with sessions of 1–10 s instead of 2000 and 4–40 s,
//! so a dead session expires within 10 s; and the four-letter words the
//! checks use are whitelisted, which 3.5+ needs and 3.4 did not.
//!
//! The JVM is started directly (not through zkServer.sh), so the pid in its
//! pid file is the JVM's own: `lab down` stops it by that pid even when the
//! daemon has died. Its data lives in the lab directory under the VM's uuid:
//! kept across `lab down`/`up`, gone with a destroyed VM.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use nix::sys::signal::Signal;
use serde_json::Value;

use crate::dc::zk_admin::{self, ZkAdminError};
use crate::lab::error::LabError;
use crate::lab::instance_process::{ConfigSync, Health, InstanceProcess};
use crate::lab::lab_dir::LabDir;
use crate::lab::pid_file;
use crate::lab::status::LabInstance;
use crate::lab::world::{SharedWorld, World};

/// What the Debian package installs; `/etc/zookeeper/conf` has its log4j
/// setup. The jar's manifest names its dependencies but no slf4j binding:
/// without the last two the member logs nothing (a missing jar is skipped).
const JAR: &str = "/usr/share/java/zookeeper.jar";
const CLASSPATH: &str = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar:\
                         /usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar";
const MAIN: &str = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
/// A member holds a few KB of znodes; 64 MB of heap is plenty and keeps a
/// member near 70 MB of RSS. An out-of-memory JVM exits, as zkServer.sh's
/// `-XX:OnOutOfMemoryError='kill -9 %p'` makes it, rather than limp on.
const JVM_FLAGS: [&str; 4] = [
    "-Xmx64m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:+ExitOnOutOfMemoryError",
];

pub const CLIENT_PORT: u16 = 2181;
const QUORUM_PORT: u16 = 2888;
const ELECTION_PORT: u16 = 3888;

/// An orderly stop (SIGTERM) gets this long before SIGKILL.
const STOP_WITHIN: Duration = Duration::from_secs(5);

pub struct ZookeeperProcess {
    alias: String,
    world: SharedWorld,
    root: PathBuf,
    running: Option<Running>,
}

struct Running {
    pid: i32,
    /// The VM it serves: its data directory is named after it.
    vm_uuid: String,
    ip: Ipv4Addr,
    /// The argument that marks the JVM's command line (its zoo.cfg path).
    marker: String,
    /// None when adopted from a daemon that died.
    child: Option<tokio::process::Child>,
}

/// What config-agent would render for one instance.
#[derive(Debug, PartialEq)]
struct Rendered {
    vm_uuid: String,
    ip: Ipv4Addr,
    /// `ZK_ID` as the template writes it (empty when unset).
    myid: String,
    zoo_cfg: String,
}

impl ZookeeperProcess {
    pub fn new(alias: &str, world: SharedWorld, dir: &LabDir) -> ZookeeperProcess {
        ZookeeperProcess {
            alias: alias.to_string(),
            world,
            root: zookeeper_root(dir),
            running: None,
        }
    }

    fn member_dir(&self, vm_uuid: &str) -> PathBuf {
        self.root.join(vm_uuid)
    }

    fn render(&self) -> Result<Rendered, LabError> {
        let alias = self.alias.clone();
        let root = self.root.clone();
        self.world
            .with(|w| render(w, &alias, &root))
            .map_err(|why| LabError::Other(format!("cannot configure ZooKeeper of {alias}: {why}")))
    }

    async fn spawn(&self, rendered: &Rendered) -> Result<Running, LabError> {
        check_installed()?;
        let dir = self.member_dir(&rendered.vm_uuid);
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(|e| LabError::io("create", &data, e))?;
        let myid = data.join("myid");
        std::fs::write(&myid, format!("{}\n", rendered.myid))
            .map_err(|e| LabError::io("write", &myid, e))?;
        let cfg = dir.join("zoo.cfg");
        std::fs::write(&cfg, &rendered.zoo_cfg).map_err(|e| LabError::io("write", &cfg, e))?;
        let log = dir.join("zookeeper.out");
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| LabError::io("open", &log, e))?;
        let err = out.try_clone().map_err(|e| LabError::io("open", &log, e))?;
        let marker = cfg.to_string_lossy().into_owned();
        let child = tokio::process::Command::new("java")
            .args(JVM_FLAGS)
            .arg(format!("-Dzookeeper.log.dir={}", dir.display()))
            .arg("-Dzookeeper.root.logger=INFO,ROLLINGFILE")
            .arg("-cp")
            .arg(CLASSPATH)
            .arg(MAIN)
            .arg(&marker)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .current_dir(&dir)
            .spawn()
            .map_err(|e| {
                LabError::Other(format!(
                    "cannot start ZooKeeper of {}: java: {} ({})",
                    self.alias,
                    crate::lab::error::reason(&e),
                    INSTALL_HINT
                ))
            })?;
        let pid = child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .ok_or_else(|| {
                LabError::Other(format!("ZooKeeper of {} exited at once", self.alias))
            })?;
        let pid_path = dir.join(PID_FILE);
        std::fs::write(&pid_path, format!("{pid}\n"))
            .map_err(|e| LabError::io("write", &pid_path, e))?;
        Ok(Running {
            pid,
            vm_uuid: rendered.vm_uuid.clone(),
            ip: rendered.ip,
            marker,
            child: Some(child),
        })
    }

    /// Stops the JVM: SIGTERM and a wait (an orderly shutdown), or SIGKILL
    /// at once (a power loss).
    async fn halt(&mut self, signal: Signal) {
        let Some(mut running) = self.running.take() else {
            return;
        };
        pid_file::signal(running.pid, signal);
        let asked = Instant::now();
        loop {
            let gone = match running.child.as_mut() {
                Some(child) => !matches!(child.try_wait(), Ok(None)),
                None => !pid_file::is_alive(running.pid, &running.marker),
            };
            if gone {
                break;
            }
            if asked.elapsed() > STOP_WITHIN {
                pid_file::signal(running.pid, Signal::SIGKILL);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = std::fs::remove_file(self.member_dir(&running.vm_uuid).join(PID_FILE));
    }

    /// A destroyed VM loses its data, as its delegated dataset goes with it.
    fn forget_if_destroyed(&self) {
        crate::lab::vm_data::forget_destroyed(&self.root, &self.world, &self.alias);
    }
}

const PID_FILE: &str = "zookeeper.pid";

/// What a binder instance's ZooKeeper server is to its instance.
pub const ROLE: &str = "zookeeper";

const INSTALL_HINT: &str =
    "the lab runs a real ZooKeeper: run scripts/install-deps.sh or apt-get install zookeeper";

fn check_installed() -> Result<(), LabError> {
    if !Path::new(JAR).exists() {
        return Err(LabError::Other(format!(
            "ZooKeeper is not installed ({JAR} is missing): {INSTALL_HINT}"
        )));
    }
    Ok(())
}

/// Where every member's directory lives: `<lab>/zookeeper/<vm uuid>/`.
fn zookeeper_root(dir: &LabDir) -> PathBuf {
    dir.root().join("zookeeper")
}

/// The members named by the `sdc` application: `(num, host)`.
fn servers(w: &World) -> Result<Vec<(u64, String)>, String> {
    let app = w
        .application_by_name("sdc")
        .ok_or("SAPI has no sdc application")?;
    let key = if app.metadata.contains_key("ZK_HA_SERVERS") {
        "ZK_HA_SERVERS"
    } else {
        "ZK_SERVERS"
    };
    let Some(Value::Array(entries)) = app.metadata.get(key) else {
        return Err(format!("the sdc application has no {key} list"));
    };
    entries
        .iter()
        .map(|e| {
            let host = e.get("host").and_then(Value::as_str);
            let num = e.get("num").and_then(Value::as_u64);
            match (num, host) {
                (Some(num), Some(host)) => Ok((num, host.to_string())),
                _ => Err(format!("{key} entry {e} lacks num or host")),
            }
        })
        .collect()
}

fn render(w: &World, alias: &str, root: &Path) -> Result<Rendered, String> {
    let vm = w
        .vm_by_alias(alias)
        .ok_or_else(|| format!("no VM {alias}"))?;
    let ip: Ipv4Addr = vm
        .primary_ip()
        .and_then(|ip| ip.parse().ok())
        .ok_or_else(|| format!("{alias} has no admin IP"))?;
    let instance = w
        .instances()
        .iter()
        .find(|i| i.uuid == vm.uuid)
        .ok_or_else(|| format!("SAPI has no instance {}", vm.uuid))?;
    // Rendered as the template would, even when wrong: ZooKeeper itself
    // then does what it does with it (a single server line runs standalone
    // whatever myid says; in an ensemble a myid missing from the server
    // lines stops it, and its log says so).
    let myid = match instance.metadata.get("ZK_ID") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let servers = servers(w)?;
    let data = root.join(&vm.uuid).join("data");
    Ok(Rendered {
        vm_uuid: vm.uuid.clone(),
        ip,
        myid,
        zoo_cfg: zoo_cfg(&data, ip, &servers),
    })
}

/// Triton's zoo.cfg (zookeeper-common template) with the lab's timings and
/// what 3.8 on a shared loopback needs (ha-core.md §8.2).
fn zoo_cfg(data: &Path, ip: Ipv4Addr, servers: &[(u64, String)]) -> String {
    let mut cfg = String::from(
        "# Rendered by the lab from SAPI (ZK_SERVERS, ZK_ID), as config-agent does in a binder zone.\n\
         # Triton: tickTime=2000 (sessions 4-40 s); the lab: 500 (sessions 1-10 s).\n\
         tickTime=500\n\
         initLimit=10\n\
         syncLimit=5\n\
         minSessionTimeout=1000\n\
         maxSessionTimeout=10000\n",
    );
    let _ = writeln!(cfg, "dataDir={}", data.display());
    let _ = writeln!(cfg, "clientPortAddress={ip}");
    let _ = writeln!(cfg, "clientPort={CLIENT_PORT}");
    cfg.push_str(
        "maxClientCnxns=0\n\
         # 3.5+ allows only srvr by default; 3.4 (Triton) allowed all of these.\n\
         4lw.commands.whitelist=ruok,srvr,stat,mntr,isro\n\
         # Else every member's AdminServer fights over port 8080.\n\
         admin.enableServer=false\n",
    );
    for (num, host) in servers {
        let _ = writeln!(cfg, "server.{num}={host}:{QUORUM_PORT}:{ELECTION_PORT}");
    }
    cfg
}

impl InstanceProcess for ZookeeperProcess {
    fn alias(&self) -> &str {
        &self.alias
    }

    fn role(&self) -> &'static str {
        ROLE
    }

    fn start(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            if let Some(running) = &self.running
                && pid_file::is_alive(running.pid, &running.marker)
            {
                return Ok(());
            }
            self.running = None;
            let rendered = self.render()?;
            let dir = self.member_dir(&rendered.vm_uuid);
            let marker = dir.join("zoo.cfg").to_string_lossy().into_owned();
            // Left running by a daemon that died: it serves the same data.
            if let Some(pid) = pid_file::live_pid(&dir.join(PID_FILE), &marker) {
                self.running = Some(Running {
                    pid,
                    vm_uuid: rendered.vm_uuid,
                    ip: rendered.ip,
                    marker,
                    child: None,
                });
                return Ok(());
            }
            self.running = Some(self.spawn(&rendered).await?);
            Ok(())
        }
        .boxed()
    }

    fn stop(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            self.halt(Signal::SIGTERM).await;
            self.forget_if_destroyed();
            Ok(())
        }
        .boxed()
    }

    fn kill(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            self.halt(Signal::SIGKILL).await;
            Ok(())
        }
        .boxed()
    }

    /// config-agent rewrites zoo.cfg and myid, and its post_cmd restarts
    /// ZooKeeper when they changed (ha-core.md §7.1 step 10.3).
    fn sync_config(&mut self) -> BoxFuture<'_, Result<ConfigSync, LabError>> {
        async move {
            let rendered = self.render()?;
            let dir = self.member_dir(&rendered.vm_uuid);
            let cfg = std::fs::read_to_string(dir.join("zoo.cfg")).unwrap_or_default();
            let myid = std::fs::read_to_string(dir.join("data").join("myid")).unwrap_or_default();
            let changed = cfg != rendered.zoo_cfg || myid.trim() != rendered.myid.trim();
            if !changed {
                return Ok(ConfigSync::Unchanged);
            }
            if self.running.is_none() {
                return Ok(ConfigSync::Written);
            }
            // start() renders and writes the new files.
            self.halt(Signal::SIGTERM).await;
            self.start().await?;
            Ok(ConfigSync::Restarted)
        }
        .boxed()
    }

    fn port(&self) -> Option<u16> {
        Some(CLIENT_PORT)
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        async move {
            let Some(running) = &self.running else {
                return Health::Down;
            };
            if !pid_file::is_alive(running.pid, &running.marker) {
                let log = self.member_dir(&running.vm_uuid).join("zookeeper.log");
                let why = last_error(&log).unwrap_or_default();
                return Health::Failing(format!(
                    "ZooKeeper (pid {}) exited{why}; its log is {}",
                    running.pid,
                    log.display()
                ));
            }
            match zk_admin::srvr(&format!("{}:{CLIENT_PORT}", running.ip)).await {
                Ok(_) => Health::Up,
                Err(ZkAdminError::Refused { .. }) => {
                    Health::Failing("ZooKeeper is starting (port 2181 not open yet)".into())
                }
                Err(e) => Health::Failing(e.to_string()),
            }
        }
        .boxed()
    }
}

/// `: <message>` of the last ERROR in a member's log, if any.
fn last_error(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text
        .lines()
        .rev()
        .find(|l| l.contains(" - ERROR ") && !l.contains("Exiting JVM with code"))?;
    // `2026-12-02 04:01:02,345 - ERROR [main:QuorumPeerMain@99] - Invalid config, exiting abnormally`
    let message = line.rsplit_once("] - ").map_or(line, |(_, m)| m);
    Some(format!(": {}", message.trim()))
}

/// The ensemble as clients connect to it: `host:port` of every member
/// SAPI names (empty if it names none).
pub fn ensemble(w: &World) -> Vec<String> {
    let Some(app) = w.application_by_name("sdc") else {
        return Vec::new();
    };
    let entries = app
        .metadata
        .get("ZK_HA_SERVERS")
        .or_else(|| app.metadata.get("ZK_SERVERS"));
    let Some(Value::Array(entries)) = entries else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| {
            let host = e.get("host")?.as_str()?;
            let port = e.get("port").and_then(Value::as_u64).unwrap_or(2181);
            Some(format!("{host}:{port}"))
        })
        .collect()
}

/// Fills in each binder's ZooKeeper mode, asking every member `srvr` at once.
pub async fn add_modes(instances: &mut [LabInstance]) {
    let asks = instances.iter().map(|i| async move {
        if i.service != "binder" {
            return None;
        }
        let mode = match zk_admin::srvr(&format!("{}:{CLIENT_PORT}", i.ip)).await {
            Ok(stats) => stats.mode.as_str(),
            Err(ZkAdminError::NotServing { .. }) => "not serving",
            Err(_) => "down",
        };
        Some(mode.to_string())
    });
    let modes = futures::future::join_all(asks).await;
    for (instance, mode) in instances.iter_mut().zip(modes) {
        instance.zk_mode = mode;
    }
}

/// `lab down` of a lab whose daemon died: stops every ZooKeeper it left, by
/// the pid in its pid file (never by name).
pub fn stop_leftovers(dir: &LabDir) {
    let Ok(entries) = std::fs::read_dir(zookeeper_root(dir)) else {
        return;
    };
    let mut left = Vec::new();
    for entry in entries.flatten() {
        let member = entry.path();
        let marker = member.join("zoo.cfg").to_string_lossy().into_owned();
        if let Some(pid) = pid_file::live_pid(&member.join(PID_FILE), &marker) {
            pid_file::signal(pid, Signal::SIGTERM);
            left.push((pid, marker, member.join(PID_FILE)));
        }
    }
    let asked = Instant::now();
    for (pid, marker, pid_path) in left {
        while pid_file::is_alive(pid, &marker) {
            if asked.elapsed() > STOP_WITHIN {
                pid_file::signal(pid, Signal::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(pid_path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_a_member_exited_is_its_last_error() {
        let dir = std::env::temp_dir().join(format!("zk-last-error-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let log = dir.join("zookeeper.log");
        let text = "2026-12-02 04:05:53,600 - INFO  [main:QuorumPeerConfig@174] - Reading configuration\n\
                    2026-12-02 04:05:53,677 - ERROR [main:QuorumPeerMain@99] - Invalid config, exiting abnormally\n\
                    2026-12-02 04:05:53,680 - ERROR [main:ServiceUtils@42] - Exiting JVM with code 2\n";
        std::fs::write(&log, text).expect("write");
        assert_eq!(
            last_error(&log).as_deref(),
            Some(": Invalid config, exiting abnormally")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn zoo_cfg_has_one_server_line_per_member_on_its_own_address() {
        let servers = vec![
            (1, "127.9.0.24".to_string()),
            (2, "127.9.0.25".to_string()),
            (3, "127.9.0.26".to_string()),
        ];
        let cfg = zoo_cfg(
            Path::new("/lab/zookeeper/u/data"),
            Ipv4Addr::new(127, 9, 0, 25),
            &servers,
        );
        for line in [
            "tickTime=500",
            "maxSessionTimeout=10000",
            "dataDir=/lab/zookeeper/u/data",
            "clientPortAddress=127.9.0.25",
            "clientPort=2181",
            "4lw.commands.whitelist=ruok,srvr,stat,mntr,isro",
            "admin.enableServer=false",
            "server.1=127.9.0.24:2888:3888",
            "server.3=127.9.0.26:2888:3888",
        ] {
            assert!(cfg.lines().any(|l| l == line), "{line} missing in\n{cfg}");
        }
    }
}
