//! What runs behind a manatee instance: its sitter (a task of the daemon,
//! `sitter.rs`) and the PostgreSQL 15 the sitter drives (`postgres.rs`),
//! started and stopped together as the instance's `manatee-sitter`.
//!
//! `stop` is orderly: the sitter removes its election node (as closing its
//! session does), then PostgreSQL has a fast shutdown. `kill` is a power
//! loss: the sitter vanishes with its session left to expire, PostgreSQL
//! and its backends get SIGKILL. `svcadm disable` (and `restart`) does the
//! same as a power loss, as on SmartOS: SMF's stop method for the sitter is
//! `:kill`, the sitter (node) has no handler that closes its ZooKeeper
//! session, so its election node stays until the session expires (what
//! `manatee-adm rebuild` waits for), and PostgreSQL, started under `ctrun
//! -o noorphan`, is killed with it. The data lives in
//! `<lab>/manatee/<vm uuid>/`: kept across `lab down`/`up`, gone with a
//! destroyed VM.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::postgres::{self, Postgres};
use super::rebuild::Target;
use super::sitter::{self, Phase, SharedPhase, SitterConfig};
use super::stall::{self, Stall};
use super::state::{PG_PORT, Peer};
use crate::lab::error::LabError;
use crate::lab::instance_process::{ConfigSync, Health, InstanceProcess};
use crate::lab::lab_dir::LabDir;
use crate::lab::world::{SharedWorld, World};
use crate::lab::zookeeper_process;

/// An orderly stop gives the sitter this long to leave the election.
const LEAVE_WITHIN: Duration = Duration::from_secs(3);

pub struct ManateePeerProcess {
    alias: String,
    world: SharedWorld,
    root: PathBuf,
    running: Option<Running>,
    phase: SharedPhase,
    /// Kept across restarts: a stall lasts until `lab fault start`.
    stall: Arc<Stall>,
    /// One-node-write mode as config-agent last rendered it in sitter.json.
    rendered_onwm: Option<bool>,
}

struct Running {
    ip: Ipv4Addr,
    task: JoinHandle<()>,
    stop: oneshot::Sender<()>,
    pg: Arc<tokio::sync::Mutex<Postgres>>,
    /// Stops the walsenders of a stalled peer.
    stall_watch: JoinHandle<()>,
}

impl ManateePeerProcess {
    pub fn new(alias: &str, world: SharedWorld, dir: &LabDir) -> ManateePeerProcess {
        ManateePeerProcess {
            alias: alias.to_string(),
            world,
            root: manatee_root(dir),
            running: None,
            phase: Arc::new(Mutex::new(Phase::working("not started"))),
            stall: Arc::default(),
            rendered_onwm: None,
        }
    }

    /// A power loss, or SMF's `:kill`: the sitter goes with its session
    /// left to expire, PostgreSQL with SIGKILL.
    async fn kill_all(&mut self, what: &str) {
        if let Some(running) = self.running.take() {
            running.task.abort();
            running.stall_watch.abort();
            let _ = running.task.await;
            running.pg.lock().await.kill().await;
        }
        sitter::set(&self.phase, Phase::working(what));
    }

    /// A destroyed VM loses its data, as its delegated dataset goes with it.
    fn forget_if_destroyed(&self) {
        crate::lab::vm_data::forget_destroyed(&self.root, &self.world, &self.alias);
    }
}

/// Where every peer's directory lives: `<lab>/manatee/<vm uuid>/`.
fn manatee_root(dir: &LabDir) -> PathBuf {
    dir.root().join("manatee")
}

/// The active manatee instances: each runs a peer.
pub fn manatee_aliases(w: &World) -> Vec<String> {
    w.instances()
        .iter()
        .filter(|i| w.service_name_of(&i.uuid) == Some("manatee"))
        .filter_map(|i| i.alias())
        .filter(|alias| w.vm_by_alias(alias).is_some())
        .map(str::to_string)
        .collect()
}

