//! Where tritonsh keeps its files, following the XDG base directories.
//!
//! Every directory can be moved with the usual XDG variables, which is also
//! how tests keep their runs apart.

use std::path::PathBuf;

fn xdg(var: &str, fallback: fn() -> Option<PathBuf>, default_under_home: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    fallback()
        .or_else(|| dirs::home_dir().map(|h| h.join(default_under_home)))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// `$XDG_CONFIG_HOME/tritonsh`: the profiles file and local runbooks.
pub fn config_dir() -> PathBuf {
    xdg("XDG_CONFIG_HOME", dirs::config_dir, ".config").join("tritonsh")
}

/// `$XDG_STATE_HOME/tritonsh`: REPL history, run journals and transcripts.
pub fn state_dir() -> PathBuf {
    xdg("XDG_STATE_HOME", dirs::state_dir, ".local/state").join("tritonsh")
}

/// `$XDG_DATA_HOME/tritonsh`: the default lab lives under here.
pub fn data_dir() -> PathBuf {
    xdg("XDG_DATA_HOME", dirs::data_dir, ".local/share").join("tritonsh")
}

/// The operator's runbook directory: a file here overrides the stdlib one.
pub fn runbook_dir() -> PathBuf {
    config_dir().join("runbooks")
}
