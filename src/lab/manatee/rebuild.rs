//! `manatee-adm rebuild -y` run in a manatee zone, carried out as manatee-adm
//! does it (ha-core.md §2.10, manatee's `lib/adm.js rebuild`), with the same
//! refusals and the same lines on stderr:
//!
//! 1. refuse with no primary, in the primary's zone, or while this zone has
//!    an election node and is not deposed;
//! 2. `svcadm disable -s manatee-sitter`, then wait (1.5 × the sitter's
//!    60 s session timeout) for the zone's election node to go;
//! 3. the data: a deposed peer's is destroyed, any other's is isolated
//!    (`data` → `data.rebuild-<ms>`, the lab's `zfs rename`);
//! 4. a deposed peer leaves `deposed` (`setData` on the version read at the
//!    start plus a `history/0-` node, as manatee-adm writes);
//! 5. `svcadm enable -s manatee-sitter`; the sitter, finding no data,
//!    restores from the primary; done when the zone is listed as sync or
//!    async with its PostgreSQL answering: `Rebuild successful`.
//!
//! The zone's profile (`source ~/.bashrc`: ZK_IPS, SHARD, the sitter's
//! config) counts as loaded whether or not the command sourced it.

use std::fmt::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use zookeeper_client as zkc;

use super::postgres;
use super::state::{ClusterState, Peer};
use crate::lab::zone_command::Outcome;

/// manatee-adm waits 1.5 × the sitter's session timeout (60 s).
const SESSION_WAIT: Duration = Duration::from_secs(90);
/// The lab's own bound on the restore and start (manatee-adm allows five
/// restore attempts of any length).
const REJOIN_WITHIN: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_secs(1);
const SPINNER: [char; 4] = ['-', '\\', '|', '/'];

/// The peer to rebuild, as its sitter's config names it.
pub struct Target {
    pub shard_path: String,
    pub me: Peer,
    pub ensemble: String,
    /// Its PostgreSQL data directory (the lab's delegated dataset).
    pub data: PathBuf,
}

/// The zone's `manatee-sitter` service.
pub trait SitterService: Send + Sync {
    fn disable(&self) -> BoxFuture<'_, Result<(), String>>;
    fn enable(&self) -> BoxFuture<'_, Result<(), String>>;
}

/// `manatee-adm ARGS` in the zone of `target`.
pub async fn manatee_adm(args: &[String], target: Target, sitter: &dyn SitterService) -> Outcome {
    let Some((subcommand, options)) = args.split_first() else {
        return Outcome::failed(1, "manatee-adm: error: no command given\n");
    };
    if subcommand != "rebuild" {
        return Outcome::failed(
            127,
            format!(
                "the lab does not imitate `manatee-adm {subcommand}` in a zone: only `rebuild -y` (tritonsh manatee does the rest over the network)\n"
            ),
        );
    }
    let mut yes = false;
    let mut words = options.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "-y" | "--ignorePrompts" => yes = true,
            // The lab uses the zone's own sitter config and ZooKeeper.
            "-c" | "--config" | "-z" | "--zk" => {
                words.next();
            }
            other => {
                return Outcome::failed(
                    1,
                    format!("manatee-adm rebuild: error: unknown option: \"{other}\"\n"),
                );
            }
        }
    }
    let mut run = Run {
        target,
        stderr: String::new(),
    };
    if !yes {
        return run.fail(
            "it asks for confirmation and CommandExecute has no terminal to answer: run it with -y",
        );
    }
    match run.rebuild(sitter).await {
        Ok(()) => Outcome {
            stdout: "Rebuild successful\n".into(),
            stderr: run.stderr,
            exit_code: 0,
        },
        Err(why) => run.fail(&why),
    }
}

struct Run {
    target: Target,
    stderr: String,
}

/// What manatee-adm learns of this zone from ZooKeeper.
struct Seen {
    state: ClusterState,
    version: i32,
    deposed: Option<usize>,
}

impl Run {
    fn fail(mut self, why: &str) -> Outcome {
        let _ = writeln!(self.stderr, "manatee-adm rebuild: error: {why}");
        Outcome {
            stdout: String::new(),
            stderr: self.stderr,
            exit_code: 1,
        }
    }

    fn say(&mut self, line: &str) {
        self.stderr.push_str(line);
    }

    fn path(&self, child: &str) -> String {
        format!("{}/{child}", self.target.shard_path)
    }

    async fn rebuild(&mut self, sitter: &dyn SitterService) -> Result<(), String> {
        let ensemble = self.target.ensemble.clone();
        let client = tokio::time::timeout(Duration::from_secs(10), zkc::Client::connect(&ensemble))
            .await
            .map_err(|_| format!("no ZooKeeper session with {ensemble} within 10 seconds"))?
            .map_err(|e| format!("ZooKeeper {ensemble}: {e}"))?;
        let seen = self.look(&client).await?;
        self.say("Disabling manatee-sitter SMF service to ensure that Manatee is not running.\n");
        sitter.disable().await?;
        self.wait_session_gone(&client).await?;
        self.set_data_aside(seen.deposed.is_some())?;
        if let Some(index) = seen.deposed {
            let mut state = seen.state;
            state.deposed.remove(index);
            self.write_state(&client, &state, seen.version).await?;
        }
        self.say("Enabling sitter\n");
        sitter.enable().await?;
        self.watch_rejoin(&client).await
    }

