//! What runs behind an instance. Instances are the unit faults act on: when
//! an instance stops, or its server goes down, whatever serves it stops too;
//! when it starts again, so does that.
//!
//! Implementations: an API twin's HTTP listener (`api_listener.rs`, for
//! sapi0/vmapi0/cnapi0) and a binder instance's ZooKeeper server
//! (`zookeeper_process.rs`), and a manatee instance's PostgreSQL with its
//! sitter (`manatee/peer_process.rs`), each with its own pid file in the lab
//! directory so `lab down` can stop it even if the daemon died.

use futures::future::BoxFuture;

use crate::lab::error::LabError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// Started and answering.
    Up,
    /// Not started (stopped on purpose, or never started).
    Down,
    /// Started but not answering; the text says what was tried.
    Failing(String),
}

/// What config-agent's sync did to a process's configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigSync {
    Unchanged,
    /// Written; it takes effect when the service restarts.
    Written,
    /// Written, and the service restarted on it (the template's post_cmd).
    Restarted,
}

pub trait InstanceProcess: Send + Sync {
    /// The alias of the instance this process serves (e.g. "vmapi0").
    fn alias(&self) -> &str;

    /// What it is to its instance: several processes may serve one
    /// instance (a binder's ZooKeeper, its DNS, its registrar).
    fn role(&self) -> &'static str;

    /// Starts serving; starting a started process does nothing.
    fn start(&mut self) -> BoxFuture<'_, Result<(), LabError>>;

    /// Stops serving and releases its addresses; stopping a stopped process
    /// does nothing.
    fn stop(&mut self) -> BoxFuture<'_, Result<(), LabError>>;

    /// Stops at once, as a power loss does (SIGKILL): nothing gets to shut
    /// down cleanly. By default the same as `stop`.
    fn kill(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        self.stop()
    }

    /// The whole lab is going down: stop making decisions that the others
    /// stopping would prompt (a sitter taking over from a primary that is
    /// merely shut down with the rest). Called on every process before any
    /// is stopped; most have nothing to do.
    fn quiesce(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// What SMF's stop method does, for `svcadm disable` and `restart`. By
    /// default the same as `stop`.
    fn svc_stop(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        self.stop()
    }

    /// config-agent's sync: re-render what config-agent renders for this
    /// process from SAPI and, when it changed and the template has a
    /// post_cmd, restart it. Most processes render nothing.
    fn sync_config(&mut self) -> BoxFuture<'_, Result<ConfigSync, LabError>> {
        Box::pin(async { Ok(ConfigSync::Unchanged) })
    }

    /// `lab fault stall` (`on`) and its end: only a manatee peer can stall.
    /// False when this process has nothing to stall.
    fn stall(&mut self, _on: bool) -> BoxFuture<'_, Result<bool, LabError>> {
        Box::pin(async { Ok(false) })
    }

    /// The TCP port it listens on once started (kept across restarts).
    fn port(&self) -> Option<u16>;

    /// Whether it answers right now.
    fn health(&self) -> BoxFuture<'_, Health>;
}
