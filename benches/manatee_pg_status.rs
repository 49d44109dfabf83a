//! The whole `tritonsh manatee pg-status` process on the `ha` lab: process
//! start, the state from ZooKeeper, the three peers' PostgreSQL asked at
//! once, the table. Goal: ≤ 50 ms median (the real manatee-adm's Node
//! alone takes ~75 ms to start here).
//!
//! Run with `cargo bench --bench manatee_pg_status`. It starts a lab of its
//! own (stopped at the end), waits until every peer answers, then runs the
//! release binary many times and prints the median and the 90th percentile.

use std::time::Duration;

mod support;

const RUNS: usize = 30;

fn main() {
    let lab = support::ha_lab(env!("CARGO_BIN_EXE_tritonsh"), "pgs");
    let run = ["--lab", lab.dir.as_str(), "manatee", "pg-status"];
    let (min, median, p90) = lab.measure(&run, Duration::from_secs(30), RUNS, |out| {
        // Ready once all three peers answer.
        out.status.success() && String::from_utf8_lossy(&out.stdout).matches(" ok ").count() == 3
    });
    println!(
        "manatee pg-status on the ha lab over {RUNS} runs: min {min:.1} ms, median {median:.1} ms, p90 {p90:.1} ms (goal ≤ 50 ms)",
    );
}
