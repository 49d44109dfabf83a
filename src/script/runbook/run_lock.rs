//! One process at a time per run: two resumes of the same run would both
//! find step 2 not done and both provision it.
//!
//! The lock is a `lock` file holding the owner's pid. A lock left by a
//! process that is gone (killed, crashed) is taken over.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::error::RunbookError;

pub struct RunLock {
    path: PathBuf,
}

impl RunLock {
    pub fn acquire(dir: &Path, id: &str) -> Result<RunLock, RunbookError> {
        let path = dir.join("lock");
        let write_fail = |e: std::io::Error| RunbookError::Write {
            path: path.clone(),
            cause: e.to_string(),
        };
        for _ in 0..2 {
            match std::fs::File::options()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(mut file) => {
                    write!(file, "{}", std::process::id()).map_err(write_fail)?;
                    return Ok(RunLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let owner = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|t| t.trim().parse::<i32>().ok());
                    if let Some(pid) = owner.filter(|&pid| alive(pid)) {
                        return Err(RunbookError::CannotResume {
                            id: id.to_string(),
                            cause: format!(
                                "it is running now (pid {pid}); wait for it, or stop it with Ctrl-C first"
                            ),
                        });
                    }
                    std::fs::remove_file(&path).map_err(write_fail)?;
                }
                Err(e) => return Err(write_fail(e)),
            }
        }
        Err(RunbookError::Other(format!(
            "cannot take the lock {}: another process keeps taking it",
            path.display()
        )))
    }
}

/// Whether the process that owns the run in `dir` is gone: its lock names
/// a process that is not alive, or there is no lock. Only meaningful for a
/// run whose journal still says `running` (a run that ended drops its lock).
pub fn owner_gone(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("lock"))
        .ok()
        .and_then(|t| t.trim().parse::<i32>().ok())
        .is_none_or(|pid| !alive(pid))
}

fn alive(pid: i32) -> bool {
    pid as u32 != std::process::id()
        && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_owner_keeps_the_lock_and_a_dead_one_loses_it() {
        let dir = std::env::temp_dir().join(format!("tritonsh-lock-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        // pid 1 is always alive.
        std::fs::write(dir.join("lock"), "1").unwrap();
        let err = RunLock::acquire(&dir, "r").err().unwrap().to_string();
        assert!(err.contains("it is running now (pid 1)"), "{err}");
        // A pid that cannot exist.
        std::fs::write(dir.join("lock"), "2147483646").unwrap();
        let lock = RunLock::acquire(&dir, "r").unwrap();
        assert!(dir.join("lock").exists());
        drop(lock);
        assert!(!dir.join("lock").exists());
    }
}
