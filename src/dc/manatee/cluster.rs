//! The model of one manatee shard: its generation, mode and freeze from the
//! ZooKeeper state, and each assigned peer with what its PostgreSQL said.

/// A peer's place in the state; `Deposed` peers are former primaries that
/// must be rebuilt before they serve again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Primary,
    Sync,
    Async,
    Deposed,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Sync => "sync",
            Role::Async => "async",
            Role::Deposed => "deposed",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        [Role::Primary, Role::Sync, Role::Async, Role::Deposed]
            .into_iter()
            .find(|role| role.name() == name)
    }
}

/// The first row of a peer's own `pg_stat_replication`: its downstream
/// connection, with the downstream's WAL positions as this peer sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replication {
    pub state: Option<String>,
    pub sync_state: Option<String>,
    pub client_addr: Option<String>,
    pub sent: Option<String>,
    pub write: Option<String>,
    pub flush: Option<String>,
    pub replay: Option<String>,
}

/// How far a standby's replay is behind, from
/// `now() - pg_last_xact_replay_timestamp()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lag {
    /// Whole seconds; fractions are dropped as manatee-adm drops them.
    Seconds(u64),
    /// The interval had a unit other than days, hours, minutes and seconds
    /// (months, years), which manatee-adm does not convert.
    Unconvertible,
}

/// What querying a peer's PostgreSQL gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Postgres {
    /// The query failed. A live read keeps why (`ECONNREFUSED`, `postgres
    /// request timed out`), which manatee-adm appends to its issue lines;
    /// a snapshot's error is a plain object, which manatee-adm's test mode
    /// does not chain into its messages, so none is kept.
    Unreachable { reason: Option<String> },
    Online {
        /// `None` when nothing has been replayed yet, and for the primary.
        lag: Option<Lag>,
        /// `None` when no downstream is connected.
        downstream: Option<Replication>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub role: Role,
    /// `<ip>:<pgPort>:<backupPort>`, the only field the state machine compares.
    pub id: String,
    /// The zone (VM) UUID: PEERNAME.
    pub zone_id: String,
    /// The short name used in tables and messages: PEER.
    pub label: String,
    pub ip: String,
    pub postgres: Postgres,
}

impl Peer {
    pub fn downstream(&self) -> Option<&Replication> {
        match &self.postgres {
            Postgres::Online { downstream, .. } => downstream.as_ref(),
            Postgres::Unreachable { .. } => None,
        }
    }

    pub fn is_online(&self) -> bool {
        matches!(self.postgres, Postgres::Online { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freeze {
    Thawed,
    /// `since` and `reason` are absent when the state's `freeze` is a bare
    /// `true` rather than `{date, reason}`.
    Frozen {
        since: Option<String>,
        reason: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub generation: u64,
    /// The WAL position at which this generation began, as `X/Y`.
    pub init_wal: String,
    /// One-node-write mode: a primary alone, by design.
    pub singleton: bool,
    pub freeze: Freeze,
    /// Assigned peers in manatee-adm's order: primary, sync, the asyncs in
    /// replication-chain order, then the deposed.
    pub peers: Vec<Peer>,
}

impl Cluster {
    pub fn with_role(&self, role: Role) -> impl Iterator<Item = &Peer> {
        self.peers.iter().filter(move |p| p.role == role)
    }

    /// The peers a `-r ROLE` option selects: all of them without one.
    pub fn selected(&self, role: Option<Role>) -> Vec<&Peer> {
        self.peers
            .iter()
            .filter(|p| role.is_none_or(|r| p.role == r))
            .collect()
    }
}
