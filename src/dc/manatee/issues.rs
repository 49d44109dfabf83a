//! The problems manatee-adm reports for a cluster: errors (the shard cannot
//! take writes safely) and warnings (it is degraded). Both lists keep the
//! order in which they are found; output prints all errors, then warnings.

use super::cluster::{Cluster, Peer, Postgres, Role};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Issues {
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Whether a broken replication link makes the shard unsafe (the primary's
/// link to the sync) or only degraded (links further down the chain).
#[derive(Clone, Copy)]
enum Severity {
    Error,
    Warning,
}

/// For a peer whose PostgreSQL could not be queried, what manatee-adm
/// appends to "cannot query postgres on …": `: peer "<abbr>": <reason>`
/// when the reason is known (a live read), nothing otherwise.
fn unreachable(peer: &Peer) -> Option<String> {
    match &peer.postgres {
        Postgres::Unreachable { reason: Some(r) } => {
            Some(format!(": peer \"{}\": {r}", peer.label))
        }
        Postgres::Unreachable { reason: None } => Some(String::new()),
        Postgres::Online { .. } => None,
    }
}

impl Issues {
    pub fn of(cluster: &Cluster) -> Issues {
        let mut issues = Issues::default();
        let primary = cluster.with_role(Role::Primary).next();
        if let Some(failed) = primary.and_then(unreachable) {
            issues
                .errors
                .push(format!("cannot query postgres on primary{failed}"));
        }
        if cluster.singleton {
            // A singleton has no replication to check; extra peers mean
            // someone started a sitter that the mode will never use.
            if cluster.peers.len() > 1 {
                issues.warnings.push(format!(
                    "found {} peers in singleton mode",
                    cluster.peers.len()
                ));
            }
            return issues;
        }
        let sync = cluster.with_role(Role::Sync).next();
        if let Some(failed) = sync.and_then(unreachable) {
            issues
                .errors
                .push(format!("cannot query postgres on sync{failed}"));
        }
        if cluster.with_role(Role::Deposed).next().is_some() {
            issues.warnings.push("cluster has a deposed peer".into());
        }
        if cluster.with_role(Role::Async).next().is_none() {
            issues.warnings.push("cluster has no async peers".into());
        }
        // Without the sync's answer its downstream link cannot be judged,
        // and the sync error already says what to look at.
        let (Some(primary), Some(sync)) = (primary, sync) else {
            return issues;
        };
        if !sync.is_online() {
            return issues;
        }
        issues.check_link(primary, sync, "sync", Severity::Error);
        let chain: Vec<&Peer> = std::iter::once(sync)
            .chain(cluster.with_role(Role::Async))
            .collect();
        for pair in chain.windows(2) {
            issues.check_link(pair[0], pair[1], "async", Severity::Warning);
        }
        issues
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty() && self.warnings.is_empty()
    }

    /// `error: …` lines, then `warning: …` lines, each ending in a newline.
    pub fn lines(&self) -> String {
        let errors = self.errors.iter().map(|e| format!("error: {e}\n"));
        let warnings = self.warnings.iter().map(|w| format!("warning: {w}\n"));
        errors.chain(warnings).collect()
    }

    /// Checks that `upstream` streams to `downstream` with the expected
    /// `sync_state`; a wrong sync_state is only worth saying when the right
    /// peer is connected and streaming.
    fn check_link(
        &mut self,
        upstream: &Peer,
        downstream: &Peer,
        expected: &str,
        severity: Severity,
    ) {
        let peer = &upstream.label;
        let mut found = Vec::new();
        match upstream.downstream() {
            None => found.push(format!(
                "peer \"{peer}\": downstream replication peer not connected"
            )),
            Some(row) => {
                let client = row.client_addr.as_deref().unwrap_or("");
                if client != downstream.ip {
                    found.push(format!(
                        "peer \"{peer}\": expected downstream peer to be \"{}\", but found \"{client}\"",
                        downstream.ip
                    ));
                }
                let state = row.state.as_deref().unwrap_or("");
                if state != "streaming" {
                    found.push(format!(
                        "peer \"{peer}\": downstream replication not yet established (expected state \"streaming\", found \"{state}\")"
                    ));
                }
                let sync_state = row.sync_state.as_deref().unwrap_or("");
                if found.is_empty() && sync_state != expected {
                    found.push(format!(
                        "peer \"{peer}\": expected downstream replication to be \"{expected}\", but found \"{sync_state}\""
                    ));
                }
            }
        }
        match severity {
            Severity::Error => self.errors.extend(found),
            Severity::Warning => self.warnings.extend(found),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dc::manatee::cluster::{Freeze, Replication};

    fn peer(role: Role, n: u8, downstream: Option<Replication>) -> Peer {
        Peer {
            role,
            id: format!("10.0.0.{n}:5432:12345"),
            zone_id: format!("peer{n}-zone"),
            label: format!("peer{n}"),
            ip: format!("10.0.0.{n}"),
            postgres: Postgres::Online {
                lag: None,
                downstream,
            },
        }
    }

    fn link(to: u8, state: &str, sync_state: &str) -> Option<Replication> {
        Some(Replication {
            state: Some(state.into()),
            sync_state: Some(sync_state.into()),
            client_addr: Some(format!("10.0.0.{to}")),
            ..Replication::default()
        })
    }

    fn cluster(peers: Vec<Peer>, singleton: bool) -> Cluster {
        Cluster {
            generation: 1,
            init_wal: "0/0".into(),
            singleton,
            freeze: Freeze::Thawed,
            peers,
        }
    }

    #[test]
    fn a_primary_streaming_to_the_wrong_peer_is_an_error_and_its_sync_state_is_not_judged() {
        let c = cluster(
            vec![
                peer(Role::Primary, 1, link(9, "catchup", "async")),
                peer(Role::Sync, 2, link(3, "streaming", "async")),
                peer(Role::Async, 3, None),
            ],
            false,
        );
        let issues = Issues::of(&c);
        assert_eq!(
            issues.errors,
            [
                "peer \"peer1\": expected downstream peer to be \"10.0.0.2\", but found \"10.0.0.9\"",
                "peer \"peer1\": downstream replication not yet established (expected state \"streaming\", found \"catchup\")",
            ]
        );
        assert!(issues.warnings.is_empty(), "{:?}", issues.warnings);
    }

    #[test]
    fn links_down_the_async_chain_are_warnings_and_the_last_async_is_not_checked() {
        let c = cluster(
            vec![
                peer(Role::Primary, 1, link(2, "streaming", "sync")),
                peer(Role::Sync, 2, link(3, "streaming", "async")),
                peer(Role::Async, 3, link(4, "streaming", "sync")),
                peer(Role::Async, 4, None),
                peer(Role::Deposed, 5, None),
            ],
            false,
        );
        let issues = Issues::of(&c);
        assert!(issues.errors.is_empty(), "{:?}", issues.errors);
        assert_eq!(
            issues.warnings,
            [
                "cluster has a deposed peer",
                "peer \"peer3\": expected downstream replication to be \"async\", but found \"sync\"",
            ]
        );
    }

    #[test]
    fn extra_peers_in_singleton_mode_are_a_warning_and_nothing_else_is_checked() {
        let c = cluster(
            vec![peer(Role::Primary, 1, None), peer(Role::Deposed, 2, None)],
            true,
        );
        let issues = Issues::of(&c);
        assert_eq!(issues.warnings, ["found 2 peers in singleton mode"]);
        assert!(issues.errors.is_empty());
    }

    #[test]
    fn errors_print_before_warnings() {
        let issues = Issues {
            errors: vec!["e".into()],
            warnings: vec!["w".into()],
        };
        assert_eq!(issues.lines(), "error: e\nwarning: w\n");
    }
}
