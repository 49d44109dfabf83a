//! A faithful `pg_stat_replication.client_addr` on loopback (ha-core.md
//! §8.3). Every connection between two 127.x addresses is sourced from
//! 127.0.0.1, so an upstream would see each downstream as 127.0.0.1 and
//! manatee-adm would report "expected downstream peer …". One local-table
//! route per replication link fixes it:
//!
//! `ip route replace local <upstream>/32 dev lo src <downstream> table local`
//!
//! In a chain every upstream has exactly one downstream, so the routes never
//! disagree. Each standby owns the route to its upstream: set before its
//! PostgreSQL starts (its WAL receiver then connects from its own address),
//! removed when it stops being a standby or stops. A removal names the
//! standby as `src`, so it never takes away the route a newer downstream
//! of the same upstream has put in place.
//!
//! Only as root (routes need CAP_NET_ADMIN); without root `client_addr`
//! stays 127.0.0.1, and the shell matches peers by `application_name`. What
//! was added is recorded in the peer's directory (`route`) so that `lab
//! down` after a daemon crash removes exactly that. When `ip` is missing or
//! fails, one line goes to the daemon's log and the lab carries on.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::unistd::Uid;

const IP: &str = "/usr/sbin/ip";
const RECORD: &str = "route";

pub struct LinkRoute {
    me: Ipv4Addr,
    /// `<peer dir>/route`: `<upstream> <me>` while a route is in place.
    record: PathBuf,
}

impl LinkRoute {
    pub fn new(me: Ipv4Addr, peer_dir: &Path) -> LinkRoute {
        LinkRoute {
            me,
            record: peer_dir.join(RECORD),
        }
    }

    /// The route to `upstream` is sourced from this peer's address; the
    /// route to a former upstream goes.
    pub fn point_to(&self, upstream: &str) {
        let Ok(upstream) = upstream.parse::<Ipv4Addr>() else {
            log(&format!(
                "{upstream} is not an IPv4 address; no route added"
            ));
            return;
        };
        if !may_route(upstream, self.me) {
            return;
        }
        match recorded(&self.record) {
            Some((old, me)) if old == upstream && me == self.me => return,
            Some((old, me)) => remove(old, me),
            None => {}
        }
        let added = run_ip(&[
            "route",
            "replace",
            "local",
            &format!("{upstream}/32"),
            "dev",
            "lo",
            "src",
            &self.me.to_string(),
            "table",
            "local",
        ]);
        if let Err(why) = &added
            && !why.is_empty()
        {
            log(why);
        }
        if added.is_ok() {
            if let Err(e) = std::fs::write(&self.record, format!("{upstream} {}\n", self.me)) {
                log(&format!(
                    "cannot record the route in {}: {e}",
                    self.record.display()
                ));
            }
        } else {
            let _ = std::fs::remove_file(&self.record);
        }
    }

    /// No route from this peer any more.
    pub fn clear(&self) {
        clear(&self.record);
    }
}

/// `lab down` after a daemon crash: the route a peer's directory records.
pub fn clear_leftover(peer_dir: &Path) {
    clear(&peer_dir.join(RECORD));
}

fn clear(record: &Path) {
    if let Some((upstream, me)) = recorded(record) {
        remove(upstream, me);
    }
    let _ = std::fs::remove_file(record);
}

/// `(upstream, src)` of the route in place.
fn recorded(record: &Path) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let text = std::fs::read_to_string(record).ok()?;
    let mut words = text.split_whitespace().map(str::parse);
    match (words.next(), words.next()) {
        (Some(Ok(upstream)), Some(Ok(me))) => Some((upstream, me)),
        _ => None,
    }
}

/// Gone already (a newer downstream replaced it) is fine.
fn remove(upstream: Ipv4Addr, me: Ipv4Addr) {
    let _ = run_ip(&[
        "route",
        "del",
        "local",
        &format!("{upstream}/32"),
        "dev",
        "lo",
        "src",
        &me.to_string(),
        "table",
        "local",
    ]);
}

/// Routes only as root, and only between two loopback addresses.
fn may_route(upstream: Ipv4Addr, me: Ipv4Addr) -> bool {
    Uid::effective().is_root() && upstream.is_loopback() && me.is_loopback()
}

/// Runs `ip ARGS`; Err says what failed. A missing `ip` is told once, in
/// the daemon's log, and then is no news.
fn run_ip(args: &[&str]) -> Result<(), String> {
    static MISSING_TOLD: AtomicBool = AtomicBool::new(false);
    match std::process::Command::new(IP).args(args).output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "`ip {}` failed: {}; client_addr stays 127.0.0.1 for that link",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => {
            if !MISSING_TOLD.swap(true, Ordering::SeqCst) {
                log(&format!(
                    "cannot run {IP} ({}): replication links keep client_addr 127.0.0.1 (apt-get install iproute2)",
                    crate::lab::error::reason(&e)
                ));
            }
            Err(String::new())
        }
    }
}

fn log(line: &str) {
    eprintln!("lab serve: manatee routes: {line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_route_names_its_upstream_and_source() {
        let dir = std::env::temp_dir().join(format!("tritonsh-route-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let record = dir.join(RECORD);
        std::fs::write(&record, "127.9.0.33 127.9.0.34\n").expect("write");
        assert_eq!(
            recorded(&record),
            Some((Ipv4Addr::new(127, 9, 0, 33), Ipv4Addr::new(127, 9, 0, 34)))
        );
        std::fs::write(&record, "127.9.0.33\n").expect("write");
        assert_eq!(recorded(&record), None);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!may_route(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(127, 9, 0, 34)
        ));
    }
}
