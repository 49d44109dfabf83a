//! `manatee::check()`: what manatee-adm cannot see, each finding saying
//! what it means and what to do.
//!
//! - Replication stalled: ZooKeeper still names the chain, PostgreSQL and
//!   the sitters answer, but a downstream's replay position does not move
//!   over a short sample while its upstream's WAL does, or while it is
//!   behind, or while commits wait for the sync (`wait_event = 'SyncRep'`):
//!   what operators report from overloaded hosts; `verify` passes.
//! - Two peers on one server: one server loss would take both.
//! - A freeze older than a day: takeovers have been off since.
//! - A deposed peer: out of service until rebuilt or reaped.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::join_all;
use serde::Serialize;

use super::cluster::Freeze;
use super::error::ManateeError;
use super::live::Shard;
use super::pg_query::first_row_of;
use super::state::{PeerIdent, Topology, read_state};
use crate::dc::Datacenter;

/// How long replication is watched for progress.
pub const SAMPLE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `error` (the shard is not safe) or `warning` (it is degraded).
    pub level: &'static str,
    pub what: String,
    pub means: String,
    pub todo: String,
}

pub async fn check(shard: &Shard, dc: Option<&Datacenter>) -> Result<Vec<Finding>, ManateeError> {
    let doc = read_state(&shard.zk, &shard.name).await?;
    let t = &doc.topology;
    let mut findings = stalled(t).await;
    if let Some(dc) = dc {
        findings.extend(shared_servers(t, dc).await);
    }
    findings.extend(old_freeze(&t.freeze, chrono::Utc::now()));
    findings.extend(t.deposed.iter().map(|d| Finding {
        level: "warning",
        what: format!("deposed peer {} ({}) waits for rebuild or reap", d.label(), d.ip),
        means: "it is a former primary, out of service with PostgreSQL stopped; the shard has one peer fewer than it could".into(),
        todo: format!(
            "if its server is up, `tritonsh manatee rebuild -n {}`; if it is gone for good, `tritonsh manatee reap -n {}`",
            d.zone_id, d.zone_id
        ),
    }));
    Ok(findings)
}

/// The chain's links: (upstream, downstream, whether it is the sync link).
fn links(t: &Topology) -> Vec<(&PeerIdent, &PeerIdent, bool)> {
    let mut chain: Vec<&PeerIdent> = vec![&t.primary];
    chain.extend(t.sync.iter());
    chain.extend(t.asyncs.iter());
    chain
        .windows(2)
        .enumerate()
        .map(|(i, pair)| (pair[0], pair[1], i == 0))
        .collect()
}

/// One sample of every link: the upstream's WAL position, the downstream's
/// replay position, and how many commits wait for the sync on the primary.
struct Sample {
    upstream: Vec<Option<u64>>,
    replay: Vec<Option<u64>>,
    waiting: u64,
}

async fn sample(t: &Topology) -> Sample {
    let links = links(t);
    let upstream = join_all(links.iter().map(|(up, _, first)| {
        let sql = if *first {
            "select pg_current_wal_lsn()"
        } else {
            "select pg_last_wal_receive_lsn()"
        };
        async move { lsn(first_row_of(&up.pg_url, sql).await) }
    }));
    let replay = join_all(links.iter().map(|(_, down, _)| async move {
        lsn(first_row_of(&down.pg_url, "select pg_last_wal_replay_lsn()").await)
    }));
    let waiting = first_row_of(
        &t.primary.pg_url,
        "select count(*) from pg_stat_activity where wait_event = 'SyncRep'",
    );
    let (upstream, replay, waiting) = futures::join!(upstream, replay, waiting);
    let waiting = waiting
        .ok()
        .and_then(|row| row.into_iter().next().flatten())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Sample {
        upstream,
        replay,
        waiting,
    }
}

fn lsn(row: Result<Vec<Option<String>>, String>) -> Option<u64> {
    parse_lsn(row.ok()?.into_iter().next()??.as_str())
}

/// `X/Y` (hex halves) as one number.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.split_once('/')?;
    Some((u64::from_str_radix(hi, 16).ok()? << 32) | u64::from_str_radix(lo, 16).ok()?)
}

