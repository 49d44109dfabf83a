//! The lab's manatee sitter: one per peer, a task of the lab daemon with its
//! own ZooKeeper session, doing what ha-core.md §8.5 says a sitter must.
//!
//! On every session it creates its election node (ephemeral sequential,
//! `<ip>:5432:12345-`), then looks at the election list and the state a few
//! times a second and acts as manatee does: initial setup, the primary's
//! upkeep of its asyncs and of a lost sync, the sync's takeover, deposed
//! handling, freeze. Its PostgreSQL follows the role (`postgres.rs`).
//!
//! Ending: asked to stop, it deletes its election node (what closing the
//! session does for the others); aborted, its session is left to expire,
//! as when its server loses power.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use zookeeper_client as zkc;

use super::machine::{self, Role};
use super::postgres::{PgRole, Postgres};
use super::state::{ClusterState, Peer, actives, parse_lsn};
use crate::lab::zk_session;

/// manatee's own setting; the lab's ZooKeeper caps it at 10 s.
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the sitter looks again (manatee reacts to watches; every
/// refusal backs off 1 s).
const TICK: Duration = Duration::from_millis(250);
/// Before initial setup, a peer gives the others this long to join the
/// election. manatee does not wait, so whichever peers happen to be present
/// first decide; the lab starts its peers at once and has them join in the
/// layout's order (`JOIN_IN_ORDER_WITHIN`).
const SETUP_SETTLE: Duration = Duration::from_secs(1);
/// A shard with no state yet: each of the lab's peers but the first waits
/// this long for the peer before it in the layout to join the election.
/// Starting together, a busy machine let manatee1 join first and become the
/// primary of a new `ha` lab (where sdcadm's procedure leaves manatee0), and
/// another time manatee2 before manatee1, which made manatee2 the sync.
const JOIN_IN_ORDER_WITHIN: Duration = Duration::from_secs(15);
/// A restarted PostgreSQL must accept connections within this.
const READY_WITHIN: Duration = Duration::from_secs(60);

pub struct SitterConfig {
    /// `/manatee/<shard>`.
    pub shard_path: String,
    pub me: Peer,
    pub ensemble: String,
    pub onwm: bool,
    /// The peer before this one in the layout: before initial setup this
    /// peer joins the election after it.
    pub join_after: Option<String>,
}

/// What the sitter is doing, for `lab up`'s wait and the daemon's log.
#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    /// In a role it keeps (else on its way somewhere).
    pub settled: bool,
    /// The role, or where it is going.
    pub what: String,
}

impl Phase {
    pub fn working(what: &str) -> Phase {
        Phase {
            settled: false,
            what: what.to_string(),
        }
    }
}

pub type SharedPhase = Arc<Mutex<Phase>>;

pub fn set(phase: &SharedPhase, new: Phase) {
    if let Ok(mut p) = phase.lock() {
        *p = new;
    }
}

/// Sets the phase, and logs it when it changed.
fn report(phase: &SharedPhase, peer: &str, new: Phase) {
    let changed = phase.lock().map(|p| *p != new).unwrap_or(true);
    if changed {
        tracing::info!(peer, settled = new.settled, "manatee sitter: {}", new.what);
        set(phase, new);
    }
}

/// What PostgreSQL runs as now, as far as the sitter made it.
struct Sitter {
    cfg: SitterConfig,
    pg: Arc<tokio::sync::Mutex<Postgres>>,
    phase: SharedPhase,
    applied: Option<PgRole>,
    /// Start failed on the data there: copy it again from the primary.
    restore_needed: bool,
    /// When this session's election node was created.
    joined: std::time::Instant,
}

enum Ended {
    Stopped,
    Lost(String),
}

pub async fn run(
    cfg: SitterConfig,
    pg: Arc<tokio::sync::Mutex<Postgres>>,
    phase: SharedPhase,
    mut stopped: oneshot::Receiver<()>,
) {
    pg.lock().await.adopt();
    let mut sitter = Sitter {
        cfg,
        pg,
        phase,
        applied: None,
        restore_needed: false,
        joined: std::time::Instant::now(),
    };
    loop {
        let ensemble = sitter.cfg.ensemble.clone();
        let failed = |why: String| sitter.working(why);
        let Some(client) =
            zk_session::connect(&ensemble, SESSION_TIMEOUT, &mut stopped, failed).await
        else {
            return;
        };
        match sitter.session(&client, &mut stopped).await {
            Ended::Stopped => return,
            Ended::Lost(why) => sitter.working(format!("ZooKeeper session lost ({why})")),
        }
    }
}

impl Sitter {
    fn working(&self, what: String) {
        let phase = Phase {
            settled: false,
            what,
        };
        report(&self.phase, &self.cfg.me.id, phase);
    }

