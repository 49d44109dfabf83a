//! One peer's PostgreSQL 15, driven as manatee's postgresMgr drives it
//! (ha-core.md §2.8): every configuration is written whole from the
//! template plus the role's settings, and a role change restarts it.
//!
//! Its directory is `<lab>/manatee/<vm uuid>/`: `data/` (the cluster),
//! `postgresql.log`, and
//! `postgres.pid` (the postmaster's pid, for `lab down` after a daemon
//! crash). Its socket directory is outside the data directory, or
//! `pg_basebackup` copies the socket's lock file and the clone will not
//! start. When the lab runs as root, PostgreSQL and its tools run as the
//! `postgres` user, since PostgreSQL refuses to run as root.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::{Gid, Pid, Uid};

use super::link_route::{self, LinkRoute};
use super::stall::Stall;
use super::state::PG_PORT;
use crate::lab::error::LabError;
use crate::lab::pid_file;

const BIN: &str = "/usr/lib/postgresql/15/bin";
pub const PID_FILE: &str = "postgres.pid";
/// A fast shutdown (SIGINT) gets this long before SIGKILL.
const STOP_WITHIN: Duration = Duration::from_secs(10);
/// manatee-adm's own timeout for a peer's queries is 1 s; the sitter's
/// health check allows more on a loaded machine.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
const INSTALL_HINT: &str = "the lab runs a real PostgreSQL 15: run scripts/install-deps.sh or apt-get install postgresql-15";

/// What the server is configured as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PgRole {
    /// Read-only until `writable`; commits wait for `sync` (a pgUrl) when set.
    Primary {
        sync: Option<String>,
        writable: bool,
    },
    /// Streams from `upstream` (an IP), naming itself by its own pgUrl.
    Standby { upstream: String, own_url: String },
}

pub struct Postgres {
    ip: Ipv4Addr,
    dir: PathBuf,
    /// The `postgres` user's ids when the lab runs as root.
    owner: Option<(Uid, Gid)>,
    running: Option<Running>,
    /// `lab fault stall`: replication refused, walsenders stopped.
    stall: Arc<Stall>,
    /// As a standby, the route that sources its link from its own address.
    route: LinkRoute,
}

struct Running {
    pid: i32,
    /// None when adopted from a daemon that died.
    child: Option<tokio::process::Child>,
}

impl Postgres {
    pub fn new(ip: Ipv4Addr, dir: PathBuf, stall: Arc<Stall>) -> Result<Postgres, LabError> {
        if !Path::new(BIN).join("postgres").exists() {
            return Err(LabError::Other(format!(
                "PostgreSQL 15 is not installed ({BIN}/postgres is missing): {INSTALL_HINT}"
            )));
        }
        let owner = if Uid::effective().is_root() {
            let user = nix::unistd::User::from_name("postgres")
                .ok()
                .flatten()
                .ok_or_else(|| {
                    LabError::Other(format!(
                        "the lab runs as root and PostgreSQL refuses to: it needs the postgres user ({INSTALL_HINT})"
                    ))
                })?;
            Some((user.uid, user.gid))
        } else {
            None
        };
        Ok(Postgres {
            ip,
            owner,
            running: None,
            stall,
            route: LinkRoute::new(ip, &dir),
            dir,
        })
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Outside the data directory, and short: a socket's path may not
    /// exceed 107 bytes, which a lab directory under a long path would.
    /// Addresses are unique to a lab, so the IP names it.
    fn socket(&self) -> PathBuf {
        std::env::temp_dir()
            .join(format!("tritonsh-pg-{}", Uid::effective()))
            .join(self.ip.to_string())
    }

    pub fn log(&self) -> PathBuf {
        self.dir.join("postgresql.log")
    }

    /// The marker of the postmaster's command line: its data directory.
    fn marker(&self) -> String {
        self.data().to_string_lossy().into_owned()
    }

    /// Whether a cluster was ever set up here (manatee's `mp_pg_setup`).
    pub fn has_data(&self) -> bool {
        self.data().join("PG_VERSION").exists()
    }

    /// Takes over a postmaster a daemon that died left running.
    pub fn adopt(&mut self) {
        if let Some(pid) = pid_file::live_pid(&self.dir.join(PID_FILE), &self.marker()) {
            self.running = Some(Running { pid, child: None });
        }
    }

    pub fn is_running(&mut self) -> bool {
        let Some(running) = self.running.as_mut() else {
            return false;
        };
        let alive = match running.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => pid_file::is_alive(running.pid, &self.data().to_string_lossy()),
        };
        if !alive {
            self.running = None;
        }
        alive
    }

