//! `lab fault stall manateeN`: the failure operators report from overloaded
//! hosts, where ZooKeeper still names a peer in its role and its PostgreSQL
//! answers queries, but replication to its downstream has ceased.
//!
//! How, on the real processes:
//! - every walsender streaming to a peer (its `application_name` is a
//!   pgUrl, `tcp://…`) gets SIGSTOP. Its `pg_stat_replication` row stays,
//!   `streaming` and `sync`, so manatee-adm's `verify` still passes, but its
//!   positions stop; on a primary, synchronous commits wait.
//! - `pg_hba.conf` refuses replication connections meanwhile. After
//!   `wal_receiver_timeout` (60 s) the downstream gives up on the silent
//!   sender and reconnects; a new walsender would send it everything before
//!   anyone could stop it. Refused, the reconnect gets nothing, and the
//!   stopped sender's row stays as it was. Copies (`pg_basebackup`) from a
//!   stalled peer are refused too, as an overloaded host would not serve one.
//! - a watcher stops any walsender that slipped in before the refusal took
//!   effect.
//!
//! `lab fault start manateeN` lifts it: the replication connections are
//! served again and every stopped walsender continues. Stopping PostgreSQL
//! continues them first, or its shutdown would wait for them forever; the
//! stall itself stays until lifted, so a restarted server refuses
//! replication as before.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nix::sys::signal::Signal;

use super::postgres;
use crate::lab::pid_file;

/// How often the watcher looks for walsenders to stop.
pub const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Walsenders that stream to a manatee peer: a standby names itself by its
/// pgUrl, `pg_basebackup` by its own name.
const STREAMING_WALSENDERS: &str = "select pid from pg_stat_activity \
     where backend_type = 'walsender' and application_name like 'tcp://%'";

#[derive(Default)]
pub struct Stall {
    on: AtomicBool,
    /// The walsenders it has stopped.
    held: Mutex<BTreeSet<i32>>,
}

impl Stall {
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::SeqCst)
    }

    /// Sets the stall; lifting it lets every stopped walsender go on.
    pub fn set(&self, on: bool) {
        self.on.store(on, Ordering::SeqCst);
        if !on {
            self.release();
        }
    }

    /// Stops every walsender of the server at `ip` that streams to a peer
    /// and is not stopped yet. Does nothing unless stalled.
    pub async fn hold(&self, ip: &str) -> Result<(), String> {
        if !self.is_on() {
            return Ok(());
        }
        let pids = postgres::query(ip, STREAMING_WALSENDERS).await?;
        let Ok(mut held) = self.held.lock() else {
            return Err("the stalled walsenders' list is unreadable".into());
        };
        for pid in pids.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            if held.insert(pid) {
                pid_file::signal(pid, Signal::SIGSTOP);
            }
        }
        Ok(())
    }

    /// Continues every walsender it stopped (SIGCONT is harmless to a
    /// process that is not stopped, should a pid have been reused).
    pub fn release(&self) {
        let held = self
            .held
            .lock()
            .map(|mut held| std::mem::take(&mut *held))
            .unwrap_or_default();
        for pid in held {
            pid_file::signal(pid, Signal::SIGCONT);
        }
    }
}