    fn settled(&self, what: String) {
        let phase = Phase {
            settled: true,
            what,
        };
        report(&self.phase, &self.cfg.me.id, phase);
    }

    fn path(&self, child: &str) -> String {
        format!("{}/{child}", self.cfg.shard_path)
    }

    async fn session(
        &mut self,
        client: &zkc::Client,
        stopped: &mut oneshot::Receiver<()>,
    ) -> Ended {
        for dir in ["election", "history"] {
            if let Err(e) = mkdirp(client, &self.path(dir)).await {
                return Ended::Lost(format!("creating {}: {e}", self.path(dir)));
            }
        }
        if let Err(why) = self.wait_for_previous_peer(client, stopped).await {
            return why;
        }
        let prefix = format!("{}/{}-", self.path("election"), self.cfg.me.id);
        let mode = zkc::CreateMode::EphemeralSequential.with_acls(zkc::Acls::anyone_all());
        let data = self.cfg.me.election_data();
        let node = match client.create(&prefix, data.as_bytes(), &mode).await {
            Ok((_, seq)) => format!("{prefix}{seq}"),
            Err(e) => return Ended::Lost(format!("creating {prefix}: {e}")),
        };
        self.joined = std::time::Instant::now();
        loop {
            // A stop does not wait for a step (a restore can take a while):
            // dropped, its tools are killed, and PostgreSQL is stopped next.
            let look = async {
                tokio::time::sleep(TICK).await;
                self.step(client).await
            };
            let outcome = tokio::select! {
                _ = &mut *stopped => None,
                outcome = look => Some(outcome),
            };
            let Some(outcome) = outcome else {
                let _ = client.delete(&node, None).await;
                return Ended::Stopped;
            };
            if let Err(why) = outcome {
                if matches!(
                    client.state(),
                    zkc::SessionState::Expired | zkc::SessionState::Closed
                ) {
                    return Ended::Lost(why);
                }
                self.working(why);
            }
        }
    }

    /// A new shard's peers join in the layout's order, so the first one
    /// sets the shard up as primary, the second is its sync (see
    /// `JOIN_IN_ORDER_WITHIN`).
    async fn wait_for_previous_peer(
        &self,
        client: &zkc::Client,
        stopped: &mut oneshot::Receiver<()>,
    ) -> Result<(), Ended> {
        let Some(previous) = &self.cfg.join_after else {
            return Ok(());
        };
        let since = std::time::Instant::now();
        while since.elapsed() < JOIN_IN_ORDER_WITHIN {
            if client
                .check_stat(&self.path("state"))
                .await
                .ok()
                .flatten()
                .is_some()
            {
                return Ok(());
            }
            let actives = read_actives(client, &self.path("election"))
                .await
                .map_err(Ended::Lost)?;
            if actives.iter().any(|peer| &peer.id == previous) {
                return Ok(());
            }
            self.working(format!("waiting for {previous} to join the election first"));
            tokio::select! {
                _ = &mut *stopped => return Err(Ended::Stopped),
                _ = tokio::time::sleep(TICK) => {}
            }
        }
        Ok(())
    }

    /// One look at the cluster, and what follows from it.
    async fn step(&mut self, client: &zkc::Client) -> Result<(), String> {
        let actives = read_actives(client, &self.path("election")).await?;
        let (state, version) = match client.get_data(&self.path("state")).await {
            Ok((data, stat)) => (Some(ClusterState::parse(&data)?), stat.version),
            Err(zkc::Error::NoNode) => (None, -1),
            Err(e) => return Err(format!("reading {}: {e}", self.path("state"))),
        };
        let me = self.cfg.me.clone();
        let role = machine::role_of(&me.id, state.as_ref());
        let Some(s) = state else {
            if self.joined.elapsed() < SETUP_SETTLE {
                self.working("waiting for the other peers before initial setup".into());
                return Ok(());
            }
            let has_data = self.pg.lock().await.has_data();
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            if let Some(new) = machine::initial_setup(&me, &actives, has_data, self.cfg.onwm, &now)
            {
                return self.write(client, &new, None).await;
            }
            self.ensure(None).await?;
            if actives.len() < 2 && !self.cfg.onwm {
                self.settled("waiting for another peer to set the cluster up".into());
            } else {
                self.working("waiting for initial setup".into());
            }
            return Ok(());
        };
        match role {
            Role::Primary => self.as_primary(client, &s, version, &actives).await,
            Role::Sync if machine::primary_gone(&s, &actives) => {
                self.takeover(client, &s, version, &actives).await
            }
            Role::Sync | Role::Async => {
                let upstream = s
                    .upstream_of(&me.id)
                    .ok_or("the state names no upstream")?
                    .ip
                    .clone();
                let want = PgRole::Standby {
                    upstream: upstream.clone(),
                    own_url: me.pg_url.clone(),
                };
                self.ensure(Some((want, &s.primary.ip))).await?;
                let name = if role == Role::Sync { "sync" } else { "async" };
                let settled = format!("{name}, generation {}", s.generation);
                if self.is_settled_as(&settled) || self.streaming().await {
                    self.settled(settled);
                } else {
                    self.working(format!("{name}, waiting to stream from {upstream}"));
                }
                Ok(())
            }
            Role::Deposed => {
                self.ensure(None).await?;
                self.settled("deposed: PostgreSQL stays stopped until a rebuild".into());
                Ok(())
            }
            Role::Unassigned | Role::NoState => {
                self.ensure(None).await?;
                self.settled("unassigned: waiting for the primary to add it".into());
                Ok(())
            }
        }
    }

