//! A live shard: its state read from ZooKeeper, then every primary, sync
//! and async PostgreSQL asked at once, built into the same [`Cluster`] a
//! snapshot gives, so one code path renders both. Deposed peers are never
//! asked (manatee-adm does not), so they always show `ok`.

use futures::future::join_all;

use super::cluster::{Cluster, Peer, Postgres, Role};
use super::error::ManateeError;
use super::pg_query::query_peer;
use super::state::{PeerIdent, StateDoc, Topology, read_state};
use crate::dc::gate::MutationGate;
use crate::dc::zk::ZkEnsemble;

/// Which shard, through which ZooKeeper.
#[derive(Clone, Debug)]
pub struct Shard {
    pub zk: ZkEnsemble,
    /// `sdc` in Triton (`SHARD`).
    pub name: String,
    /// What `show` prints as `zookeeper:`: `ZK_IPS` or `--zk` as given,
    /// else the members joined.
    pub zk_shown: String,
}

impl Shard {
    /// `zk_given` is `--zk` / `ZK_IPS` verbatim (`ip[:port]`, several
    /// separated by commas), else `members` (a profile's or lab's list);
    /// `gate` is the one its writes pass.
    pub fn new(
        zk_given: Option<&str>,
        members: &[String],
        name: &str,
        gate: MutationGate,
    ) -> Shard {
        let given: Vec<String> = zk_given
            .unwrap_or_default()
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let (list, shown) = if given.is_empty() {
            (members.to_vec(), members.join(","))
        } else {
            (given, zk_given.unwrap_or_default().to_string())
        };
        Shard {
            zk: ZkEnsemble::new(&list, crate::dc::zk::SESSION_TIMEOUT, gate),
            name: name.to_string(),
            zk_shown: shown,
        }
    }
}

impl Shard {
    /// Shard `name` on a session's ensemble (the profile's or lab's).
    pub fn on(zk: &ZkEnsemble, name: &str) -> Shard {
        Shard {
            zk: zk.clone(),
            name: name.to_string(),
            zk_shown: zk.members().join(","),
        }
    }
}

/// The shard now: its state and every peer's answers.
pub async fn load(shard: &Shard) -> Result<(StateDoc, Cluster), ManateeError> {
    let doc = read_state(&shard.zk, &shard.name).await?;
    let cluster = cluster_of(&doc.topology).await;
    Ok((doc, cluster))
}

/// Asks the primary, sync and asyncs concurrently, one second each.
pub async fn cluster_of(t: &Topology) -> Cluster {
    let mut queried: Vec<(Role, &PeerIdent)> = vec![(Role::Primary, &t.primary)];
    queried.extend(t.sync.iter().map(|p| (Role::Sync, p)));
    queried.extend(t.asyncs.iter().map(|p| (Role::Async, p)));
    let answers = join_all(
        queried
            .iter()
            .map(|(role, p)| query_peer(&p.pg_url, *role != Role::Primary)),
    )
    .await;
    let mut peers: Vec<Peer> = queried
        .iter()
        .zip(answers)
        .map(|((role, p), postgres)| peer(*role, p, postgres))
        .collect();
    peers.extend(t.deposed.iter().map(|p| {
        let unasked = Postgres::Online {
            lag: None,
            downstream: None,
        };
        peer(Role::Deposed, p, unasked)
    }));
    Cluster {
        generation: t.generation,
        init_wal: t.init_wal.clone(),
        singleton: t.one_node_write_mode,
        freeze: t.freeze.clone(),
        peers,
    }
}

fn peer(role: Role, p: &PeerIdent, postgres: Postgres) -> Peer {
    Peer {
        role,
        id: p.id.clone(),
        zone_id: p.zone_id.clone(),
        label: p.label(),
        ip: p.ip.clone(),
        postgres,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zk_ips_is_shown_as_given_and_defaults_to_the_members() {
        let members = vec!["127.0.0.1:2181".to_string(), "127.0.0.2:2181".to_string()];
        let given = Shard::new(
            Some("10.99.99.11"),
            &members,
            "sdc",
            MutationGate::default(),
        );
        assert_eq!(given.zk_shown, "10.99.99.11");
        assert_eq!(given.zk.members(), ["10.99.99.11:2181"]);
        let several = Shard::new(
            Some("10.0.0.1,10.0.0.2:2182"),
            &members,
            "sdc",
            MutationGate::default(),
        );
        assert_eq!(several.zk.members(), ["10.0.0.1:2181", "10.0.0.2:2182"]);
        let profile = Shard::new(None, &members, "sdc", MutationGate::default());
        assert_eq!(profile.zk_shown, "127.0.0.1:2181,127.0.0.2:2181");
    }
}
