//! Listing 10 000 VMs from `lab up --vms 10000`.
//! Goal: ≤ 300 ms and ≤ 100 MB peak RSS for the whole tritonsh process.
//!
//! Run with `cargo bench --bench list_vms`. It starts its own lab, then runs
//! `tritonsh --lab DIR -c 'vmapi::list().len()'` several times, timing each
//! run and reading the child's peak RSS from getrusage(RUSAGE_CHILDREN).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const VMS: usize = 10_000;
const RUNS: usize = 10;

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

/// Runs the command and returns its wall time and output.
fn measure(cmd: &mut Command) -> (Duration, String) {
    let start = Instant::now();
    let out = cmd.stderr(Stdio::inherit()).output().expect("run tritonsh");
    let elapsed = start.elapsed();
    assert!(out.status.success(), "tritonsh failed: {:?}", out.status);
    (elapsed, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The peak RSS in KiB of the largest child waited for so far: every child
/// but `lab up` (whose daemon is not our child) is a listing run.
fn peak_rss_of_children() -> i64 {
    #[repr(C)]
    struct Rusage {
        utime: [i64; 2],
        stime: [i64; 2],
        maxrss: i64,
        rest: [i64; 13],
    }
    unsafe extern "C" {
        fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }
    const RUSAGE_CHILDREN: i32 = -1;
    let mut usage = Rusage {
        utime: [0; 2],
        stime: [0; 2],
        maxrss: 0,
        rest: [0; 13],
    };
    // SAFETY: getrusage only writes into the struct we own, laid out as Linux's.
    let rc = unsafe { getrusage(RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    usage.maxrss
}

fn main() {
    let exe = env!("CARGO_BIN_EXE_tritonsh");
    let dir = std::env::temp_dir().join(format!("tritonsh-bench-vms-{}", std::process::id()));
    let lab = Lab { exe, dir };
    let up = Command::new(exe)
        .args(["lab", "up", "--vms", &VMS.to_string(), "--dir"])
        .arg(&lab.dir)
        .output()
        .expect("lab up");
    assert!(
        up.status.success(),
        "lab up failed: {}",
        String::from_utf8_lossy(&up.stderr)
    );

    let mut times = Vec::new();
    for _ in 0..RUNS {
        let (t, out) = measure(
            Command::new(exe)
                .arg("--lab")
                .arg(&lab.dir)
                .args(["-c", "vmapi::list().len()"]),
        );
        let n: usize = out.trim().parse().expect("a count");
        assert!(n >= VMS, "listed {n} VMs, expected at least {VMS}");
        times.push(t);
    }
    let peak = peak_rss_of_children();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "list_vms: {VMS} VMs over {RUNS} runs: min {:.0} ms, median {:.0} ms; peak RSS {:.1} MB (goals ≤ 300 ms, ≤ 100 MB)",
        ms(times[0]),
        ms(times[RUNS / 2]),
        peak as f64 / 1024.0
    );
}