/// The peer that joins a new shard's election just before `alias`: the one
/// before it in the layout (none for the first), so that manatee0 becomes
/// the primary, manatee1 its sync, manatee2 the async.
fn previous_in_layout<'a>(aliases: &'a [String], alias: &str) -> Option<&'a str> {
    let mine = aliases.iter().position(|a| a == alias)?;
    aliases.get(mine.checked_sub(1)?).map(String::as_str)
}

/// The sitter's configuration, as config-agent renders sitter.json from
/// SAPI: the shard from `manatee_shard`, one-node-write mode from
/// `ONE_NODE_WRITE_MODE` (instance, else service, else application).
fn plan(w: &World, alias: &str) -> Result<(SitterConfig, Ipv4Addr, String), String> {
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
    let app = w.application_by_name("sdc");
    let service = w.service_by_name("manatee");
    let lookup = |key: &str| {
        instance
            .metadata
            .get(key)
            .or_else(|| service.and_then(|s| s.metadata.get(key)))
            .or_else(|| app.and_then(|a| a.metadata.get(key)))
            .cloned()
    };
    let shard = match lookup("manatee_shard") {
        Some(Value::String(shard)) => shard,
        _ => "sdc".to_string(),
    };
    let onwm = matches!(lookup("ONE_NODE_WRITE_MODE"), Some(Value::Bool(true)))
        || matches!(lookup("ONE_NODE_WRITE_MODE"), Some(Value::String(s)) if s == "true");
    let ensemble = zookeeper_process::ensemble(w).join(",");
    if ensemble.is_empty() {
        return Err("SAPI names no ZooKeeper (ZK_SERVERS is empty)".into());
    }
    let me = Peer::new(&ip.to_string(), &vm.uuid);
    let join_after = previous_in_layout(&manatee_aliases(w), alias)
        .and_then(|previous| w.vm_by_alias(previous))
        .and_then(|vm| vm.primary_ip())
        .map(|ip| Peer::new(ip, "").id);
    let cfg = SitterConfig {
        shard_path: format!("/manatee/{shard}"),
        me,
        ensemble,
        onwm,
        join_after,
    };
    Ok((cfg, ip, vm.uuid.clone()))
}

/// The peer that `manatee-adm rebuild` in `alias`'s zone acts on.
pub fn rebuild_target(w: &World, alias: &str, dir: &LabDir) -> Result<Target, String> {
    let (cfg, _, uuid) = plan(w, alias)?;
    Ok(Target {
        shard_path: cfg.shard_path,
        me: cfg.me,
        ensemble: cfg.ensemble,
        data: manatee_root(dir).join(uuid).join("data"),
    })
}

impl InstanceProcess for ManateePeerProcess {
    fn alias(&self) -> &str {
        &self.alias
    }

