//! Listing 10 000 VMs from `lab up --vms 10000`.
//! Goal: ≤ 300 ms and ≤ 100 MB peak RSS for the whole tritonsh process.
//!
//! Run with `cargo bench --bench list_vms`. It starts its own lab, then runs
//! `tritonsh --lab DIR -c 'vmapi::list().len()'` several times, timing each
//! run and reading the child's peak RSS from `wait4`'s rusage.

use std::os::unix::process::ExitStatusExt;
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

/// Runs the command and returns its wall time and peak RSS in KiB.
fn measure(cmd: &mut Command) -> (Duration, i64, String) {
    let start = Instant::now();
    let child = cmd.stdout(Stdio::piped()).spawn().expect("spawn tritonsh");
    let pid = child.id() as i32;
    let mut stdout = child.stdout.expect("stdout");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut out).expect("read stdout");
    let mut status = 0;
    let mut usage: libc_rusage::Rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes into the zeroed rusage we own.
    let rc = unsafe { libc_rusage::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert!(rc > 0, "wait4 failed");
    let code = std::process::ExitStatus::from_raw(status);
    assert!(code.success(), "tritonsh failed: {code:?}");
    (elapsed, usage.ru_maxrss, out)
}

mod libc_rusage {
    #[repr(C)]
    pub struct Rusage {
        pub ru_utime: [i64; 2],
        pub ru_stime: [i64; 2],
        pub ru_maxrss: i64,
        pub rest: [i64; 13],
    }
    unsafe extern "C" {
        pub fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
    }
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
    let mut peak = 0;
    for _ in 0..RUNS {
        let (t, rss, out) = measure(
            Command::new(exe)
                .arg("--lab")
                .arg(&lab.dir)
                .args(["-c", "vmapi::list().len()"]),
        );
        let n: usize = out.trim().parse().expect("a count");
        assert!(n >= VMS, "listed {n} VMs, expected at least {VMS}");
        times.push(t);
        peak = peak.max(rss);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "list_vms: {VMS} VMs over {RUNS} runs: min {:.0} ms, median {:.0} ms; peak RSS {:.1} MB (goals ≤ 300 ms, ≤ 100 MB)",
        ms(times[0]),
        ms(times[RUNS / 2]),
        peak as f64 / 1024.0
    );
}
