//! Every way a runbook command can fail before or around a run. Each
//! renders as one line saying what failed, where, and what to do next.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RunbookError {
    #[error("no runbook named '{name}': `tritonsh runbook list` shows the runbooks there are")]
    UnknownRunbook { name: String },

    #[error("cannot read {path}: {cause}")]
    Read { path: PathBuf, cause: String },

    #[error("cannot write {path}: {cause}")]
    Write { path: PathBuf, cause: String },

    #[error("runbook {name}: {cause}")]
    Invalid { name: String, cause: String },

    #[error("{name}: {cause}; parameters: {usage}")]
    BadParam {
        name: String,
        cause: String,
        usage: String,
    },

    #[error("no run '{id}' in {dir}: `tritonsh runbook runs` lists the runs there are")]
    UnknownRun { id: String, dir: PathBuf },

    #[error("run {id}: {cause}")]
    CannotResume { id: String, cause: String },

    #[error("step {index} ({step}): {cause}; add {flag} to answer it")]
    NeedsFlag {
        index: usize,
        step: String,
        cause: String,
        flag: String,
    },

    #[error("{0}")]
    Other(String),
}

impl RunbookError {
    pub fn invalid(name: &str, cause: impl std::fmt::Display) -> RunbookError {
        RunbookError::Invalid {
            name: name.to_string(),
            cause: cause.to_string(),
        }
    }
}
