//! The whole `tritonsh health` process on the `ha` lab: process start,
//! SAPI, VMAPI and CNAPI asked at once, every binder member asked for
//! every service and the four APIs pinged, the tables. Goal: ≤ 500 ms
//! median.
//!
//! Run with `cargo bench --bench health`. It starts a lab of its own
//! (stopped at the end), waits until everything is healthy, then runs the
//! release binary many times and prints the median and the 90th percentile.

use std::time::{Duration, Instant};

mod support;

use support::{ha_lab, lab_down, summary, tritonsh};

const RUNS: usize = 30;

fn main() {
    let exe = env!("CARGO_BIN_EXE_tritonsh");
    let (home, lab) = ha_lab(exe, "health");
    let run = ["--lab", lab.as_str(), "health"];

    let started = Instant::now();
    while !tritonsh(exe, &home, &run).status.success() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the ha lab never became healthy"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = tritonsh(exe, &home, &run);
        times.push(start.elapsed());
        assert!(out.status.success(), "health: {out:?}");
    }
    lab_down(exe, &home, &lab);
    let (min, median, p90) = summary(&mut times);
    println!(
        "health on the ha lab over {RUNS} runs: min {min:.1} ms, median {median:.1} ms, p90 {p90:.1} ms (goal ≤ 500 ms)",
    );
}
