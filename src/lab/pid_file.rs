//! Pid files: how `lab down` finds what the lab started, and how `lab up`
//! knows a lab is already running.

use std::fs;
use std::io::Write;
use std::path::Path;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::lab::error::LabError;

/// Makes `path` name this process, unless a live process (carrying
/// `marker`) already holds it: then `Ok(Some(its pid))`. Creation is
/// exclusive, so of two daemons started at once only one wins.
pub fn claim(path: &Path, marker: &str) -> Result<Option<i32>, LabError> {
    let own = std::process::id();
    for _ in 0..3 {
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(mut file) => {
                return file
                    .write_all(format!("{own}\n").as_bytes())
                    .map(|()| None)
                    .map_err(|e| LabError::io("write", path, e));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                match live_pid(path, marker) {
                    Some(pid) if u32::try_from(pid) == Ok(own) => return Ok(None),
                    Some(pid) => return Ok(Some(pid)),
                    // Left by a process that died: take it over.
                    None => {
                        // A file being written this instant reads as empty;
                        // give its writer a moment before calling it stale.
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        if live_pid(path, marker).is_none() {
                            let _ = fs::remove_file(path);
                        }
                    }
                }
            }
            Err(e) => return Err(LabError::io("create", path, e)),
        }
    }
    Err(LabError::Other(format!(
        "cannot claim {}: another process keeps replacing it",
        path.display()
    )))
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
