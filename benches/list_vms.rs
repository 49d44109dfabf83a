//! Listing every VM of `lab up --vms N` (N = $LIST_VMS, default 10 000;
//! the lab's maximum is 49 000), whole process, against Joyent's own Node
//! client on the same lab in the same run (issue 10 §1: ≥ 3× faster).
//!
//! Run with `cargo bench --bench list_vms` (build in release first:
//! `cargo build --release`). It starts its own lab, then runs, interleaved,
//! RUNS times each:
//! - tritonsh: `tritonsh --lab DIR --json -c 'vmapi::list(#{}).len()'`
//! - sdc-clients: `node tests/sdc-clients/list_vms.js` (listVms, 1000 per
//!   page), when node and tests/sdc-clients/node_modules are there
//!   (scripts/install-deps.sh)
//! - startup: `tritonsh --json -c '0'`, the floor under tritonsh's time
//!
//! and prints each side's median and min wall time and its peak RSS (from
//! wait4, per child).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 11;

struct Lab<'a> {
    exe: &'a str,
    dir: std::path::PathBuf,
}

impl Drop for Lab<'_> {
    fn drop(&mut self) {
        let _ = Command::new(self.exe)
            .args(["lab", "down", "--dir"])
            .arg(&self.dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What one run of a child cost.
struct Run {
    wall: Duration,
    /// Peak RSS in KiB.
    peak_kib: i64,
    stdout: String,
}

#[repr(C)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    maxrss: i64,
    rest: [i64; 13],
}

unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, usage: *mut Rusage) -> i32;
}

/// Runs `cmd` to its end; the child is reaped with wait4 so its own peak
/// RSS is known (getrusage of all children would mix both sides).
#[expect(
    clippy::zombie_processes,
    reason = "reaped by wait4, which also gives its rusage"
)]
fn measure(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout).expect("read stdout");
    }
    let mut status = 0;
    let mut usage = Rusage {
        utime: [0; 2],
        stime: [0; 2],
        maxrss: 0,
        rest: [0; 13],
    };
    let pid = i32::try_from(child.id()).expect("a pid");
    // SAFETY: wait4 writes only into the two values we own; the child is
    // ours and not waited for elsewhere.
    let rc = unsafe { wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(rc, pid, "wait4 failed");
    assert_eq!(status, 0, "{cmd:?} failed (wait status {status})");
    Run {
        wall,
        peak_kib: usage.maxrss,
        stdout,
    }
}

struct Side {
    name: &'static str,
    runs: Vec<Run>,
}

impl Side {
    fn median_ms(&self) -> f64 {
        let mut ms: Vec<f64> = self
            .runs
            .iter()
            .map(|r| r.wall.as_secs_f64() * 1000.0)
            .collect();
        ms.sort_by(f64::total_cmp);
        ms[ms.len() / 2]
    }

    fn report(&self) {
        let min = self.runs.iter().map(|r| r.wall).min().unwrap_or_default();
        let peak = self.runs.iter().map(|r| r.peak_kib).max().unwrap_or(0);
        println!(
            "  {:<12} median {:>6.0} ms   min {:>6.0} ms   peak RSS {:>6.1} MB",
            self.name,
            self.median_ms(),
            min.as_secs_f64() * 1000.0,
            peak as f64 / 1024.0
        );
    }
}

fn main() {
    let exe = env!("CARGO_BIN_EXE_tritonsh");
    let vms: usize = std::env::var("LIST_VMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = std::env::temp_dir().join(format!("tritonsh-bench-vms-{}", std::process::id()));
    let lab = Lab { exe, dir };
    let up = Command::new(exe)
        .args(["lab", "up", "--vms", &vms.to_string(), "--dir"])
        .arg(&lab.dir)
        .output()
        .expect("lab up");
    assert!(
        up.status.success(),
        "lab up failed: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let status = Command::new(exe)
        .args(["lab", "status", "--json", "--dir"])
        .arg(&lab.dir)
        .output()
        .expect("lab status");
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    let vmapi_url = status["vmapi_url"].as_str().expect("vmapi_url").to_string();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdc-clients/list_vms.js");
    let node = script
        .with_file_name("node_modules/sdc-clients")
        .is_dir()
        .then(|| Command::new("node").arg("--version").output().ok())
        .flatten()
        .is_some_and(|o| o.status.success());
    if !node {
        println!("list_vms: no node or sdc-clients (scripts/install-deps.sh): tritonsh only");
    }

    let mut ours = Side {
        name: "tritonsh",
        runs: Vec::new(),
    };
    let mut theirs = Side {
        name: "sdc-clients",
        runs: Vec::new(),
    };
    let mut startup = Side {
        name: "startup",
        runs: Vec::new(),
    };
    for _ in 0..RUNS {
        let run = measure(Command::new(exe).arg("--lab").arg(&lab.dir).args([
            "--json",
            "-c",
            "vmapi::list(#{}).len()",
        ]));
        let n: usize = run.stdout.trim().parse().expect("a count");
        assert!(n >= vms, "tritonsh listed {n} VMs, expected at least {vms}");
        ours.runs.push(run);
        if node {
            let run = measure(
                Command::new("node")
                    .arg(&script)
                    .env("VMAPI_URL", &vmapi_url),
            );
            let n: usize = run.stdout.trim().parse().expect("a count");
            assert!(
                n >= vms,
                "sdc-clients listed {n} VMs, expected at least {vms}"
            );
            theirs.runs.push(run);
        }
        startup
            .runs
            .push(measure(Command::new(exe).args(["--json", "-c", "0"])));
    }
    println!("list_vms: {vms} VMs, {RUNS} interleaved runs each");
    ours.report();
    if node {
        theirs.report();
        println!(
            "  tritonsh is {:.2}× faster than sdc-clients (medians)",
            theirs.median_ms() / ours.median_ms()
        );
    }
    startup.report();
}
