//! The daemon's log (`serve.log`), as `lab up` and `lab down` read it: the
//! daemon says there what it is doing and, last, why it failed.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use crate::lab::lab_dir::LabDir;

/// Where the log ends now: what the daemon writes from here on is news.
pub fn end(dir: &LabDir) -> u64 {
    std::fs::metadata(dir.serve_log()).map_or(0, |m| m.len())
}

/// The daemon's last words since `offset`: what it does now, or its
/// one-line error.
pub fn last_line(dir: &LabDir, offset: u64) -> Option<String> {
    let mut file = File::open(dir.serve_log()).ok()?;
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .map(|line| line.trim().trim_start_matches("lab serve: ").to_string())
}
