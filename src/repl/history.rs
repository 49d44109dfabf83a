//! The REPL's history file, `$XDG_STATE_HOME/tritonsh/history`.
//!
//! History is a convenience: a file that cannot be read or written gives a
//! warning (once) and the shell carries on.

use std::path::PathBuf;

use rustyline::Editor;
use rustyline::history::FileHistory;

pub struct HistoryFile {
    path: PathBuf,
    warned: bool,
}

impl HistoryFile {
    pub fn new(path: PathBuf) -> HistoryFile {
        HistoryFile {
            path,
            warned: false,
        }
    }

    /// Loads earlier sessions' lines; creates the directory for a first run.
    pub fn load<H: rustyline::Helper>(&mut self, editor: &mut Editor<H, FileHistory>) {
        if let Some(dir) = self.path.parent()
            && let Err(e) = std::fs::create_dir_all(dir)
        {
            self.warn(&format!("cannot create {}: {e}", dir.display()));
            return;
        }
        if self.path.exists()
            && let Err(e) = editor.load_history(&self.path)
        {
            self.warn(&format!("cannot read {}: {e}", self.path.display()));
        }
    }

    /// Appends the lines entered since the last save, so a crash or a
    /// second shell loses nothing.
    pub fn save<H: rustyline::Helper>(&mut self, editor: &mut Editor<H, FileHistory>) {
        if let Err(e) = editor.append_history(&self.path) {
            self.warn(&format!(
                "cannot save history to {}: {e}",
                self.path.display()
            ));
        }
    }

    fn warn(&mut self, what: &str) {
        if !self.warned {
            eprintln!(
                "warning: {what}; history will not be kept (check the directory's permissions or set XDG_STATE_HOME)"
            );
            self.warned = true;
        }
    }
}
