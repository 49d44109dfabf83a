//! ZooKeeper's four-letter words (`echo srvr | nc IP 2181`), asked over TCP
//! with short timeouts and parsed, the way sdcadm's `wait4ZkOk` and
//! `wait4ZkCluster` read them (ha-core.md §6.2).
//!
//! A word is sent on a fresh connection; the server writes its answer and
//! closes. Two answers are states, not garbage, and are said plainly: a
//! member without quorum answers `srvr`/`stat`/`mntr` with "This ZooKeeper
//! instance is not currently serving requests" (while `ruok` still says
//! `imok`), and 3.5+ refuses any word outside `4lw.commands.whitelist` with
//! "… is not executed because it is not in the whitelist.".

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Long enough for a busy JVM, short enough that a whole ensemble is asked
/// well within a second when every member answers.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// The port ZooKeeper serves clients (and four-letter words) on.
pub const CLIENT_PORT: u16 = 2181;

const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";
const NOT_WHITELISTED: &str = "is not executed because it is not in the whitelist";
/// Answers are a few KB (`mntr` on 3.8: ~25 KB); more is not ZooKeeper.
const MAX_ANSWER: u64 = 1 << 20;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZkAdminError {
    #[error("ZooKeeper {addr}: connection refused (is ZooKeeper running there?)")]
    Refused { addr: String },

    #[error(
        "ZooKeeper {addr} did not answer `{word}` within {}s (half-open connection or an overloaded host)",
        secs(*timeout)
    )]
    Timeout {
        addr: String,
        word: String,
        timeout: Duration,
    },

    #[error(
        "ZooKeeper {addr} is not currently serving requests: the server answers but does not serve (no quorum)"
    )]
    NotServing { addr: String },

    #[error(
        "ZooKeeper {addr} refuses `{word}`: it is not in the server's 4lw.commands.whitelist (3.5+ allows only srvr by default)"
    )]
    NotWhitelisted { addr: String, word: String },

    #[error("ZooKeeper {addr}: `{word}` failed: {cause}")]
    Io {
        addr: String,
        word: String,
        cause: String,
    },

    #[error("ZooKeeper {addr}: unexpected answer to `{word}`: {text:?}")]
    Unexpected {
        addr: String,
        word: String,
        text: String,
    },
}

/// `Connection reset by peer`, without the `(os error 104)` nobody needs.
pub fn reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

fn secs(d: Duration) -> String {
    format!("{}", d.as_secs_f64())
}

/// `Mode:` of `srvr`/`stat`, and `zk_server_state` of `mntr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Leader,
    Follower,
    Standalone,
    Observer,
}

impl Mode {
    fn parse(text: &str) -> Option<Mode> {
        match text.trim() {
            "leader" => Some(Mode::Leader),
            "follower" => Some(Mode::Follower),
            "standalone" => Some(Mode::Standalone),
            "observer" => Some(Mode::Observer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Leader => "leader",
            Mode::Follower => "follower",
            Mode::Standalone => "standalone",
            Mode::Observer => "observer",
        }
    }
}

/// What `srvr` says (and `stat`, which adds the client list).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServerStats {
    pub version: String,
    pub mode: Mode,
    /// As printed: `0x300000a1c`.
    pub zxid: String,
    pub latency_min: u64,
    /// An integer on 3.4, a float on 3.8.
    pub latency_avg: f64,
    pub latency_max: u64,
    pub received: u64,
    pub sent: u64,
    pub connections: u64,
    pub outstanding: u64,
    pub node_count: u64,
    /// One line per connection (`stat` only; empty for `srvr`), e.g.
    /// `/10.99.99.16:48861[1](queued=0,recved=81022,sent=81022)`.
    pub clients: Vec<String>,
}

/// What `mntr` says: the keys both 3.4 and 3.8 have, by name, and every
/// key as sent in `all` (3.8 has hundreds).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Monitor {
    pub version: String,
    pub server_state: String,
    pub latency_avg: f64,
    pub latency_min: u64,
    pub latency_max: u64,
    pub outstanding: u64,
    pub znode_count: u64,
    pub alive_connections: u64,
    /// Leader only: `zk_followers` (3.4) or `zk_learners` (3.8).
    pub followers: Option<u64>,
    /// Leader only.
    pub synced_followers: Option<u64>,
    pub all: BTreeMap<String, String>,
}

/// `isro`: `rw`, `ro`; a member without quorum answers `null`, which is
/// [`ZkAdminError::NotServing`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Rw,
    Ro,
}

