//! Pid files: how `lab down` finds what the lab started, and how `lab up`
//! knows a lab is already running.

use std::fs;
use std::path::Path;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::lab::error::LabError;
use crate::lab::lab_dir::write_atomically;

pub fn write(path: &Path, pid: u32) -> Result<(), LabError> {
    write_atomically(path, format!("{pid}\n").as_bytes())
}

/// The pid recorded in `path` if that process still runs it; a file left by
/// a crashed process (or a pid reused by something else) counts as none.
pub fn live_pid(path: &Path, marker: &str) -> Option<i32> {
    let text = fs::read_to_string(path).ok()?;
    let pid: i32 = text.trim().parse().ok()?;
    is_alive(pid, marker).then_some(pid)
}

/// A pid is ours if it exists, is not a zombie, and its command line still
/// carries `marker` (pids are reused; a stale file must not make us signal a
/// stranger).
pub fn is_alive(pid: i32, marker: &str) -> bool {
    if pid <= 0 || kill(Pid::from_raw(pid), None::<Signal>).is_err() {
        return false;
    }
    let proc_dir = Path::new("/proc").join(pid.to_string());
    if let Ok(stat) = fs::read_to_string(proc_dir.join("stat")) {
        // Field 3, after the parenthesised command name, is the state.
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next());
        if state == Some("Z") {
            return false;
        }
    }
    match fs::read(proc_dir.join("cmdline")) {
        Ok(cmdline) => cmdline
            .split(|b| *b == 0)
            .any(|arg| arg == marker.as_bytes()),
        // Without /proc we cannot tell; trust the signal probe.
        Err(_) => true,
    }
}

pub fn signal(pid: i32, sig: Signal) {
    let _ = kill(Pid::from_raw(pid), sig);
}
