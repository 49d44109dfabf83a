//! The whole `tritonsh manatee pg-status` process on the `ha` lab: process
//! start, the state from ZooKeeper, the three peers' PostgreSQL asked at
//! once, the table. Goal: ≤ 50 ms median (the real manatee-adm's Node
//! alone takes ~75 ms to start here).
//!
//! Run with `cargo bench --bench manatee_pg_status`. It starts a lab of its
//! own (stopped at the end), waits until every peer answers, then runs the
//! release binary many times and prints the median and the 90th percentile.

use std::process::Output;
use std::time::{Duration, Instant};

mod support;

use support::{ha_lab, lab_down, summary, tritonsh};

const RUNS: usize = 30;

fn main() {
    let exe = env!("CARGO_BIN_EXE_tritonsh");
    let (home, lab) = ha_lab(exe, "pgs");
    let lab = lab.as_str();
    let run = ["--lab", lab, "manatee", "pg-status"];
    let healthy = |out: &Output| {
        out.status.success() && String::from_utf8_lossy(&out.stdout).matches(" ok ").count() == 3
    };

    let started = Instant::now();
    while !healthy(&tritonsh(exe, &home, &run)) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the lab's three peers did not all answer"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = tritonsh(exe, &home, &run);
        times.push(start.elapsed());
        assert!(healthy(&out), "pg-status: {out:?}");
    }
    lab_down(exe, &home, lab);
    let (min, median, p90) = summary(&mut times);
    println!(
        "manatee pg-status on the ha lab over {RUNS} runs: min {min:.1} ms, median {median:.1} ms, p90 {p90:.1} ms (goal ≤ 50 ms)",
    );
}
