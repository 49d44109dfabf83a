//! Manatee, Triton's HA PostgreSQL: the cluster's state as an operator sees
//! it (topology from ZooKeeper plus what each peer's PostgreSQL reports),
//! the problems manatee-adm derives from it, and manatee-adm's text formats.
//!
//! The state comes from ZooKeeper and each peer's PostgreSQL (`live`), or
//! from a cluster-details snapshot file (`snapshot`); both build the same
//! `Cluster`, so every format here renders either.

pub mod active;
pub mod check;
pub mod cluster;
pub mod columns;
pub mod error;
pub mod history;
pub mod issues;
pub mod live;
pub mod peers;
pub mod pg_query;
pub mod pg_status;
pub mod show;
pub mod snapshot;
pub mod snapshot_write;
pub mod state;
pub mod sync_link;
pub mod verify;
pub mod writes;

pub use cluster::{Cluster, Freeze, Lag, Peer, Postgres, Replication, Role};
pub use columns::{Column, ColumnError};
pub use error::ManateeError;
pub use issues::Issues;
pub use live::{Shard, load};
pub use snapshot::{SnapshotError, SnapshotOrigin, load_snapshot};

/// What a manatee-adm subcommand prints, and the exit status it ends with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub exit: u8,
}
