//! `lab down`: stop the daemon by its pid. The daemon stops what it started
//! (listeners, ZooKeeper servers, PostgreSQL peers) before it exits; a ZooKeeper or PostgreSQL
//! left by a daemon that died is stopped here, by the pid in its pid file.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::lab::error::LabError;
use crate::lab::lab_dir::LabDir;
use crate::lab::manatee::peer_process as manatee_peer;
use crate::lab::zookeeper_process;
use crate::lab::{DAEMON_MARKER, pid_file, serve_log};
use crate::render::progress::{Progress, Show};

/// Time for the daemon to stop its instances and save the datacenter.
const STOP_WITHIN: Duration = Duration::from_secs(30);

pub enum Stopped {
    Now { pid: i32 },
    WasNotRunning,
}

/// `show`: whether the wait for the daemon shows its progress (what the
/// daemon says it stops) on stderr.
pub fn down(dir: &LabDir, show: Show) -> Result<Stopped, LabError> {
    let Some(pid) = pid_file::live_pid(&dir.pid_file(), DAEMON_MARKER) else {
        zookeeper_process::stop_leftovers(dir);
        manatee_peer::stop_leftovers(dir);
        remove_published(dir);
        return Ok(Stopped::WasNotRunning);
    };
    let log_offset = serve_log::end(dir);
    pid_file::signal(pid, Signal::SIGTERM);
    let asked = Instant::now();
    let mut progress = Progress::new("lab down", STOP_WITHIN, show);
    let what = format!("waiting for the lab daemon (pid {pid}) to stop");
    while pid_file::is_alive(pid, DAEMON_MARKER) {
        if asked.elapsed() > STOP_WITHIN {
            // It did not save its state in time; what it saved last (on
            // every change) is what the next `lab up` gets.
            pid_file::signal(pid, Signal::SIGKILL);
            std::thread::sleep(Duration::from_millis(200));
            if pid_file::is_alive(pid, DAEMON_MARKER) {
                return Err(LabError::Other(format!(
                    "the lab daemon (pid {pid}) in {} does not stop, even with SIGKILL",
                    dir.root().display()
                )));
            }
            break;
        }
        progress.tick(&what, serve_log::last_line(dir, log_offset).as_deref());
        std::thread::sleep(Duration::from_millis(50));
    }
    // Killed, or stopped with a server down: what it could not stop is ours.
    zookeeper_process::stop_leftovers(dir);
    manatee_peer::stop_leftovers(dir);
    remove_published(dir);
    Ok(Stopped::Now { pid })
}

/// A dead daemon's files must not make it look alive.
fn remove_published(dir: &LabDir) {
    for file in [dir.control_file(), dir.status_file(), dir.pid_file()] {
        let _ = std::fs::remove_file(file);
    }
}