    /// Steps 1 and 3 of manatee-adm: the refusals.
    async fn look(&self, client: &zkc::Client) -> Result<Seen, String> {
        let shard = self
            .target
            .shard_path
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let shards = client.list_children("/manatee").await.unwrap_or_default();
        if !shards.iter().any(|s| s == shard) {
            return Err("unable to determine shards".into());
        }
        let (data, stat) = match client.get_data(&self.path("state")).await {
            Ok(found) => found,
            Err(zkc::Error::NoNode) => return Err("no primary".into()),
            Err(e) => return Err(format!("reading {}: {e}", self.path("state"))),
        };
        let state = ClusterState::parse(&data)
            .map_err(|e| format!("{} is not manatee's state JSON: {e}", self.path("state")))?;
        let zone = &self.target.me.zone_id;
        if &state.primary.zone_id == zone {
            return Err("This node is the primary.  Will not rebuild.".into());
        }
        let deposed = state.deposed.iter().position(|p| &p.zone_id == zone);
        if deposed.is_none() && has_election_node(client, &self.path("election"), zone).await? {
            return Err("There is an active ZK node for this host.  Please disable the sitter and let the ZK node timeout (may take up to 60 seconds).".into());
        }
        Ok(Seen {
            state,
            version: stat.version,
            deposed,
        })
    }

    async fn wait_session_gone(&mut self, client: &zkc::Client) -> Result<(), String> {
        self.say(&format!(
            "Waiting up to {} seconds for this Manatee instance's ZooKeeper session to expire  ",
            SESSION_WAIT.as_secs()
        ));
        let election = self.path("election");
        let zone = self.target.me.zone_id.clone();
        let gave_up = format!(
            "This Manatee instance has a ZooKeeper session even after {} seconds.  Aborting operation.",
            SESSION_WAIT.as_secs()
        );
        self.spin_until(SESSION_WAIT, gave_up, || async {
            Ok(!has_election_node(client, &election, &zone).await?)
        })
        .await
    }

    /// Asks `done` every second, turning manatee-adm's spinner, for at most
    /// `within`; then fails with `gave_up`.
    async fn spin_until<F, Fut>(
        &mut self,
        within: Duration,
        gave_up: String,
        mut done: F,
    ) -> Result<(), String>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<bool, String>>,
    {
        let started = Instant::now();
        let mut turn = 0;
        while !done().await? {
            if started.elapsed() > within {
                self.say("\n");
                return Err(gave_up);
            }
            self.say(&format!("\u{8}{}", SPINNER[turn % SPINNER.len()]));
            turn += 1;
            tokio::time::sleep(POLL).await;
        }
        self.say("\n");
        Ok(())
    }

    /// A deposed peer's data goes; any other's is kept aside, as manatee-adm
    /// cannot know whether it would be needed for a recovery.
    fn set_data_aside(&mut self, deposed: bool) -> Result<(), String> {
        let data = self.target.data.clone();
        let exists = data.exists();
        if deposed {
            self.say("Removing deposed ZFS dataset\n");
            if !exists {
                self.say("No ZFS dataset detected\n");
                return Ok(());
            }
            std::fs::remove_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
            self.say("ZFS dataset removed\n");
            return Ok(());
        }
        self.say("Attempting to isolate any existing ZFS dataset\n");
        if !exists {
            self.say("No existing ZFS dataset detected.\n");
            return Ok(());
        }
        let stamp = chrono::Utc::now().timestamp_millis();
        let aside = data.with_file_name(format!("data.rebuild-{stamp}"));
        std::fs::rename(&data, &aside).map_err(|e| format!("{}: {e}", data.display()))?;
        self.say(&format!(
            "Isolated existing ZFS dataset as: {}\n",
            aside.display()
        ));
        Ok(())
    }

    /// `multi{ setData(state, version), create history/0- }`.
    async fn write_state(
        &self,
        client: &zkc::Client,
        state: &ClusterState,
        version: i32,
    ) -> Result<(), String> {
        let json = state.to_json();
        let sequential = zkc::CreateMode::PersistentSequential.with_acls(zkc::Acls::anyone_all());
        let mut multi = client.new_multi_writer();
        multi
            .add_set_data(&self.path("state"), json.as_bytes(), Some(version))
            .and_then(|()| multi.add_create(&self.path("history/0-"), json.as_bytes(), &sequential))
            .map_err(|e| format!("writing {}: {e}", self.path("state")))?;
        multi
            .commit()
            .await
            .map(|_| ())
            .map_err(|e| format!("writing {}: {e}", self.path("state")))
    }

    /// Until the state lists this zone as sync or async and its PostgreSQL
    /// answers.
    async fn watch_rejoin(&mut self, client: &zkc::Client) -> Result<(), String> {
        self.say("Watching sitter for postgres startup  ");
        let state = self.path("state");
        let zone = self.target.me.zone_id.clone();
        let ip = self.target.me.ip.clone();
        let gave_up = format!(
            "This Manatee instance is not an active peer after {} seconds.  Check sitter logs.",
            REJOIN_WITHIN.as_secs()
        );
        self.spin_until(REJOIN_WITHIN, gave_up, || async {
            let listed = match client.get_data(&state).await {
                Ok((data, _)) => ClusterState::parse(&data)
                    .is_ok_and(|s| s.sync.iter().chain(&s.r#async).any(|p| p.zone_id == zone)),
                Err(_) => false,
            };
            Ok(listed && postgres::query(&ip, "select 1").await.is_ok())
        })
        .await
    }
}

/// Whether the zone `zone` has a node in `election`.
async fn has_election_node(
    client: &zkc::Client,
    election: &str,
    zone: &str,
) -> Result<bool, String> {
    let names = client
        .list_children(election)
        .await
        .map_err(|e| format!("listing {election}: {e}"))?;
    for name in names {
        let Ok((data, _)) = client.get_data(&format!("{election}/{name}")).await else {
            continue;
        };
        if Peer::from_election(&name, &data).is_some_and(|(peer, _)| peer.zone_id == zone) {
            return Ok(true);
        }
    }
    Ok(false)
}