    /// The primary's WAL position, which a new state records as `initWal`.
    async fn current_wal(&self) -> Result<String, String> {
        self.pg
            .lock()
            .await
            .query("select pg_current_wal_lsn()")
            .await
    }

    async fn as_primary(
        &mut self,
        client: &zkc::Client,
        s: &ClusterState,
        version: i32,
        actives: &[Peer],
    ) -> Result<(), String> {
        if s.onwm() && !self.cfg.onwm && !s.is_frozen() {
            let wal = self.current_wal().await;
            if let Ok(wal) = wal
                && let Some(new) = machine::leave_onwm(s, actives, &wal)
            {
                return self.write(client, &new, Some(version)).await;
            }
        }
        if !s.onwm() {
            if machine::sync_gone(s, actives) && !s.is_frozen() {
                let wal = self.current_wal().await;
                if let Ok(wal) = wal
                    && let Some(new) = machine::replace_sync(s, actives, &wal)
                {
                    return self.write(client, &new, Some(version)).await;
                }
            }
            if let Some(new) = machine::maintain_asyncs(s, actives) {
                return self.write(client, &new, Some(version)).await;
            }
        }
        let sync = s.sync.as_ref().map(|p| p.pg_url.clone());
        let applied_sync = match &self.applied {
            Some(PgRole::Primary { sync, .. }) => Some(sync.clone()),
            _ => None,
        };
        if applied_sync.as_ref() != Some(&sync) {
            // Read-only until the sync has caught up (§2.8).
            let want = PgRole::Primary {
                sync: sync.clone(),
                writable: sync.is_none(),
            };
            let restart = applied_sync.is_none();
            self.apply(want, restart, None).await?;
        }
        if let Some(PgRole::Primary {
            sync: Some(url),
            writable: false,
        }) = self.applied.clone()
        {
            if !self.caught_up(&url).await {
                self.working(format!(
                    "primary, read-only until its sync {url} has caught up"
                ));
                return Ok(());
            }
            let want = PgRole::Primary {
                sync: Some(url),
                writable: true,
            };
            self.apply(want, false, None).await?;
        }
        // A reload is asynchronous: settled once PostgreSQL says so.
        let settled = format!("primary, generation {}", s.generation);
        let sql = "show default_transaction_read_only";
        if self.is_settled_as(&settled)
            || matches!(self.pg.lock().await.query(sql).await.as_deref(), Ok("off"))
        {
            self.settled(settled);
        } else {
            self.working("primary, waiting for PostgreSQL to take writes".into());
        }
        Ok(())
    }

    /// §2.3: all of primary gone, an async present, not frozen, PostgreSQL
    /// online and replayed up to `initWal`; otherwise it waits and retries.
    async fn takeover(
        &mut self,
        client: &zkc::Client,
        s: &ClusterState,
        version: i32,
        actives: &[Peer],
    ) -> Result<(), String> {
        if s.is_frozen() {
            self.working("sync: would take over (primary gone), but the cluster is frozen".into());
            return Ok(());
        }
        let replayed = self
            .pg
            .lock()
            .await
            .query("select pg_last_wal_replay_lsn()")
            .await
            .map_err(|e| format!("sync: would take over, but PostgreSQL is offline: {e}"))?;
        if parse_lsn(&replayed) < parse_lsn(&s.init_wal) {
            return Err(format!(
                "sync: would take over, but has replayed only to {replayed} (initWal {})",
                s.init_wal
            ));
        }
        let Some(new) = machine::takeover(s, actives, &replayed) else {
            self.working("sync: would take over (primary gone), but no async peers present".into());
            return Ok(());
        };
        self.write(client, &new, Some(version)).await
    }

    fn is_settled_as(&self, what: &str) -> bool {
        self.phase.lock().is_ok_and(|p| p.settled && p.what == what)
    }

