//! The whole `tritonsh run binder-cluster-test` process on the `ha` lab's
//! three binder members, healthy: process start, VMAPI and SAPI reads, the
//! members' four-letter words and DNS asked at once, the verdict and the
//! report. Goal: ≤ 300 ms.
//!
//! Run with `cargo bench --bench binder_cluster_test`. It starts a lab of
//! its own (stopped at the end), waits for the ensemble to be healthy, then
//! runs the release binary many times and prints the median and the 90th
//! percentile; the figures go in README.md.

use std::time::{Duration, Instant};

mod support;

use support::{ha_lab, lab_down, summary, tritonsh};

const RUNS: usize = 30;

fn main() {
    let exe = env!("CARGO_BIN_EXE_tritonsh");
    let (home, lab) = ha_lab(exe, "bct");
    let lab = lab.as_str();
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
    lab_down(exe, &home, lab);
    let (min, median, p90) = summary(&mut times);
    println!(
        "binder-cluster-test on the ha lab over {RUNS} runs: min {min:.1} ms, median {median:.1} ms, p90 {p90:.1} ms (goal ≤ 300 ms)",
    );
}