/// `host:port`, or `host` alone for port 2181.
pub fn with_port(addr: &str) -> String {
    let addr = addr.trim();
    if addr
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        addr.to_string()
    } else {
        format!("{addr}:{CLIENT_PORT}")
    }
}

/// Sends `word` to `addr` and returns the whole answer; the refusals every
/// word shares (whitelist) are errors.
pub async fn ask(addr: &str, word: &str, timeout: Duration) -> Result<String, ZkAdminError> {
    let addr = with_port(addr);
    let io = |cause: std::io::Error| ZkAdminError::Io {
        addr: addr.clone(),
        word: word.to_string(),
        cause: reason(&cause),
    };
    let exchange = async {
        let mut stream = match TcpStream::connect(&addr).await {
            Ok(stream) => stream,
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                return Err(ZkAdminError::Refused { addr: addr.clone() });
            }
            Err(e) => return Err(io(e)),
        };
        stream.write_all(word.as_bytes()).await.map_err(io)?;
        // A closed write side tells the server the word is complete.
        let _ = stream.shutdown().await;
        let mut answer = Vec::new();
        stream
            .take(MAX_ANSWER)
            .read_to_end(&mut answer)
            .await
            .map_err(io)?;
        Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    let text = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| ZkAdminError::Timeout {
            addr: addr.clone(),
            word: word.to_string(),
            timeout,
        })??;
    if text.contains(NOT_WHITELISTED) {
        return Err(ZkAdminError::NotWhitelisted {
            addr,
            word: word.to_string(),
        });
    }
    Ok(text)
}

/// `ruok`: `imok` means only that the JVM is up, not that it serves.
pub async fn ruok(addr: &str) -> Result<bool, ZkAdminError> {
    Ok(ask(addr, "ruok", TIMEOUT).await?.trim() == "imok")
}

pub async fn srvr(addr: &str) -> Result<ServerStats, ZkAdminError> {
    let text = ask(addr, "srvr", TIMEOUT).await?;
    parse_stats(&with_port(addr), "srvr", &text)
}

pub async fn stat(addr: &str) -> Result<ServerStats, ZkAdminError> {
    let text = ask(addr, "stat", TIMEOUT).await?;
    parse_stats(&with_port(addr), "stat", &text)
}

pub async fn mntr(addr: &str) -> Result<Monitor, ZkAdminError> {
    let text = ask(addr, "mntr", TIMEOUT).await?;
    parse_mntr(&with_port(addr), &text)
}

pub async fn isro(addr: &str) -> Result<Access, ZkAdminError> {
    let text = ask(addr, "isro", TIMEOUT).await?;
    match text.trim() {
        "rw" => Ok(Access::Rw),
        "ro" => Ok(Access::Ro),
        "null" => Err(ZkAdminError::NotServing {
            addr: with_port(addr),
        }),
        _ => Err(unexpected(&with_port(addr), "isro", &text)),
    }
}

/// One member as the seed's "Test the binder cluster" checks it: `ruok`,
/// then `srvr`; the leader is also asked `mntr` for its followers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberReport {
    pub address: String,
    /// `imok`: the JVM is up (even without quorum).
    pub ruok: bool,
    /// leader, follower, standalone, observer, "not serving" or "down".
    pub mode: String,
    pub zxid: Option<String>,
    pub latency_min: Option<u64>,
    pub latency_avg: Option<f64>,
    pub latency_max: Option<u64>,
    pub outstanding: Option<u64>,
    pub node_count: Option<u64>,
    /// The leader's followers (`mntr`).
    pub followers: Option<u64>,
    /// What is wrong, in one line; None when the member serves.
    pub problem: Option<String>,
}

/// Every member's report, asked at once.
pub async fn report(members: &[String]) -> Vec<MemberReport> {
    futures::future::join_all(members.iter().map(|m| report_one(m))).await
}