    /// Whether this standby's WAL receiver streams from its upstream.
    async fn streaming(&self) -> bool {
        let sql = "select status from pg_stat_wal_receiver";
        matches!(
            self.pg.lock().await.query(sql).await.as_deref(),
            Ok("streaming")
        )
    }

    /// Whether the downstream named `url` has flushed all that was sent.
    async fn caught_up(&self, url: &str) -> bool {
        let sql = format!(
            "select sent_lsn = flush_lsn from pg_stat_replication where application_name = '{}'",
            url.replace('\'', "''")
        );
        matches!(self.pg.lock().await.query(&sql).await.as_deref(), Ok("t"))
    }

    /// PostgreSQL stopped (None), or running in `want` (restored from
    /// `primary` first when it has no data of its own).
    async fn ensure(&mut self, want: Option<(PgRole, &str)>) -> Result<(), String> {
        let running = self.pg.lock().await.is_running();
        let Some((want, primary)) = want else {
            if running {
                self.working("stopping PostgreSQL".into());
                self.pg.lock().await.stop().await;
            }
            self.applied = None;
            return Ok(());
        };
        if running && self.applied.as_ref() == Some(&want) {
            return Ok(());
        }
        self.apply(want, true, Some(primary)).await
    }

    /// Configures PostgreSQL for `want`: restarted (`restart`) or told to
    /// reread its configuration.
    async fn apply(
        &mut self,
        want: PgRole,
        restart: bool,
        restore_from: Option<&str>,
    ) -> Result<(), String> {
        let mut pg = self.pg.lock().await;
        if !pg.is_running() || restart {
            self.applied = None;
            pg.stop().await;
            if !pg.has_data() || self.restore_needed {
                match (&want, restore_from) {
                    (PgRole::Standby { .. }, Some(source)) => {
                        self.working(format!("restoring from the primary {source}"));
                        pg.restore_from(source).await?;
                        self.restore_needed = false;
                    }
                    _ => {
                        self.working("initdb".into());
                        pg.initdb().await?;
                    }
                }
            }
            pg.configure(&want).map_err(|e| e.to_string())?;
            self.working("starting PostgreSQL".into());
            pg.start().await?;
            if let Err(e) = pg.wait_ready(READY_WITHIN).await {
                pg.stop().await;
                self.restore_needed = matches!(want, PgRole::Standby { .. });
                return Err(e);
            }
        } else {
            pg.configure(&want).map_err(|e| e.to_string())?;
            pg.reload();
        }
        self.applied = Some(want);
        Ok(())
    }

    /// A new state: `multi{ create history/<gen>-, create or setData(state,
    /// version) }`, as the sitter writes it (§1.4).
    async fn write(
        &mut self,
        client: &zkc::Client,
        new: &ClusterState,
        version: Option<i32>,
    ) -> Result<(), String> {
        let json = new.to_json();
        let history = format!("{}/{}-", self.path("history"), new.generation);
        let state = self.path("state");
        let mode = zkc::CreateMode::PersistentSequential.with_acls(zkc::Acls::anyone_all());
        let persistent = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all());
        let mut multi = client.new_multi_writer();
        let added =
            multi
                .add_create(&history, json.as_bytes(), &mode)
                .and_then(|()| match version {
                    Some(v) => multi.add_set_data(&state, json.as_bytes(), Some(v)),
                    None => multi.add_create(&state, json.as_bytes(), &persistent),
                });
        added.map_err(|e| format!("writing {state}: {e}"))?;
        multi
            .commit()
            .await
            .map(|_| ())
            // Lost the test-and-set: someone else wrote first; look again.
            .map_err(|e| format!("writing {state}: {e}"))
    }
}

async fn read_actives(client: &zkc::Client, election: &str) -> Result<Vec<Peer>, String> {
    let names = client
        .list_children(election)
        .await
        .map_err(|e| format!("listing {election}: {e}"))?;
    let mut nodes = Vec::new();
    for name in names {
        let data = match client.get_data(&format!("{election}/{name}")).await {
            Ok((data, _)) => data,
            // Gone between the listing and the read.
            Err(zkc::Error::NoNode) => continue,
            Err(e) => return Err(format!("reading {election}/{name}: {e}")),
        };
        nodes.extend(Peer::from_election(&name, &data));
    }
    Ok(actives(nodes))
}

async fn mkdirp(client: &zkc::Client, path: &str) -> Result<(), zkc::Error> {
    let persistent = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all());
    let mut prefix = String::new();
    for label in path.split('/').filter(|l| !l.is_empty()) {
        prefix.push('/');
        prefix.push_str(label);
        match client.create(&prefix, &[], &persistent).await {
            Ok(_) | Err(zkc::Error::NodeExists) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