    /// The peer directory and the socket directory, owned by the server's user.
    fn prepare(&self) -> Result<(), LabError> {
        for dir in [&self.dir, &self.socket()] {
            std::fs::create_dir_all(dir).map_err(|e| LabError::io("create", dir, e))?;
            self.chown(dir)?;
        }
        Ok(())
    }

    fn chown(&self, path: &Path) -> Result<(), LabError> {
        if let Some((uid, gid)) = self.owner {
            nix::unistd::chown(path, Some(uid), Some(gid)).map_err(|e| {
                LabError::io("chown", path, std::io::Error::from_raw_os_error(e as i32))
            })?;
        }
        Ok(())
    }

    /// A command of PostgreSQL's, run as the server's user.
    fn command(&self, program: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(Path::new(BIN).join(program));
        command
            .current_dir(&self.dir)
            .env("HOME", &self.dir)
            .env_remove("PGDATA")
            .stdin(Stdio::null());
        if let Some((uid, gid)) = self.owner {
            command.uid(uid.as_raw()).gid(gid.as_raw());
        }
        command
    }

    /// Runs a tool to its end; its output goes to the peer's log.
    async fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let output = self
            .command(program)
            .args(args)
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| format!("{program}: {}", crate::lab::error::reason(&e)))?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        Err(format!(
            "{program} failed ({}): {}",
            output.status,
            last.unwrap_or("no message")
        ))
    }

    /// A new, empty cluster (the first primary's).
    pub async fn initdb(&self) -> Result<(), String> {
        self.prepare().map_err(|e| e.to_string())?;
        let data = self.marker();
        self.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )
        .await
    }

    /// A full copy of `source`'s cluster, as manatee's restore copies the
    /// primary's dataset; a partial copy from an earlier attempt goes first.
    pub async fn restore_from(&self, source: &str) -> Result<(), String> {
        self.prepare().map_err(|e| e.to_string())?;
        let data = self.data();
        if data.exists() {
            std::fs::remove_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
        }
        let port = PG_PORT.to_string();
        self.run(
            "pg_basebackup",
            &[
                "-h",
                source,
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &self.marker(),
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ],
        )
        .await?;
        self.copy_kept_wal(source);
        Ok(())
    }

    /// manatee restores with `zfs send` of the primary's whole dataset,
    /// which carries the WAL the primary keeps (`wal_keep_segments`);
    /// pg_basebackup copies only the WAL its backup needs. A peer that
    /// comes back after a loss and streams from the restored one asks for
    /// that older WAL (found rehearsing a lost compute node coming back):
    /// the segments older than the backup's are copied from the source's
    /// directory in the lab. Best effort, as the source may recycle a
    /// segment meanwhile; one missing shows as the returning peer not
    /// streaming, which manatee-adm reports.
    fn copy_kept_wal(&self, source: &str) {
        let Some(source_wal) = self.peer_data_at(source).map(|d| d.join("pg_wal")) else {
            return;
        };
        let wal = self.data().join("pg_wal");
        let Some(first) = wal_segments(&wal).into_iter().next() else {
            return;
        };
        for name in wal_segments(&source_wal).into_iter().filter(|n| *n < first) {
            let to = wal.join(&name);
            let copied = std::fs::copy(source_wal.join(&name), &to)
                .map_err(|e| e.to_string())
                .and_then(|_| self.chown(&to).map_err(|e| e.to_string()));
            if let Err(e) = copied {
                tracing::warn!(segment = %name, "restore: kept WAL not copied from {source}: {e}");
            }
        }
    }

    /// The data directory of the lab's other peer listening on `ip` (this
    /// one's fresh copy holds the source's postgresql.conf until it is
    /// configured).
    fn peer_data_at(&self, ip: &str) -> Option<PathBuf> {
        let listens = format!("listen_addresses = '{ip}'");
        std::fs::read_dir(self.dir.parent()?)
            .ok()?
            .flatten()
            .map(|peer| peer.path())
            .filter(|peer| *peer != self.dir)
            .map(|peer| peer.join("data"))
            .find(|data| {
                std::fs::read_to_string(data.join("postgresql.conf"))
                    .is_ok_and(|conf| conf.lines().any(|l| l.trim() == listens))
            })
    }

    /// Writes postgresql.conf and pg_hba.conf whole, and `standby.signal`
    /// for a standby.
    pub fn configure(&self, role: &PgRole) -> Result<(), LabError> {
        let data = self.data();
        let write = |name: &str, text: String| {
            let path = data.join(name);
            std::fs::write(&path, text).map_err(|e| LabError::io("write", &path, e))?;
            self.chown(&path)
        };
        write("postgresql.conf", conf(self.ip, &self.socket(), role))?;
        self.write_hba()?;
        write("postgresql.auto.conf", String::new())?;
        let signal = data.join("standby.signal");
        // The route is in place before PostgreSQL starts on this file, so
        // its WAL receiver connects from this peer's own address.
        match role {
            PgRole::Standby { upstream, .. } => {
                self.route.point_to(upstream);
                write("standby.signal", String::new())?
            }
            PgRole::Primary { .. } => {
                self.route.clear();
                let _ = std::fs::remove_file(&signal);
            }
        }
        Ok(())
    }

    /// pg_hba.conf, refusing replication while stalled.
    fn write_hba(&self) -> Result<(), LabError> {
        let path = self.data().join("pg_hba.conf");
        std::fs::write(&path, hba(self.stall.is_on()))
            .map_err(|e| LabError::io("write", &path, e))?;
        self.chown(&path)
    }

    /// The stall was set or lifted: replication is refused or served from
    /// the next connection on.
    pub fn stall_changed(&self) -> Result<(), LabError> {
        if !self.has_data() {
            return Ok(());
        }
        self.write_hba()?;
        self.reload();
        Ok(())
    }

    pub async fn start(&mut self) -> Result<(), String> {
        if self.is_running() {
            return Ok(());
        }
        self.prepare().map_err(|e| e.to_string())?;
        let log = self.log();
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let data = self.marker();
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(&data)
            .stdout(out)
            .stderr(err)
            // Its own group: a power loss kills the backends with it.
            .process_group(0)
            .spawn()
            .map_err(|e| format!("postgres: {}", crate::lab::error::reason(&e)))?;
        let pid = child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .ok_or("postgres exited at once")?;
        let pid_path = self.dir.join(PID_FILE);
        std::fs::write(&pid_path, format!("{pid}\n"))
            .map_err(|e| format!("{}: {e}", pid_path.display()))?;
        self.running = Some(Running {
            pid,
            child: Some(child),
        });
        Ok(())
    }

    /// Waits until it accepts connections (a standby: once consistent).
    pub async fn wait_ready(&mut self, within: Duration) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if !self.is_running() {
                return Err(format!(
                    "postgres exited; its log is {}",
                    self.log().display()
                ));
            }
            if self.query("select 1").await.is_ok() {
                return Ok(());
            }
            if started.elapsed() > within {
                return Err(format!(
                    "postgres does not accept connections after {}s; its log is {}",
                    within.as_secs(),
                    self.log().display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGHUP: the server rereads its configuration.
    pub fn reload(&self) {
        if let Some(running) = &self.running {
            pid_file::signal(running.pid, Signal::SIGHUP);
        }
    }

    /// A fast shutdown (SIGINT), then SIGKILL if it takes too long.
    pub async fn stop(&mut self) {
        self.halt(Signal::SIGINT).await;
    }

    /// A power loss: the postmaster and every backend at once.
    pub async fn kill(&mut self) {
        self.halt(Signal::SIGKILL).await;
    }

    async fn halt(&mut self, signal: Signal) {
        if !self.is_running() {
            let _ = std::fs::remove_file(self.dir.join(PID_FILE));
            self.route.clear();
            return;
        }
        let Some(pid) = self.running.as_ref().map(|r| r.pid) else {
            return;
        };
        // A stopped walsender would hold the shutdown up forever.
        self.stall.release();
        if signal == Signal::SIGKILL {
            kill_group(pid);
        } else {
            pid_file::signal(pid, signal);
        }
        let asked = Instant::now();
        while self.is_running() {
            if asked.elapsed() > STOP_WITHIN {
                kill_group(pid);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = std::fs::remove_file(self.dir.join(PID_FILE));
        self.route.clear();
    }

    /// One value from `sql`, asked over TCP as manatee's tools ask.
    pub async fn query(&self, sql: &str) -> Result<String, String> {
        query(&self.ip.to_string(), sql).await
    }
}

/// One row of `sql` from the server at `ip`, fields separated by `|`.
pub async fn query(ip: &str, sql: &str) -> Result<String, String> {
    let port = PG_PORT.to_string();
    let run = tokio::process::Command::new(Path::new(BIN).join("psql"))
        .args([
            "-X", "-A", "-t", "-q", "-h", ip, "-p", &port, "-U", "postgres",
        ])
        .args(["-d", "postgres", "-c", sql])
        .env("PGCONNECT_TIMEOUT", "2")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(QUERY_TIMEOUT, run)
        .await
        .map_err(|_| format!("{ip}: no answer within {}s", QUERY_TIMEOUT.as_secs()))?
        .map_err(|e| format!("psql: {}", crate::lab::error::reason(&e)))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

fn kill_group(pid: i32) {
    let _ = nix::sys::signal::killpg(Pid::from_raw(pid), Signal::SIGKILL);
}

/// `lab down` of a lab whose daemon died: stops every PostgreSQL it left,
/// by the pid in its pid file (never by name), all at once.
pub fn stop_leftovers(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut left = Vec::new();
    for entry in entries.flatten() {
        let peer = entry.path();
        let marker = peer.join("data").to_string_lossy().into_owned();
        let pid_path = peer.join(PID_FILE);
        link_route::clear_leftover(&peer);
        if let Some(pid) = pid_file::live_pid(&pid_path, &marker) {
            pid_file::signal(pid, Signal::SIGINT);
            left.push((pid, marker, pid_path));
        }
    }
    let asked = Instant::now();
    for (pid, marker, pid_path) in left {
        while pid_file::is_alive(pid, &marker) {
            if asked.elapsed() > STOP_WITHIN {
                kill_group(pid);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(pid_path);
    }
}

/// Trust on loopback, replication included, unless stalled.
fn hba(stalled: bool) -> String {
    let mut text =
        String::from("# Rendered by the lab's sitter: trust on loopback, replication included.\n");
    if stalled {
        text.push_str("# Stalled (lab fault stall): no replication connection is served.\n");
        text.push_str("host replication all 127.0.0.0/8 reject\n");
    }
    text.push_str("local all all trust\n");
    text.push_str("host all all 127.0.0.0/8 trust\n");
    text.push_str("host replication all 127.0.0.0/8 trust\n");
    text
}

/// sdc-manatee's template (PG 15 names) with the role's overrides.
fn conf(ip: Ipv4Addr, socket: &Path, role: &PgRole) -> String {
    let mut lines = vec![
        "# Rendered by the lab's sitter, as manatee's postgresMgr renders it.".to_string(),
        format!("listen_addresses = '{ip}'"),
        format!("port = {PG_PORT}"),
        format!("unix_socket_directories = '{}'", socket.display()),
        "max_connections = 40".into(),
        "shared_buffers = 16MB".into(),
        "wal_level = replica".into(),
        "max_wal_senders = 15".into(),
        "wal_keep_size = '512MB'".into(),
        "hot_standby = on".into(),
        "wal_receiver_status_interval = 1s".into(),
        "wal_retrieve_retry_interval = 1s".into(),
        // Lab data is disposable and a power loss here is SIGKILL, which
        // keeps the page cache: no need to pay for fsync on a shared disk.
        "fsync = off".into(),
        "full_page_writes = off".into(),
        "log_line_prefix = '%m [%p] '".into(),
    ];
    match role {
        PgRole::Primary { sync, writable } => {
            lines.push("synchronous_commit = on".into());
            let names = sync.as_deref().map(|url| format!("\"{url}\""));
            lines.push(format!(
                "synchronous_standby_names = '{}'",
                names.unwrap_or_default()
            ));
            if !writable {
                lines.push("default_transaction_read_only = on".into());
            }
        }
        PgRole::Standby { upstream, own_url } => {
            lines.push("synchronous_commit = off".into());
            lines.push("synchronous_standby_names = ''".into());
            lines.push(format!(
                "primary_conninfo = 'host={upstream} port={PG_PORT} user=postgres application_name={own_url} connect_timeout=60'"
            ));
        }
    }
    lines.join("\n") + "\n"
}

/// The WAL segment files in `dir` (24 hex digits), oldest first.
fn wal_segments(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.len() == 24 && n.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_segments_are_the_24_hex_digit_files_oldest_first() {
        let dir = crate::temp_dir::TempDir::new("wal-segments");
        for name in [
            "000000010000000000000003",
            "000000010000000000000001",
            "000000020000000000000002.partial",
            "00000002.history",
            "archive_status",
        ] {
            std::fs::write(dir.join(name), b"").expect("write");
        }
        assert_eq!(
            wal_segments(&dir),
            ["000000010000000000000001", "000000010000000000000003"]
        );
        assert!(wal_segments(&dir.join("gone")).is_empty());
    }

    #[test]
    fn a_standby_names_itself_by_its_pg_url_and_streams_from_its_upstream() {
        let text = conf(
            Ipv4Addr::new(127, 9, 0, 34),
            Path::new("/lab/manatee/u/socket"),
            &PgRole::Standby {
                upstream: "127.9.0.33".into(),
                own_url: "tcp://postgres@127.9.0.34:5432/postgres".into(),
            },
        );
        assert!(text.contains(
            "primary_conninfo = 'host=127.9.0.33 port=5432 user=postgres application_name=tcp://postgres@127.9.0.34:5432/postgres connect_timeout=60'"
        ));
        assert!(text.contains("unix_socket_directories = '/lab/manatee/u/socket'"));
        assert!(text.contains("synchronous_commit = off"));
    }

    #[test]
    fn a_stalled_server_refuses_replication_before_trusting_it() {
        let stalled = hba(true);
        let reject = stalled.find("host replication all 127.0.0.0/8 reject");
        let trust = stalled.find("host replication all 127.0.0.0/8 trust");
        assert!(reject.is_some() && reject < trust, "{stalled}");
        assert!(!hba(false).contains("reject"));
    }

    #[test]
    fn a_primary_is_read_only_until_its_sync_caught_up() {
        let ip = Ipv4Addr::new(127, 9, 0, 33);
        let sync = Some("tcp://postgres@127.9.0.34:5432/postgres".to_string());
        let waiting = conf(
            ip,
            Path::new("/s"),
            &PgRole::Primary {
                sync: sync.clone(),
                writable: false,
            },
        );
        assert!(waiting.contains("default_transaction_read_only = on"));
        let writable = conf(
            ip,
            Path::new("/s"),
            &PgRole::Primary {
                sync,
                writable: true,
            },
        );
        assert!(!writable.contains("read_only"));
        assert!(
            writable.contains(
                "synchronous_standby_names = '\"tcp://postgres@127.9.0.34:5432/postgres\"'"
            )
        );
    }
}