/// One member's report: `ruok` and `srvr` at once, `mntr` for a leader.
pub async fn report_one(addr: &str) -> MemberReport {
    let address = with_port(addr);
    let (ruok, srvr) = tokio::join!(ruok(&address), srvr(&address));
    let mut report = MemberReport {
        address: address.clone(),
        ruok: ruok.as_ref().is_ok_and(|ok| *ok),
        mode: "down".into(),
        zxid: None,
        latency_min: None,
        latency_avg: None,
        latency_max: None,
        outstanding: None,
        node_count: None,
        followers: None,
        problem: None,
    };
    match srvr {
        Ok(stats) => {
            report.mode = stats.mode.as_str().into();
            report.zxid = Some(stats.zxid);
            report.latency_min = Some(stats.latency_min);
            report.latency_avg = Some(stats.latency_avg);
            report.latency_max = Some(stats.latency_max);
            report.outstanding = Some(stats.outstanding);
            report.node_count = Some(stats.node_count);
            if stats.mode == Mode::Leader {
                match mntr(&address).await {
                    Ok(m) => report.followers = m.followers,
                    Err(e) => report.problem = Some(e.to_string()),
                }
            }
        }
        Err(e) => {
            if matches!(e, ZkAdminError::NotServing { .. }) {
                report.mode = "not serving".into();
            }
            report.problem = Some(e.to_string());
        }
    }
    report
}

