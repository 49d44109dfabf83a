//! The lab directory: every file a lab keeps, by name, in one place.
//!
//! The directory is the lab's identity: its state, its addresses and its
//! running processes are all found from here, so two labs in two
//! directories never meet.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::lab::error::LabError;

/// Whether a user with `uid` and primary group `gid` may enter `meta`'s directory.
fn traversable_by(meta: &fs::Metadata, uid: u32, gid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode();
    if meta.uid() == uid {
        mode & 0o100 != 0
    } else if meta.gid() == gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    }
}

#[derive(Clone, Debug)]
pub struct LabDir {
    root: PathBuf,
}

impl LabDir {
    pub fn new(root: &Path) -> LabDir {
        // Absolute, so the daemon (started elsewhere) and the pid/status files
        // name the same place whatever the caller's working directory.
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        LabDir { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The daemon's pid while it runs.
    pub fn pid_file(&self) -> PathBuf {
        self.root.join("daemon.pid")
    }

    /// Published `LabStatus`: how to reach the lab (read by the shell).
    pub fn status_file(&self) -> PathBuf {
        self.root.join("status.json")
    }

    /// Where the daemon's control endpoint listens (faults, live status).
    pub fn control_file(&self) -> PathBuf {
        self.root.join("control.json")
    }

    /// Settings chosen when the lab was created: kept so a restarted lab
    /// looks the same (addresses, ports, provisioning delay).
    pub fn settings_file(&self) -> PathBuf {
        self.root.join("lab.json")
    }

    /// The datacenter model: servers, applications, services, instances, VMs, jobs.
    pub fn world_file(&self) -> PathBuf {
        self.root.join("world.json")
    }

    /// One JSON line per request the API twins served.
    pub fn request_log(&self) -> PathBuf {
        self.root.join("requests.log")
    }

    /// The daemon's stdout and stderr.
    pub fn serve_log(&self) -> PathBuf {
        self.root.join("serve.log")
    }

    /// Creates the directory if needed and proves we can write in it, so a
    /// bad `--dir` fails at once with the reason instead of deep in startup.
    pub fn ensure_writable(&self) -> Result<(), LabError> {
        let not_writable = |cause| LabError::NotWritable {
            dir: self.root.clone(),
            cause,
        };
        // create_dir_all would say "File exists", which hides the mistake.
        if self.root.exists() && !self.root.is_dir() {
            return Err(LabError::Other(format!(
                "{} is a file, not a directory: a lab needs a directory of its own (choose another --dir)",
                self.root.display()
            )));
        }
        fs::create_dir_all(&self.root).map_err(not_writable)?;
        let probe = self
            .root
            .join(format!(".write-test-{}", std::process::id()));
        fs::write(&probe, b"").map_err(not_writable)?;
        let _ = fs::remove_file(&probe);
        self.reachable_by_postgres()
    }

    /// As root the lab runs PostgreSQL as `postgres`, which must be able to
    /// enter every directory above its data. The lab's own directory is
    /// opened for traversal (`mktemp -d` makes it 0700); a directory above
    /// it that shuts postgres out is the operator's, and is only named.
    fn reachable_by_postgres(&self) -> Result<(), LabError> {
        use std::os::unix::fs::PermissionsExt;
        if !nix::unistd::geteuid().is_root() {
            return Ok(());
        }
        let Ok(Some(postgres)) = nix::unistd::User::from_name("postgres") else {
            // PostgreSQL's own start says what is missing.
            return Ok(());
        };
        let meta = fs::metadata(&self.root).map_err(|e| LabError::io("inspect", &self.root, e))?;
        let mode = meta.permissions().mode();
        if mode & 0o001 == 0 {
            let opened = fs::Permissions::from_mode((mode | 0o001) & 0o7777);
            fs::set_permissions(&self.root, opened)
                .map_err(|e| LabError::io("open for traversal", &self.root, e))?;
        }
        for dir in self.root.ancestors().skip(1) {
            let Ok(meta) = fs::metadata(dir) else {
                continue;
            };
            if !traversable_by(&meta, postgres.uid.as_raw(), postgres.gid.as_raw()) {
                return Err(LabError::Other(format!(
                    "PostgreSQL runs as the postgres user, which cannot enter {} (mode {:o}): choose a --dir it can reach (under /var/tmp or /tmp), or chmod o+x {0}",
                    dir.display(),
                    meta.permissions().mode() & 0o7777
                )));
            }
        }
        Ok(())
    }

    /// Writes JSON so that readers never see half a file: a temporary file
    /// renamed over the old one.
    pub fn write_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), LabError> {
        let body = serde_json::to_vec_pretty(value)
            .map_err(|e| LabError::Other(format!("cannot encode {}: {e}", path.display())))?;
        write_atomically(path, &body, 0o666)
    }

    /// `Ok(None)` when the file does not exist.
    pub fn read_json<T: DeserializeOwned>(&self, path: &Path) -> Result<Option<T>, LabError> {
        let body = match fs::read(path) {
            Ok(body) => body,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LabError::io("read", path, e)),
        };
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| LabError::BadFile {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
    }
}

/// For a file only its owner may read (0600): the world holds SAPI's
/// metadata, and with it the datacenter's secrets.
pub fn write_private(path: &Path, body: &[u8]) -> Result<(), LabError> {
    write_atomically(path, body, 0o600)
}

/// Writes `body` to a temporary file created with `mode` (less the umask,
/// as for any new file), then renames it over `path`.
fn write_atomically(path: &Path, body: &[u8], mode: u32) -> Result<(), LabError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        // One left by an earlier process with this pid would keep its mode.
        let _ = fs::remove_file(&tmp);
        let mut file = fs::File::options()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(body)?;
        file.sync_data()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        LabError::io("write", path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_private_file_is_its_owners_alone_even_over_an_old_one() {
        let dir = crate::temp_dir::TempDir::new("lab-dir");
        let path = dir.join("world.json");
        fs::write(&path, b"{}").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"{\"secret\": 1}").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(fs::read(&path).unwrap(), b"{\"secret\": 1}");
    }
}
