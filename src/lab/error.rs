//! Every way a lab operation can fail, each rendered as one line that says
//! what failed, where, and what to do next.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{} is not writable: {} (choose another --dir)", dir.display(), reason(cause))]
    NotWritable { dir: PathBuf, cause: io::Error },

    #[error("cannot {what} {}: {}", path.display(), reason(cause))]
    Io {
        what: &'static str,
        path: PathBuf,
        cause: io::Error,
    },

    #[error("{} is damaged: {message} (move it away to start a fresh lab)", path.display())]
    BadFile { path: PathBuf, message: String },

    #[error("no lab is running in {} (start one with `tritonsh lab up --dir {}`)", dir.display(), dir.display())]
    NotRunning { dir: PathBuf },

    #[error("the lab in {} did not start: {detail}; its log is {}", dir.display(), log.display())]
    StartFailed {
        dir: PathBuf,
        log: PathBuf,
        detail: String,
    },

    #[error("a lab is already serving {} (pid {pid})", dir.display())]
    AlreadyRunning { dir: PathBuf, pid: i32 },

    #[error(
        "every loopback block 127.2.0.0/16 … 127.254.0.0/16 is taken by other labs (stop one with `tritonsh lab down`)"
    )]
    NoFreeAddressBlock,

    #[error(
        "cannot listen on {addr}: {} (is something else using it?)",
        reason(cause)
    )]
    Listen { addr: String, cause: io::Error },

    #[error(
        "the lab control endpoint {url} did not answer: {message} (is the lab running? `tritonsh lab status`)"
    )]
    Control { url: String, message: String },

    /// The lab answered but refused the request; its message is already one line.
    #[error("{0}")]
    Refused(String),

    #[error("{0}")]
    Other(String),
}

impl LabError {
    pub fn io(what: &'static str, path: &Path, cause: io::Error) -> LabError {
        LabError::Io {
            what,
            path: path.to_path_buf(),
            cause,
        }
    }
}

/// `Permission denied` rather than `Permission denied (os error 13)`: the
/// number helps nobody reading a one-line error.
pub fn reason(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}
