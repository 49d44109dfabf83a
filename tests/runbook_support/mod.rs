//! What the runbook tests share: a lab of their own (stopped when the test
//! ends, pass or fail), XDG directories of their own (so journals and local
//! runbooks never mix with the operator's), and readers for what the lab
//! received (`<lab>/requests.log`) and what a run left (its journal).

#![allow(dead_code)] // each test file uses a different part of this

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_tritonsh");

pub fn scratch_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("tritonsh-rb-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A home for one test: XDG state and config directories, and optionally
/// a lab, stopped on drop.
pub struct Home {
    pub root: PathBuf,
    pub lab: Option<PathBuf>,
}

impl Home {
    pub fn new(name: &str) -> Home {
        Home {
            root: scratch_dir(name),
            lab: None,
        }
    }

    /// A home with a running lab (`lab up` with `args`).
    pub fn with_lab(name: &str, args: &[&str]) -> Home {
        let mut home = Home::new(name);
        let lab = home.root.join("lab");
        // As `mktemp -d` makes it: 0700, which PostgreSQL's user (the lab
        // runs as root) could not enter until the lab opened it.
        std::fs::create_dir_all(&lab).expect("lab dir");
        std::fs::set_permissions(&lab, std::fs::Permissions::from_mode(0o700)).expect("chmod 0700");
        let out = home.run(
            &[
                &["lab", "up", "--dir", lab.to_str().expect("utf-8 path")],
                args,
            ]
            .concat(),
        );
        assert!(out.status.success(), "lab up failed: {}", text(&out.stderr));
        home.lab = Some(lab);
        home
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env("XDG_STATE_HOME", self.root.join("state"))
            .env("XDG_CONFIG_HOME", self.root.join("config"))
            .env("XDG_DATA_HOME", self.root.join("data"))
            .env("NO_COLOR", "1")
            .env_remove("TRITONSH_PROFILE")
            .stdin(Stdio::null());
        match &self.lab {
            Some(lab) => cmd.env("TRITONSH_LAB", lab),
            // Nowhere: a command that needed a datacenter would fail.
            None => cmd.env("TRITONSH_LAB", self.root.join("no-lab")),
        };
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run tritonsh")
    }

    pub fn must(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "tritonsh {args:?} failed ({}): {}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// `tritonsh --json -c CODE`, parsed: what a script's value is.
    pub fn json(&self, code: &str) -> Value {
        let out = self.must(&["--json", "-c", code]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{code}: {e}: {out}"))
    }

    pub fn runbook_dir(&self) -> PathBuf {
        self.root.join("config").join("tritonsh").join("runbooks")
    }

    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("state").join("tritonsh").join("runs")
    }

    /// Run ids, oldest first (ids start with the second they began in).
    pub fn run_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.runs_dir())
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort_by_key(|id| {
            self.journal(id)["created_at"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        });
        ids
    }

    pub fn journal(&self, id: &str) -> Value {
        let text = std::fs::read_to_string(self.runs_dir().join(id).join("journal.json"))
            .expect("journal.json");
        serde_json::from_str(&text).expect("the journal is JSON")
    }

    /// The requests the lab received, one JSON object each.
    pub fn requests(&self) -> Vec<Value> {
        let lab = self.lab.as_ref().expect("a lab");
        std::fs::read_to_string(lab.join("requests.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The requests that could change something (not GET or HEAD).
    pub fn mutating_requests(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| !matches!(r["method"].as_str(), Some("GET") | Some("HEAD")))
            .collect()
    }

    /// `alias → (server hostname, state)` for every instance of `service`.
    pub fn instances(&self, service: &str) -> Vec<(String, String, String)> {
        let status: Value = serde_json::from_str(&self.must(&["lab", "status", "--json"]))
            .expect("lab status JSON");
        let mut found: Vec<(String, String, String)> = status["instances"]
            .as_array()
            .expect("instances")
            .iter()
            .filter(|i| i["service"] == service)
            .map(|i| {
                let s = |k: &str| i[k].as_str().unwrap_or_default().to_string();
                (s("alias"), s("server"), s("state"))
            })
            .collect();
        found.sort();
        found
    }
}

impl Home {
    /// A config-file profile `name` that reaches this home's lab by its API
    /// URLs and asks binder at `binder` ("ip" or "ip:port" each).
    pub fn lab_profile(&self, name: &str, binder: &[String]) -> String {
        let status: Value = serde_json::from_str(&self.must(&["lab", "status", "--json"]))
            .expect("lab status JSON");
        let url = |api: &str| {
            status[format!("{api}_url")]
                .as_str()
                .unwrap_or_default()
                .to_string()
        };
        format!(
            "[profiles.{name}]\nsapi_url = \"{}\"\nvmapi_url = \"{}\"\ncnapi_url = \"{}\"\nbinder = {binder:?}\n",
            url("sapi"),
            url("vmapi"),
            url("cnapi")
        )
    }

    /// `tritonsh --profile NAME ARGS…` with `config` as this home's config
    /// file, and no lab in the environment.
    pub fn run_with_profile(&self, config: &str, name: &str, args: &[&str]) -> Output {
        write(&self.root.join("config/tritonsh/config.toml"), config);
        let mut cmd = self.command(&[&["--profile", name], args].concat());
        cmd.env_remove("TRITONSH_LAB");
        cmd.output().expect("run tritonsh")
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if let Some(lab) = &self.lab {
            let _ = self
                .command(&["lab", "down", "--dir", &lab.to_string_lossy()])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn write(path: &Path, contents: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, contents).expect("write");
}

/// What a dry run must leave as it found it, read from the datacenter
/// itself: every znode (path, data, and version of a persistent one), and
/// every database of every manatee peer that answers (its tables, each
/// with an md5 of its rows).
#[derive(Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub znodes: std::collections::BTreeMap<String, (Vec<u8>, Option<i32>)>,
    pub databases: std::collections::BTreeMap<String, String>,
}

impl Home {
    pub fn fingerprint(&self) -> Fingerprint {
        let status: Value = serde_json::from_str(&self.must(&["lab", "status", "--json"]))
            .expect("lab status JSON");
        let zk: Vec<&str> = status["zk"]
            .as_array()
            .expect("zk")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let znodes = znodes(&zk.join(","));
        let mut databases = std::collections::BTreeMap::new();
        for peer in status["instances"].as_array().expect("instances") {
            if peer["service"] != "manatee" || peer["state"] != "running" {
                continue;
            }
            let ip = peer["ip"].as_str().expect("ip");
            let alias = peer["alias"].as_str().expect("alias");
            databases.insert(alias.to_string(), database_rows(ip));
        }
        Fingerprint { znodes, databases }
    }
}

fn znodes(connect: &str) -> std::collections::BTreeMap<String, (Vec<u8>, Option<i32>)> {
    use zookeeper_client as zkc;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = zkc::Client::connect(connect).await.expect("ZooKeeper");
        let mut found = std::collections::BTreeMap::new();
        let mut queue = vec!["/".to_string()];
        while let Some(path) = queue.pop() {
            if path == "/zookeeper" {
                continue;
            }
            let Ok((data, stat)) = client.get_data(&path).await else {
                continue;
            };
            // An ephemeral node's version is its session's business.
            let version = (stat.ephemeral_owner == 0).then_some(stat.version);
            found.insert(path.clone(), (data, version));
            let parent = path.trim_end_matches('/');
            for child in client.list_children(&path).await.unwrap_or_default() {
                queue.push(format!("{parent}/{child}"));
            }
        }
        found
    })
}

/// Every database on the peer at `ip`, each table with an md5 of its rows.
fn database_rows(ip: &str) -> String {
    let psql = |db: &str, sql: &str| {
        let out = Command::new("/usr/lib/postgresql/15/bin/psql")
            .args([
                "-X", "-A", "-t", "-q", "-h", ip, "-U", "postgres", "-d", db, "-c", sql,
            ])
            .env("PGCONNECT_TIMEOUT", "3")
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql on {ip}/{db}: {}",
            text(&out.stderr)
        );
        text(&out.stdout).trim().to_string()
    };
    let mut seen = String::new();
    let dbs = psql(
        "postgres",
        "select datname from pg_database where not datistemplate order by 1",
    );
    for db in dbs.lines() {
        let tables = psql(
            db,
            "select format('%I.%I', schemaname, relname) from pg_stat_user_tables order by 1",
        );
        for table in tables.lines() {
            let sum = psql(
                db,
                &format!(
                    "select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {table} t"
                ),
            );
            seen.push_str(&format!("{db} {table} {sum}\n"));
        }
        seen.push_str(&format!("{db}\n"));
    }
    seen
}
