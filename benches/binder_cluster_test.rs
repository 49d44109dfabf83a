//! The whole `tritonsh run binder-cluster-test` process on the `ha` lab's
//! three binder members, healthy: process start, VMAPI and SAPI reads, the
//! members' four-letter words and DNS asked at once, the verdict and the
//! report. Goal: ≤ 300 ms.
//!
//! Run with `cargo bench --bench binder_cluster_test`. It starts a lab of
//! its own (stopped at the end), waits for the ensemble to be healthy, then
//! runs the release binary many times and prints the median and the 90th
//! percentile; the figures go in README.md.

use std::time::Duration;

mod support;

const RUNS: usize = 30;

fn main() {
    let lab = support::ha_lab(env!("CARGO_BIN_EXE_tritonsh"), "bct");
    let run = ["--lab", lab.dir.as_str(), "run", "binder-cluster-test"];
    let (min, median, p90) = lab.measure(&run, Duration::from_secs(30), RUNS, |out| {
        out.status.success()
    });
    println!(
        "binder-cluster-test on the ha lab over {RUNS} runs: min {min:.1} ms, median {median:.1} ms, p90 {p90:.1} ms (goal ≤ 300 ms)",
    );
}
