//! Process start to the result of `tritonsh -c 1+1`. Goal: ≤ 20 ms.
//!
//! Run with `cargo bench --bench startup`. It runs the release binary many
//! times and prints the median and the 90th percentile; the figures go in
//! README.md. No lab is touched: evaluating `1+1` must not connect anywhere.

use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 100;

fn main() {
    let exe = env!("CARGO_BIN_EXE_tritonsh");
    let state = std::env::temp_dir().join(format!("tritonsh-bench-startup-{}", std::process::id()));
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = Command::new(exe)
            .args(["-c", "1+1"])
            .env("XDG_STATE_HOME", &state)
            .env("XDG_CONFIG_HOME", &state)
            .env("XDG_DATA_HOME", &state)
            .env_remove("TRITONSH_LAB")
            .output()
            .expect("run tritonsh");
        times.push(start.elapsed());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "2",
            "tritonsh -c 1+1: {out:?}"
        );
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "startup: -c 1+1 over {RUNS} runs: min {:.1} ms, median {:.1} ms, p90 {:.1} ms (goal ≤ 20 ms)",
        ms(times[0]),
        ms(times[RUNS / 2]),
        ms(times[RUNS * 9 / 10])
    );
    let _ = std::fs::remove_dir_all(&state);
}
