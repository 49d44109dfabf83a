//! What the whole-process benchmarks on a lab share: running tritonsh in a
//! home of its own, a lab of its own that is stopped at the end (even when
//! the benchmark fails), and timing one command many times.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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

/// An `ha` lab in a fresh home under the temp dir, stopped on drop.
pub struct BenchLab {
    pub exe: &'static str,
    pub home: PathBuf,
    pub dir: String,
}

pub fn ha_lab(exe: &'static str, name: &str) -> BenchLab {
    let home = std::env::temp_dir().join(format!("tritonsh-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let dir = home.join("lab").to_str().expect("a UTF-8 path").to_string();
    let up = tritonsh(exe, &home, &["lab", "up", "--profile", "ha", "--dir", &dir]);
    assert!(up.status.success(), "lab up: {up:?}");
    BenchLab { exe, home, dir }
}

impl BenchLab {
    pub fn run(&self, args: &[&str]) -> Output {
        tritonsh(self.exe, &self.home, args)
    }

    /// Waits (`within` at most) until `args` gives an output `good` accepts,
    /// then times `runs` runs of it, each of which must be good: min, median
    /// and p90 in milliseconds.
    pub fn measure(
        &self,
        args: &[&str],
        within: Duration,
        runs: usize,
        good: impl Fn(&Output) -> bool,
    ) -> (f64, f64, f64) {
        let started = Instant::now();
        while !good(&self.run(args)) {
            assert!(started.elapsed() < within, "{args:?} never became ready");
            std::thread::sleep(Duration::from_millis(200));
        }
        let mut times: Vec<Duration> = Vec::with_capacity(runs);
        for _ in 0..runs {
            let start = Instant::now();
            let out = self.run(args);
            times.push(start.elapsed());
            assert!(good(&out), "{args:?}: {out:?}");
        }
        summary(&mut times)
    }
}

impl Drop for BenchLab {
    fn drop(&mut self) {
        let _ = tritonsh(self.exe, &self.home, &["lab", "down", "--dir", &self.dir]);
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// Min, median and p90 of the sorted times, in milliseconds.
fn summary(times: &mut [Duration]) -> (f64, f64, f64) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let n = times.len();
    (ms(times[0]), ms(times[n / 2]), ms(times[n * 9 / 10]))
}
