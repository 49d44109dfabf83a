//! A scratch directory for unit tests, removed when the test ends, passed
//! or not.

use std::path::{Path, PathBuf};

pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory under the system's temp dir; `tag` names it
    /// for whoever finds one left by a killed test run.
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("tritonsh-{tag}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        TempDir(dir)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
