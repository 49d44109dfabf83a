//! The whole `tritonsh manatee pg-status` process on the `ha` lab: process
//! start, the state from ZooKeeper, the three peers' PostgreSQL asked at
//! once, the table. Goal: ≤ 50 ms median (the real manatee-adm's Node
//! alone takes ~75 ms to start here).
//!
//! Run with `cargo bench --bench manatee_pg_status`. It starts a lab of its
//! own (stopped at the end), waits until every peer answers, then runs the
//! release binary many times and prints the median and the 90th percentile.

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
        .env_remove("SHARD")
        .output()
        .expect("run tritonsh")
}

fn main() {
    let exe = env!("CARGO_BIN_EXE_tritonsh");
    let home = std::env::temp_dir().join(format!("tritonsh-bench-pgs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let lab = home.join("lab");
    let lab = lab.to_str().expect("a UTF-8 path");
    let up = tritonsh(exe, &home, &["lab", "up", "--profile", "ha", "--dir", lab]);
    assert!(up.status.success(), "lab up: {up:?}");
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
    let _ = tritonsh(exe, &home, &["lab", "down", "--dir", lab]);
    let _ = std::fs::remove_dir_all(&home);
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "manatee pg-status on the ha lab over {RUNS} runs: min {:.1} ms, median {:.1} ms, p90 {:.1} ms (goal ≤ 50 ms)",
        ms(times[0]),
        ms(times[RUNS / 2]),
        ms(times[RUNS * 9 / 10])
    );
}
