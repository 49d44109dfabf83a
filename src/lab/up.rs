//! `lab up`: start the lab daemon in the background and return once its
//! APIs answer.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::api::Api;
use crate::lab::control_client::pings;
use crate::lab::control_protocol::ControlInfo;
use crate::lab::error::LabError;
use crate::lab::lab_dir::LabDir;
use crate::lab::settings::NewLab;
use crate::lab::status::LabStatus;
use crate::lab::{DAEMON_MARKER, pid_file, published, serve_log};
use crate::render::progress::{Progress, Show};

/// Seeding 10 000 VMs and binding every listener takes a few seconds on a
/// busy machine; past this something is wrong and the log says what.
const READY_WITHIN: Duration = Duration::from_secs(90);

/// The binary to run as the daemon, when the caller is not tritonsh itself
/// (a test harness calling `lab::ensure_running`, for instance).
pub const BIN_VAR: &str = "TRITONSH_BIN";

pub enum Started {
    Now(LabStatus),
    AlreadyRunning(LabStatus),
}

/// `show`: whether the wait for the daemon shows its progress on stderr.
pub fn up(dir: &LabDir, new: &NewLab, show: Show) -> Result<Started, LabError> {
    dir.ensure_writable()?;
    if pid_file::live_pid(&dir.pid_file(), DAEMON_MARKER).is_some() {
        // Started by someone else a moment ago, maybe still coming up.
        return wait_ready(dir, None, serve_log::end(dir), show).map(Started::AlreadyRunning);
    }
    let log_offset = serve_log::end(dir);
    let mut child = spawn(dir, new)?;
    let ready = wait_ready(dir, Some(&mut child), log_offset, show);
    if ready.is_err() {
        // Half-started daemons must not linger holding addresses.
        let _ = child.kill();
        let _ = child.wait();
        // Another `lab up` for this directory won the race: that lab is ours too.
        if pid_file::live_pid(&dir.pid_file(), DAEMON_MARKER).is_some() {
            return wait_ready(dir, None, serve_log::end(dir), show).map(Started::AlreadyRunning);
        }
    }
    ready.map(Started::Now)
}

fn spawn(dir: &LabDir, new: &NewLab) -> Result<Child, LabError> {
    let exe = match std::env::var_os(BIN_VAR) {
        Some(bin) => bin.into(),
        None => std::env::current_exe()
            .map_err(|e| LabError::Other(format!("cannot find the tritonsh binary: {e}")))?,
    };
    let log_path = dir.serve_log();
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| LabError::io("open", &log_path, e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| LabError::io("open", &log_path, e))?;
    let mut command = Command::new(exe);
    command
        .arg("lab")
        .arg(DAEMON_MARKER)
        .arg("--dir")
        .arg(dir.root())
        .arg("--profile")
        .arg(new.profile.as_str())
        .arg("--vms")
        .arg(new.vms.to_string());
    if let Some(ms) = new.provision_delay_ms {
        command.arg("--provision-delay-ms").arg(ms.to_string());
    }
    command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .current_dir(dir.root());
    // SAFETY: setsid is async-signal-safe and touches no memory of ours; it
    // detaches the daemon from our terminal and session so it outlives us
    // and a Ctrl-C in the caller's terminal does not reach it.
    unsafe {
        command.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    command
        .spawn()
        .map_err(|e| LabError::Other(format!("cannot start the lab daemon: {e}")))
}

/// Waits until the daemon has published how to reach it and its three APIs
/// answer `/ping`. With `child`, a daemon that exits early fails at once with
/// the last line of its log. A lab that was already running only has to
/// answer: its APIs may be down on purpose (a fault). What the daemon
/// logs meanwhile is the progress shown.
fn wait_ready(
    dir: &LabDir,
    mut child: Option<&mut Child>,
    log_offset: u64,
    show: Show,
) -> Result<LabStatus, LabError> {
    let started = Instant::now();
    let mut progress = Progress::new("lab up", READY_WITHIN, show);
    let what = match child.as_deref() {
        Some(child) => format!("waiting for the lab daemon (pid {}) to answer", child.id()),
        None => "waiting for the lab to answer".to_string(),
    };
    loop {
        if let Some(child) = child.as_deref_mut()
            && let Ok(Some(exit)) = child.try_wait()
        {
            return Err(start_failed(
                dir,
                log_offset,
                &format!("the daemon exited ({exit})"),
            ));
        }
        if let Some(ready) = ready_status(dir, child.as_deref().map(Child::id)) {
            return Ok(ready);
        }
        if started.elapsed() > READY_WITHIN {
            return Err(start_failed(
                dir,
                log_offset,
                &format!("not ready after {}s", READY_WITHIN.as_secs()),
            ));
        }
        progress.tick(&what, serve_log::last_line(dir, log_offset).as_deref());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ready_status(dir: &LabDir, expected_pid: Option<u32>) -> Option<LabStatus> {
    let control: ControlInfo = dir.read_json(&dir.control_file()).ok()??;
    if expected_pid.is_some_and(|pid| pid != control.pid) {
        return None;
    }
    let status = published::read_live(dir, &control).ok()?;
    if expected_pid.is_none() {
        return Some(status);
    }
    let answering = Api::ALL.into_iter().all(|api| pings(status.urls.get(api)));
    answering.then_some(status)
}

fn start_failed(dir: &LabDir, log_offset: u64, fallback: &str) -> LabError {
    LabError::StartFailed {
        dir: dir.root().to_path_buf(),
        log: dir.serve_log(),
        detail: serve_log::last_line(dir, log_offset).unwrap_or_else(|| fallback.to_string()),
    }
}
