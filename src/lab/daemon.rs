//! `tritonsh lab serve`: the lab daemon that `lab up` starts in the
//! background. It claims the lab's loopback block, loads (or seeds) the
//! datacenter, serves the API twins and the control endpoint, saves the
//! datacenter on every change, and on SIGTERM stops everything it started.

use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::broadcast::error::RecvError;

use crate::lab::address_block;
use crate::lab::control_protocol::ControlInfo;
use crate::lab::control_server;
use crate::lab::error::LabError;
use crate::lab::lab_core::LabCore;
use crate::lab::lab_dir::LabDir;
use crate::lab::settings::{LabSettings, NewLab};
use crate::lab::{DAEMON_MARKER, pid_file};

/// Changes come in bursts (a provision touches a VM, a job, an instance):
/// save once the burst is over.
const SAVE_AFTER: Duration = Duration::from_millis(200);

pub fn serve(dir: &LabDir, new: &NewLab) -> Result<(), LabError> {
    dir.ensure_writable()?;
    if let Some(pid) = pid_file::claim(&dir.pid_file(), DAEMON_MARKER)? {
        return Err(LabError::AlreadyRunning {
            dir: dir.root().to_path_buf(),
            pid,
        });
    }
    unpublish(dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| LabError::Other(format!("cannot start the lab runtime: {e}")));
    let result = runtime.and_then(|rt| {
        let result = rt.block_on(run(dir.clone(), new.clone()));
        rt.shutdown_timeout(Duration::from_secs(2));
        result
    });
    unpublish(dir);
    let _ = std::fs::remove_file(dir.pid_file());
    result
}

async fn run(dir: LabDir, new: NewLab) -> Result<(), LabError> {
    let mut settings = dir
        .read_json::<LabSettings>(&dir.settings_file())?
        .unwrap_or_else(|| LabSettings::from_request(&new));
    if let Some(ms) = new.provision_delay_ms {
        settings.provision_delay_ms = ms;
    }
    let claimed = address_block::claim(settings.block, &dir.root().to_string_lossy())?;
    if let Some(old) = claimed.moved_from {
        eprintln!(
            "lab serve: {} is taken by another lab; this lab moves to {}",
            old.cidr(),
            claimed.block.cidr()
        );
    }
    settings.block = Some(claimed.block);

    let core = LabCore::open(
        dir.clone(),
        settings,
        claimed.block,
        claimed.moved_from,
        say,
    )
    .await?;

    let control = claimed
        .listener
        .set_nonblocking(true)
        .and_then(|()| tokio::net::TcpListener::from_std(claimed.listener))
        .map_err(|cause| LabError::Listen {
            addr: claimed.block.cidr(),
            cause,
        })?;
    let control_url = control
        .local_addr()
        .map(|addr| format!("http://{addr}"))
        .map_err(|cause| LabError::Listen {
            addr: claimed.block.cidr(),
            cause,
        })?;
    let router = control_server::router(core.clone());
    tokio::spawn(async move {
        let _ = axum::serve(control, router).await;
    });

    core.save().await?;
    // Last: `lab up` takes control.json with our pid as "ready".
    dir.write_json(
        &dir.control_file(),
        &ControlInfo {
            url: control_url.clone(),
            pid: std::process::id(),
        },
    )?;
    eprintln!(
        "lab serve: ready in {} (control {control_url})",
        dir.root().display()
    );

    tokio::spawn(core.world().clone().drive_jobs());
    tokio::spawn(follow_changes(core.clone()));
    wait_for_stop().await?;
    core.shutdown(say).await
}

/// One line in the daemon's log, which `lab up` and `lab down` follow to
/// show what they wait for.
fn say(what: &str) {
    eprintln!("lab serve: {what}");
}

/// Brings processes in line and saves after every burst of world changes
/// (provisions, deletes, jobs finishing).
async fn follow_changes(core: Arc<LabCore>) {
    let mut changes = core.world().subscribe();
    let requests_changed = core.requests_changed();
    loop {
        tokio::select! {
            change = changes.recv() => if let Err(RecvError::Closed) = change {
                return;
            },
            () = requests_changed.notified() => {}
        }
        tokio::time::sleep(SAVE_AFTER).await;
        while !changes.is_empty() {
            let _ = changes.try_recv();
        }
        if core.is_stopping() {
            // The shutdown saves last; nothing must start again meanwhile.
            return;
        }
        for failure in core.reconcile().await {
            eprintln!("lab serve: {failure}");
        }
        if let Err(e) = core.save().await {
            eprintln!("lab serve: {e}");
        }
    }
}

async fn wait_for_stop() -> Result<(), LabError> {
    let listen =
        |kind| signal(kind).map_err(|e| LabError::Other(format!("cannot watch for signals: {e}")));
    let mut term = listen(SignalKind::terminate())?;
    let mut int = listen(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    Ok(())
}

fn unpublish(dir: &LabDir) {
    let _ = std::fs::remove_file(dir.control_file());
    let _ = std::fs::remove_file(dir.status_file());
}
