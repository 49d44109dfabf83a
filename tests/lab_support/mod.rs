//! A lab for one test: started with the real binary in a directory of its
//! own, and always stopped (and removed) when the test ends, pass or fail.

#![allow(dead_code)] // each test file uses a different part of this

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_tritonsh");

pub struct Lab {
    pub dir: PathBuf,
}

/// A fresh directory under the system temp dir; every parent stays
/// traversable, so a PostgreSQL run as another user could use it.
pub fn scratch_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("tritonsh-test-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

impl Lab {
    /// `lab up --dir <fresh dir> ARGS…`, which must succeed.
    pub fn up(name: &str, args: &[&str]) -> Lab {
        let lab = Lab {
            dir: scratch_dir(name),
        };
        lab.must(&[&["lab", "up"], args].concat());
        lab
    }

    /// Runs `tritonsh ARGS… --dir DIR`.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .arg("--dir")
            .arg(&self.dir)
            .output()
            .expect("run tritonsh")
    }

    /// Runs and requires success; returns stdout.
    pub fn must(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "tritonsh {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs and requires failure; returns stderr.
    pub fn must_fail(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "tritonsh {args:?} should have failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn status(&self) -> Value {
        let text = self.must(&["lab", "status", "--json"]);
        serde_json::from_str(&text).expect("lab status --json prints JSON")
    }

    pub fn url(&self, api: &str) -> String {
        self.status()[format!("{api}_url")]
            .as_str()
            .expect("a URL")
            .to_string()
    }

    pub fn instance<'a>(status: &'a Value, alias: &str) -> &'a Value {
        status["instances"]
            .as_array()
            .and_then(|all| all.iter().find(|i| i["alias"] == alias))
            .unwrap_or_else(|| panic!("no instance {alias} in {status}"))
    }

    pub fn daemon_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.dir.join("daemon.pid"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
    }

    pub fn request_log(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join("requests.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new(BIN)
            .args(["lab", "down", "--dir"])
            .arg(&self.dir)
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn process_alive(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Gone, or a zombie nobody reaped yet.
    !stat.is_empty()
        && stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next())
            != Some("Z")
}

/// An HTTP answer: status, headers we look at, and the body as JSON (Null if none).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// One HTTP request; Err is the transport error (e.g. connection refused).
pub fn http(method: &str, url: &str, body: Option<Value>) -> Result<Answer, String> {
    http_within(method, url, body, Duration::from_secs(10))
}

/// One HTTP request answered within `timeout` (a long CommandExecute).
pub fn http_within(
    method: &str,
    url: &str,
    body: Option<Value>,
    timeout: Duration,
) -> Result<Answer, String> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
    let url = url.to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        let mut request = client
            .request(method, &url)
            .header("accept", "application/json")
            .header("x-request-id", "lab-test-request");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| format!("{e:?}"))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(|e| e.to_string())?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            headers,
            body,
        })
    })
}

/// Polls `check` until it returns Some, for at most `within`.
pub fn eventually<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(t) = check() {
            return Some(t);
        }
        if start.elapsed() > within {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
