//! Joyent's own manatee-adm judges the lab and `tritonsh manatee`: pointed
//! at a live `ha` lab with the same ZK_IPS and SHARD, both print the same
//! bytes (but for LAG, which moves between the two runs), and manatee-adm
//! finds the lab's shard healthy. A freeze written by one is read by the
//! other.
//!
//! manatee-adm is not on npm: this test runs when MANATEE_ADM_DIR names a
//! manatee checkout prepared by `scripts/real-manatee-adm/install.sh`, and
//! says it was skipped otherwise.

mod lab_support;

use std::process::{Command, Output};

use lab_support::{BIN, Lab};

struct Judge {
    dir: String,
    zk: String,
}

impl Judge {
    fn real(&self, args: &[&str]) -> Output {
        Command::new("node")
            .arg("-r")
            .arg(format!(
                "{}/node_modules/.tritonsh-ready-state.js",
                self.dir
            ))
            .arg(format!("{}/bin/manatee-adm", self.dir))
            .args(args)
            .env("ZK_IPS", &self.zk)
            .env("SHARD", "sdc")
            .output()
            .expect("run manatee-adm")
    }

    fn ours(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("manatee")
            .args(args)
            .env("ZK_IPS", &self.zk)
            .env("SHARD", "sdc")
            .env_remove("TRITONSH_LAB")
            .output()
            .expect("run tritonsh manatee")
    }

    /// Both print the same, and end the same. The WAL of a young lab still
    /// moves between the two runs now and then (SENT, FLUSH): a few tries.
    fn agree(&self, args: &[&str]) {
        let mut tries = 5;
        loop {
            let (real, ours) = (self.real(args), self.ours(args));
            let same = comparable(&ours.stdout) == comparable(&real.stdout)
                && comparable(&ours.stderr) == comparable(&real.stderr)
                && ours.status.code() == real.status.code();
            tries -= 1;
            if same {
                return;
            }
            if tries == 0 {
                assert_eq!(
                    comparable(&ours.stdout),
                    comparable(&real.stdout),
                    "stdout of {args:?}"
                );
                assert_eq!(
                    comparable(&ours.stderr),
                    comparable(&real.stderr),
                    "stderr of {args:?}"
                );
                assert_eq!(ours.status.code(), real.status.code(), "exit of {args:?}");
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
}

/// The output with LAG values (`0m07s`) masked, and without Node's own
/// warnings about manatee-adm's old dependencies.
fn comparable(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.starts_with("(node:") && !l.starts_with("(Use `node"))
        .map(|l| {
            l.split(' ')
                .map(|word| {
                    let lag = word.len() >= 5
                        && word.ends_with('s')
                        && word[..word.len() - 1]
                            .split_once('m')
                            .is_some_and(|(m, s)| {
                                m.chars().all(|c| c.is_ascii_digit())
                                    && s.len() == 2
                                    && s.chars().all(|c| c.is_ascii_digit())
                            });
                    if lag { "LAG" } else { word }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_real_manatee_adm_and_tritonsh_agree_on_a_live_lab() {
    let Ok(dir) = std::env::var("MANATEE_ADM_DIR") else {
        eprintln!(
            "skipped: set MANATEE_ADM_DIR to a manatee checkout prepared by scripts/real-manatee-adm/install.sh"
        );
        return;
    };
    let lab = Lab::up("adm-judge", &["--profile", "ha"]);
    let zk = lab.status()["zk"][0]
        .as_str()
        .and_then(|m| m.split(':').next())
        .expect("a ZooKeeper member")
        .to_string();
    let judge = Judge { dir, zk };

    let verify = judge.real(&["verify", "-v"]);
    assert_eq!(
        comparable(&verify.stdout),
        "all checks passed",
        "manatee-adm does not find the lab healthy: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    for args in [
        &["peers"][..],
        &["peers", "-H", "-o", "ip,role"],
        &["pg-status"],
        &["pg-status", "-r", "primary", "-H", "-o", "pg-repl"],
        &["verify"],
        &["verify", "-v"],
        &["show", "-v"],
        &["zk-state"],
        &["history", "-j"],
    ] {
        judge.agree(args);
    }

    // Written by one, read by the other: the state and its history node.
    let frozen = judge.real(&["freeze", "-r", "judged"]);
    assert_eq!(comparable(&frozen.stdout), "Frozen.");
    judge.agree(&["show"]);
    let thawed = judge.ours(&["unfreeze"]);
    assert_eq!(comparable(&thawed.stdout), "Unfrozen.");
    judge.agree(&["history", "-v"]);
    judge.agree(&["zk-state"]);
}
