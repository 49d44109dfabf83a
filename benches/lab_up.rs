//! `lab up --profile ha` until the ZooKeeper ensemble serves: one leader,
//! two followers, every registrar registered. Goal: ≤ 15 s. And `lab down`
//! of that lab until every process is gone. Goal: ≤ 3 s.
//!
//! Run with `cargo bench --bench lab_up`. Each run starts a lab in a fresh
//! directory (three ZooKeeper JVMs, three PostgreSQL peers, every
//! instance's registrar, binder DNS) and stops it; `lab up` returns only
//! once all of that answers, `lab down` once the daemon has stopped it all.
//! Prints the median of the runs; the figures go in README.md.

use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn tritonsh(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tritonsh"))
        .args(args)
        .output()
        .expect("run tritonsh")
}

fn main() {
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut downs: Vec<Duration> = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        let dir = std::env::temp_dir().join(format!(
            "tritonsh-bench-lab-up-{}-{run}",
            std::process::id()
        ));
        let dir_arg = dir.to_string_lossy().into_owned();
        let start = Instant::now();
        let up = tritonsh(&["lab", "up", "--dir", &dir_arg]);
        times.push(start.elapsed());
        let status = tritonsh(&["lab", "status", "--dir", &dir_arg]);
        let start = Instant::now();
        let down = tritonsh(&["lab", "down", "--dir", &dir_arg]);
        downs.push(start.elapsed());
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            up.status.success(),
            "lab up: {}",
            String::from_utf8_lossy(&up.stderr)
        );
        assert!(
            down.status.success(),
            "lab down: {}",
            String::from_utf8_lossy(&down.stderr)
        );
        let table = String::from_utf8_lossy(&status.stdout);
        let modes = |mode: &str| {
            table
                .lines()
                .filter(|l| l.starts_with("binder") && l.contains(mode))
                .count()
        };
        assert_eq!((modes(" leader "), modes(" follower ")), (1, 2), "{table}");
    }
    report("lab up --profile ha to a serving ensemble", times, 15);
    report("lab down of that lab", downs, 3);
}

fn report(what: &str, mut times: Vec<Duration>, goal_s: u32) {
    times.sort();
    let s = |d: Duration| d.as_secs_f64();
    println!(
        "{what} over {RUNS} runs: min {:.1} s, median {:.1} s, max {:.1} s (goal ≤ {goal_s} s)",
        s(times[0]),
        s(times[RUNS / 2]),
        s(times[RUNS - 1])
    );
}