    fn role(&self) -> &'static str {
        "manatee-sitter"
    }

    fn start(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            if self.running.as_ref().is_some_and(|r| !r.task.is_finished()) {
                return Ok(());
            }
            let alias = self.alias.clone();
            let (cfg, ip, uuid) = self
                .world
                .with(|w| plan(w, &alias))
                .map_err(|why| LabError::Other(format!("manatee sitter of {alias}: {why}")))?;
            let pg = Arc::new(tokio::sync::Mutex::new(Postgres::new(
                ip,
                self.root.join(uuid),
                self.stall.clone(),
            )?));
            sitter::set(&self.phase, Phase::working("connecting to ZooKeeper"));
            let (stop, stopped) = oneshot::channel();
            self.rendered_onwm = Some(cfg.onwm);
            let task = tokio::spawn(sitter::run(cfg, pg.clone(), self.phase.clone(), stopped));
            let stall = self.stall.clone();
            let stall_watch = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(stall::WATCH_EVERY).await;
                    let _ = stall.hold(&ip.to_string()).await;
                }
            });
            self.running = Some(Running {
                ip,
                task,
                stop,
                pg,
                stall_watch,
            });
            Ok(())
        }
        .boxed()
    }

    fn stop(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            if let Some(running) = self.running.take() {
                running.stall_watch.abort();
                let _ = running.stop.send(());
                let mut task = running.task;
                if tokio::time::timeout(LEAVE_WITHIN, &mut task).await.is_err() {
                    task.abort();
                    let _ = task.await;
                }
                running.pg.lock().await.stop().await;
            }
            sitter::set(&self.phase, Phase::working("stopped"));
            self.forget_if_destroyed();
            Ok(())
        }
        .boxed()
    }

    fn kill(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            self.kill_all("killed").await;
            Ok(())
        }
        .boxed()
    }

    fn svc_stop(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            self.kill_all("disabled (svcadm)").await;
            Ok(())
        }
        .boxed()
    }

    /// Replication from this peer stops, its PostgreSQL and sitter stay.
    fn stall(&mut self, on: bool) -> BoxFuture<'_, Result<bool, LabError>> {
        async move {
            self.stall.set(on);
            if let Some(running) = &self.running {
                running.pg.lock().await.stall_changed()?;
                self.stall
                    .hold(&running.ip.to_string())
                    .await
                    .map_err(|why| {
                        LabError::Other(format!(
                            "{}: cannot list its walsenders: {why}",
                            self.alias
                        ))
                    })?;
            }
            Ok(true)
        }
        .boxed()
    }

    /// The whole lab is going down: the sitter stops deciding before any
    /// peer leaves, so nobody takes over from a primary that is merely
    /// being shut down with the rest (its session goes with ZooKeeper).
    fn quiesce(&mut self) -> BoxFuture<'_, ()> {
        async move {
            if let Some(running) = &self.running {
                running.task.abort();
            }
        }
        .boxed()
    }

    /// config-agent rewrites sitter.json (one-node-write mode from SAPI).
    /// sdc-manatee's sitter manifest has no post_cmd: the sitter reads it
    /// when it starts, so `svcadm restart manatee-sitter` applies it, as
    /// sdcadm's ha-manatee does after the sync.
    fn sync_config(&mut self) -> BoxFuture<'_, Result<ConfigSync, LabError>> {
        async move {
            let alias = self.alias.clone();
            let (cfg, _, _) = self
                .world
                .with(|w| plan(w, &alias))
                .map_err(|why| LabError::Other(format!("manatee sitter of {alias}: {why}")))?;
            if self.rendered_onwm == Some(cfg.onwm) {
                return Ok(ConfigSync::Unchanged);
            }
            self.rendered_onwm = Some(cfg.onwm);
            Ok(ConfigSync::Written)
        }
        .boxed()
    }

    fn port(&self) -> Option<u16> {
        Some(PG_PORT)
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        let phase = self.phase.lock().map(|p| p.clone()).map_err(|_| ());
        let running = self.running.as_ref().is_some_and(|r| !r.task.is_finished());
        async move {
            match (running, phase) {
                (false, _) => Health::Down,
                (true, Ok(phase)) if phase.settled => Health::Up,
                (true, Ok(phase)) => Health::Failing(format!("manatee: {}", phase.what)),
                (true, Err(_)) => Health::Failing("the sitter's state is unreadable".into()),
            }
        }
        .boxed()
    }
}

/// `lab down` of a lab whose daemon died: stops every PostgreSQL it left.
pub fn stop_leftovers(dir: &LabDir) {
    postgres::stop_leftovers(&manatee_root(dir));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_peer_joins_after_the_one_before_it_in_the_layout() {
        let layout: Vec<String> = ["manatee0", "manatee1", "manatee2"]
            .map(String::from)
            .into();
        assert_eq!(previous_in_layout(&layout, "manatee0"), None);
        assert_eq!(previous_in_layout(&layout, "manatee1"), Some("manatee0"));
        assert_eq!(previous_in_layout(&layout, "manatee2"), Some("manatee1"));
        assert_eq!(previous_in_layout(&layout, "manatee9"), None);
    }
}
