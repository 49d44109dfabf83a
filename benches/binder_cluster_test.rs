//! The whole `tritonsh run binder-cluster-test` process on the `ha` lab's
//! three binder members, healthy: process start, VMAPI and SAPI reads, the
//! members' four-letter words and DNS asked at once, the verdict and the
//! report. Goal: ≤ 300 ms.
//!
//! Run with `cargo bench --bench binder_cluster_test`. It starts a lab of
//! its own (stopped at the end), waits for the ensemble to be healthy, then
//! runs the release binary many times and prints the median and the 90th
//! percentile; the figures go in README.md.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const RUNS: usize = 30;

fn tritonsh(exe: &str, home: &Path, args: &[&str]) -> Output {
    Command::new(exe)
        .args(args)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1")
        .env_remove("TRITONSH_LAB")
        .env_remove("ZK_IPS")
        .output()
        .expect("run tritonsh")
}

fn main() {
    let exe = env!("CARGO_BIN_EXE_tritonsh");
    let home = std::env::temp_dir().join(format!("tritonsh-bench-bct-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let lab = home.join("lab");
    let lab = lab.to_str().expect("a UTF-8 path");
    let up = tritonsh(exe, &home, &["lab", "up", "--profile", "ha", "--dir", lab]);
    assert!(up.status.success(), "lab up: {up:?}");
    let run = ["--lab", lab, "run", "binder-cluster-test"];

    // The ensemble elects a leader and every registrar writes its record.
    let started = Instant::now();
    while !tritonsh(exe, &home, &run).status.success() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the lab's binder cluster did not become healthy"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = tritonsh(exe, &home, &run);
        times.push(start.elapsed());
        assert!(
            out.status.success(),
            "binder-cluster-test: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = tritonsh(exe, &home, &["lab", "down", "--dir", lab]);
    let _ = std::fs::remove_dir_all(&home);
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "binder-cluster-test on the ha lab over {RUNS} runs: min {:.1} ms, median {:.1} ms, p90 {:.1} ms (goal ≤ 300 ms)",
        ms(times[0]),
        ms(times[RUNS / 2]),
        ms(times[RUNS * 9 / 10])
    );
}