async fn stalled(t: &Topology) -> Vec<Finding> {
    let before = sample(t).await;
    tokio::time::sleep(SAMPLE).await;
    let after = sample(t).await;
    let mut findings = Vec::new();
    for (i, (up, down, sync_link)) in links(t).into_iter().enumerate() {
        let (Some(r0), Some(r1)) = (before.replay[i], after.replay[i]) else {
            continue;
        };
        let upstream_moved =
            matches!((before.upstream[i], after.upstream[i]), (Some(a), Some(b)) if b > a);
        let behind = after.upstream[i].is_some_and(|u| u > r1);
        let commits_wait = sync_link && after.waiting > 0;
        if r1 > r0 || !(upstream_moved || behind || commits_wait) {
            continue;
        }
        let why = if commits_wait {
            format!("{} commit(s) on the primary wait for it", after.waiting)
        } else {
            "its upstream's WAL is ahead".to_string()
        };
        findings.push(Finding {
            level: if sync_link { "error" } else { "warning" },
            what: format!(
                "replication from {} ({}) to {} ({}) is stalled: replay stayed at {} for {}s while {why}",
                up.label(),
                up.ip,
                down.label(),
                down.ip,
                format_lsn(r1),
                SAMPLE.as_secs()
            ),
            means: if sync_link {
                "the sync is not receiving the primary's WAL: commits hang (or the primary stays read-only), and a takeover now would lose what the sync has not got".into()
            } else {
                "this async falls further behind; a takeover would leave it to rebuild".into()
            },
            todo: format!(
                "look at {}'s PostgreSQL (pg_stat_replication) and host load; if it does not resume, rebuild {} (`tritonsh manatee rebuild -n {}`)",
                up.label(),
                down.label(),
                down.zone_id
            ),
        });
    }
    findings
}

fn format_lsn(n: u64) -> String {
    format!("{:X}/{:X}", n >> 32, n & 0xffff_ffff)
}

async fn shared_servers(t: &Topology, dc: &Datacenter) -> Vec<Finding> {
    let mut peers: Vec<(&str, &PeerIdent)> = vec![("primary", &t.primary)];
    peers.extend(t.sync.iter().map(|p| ("sync", p)));
    peers.extend(t.asyncs.iter().map(|p| ("async", p)));
    let vms = join_all(peers.iter().map(|(_, p)| dc.vmapi.get(&p.zone_id))).await;
    let mut by_server: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut findings = Vec::new();
    for ((role, p), vm) in peers.iter().zip(vms) {
        match vm {
            Ok(vm) => {
                if let Some(server) = vm.server_uuid {
                    by_server
                        .entry(server)
                        .or_default()
                        .push(format!("{} ({role})", p.label()));
                }
            }
            Err(e) => findings.push(Finding {
                level: "warning",
                what: format!("cannot tell which server runs {} ({role})", p.label()),
                means: format!("VMAPI did not say: {e}"),
                todo: "check VMAPI, then run check again".into(),
            }),
        }
    }
    for (server, names) in by_server.into_iter().filter(|(_, n)| n.len() > 1) {
        findings.push(Finding {
            level: "warning",
            what: format!("peers {} run on one server, {server}", names.join(" and ")),
            means: "losing that one server takes them all at once; with the primary and sync together the shard cannot take over".into(),
            todo: "provision a replacement peer on another server (runbook manatee-async-rebuild), then remove the extra one from this server".into(),
        });
    }
    findings
}

fn old_freeze(freeze: &Freeze, now: chrono::DateTime<chrono::Utc>) -> Option<Finding> {
    let Freeze::Frozen { since, reason } = freeze else {
        return None;
    };
    let since = chrono::DateTime::parse_from_rfc3339(since.as_deref()?).ok()?;
    let age = now.signed_duration_since(since);
    (age > chrono::Duration::days(1)).then(|| Finding {
        level: "warning",
        what: format!(
            "the shard has been frozen for {} days (since {since}, reason: {})",
            age.num_days(),
            reason.as_deref().unwrap_or("unknown")
        ),
        means: "no takeover happens while frozen: if the primary is lost, the shard stays down until an operator acts".into(),
        todo: "if the work that froze it is over, `tritonsh manatee unfreeze`".into(),
    })
}

/// One line per finding: `LEVEL: WHAT — MEANS; do: TODO`.
pub fn lines(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("{}: {} — {}; do: {}\n", f.level, f.what, f.means, f.todo))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_compare_as_numbers() {
        assert_eq!(parse_lsn("0/3000060"), Some(0x3000060));
        assert!(parse_lsn("1/0") > parse_lsn("0/FFFFFFFF"));
        assert_eq!(format_lsn(parse_lsn("A/1E4B8D0").unwrap()), "A/1E4B8D0");
        assert_eq!(parse_lsn("bogus"), None);
    }

    #[test]
    fn a_freeze_is_old_after_a_day() {
        let now = chrono::DateTime::parse_from_rfc3339("2024-05-03T00:00:00Z")
            .unwrap()
            .to_utc();
        let frozen = |since: &str| Freeze::Frozen {
            since: Some(since.into()),
            reason: Some("ha-binder setup".into()),
        };
        let old = old_freeze(&frozen("2024-05-01T00:00:00.000Z"), now).unwrap();
        assert!(old.what.contains("frozen for 2 days"), "{}", old.what);
        assert_eq!(old_freeze(&frozen("2024-05-02T12:00:00.000Z"), now), None);
        assert_eq!(old_freeze(&Freeze::Thawed, now), None);
    }
}
