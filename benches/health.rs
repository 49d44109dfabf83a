//! The whole `tritonsh health` process on the `ha` lab: process start,
//! SAPI, VMAPI and CNAPI asked at once, every binder member asked for
//! every service and the four APIs pinged, the tables. Goal: ≤ 500 ms
//! median.
//!
//! Run with `cargo bench --bench health`. It starts a lab of its own
//! (stopped at the end), waits until everything is healthy, then runs the
//! release binary many times and prints the median and the 90th percentile.

use std::time::Duration;

mod support;

const RUNS: usize = 30;

fn main() {
    let lab = support::ha_lab(env!("CARGO_BIN_EXE_tritonsh"), "health");
    let run = ["--lab", lab.dir.as_str(), "health"];
    let (min, median, p90) = lab.measure(&run, Duration::from_secs(60), RUNS, |out| {
        out.status.success()
    });
    println!(
        "health on the ha lab over {RUNS} runs: min {min:.1} ms, median {median:.1} ms, p90 {p90:.1} ms (goal ≤ 500 ms)",
    );
}
