//! `manatee::check()`: everything `verify` reports, and what manatee-adm
//! cannot see, each finding saying what it means and what to do.
//!
//! - verify's lines, in manatee-adm's words (check is never quieter than
//!   verify), except where check says more about the same thing.
//! - The primary's link to the sync missing, not streaming as sync, or
//!   stuck (no reply read from the sync): found without write traffic
//!   (`sync_link`).
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
use super::issues::Issues;
use super::live::{Shard, cluster_of};
use super::pg_query::first_row_of;
use super::state::{PeerIdent, Topology, read_state};
use super::sync_link;
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

/// Errors first, each level in the order found. Everything is asked at
/// once, so the check takes about one [`SAMPLE`].
pub async fn check(shard: &Shard, dc: Option<&Datacenter>) -> Result<Vec<Finding>, ManateeError> {
    let doc = read_state(&shard.zk, &shard.name).await?;
    let t = &doc.topology;
    let (cluster, sampled, sync_link) =
        futures::join!(cluster_of(t), stalled(t), sync_link_after_sample(t));
    let mut findings = adm_findings(&Issues::of(&cluster), t, sync_link.is_some());
    // The sampled stall of the sync link says less than `sync_link` does.
    let sync_judged = sync_link.is_some();
    findings.extend(sync_link);
    findings.extend(
        sampled
            .into_iter()
            .filter(|(sync, _)| !(*sync && sync_judged))
            .map(|(_, f)| f),
    );
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
    findings.sort_by_key(|f| f.level != "error");
    Ok(findings)
}

/// The sync link judged at the end of the sample, so that a stall that
/// began just before the check has had that long to show.
async fn sync_link_after_sample(t: &Topology) -> Option<Finding> {
    let sync = t.sync.as_ref().filter(|_| !t.one_node_write_mode)?;
    tokio::time::sleep(SAMPLE).await;
    sync_link::judge(&t.primary, sync).await
}

/// verify's lines as findings. A line check says more about is left out:
/// the deposed peer (one finding per peer follows) and the primary's lines
/// about its downstream when the sync link has its own finding or the
/// primary does not answer (its replication is then unknown, not broken).
fn adm_findings(issues: &Issues, t: &Topology, sync_link_found: bool) -> Vec<Finding> {
    let primary_down = issues.errors.iter().any(|e| e.starts_with(PRIMARY_DOWN));
    let primary_link = format!("peer \"{}\":", t.primary.label());
    let said_better = |line: &&String| {
        line.as_str() == "cluster has a deposed peer"
            || ((sync_link_found || primary_down) && line.starts_with(&primary_link))
    };
    let errors = issues.errors.iter().map(|e| ("error", e));
    let warnings = issues.warnings.iter().map(|w| ("warning", w));
    errors
        .chain(warnings)
        .filter(|(_, line)| !said_better(line))
        .map(|(level, line)| adm_finding(level, line))
        .collect()
}

const PRIMARY_DOWN: &str = "cannot query postgres on primary";

/// One of verify's lines with what it means. The lines are manatee-adm's
/// text, kept verbatim, so the few worth explaining are told by it.
fn adm_finding(level: &'static str, line: &str) -> Finding {
    let (means, todo) = if line.starts_with(PRIMARY_DOWN) {
        (
            "the shard takes no writes; the sync takes over only when an async can become the new sync and the shard is not frozen",
            "find why the primary's PostgreSQL does not answer (its zone and server: `tritonsh manatee show`) and bring it back",
        )
    } else if line.starts_with("cannot query postgres on sync") {
        (
            "commits on the primary wait for the sync: writes block until it answers or the primary picks a new sync",
            "find why the sync's PostgreSQL does not answer (its zone and server: `tritonsh manatee show`) and bring it back",
        )
    } else if line == "cluster has no async peers" {
        (
            "if the primary is lost, the sync cannot take over (it needs an async to become its sync): the shard would stay down",
            "give the shard its third peer: `tritonsh run manatee-async-rebuild`",
        )
    } else if level == "error" {
        (
            "manatee-adm verify reports it: the shard cannot take writes safely",
            "`tritonsh manatee pg-status` shows each peer's replication; rebuild a peer that does not stream (`tritonsh manatee rebuild -n ZONENAME`)",
        )
    } else {
        (
            "manatee-adm verify reports it: the shard is degraded",
            "`tritonsh manatee pg-status` shows each peer's replication; rebuild a peer that does not stream (`tritonsh manatee rebuild -n ZONENAME`)",
        )
    };
    Finding {
        level,
        what: line.to_string(),
        means: means.into(),
        todo: todo.into(),
    }
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

/// Each finding tagged with whether it is about the sync link.
async fn stalled(t: &Topology) -> Vec<(bool, Finding)> {
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
        findings.push((sync_link, Finding {
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
        }));
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

    fn no_async() -> Topology {
        Topology {
            generation: 1,
            init_wal: "0/0".into(),
            primary: PeerIdent::numbered(1),
            sync: Some(PeerIdent::numbered(2)),
            asyncs: Vec::new(),
            deposed: vec![PeerIdent::numbered(3)],
            freeze: Freeze::Thawed,
            one_node_write_mode: false,
        }
    }

    fn issues(errors: &[&str], warnings: &[&str]) -> Issues {
        Issues {
            errors: errors.iter().map(|e| e.to_string()).collect(),
            warnings: warnings.iter().map(|w| w.to_string()).collect(),
        }
    }

    fn whats(findings: &[Finding]) -> Vec<(&str, &str)> {
        findings
            .iter()
            .map(|f| (f.level, f.what.as_str()))
            .collect()
    }

    #[test]
    fn a_primary_down_with_no_async_is_found_as_verify_finds_it() {
        let verify = issues(
            &[
                "cannot query postgres on primary: peer \"peer1-zo\": ECONNREFUSED",
                "peer \"peer1-zo\": downstream replication peer not connected",
            ],
            &["cluster has a deposed peer", "cluster has no async peers"],
        );
        let found = adm_findings(&verify, &no_async(), false);
        assert_eq!(
            whats(&found),
            [
                (
                    "error",
                    "cannot query postgres on primary: peer \"peer1-zo\": ECONNREFUSED"
                ),
                ("warning", "cluster has no async peers"),
            ]
        );
        assert!(found[0].means.contains("takes no writes"), "{:?}", found[0]);
        assert!(
            found[1].todo.contains("manatee-async-rebuild"),
            "{:?}",
            found[1]
        );
    }

    #[test]
    fn the_primary_s_link_lines_give_way_to_the_sync_link_finding_only() {
        let verify = issues(
            &[
                "peer \"peer1-zo\": downstream replication not yet established (expected state \"streaming\", found \"catchup\")",
                "cannot query postgres on sync: peer \"peer2-zo\": ECONNREFUSED",
            ],
            &[],
        );
        let kept = adm_findings(&verify, &no_async(), false);
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert!(kept[1].means.contains("writes block"), "{:?}", kept[1]);
        let replaced = adm_findings(&verify, &no_async(), true);
        assert_eq!(
            whats(&replaced),
            [(
                "error",
                "cannot query postgres on sync: peer \"peer2-zo\": ECONNREFUSED"
            )]
        );
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