fn unexpected(addr: &str, word: &str, text: &str) -> ZkAdminError {
    let mut text = text.trim().to_string();
    if text.len() > 80 {
        let cut = (0..=80)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    ZkAdminError::Unexpected {
        addr: addr.to_string(),
        word: word.to_string(),
        text,
    }
}

/// Parses a `srvr` or `stat` answer (3.4 and 3.8).
pub fn parse_stats(addr: &str, word: &str, text: &str) -> Result<ServerStats, ZkAdminError> {
    if text.contains(NOT_SERVING) {
        return Err(ZkAdminError::NotServing {
            addr: addr.to_string(),
        });
    }
    let bad = || unexpected(addr, word, text);
    let mut fields = BTreeMap::new();
    let mut clients = Vec::new();
    let mut in_clients = false;
    for line in text.lines() {
        if line == "Clients:" {
            in_clients = true;
            continue;
        }
        if in_clients {
            if line.trim().is_empty() {
                in_clients = false;
            } else {
                clients.push(line.trim().to_string());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(": ") {
            fields.insert(key.trim(), value.trim());
        }
    }
    let number = |key: &str| -> Result<u64, ZkAdminError> {
        fields.get(key).and_then(|v| v.parse().ok()).ok_or_else(bad)
    };
    let latency = fields.get("Latency min/avg/max").ok_or_else(bad)?;
    let parts: Vec<&str> = latency.split('/').collect();
    let [min, avg, max] = parts.as_slice() else {
        return Err(bad());
    };
    Ok(ServerStats {
        version: fields.get("Zookeeper version").ok_or_else(bad)?.to_string(),
        mode: fields
            .get("Mode")
            .and_then(|m| Mode::parse(m))
            .ok_or_else(bad)?,
        zxid: fields.get("Zxid").ok_or_else(bad)?.to_string(),
        latency_min: min.parse().map_err(|_| bad())?,
        latency_avg: avg.parse().map_err(|_| bad())?,
        latency_max: max.parse().map_err(|_| bad())?,
        received: number("Received")?,
        sent: number("Sent")?,
        connections: number("Connections")?,
        outstanding: number("Outstanding")?,
        node_count: number("Node count")?,
        clients,
    })
}

/// Parses a `mntr` answer: `zk_<key>\t<value>` lines (3.4 and 3.8).
pub fn parse_mntr(addr: &str, text: &str) -> Result<Monitor, ZkAdminError> {
    if text.contains(NOT_SERVING) {
        return Err(ZkAdminError::NotServing {
            addr: addr.to_string(),
        });
    }
    let all: BTreeMap<String, String> = text
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let bad = || unexpected(addr, "mntr", text);
    let text_of = |key: &str| all.get(key).cloned().ok_or_else(bad);
    let number = |key: &str| -> Result<u64, ZkAdminError> {
        all.get(key).and_then(|v| v.parse().ok()).ok_or_else(bad)
    };
    let optional = |keys: &[&str]| keys.iter().find_map(|k| all.get(*k)?.parse().ok());
    Ok(Monitor {
        version: text_of("zk_version")?,
        server_state: text_of("zk_server_state")?,
        latency_avg: all
            .get("zk_avg_latency")
            .and_then(|v| v.parse().ok())
            .ok_or_else(bad)?,
        latency_min: number("zk_min_latency")?,
        latency_max: number("zk_max_latency")?,
        outstanding: number("zk_outstanding_requests")?,
        znode_count: number("zk_znode_count")?,
        alive_connections: number("zk_num_alive_connections")?,
        followers: optional(&["zk_followers", "zk_learners"]),
        synced_followers: optional(&["zk_synced_followers"]),
        all,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    /// Captured from the lab's Debian 3.8.0 ensemble (`srvr` on the leader).
    const SRVR_LEADER_38: &str =
        "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC
Latency min/avg/max: 0/0.0/0
Received: 3
Sent: 2
Connections: 1
Outstanding: 0
Zxid: 0x100000000
Mode: leader
Node count: 5
Proposal sizes last/min/max: -1/-1/-1
";

    /// Captured from the same ensemble (`stat` on a follower).
    const STAT_FOLLOWER_38: &str =
        "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC
Clients:
 /127.0.0.1:41120[0](queued=0,recved=1,sent=0)

Latency min/avg/max: 0/0.0/0
Received: 5
Sent: 4
Connections: 1
Outstanding: 0
Zxid: 0x0
Mode: follower
Node count: 5
";

    const ADDR: &str = "127.0.0.1:2181";

    #[test]
    fn srvr_of_a_38_leader() {
        let s = parse_stats(ADDR, "srvr", SRVR_LEADER_38).expect("parses");
        assert_eq!(s.mode, Mode::Leader);
        assert_eq!(s.zxid, "0x100000000");
        assert_eq!((s.latency_min, s.latency_avg, s.latency_max), (0, 0.0, 0));
        assert_eq!((s.received, s.sent, s.connections), (3, 2, 1));
        assert_eq!((s.outstanding, s.node_count), (0, 5));
        assert!(s.version.starts_with("3.8.0-"));
        assert!(s.clients.is_empty());
    }

    #[test]
    fn stat_of_a_38_follower_lists_its_clients() {
        let s = parse_stats(ADDR, "stat", STAT_FOLLOWER_38).expect("parses");
        assert_eq!(s.mode, Mode::Follower);
        assert_eq!(
            s.clients,
            vec!["/127.0.0.1:41120[0](queued=0,recved=1,sent=0)"]
        );
        assert_eq!(s.node_count, 5);
    }

    #[test]
    fn stat_fixtures_of_34_and_38_leaders() {
        let s34 = parse_stats(ADDR, "stat", &fixtures::text("zk-stat-leader.txt")).expect("3.4");
        assert_eq!(s34.mode, Mode::Leader);
        assert_eq!(s34.zxid, "0x300000a1c");
        assert_eq!((s34.latency_avg, s34.latency_max), (0.0, 41));
        assert_eq!((s34.node_count, s34.connections), (212, 4));
        assert_eq!(s34.clients.len(), 4);
        let s38 =
            parse_stats(ADDR, "stat", &fixtures::text("zk-stat-leader-3.8-lab.txt")).expect("3.8");
        assert_eq!(s38.mode, Mode::Leader);
    }

    #[test]
    fn not_serving_is_said_plainly() {
        let text = fixtures::text("zk-stat-no-quorum.txt");
        let err = parse_stats(ADDR, "srvr", &text).expect_err("not serving");
        assert_eq!(
            err,
            ZkAdminError::NotServing {
                addr: ADDR.to_string()
            }
        );
        assert!(err.to_string().contains("not currently serving requests"));
        assert!(parse_mntr(ADDR, &text).is_err());
    }

    #[test]
    fn mntr_keys_of_34_and_38() {
        let m34 = parse_mntr(ADDR, &fixtures::text("zk-mntr-leader.txt")).expect("3.4");
        assert_eq!(m34.server_state, "leader");
        assert_eq!(m34.latency_max, 41);
        assert!(m34.followers.is_some());
        let m38 = parse_mntr(ADDR, &fixtures::text("zk-mntr-leader-3.8-lab.txt")).expect("3.8");
        assert_eq!(m38.server_state, "leader");
        assert_eq!(m38.followers, Some(2));
        assert_eq!(m38.synced_followers, Some(2));
        assert_eq!(
            m38.all.get("zk_peer_state").map(String::as_str),
            Some("leading - broadcast")
        );
    }

    #[test]
    fn garbage_is_an_error_with_the_text() {
        let err = parse_stats(ADDR, "srvr", "HTTP/1.1 400 Bad Request\r\n").expect_err("garbage");
        let text = err.to_string();
        assert!(text.contains("unexpected answer to `srvr`"), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn a_port_defaults_to_2181() {
        assert_eq!(with_port("10.99.99.11"), "10.99.99.11:2181");
        assert_eq!(with_port("10.99.99.11:2182"), "10.99.99.11:2182");
    }
}
