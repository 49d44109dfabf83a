//! How others find a running lab: `status.json` (a `LabStatus`) and
//! `control.json` in the lab directory, checked against the live daemon.

use std::path::Path;

use crate::lab::control_client::fetch_status;
use crate::lab::control_protocol::ControlInfo;
use crate::lab::error::LabError;
use crate::lab::lab_dir::LabDir;
use crate::lab::status::LabStatus;
use crate::lab::{DAEMON_MARKER, pid_file};

/// The status of the lab in `dir`, as its daemon sees it now. Fails with
/// `NotRunning` when nothing serves that directory.
pub fn status(dir: &Path) -> Result<LabStatus, LabError> {
    let dir = LabDir::new(dir);
    let not_running = || LabError::NotRunning {
        dir: dir.root().to_path_buf(),
    };
    if pid_file::live_pid(&dir.pid_file(), DAEMON_MARKER).is_none() {
        return Err(not_running());
    }
    let _published: LabStatus = dir.read_json(&dir.status_file())?.ok_or_else(not_running)?;
    let control: ControlInfo = dir
        .read_json(&dir.control_file())?
        .ok_or_else(not_running)?;
    read_live(&dir, &control)
}

/// Asks the daemon named in `control` for its status; a `control.json` left
/// by a daemon that has died is not an answer.
pub fn read_live(dir: &LabDir, control: &ControlInfo) -> Result<LabStatus, LabError> {
    let pid = i32::try_from(control.pid).unwrap_or(0);
    if !pid_file::is_alive(pid, DAEMON_MARKER) {
        return Err(LabError::NotRunning {
            dir: dir.root().to_path_buf(),
        });
    }
    fetch_status(control)
}
