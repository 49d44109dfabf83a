//! What the whole-process benchmarks on a lab share: running tritonsh in a
//! home of its own, and a lab of its own that is stopped at the end.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

pub fn tritonsh(exe: &str, home: &Path, args: &[&str]) -> Output {
    Command::new(exe)
        .args(args)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1")
        .env_remove("TRITONSH_LAB")
        .env_remove("ZK_IPS")
        .env_remove("SHARD")
        .output()
        .expect("run tritonsh")
}

/// An `ha` lab in a fresh home under the temp dir: (home, lab dir).
pub fn ha_lab(exe: &str, name: &str) -> (PathBuf, String) {
    let home = std::env::temp_dir().join(format!("tritonsh-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let lab = home.join("lab").to_str().expect("a UTF-8 path").to_string();
    let up = tritonsh(exe, &home, &["lab", "up", "--profile", "ha", "--dir", &lab]);
    assert!(up.status.success(), "lab up: {up:?}");
    (home, lab)
}

pub fn lab_down(exe: &str, home: &Path, lab: &str) {
    let _ = tritonsh(exe, home, &["lab", "down", "--dir", lab]);
    let _ = std::fs::remove_dir_all(home);
}

/// Min, median and p90 of the sorted times, in milliseconds.
pub fn summary(times: &mut [Duration]) -> (f64, f64, f64) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = times.len();
    (ms(times[0]), ms(times[n / 2]), ms(times[n * 9 / 10]))
}
