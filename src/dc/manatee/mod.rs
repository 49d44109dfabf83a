//! Manatee, Triton's HA PostgreSQL: the cluster's state as an operator sees
//! it (topology from ZooKeeper plus what each peer's PostgreSQL reports),
//! the problems manatee-adm derives from it, and manatee-adm's text formats.
//!
//! Today the state comes only from a cluster-details snapshot file
//! (`snapshot`); a live reader (ZooKeeper + PostgreSQL) will build the same
//! `Cluster`, so every format here stays as it is.

pub mod cluster;
pub mod columns;
pub mod issues;
pub mod peers;
pub mod pg_status;
pub mod show;
pub mod snapshot;
pub mod verify;

pub use cluster::{Cluster, Freeze, Lag, Peer, Postgres, Replication, Role};
pub use columns::{Column, ColumnError};
pub use issues::Issues;
pub use snapshot::{SnapshotError, load_snapshot};

/// What a manatee-adm subcommand prints, and the exit status it ends with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub exit: u8,
}
