//! The lab: a small datacenter on loopback, reached only over the network.
//!
//! `lab up` starts a daemon (`daemon.rs`) that serves the API twins on the
//! admin IPs of their instances and a control endpoint for faults; the
//! shell finds it through `status.json` in the lab directory and then talks
//! to it like to any datacenter.

pub mod address_block;
pub mod api_listener;
pub mod binder;
pub mod cli;
pub mod control_client;
pub mod control_protocol;
pub mod control_server;
pub mod daemon;
pub mod down;
pub mod error;
pub mod instance_process;
pub mod lab_core;
pub mod lab_dir;
pub mod layout;
pub mod manatee;
pub mod mutation_watch;
pub mod pid_file;
pub mod processes;
pub mod published;
pub mod request_log;
pub mod serve_log;
pub mod settings;
pub mod status;
pub mod status_table;
pub mod twin;
pub mod up;
pub mod vm_data;
pub mod world;
pub mod zk_session;
pub mod zone_command;
pub mod zookeeper_process;

use std::path::{Path, PathBuf};

pub use error::LabError;
pub use published::status;
use status::LabStatus;

use crate::render::progress::Show;

/// The argument that marks a lab daemon's command line (`tritonsh lab
/// serve`), so a reused pid is never mistaken for a lab.
pub const DAEMON_MARKER: &str = "serve";

/// Where the lab lives when no directory is given. As root the lab will run
/// PostgreSQL as the `postgres` user, who cannot traverse `/root`: then the
/// lab lives under /var/tmp instead of the XDG data directory.
pub fn default_dir() -> PathBuf {
    let uid = nix::unistd::geteuid();
    if uid.is_root() {
        PathBuf::from(format!("/var/tmp/tritonsh-lab-{uid}/default"))
    } else {
        crate::paths::data_dir().join("lab")
    }
}

/// The lab in `dir`, started like `lab up` (HA layout) if it is not running.
pub fn ensure_running(dir: &Path) -> Result<LabStatus, LabError> {
    match status(dir) {
        Ok(status) => Ok(status),
        Err(LabError::NotRunning { .. }) => {
            let dir = lab_dir::LabDir::new(dir);
            match up::up(&dir, &settings::NewLab::default(), Show::Nothing)? {
                up::Started::Now(status) | up::Started::AlreadyRunning(status) => Ok(status),
            }
        }
        Err(other) => Err(other),
    }
}
