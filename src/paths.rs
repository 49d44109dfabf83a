//! Where tritonsh keeps its files, following the XDG base directories.
//!
//! Every directory can be moved with the usual XDG variables, which is also
//! how tests keep their runs apart.

use std::fs::{File, Permissions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

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

/// A file for its owner's eyes only (0600), opened to append: run
/// journals, transcripts and logs, which may hold the datacenter's secrets.
pub fn private_file(path: &Path) -> std::io::Result<File> {
    let file = File::options()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    // A file made before, by an older version, keeps its mode otherwise.
    file.set_permissions(Permissions::from_mode(0o600))?;
    Ok(file)
}

/// A directory for its owner only (0700), made if need be.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, Permissions::from_mode(0o700))
}
