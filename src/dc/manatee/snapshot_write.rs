//! Writing a cluster as the cluster-details snapshot that `--snapshot`
//! reads (manatee-adm's `MANATEE_ADM_TEST_STATE` format), so a support
//! engineer can look at an operator's shard offline.

use serde_json::{Value, json};

use super::cluster::{Cluster, Freeze, Lag, Peer, Postgres, Role};
use super::snapshot::SnapshotOrigin;

/// `origin` goes in too, so that `show --snapshot` can say where the shard
/// was read without being told again.
pub fn to_snapshot(cluster: &Cluster, origin: Option<&SnapshotOrigin>) -> String {
    let ids =
        |role: Role| -> Vec<&str> { cluster.with_role(role).map(|p| p.id.as_str()).collect() };
    let peers: serde_json::Map<String, Value> = cluster
        .peers
        .iter()
        .map(|p| (p.id.clone(), peer(p)))
        .collect();
    let (frozen, since, reason) = match &cluster.freeze {
        Freeze::Thawed => (false, None, None),
        Freeze::Frozen { since, reason } => (
            true,
            Some(since.as_deref().unwrap_or("unknown")),
            Some(reason.as_deref().unwrap_or("unknown")),
        ),
    };
    let mut snapshot = json!({
        "pgs_peers": peers,
        "pgs_generation": cluster.generation,
        "pgs_initwal": cluster.init_wal,
        "pgs_primary": ids(Role::Primary).first(),
        "pgs_sync": ids(Role::Sync).first(),
        "pgs_asyncs": ids(Role::Async),
        "pgs_deposed": ids(Role::Deposed),
        "pgs_frozen": frozen,
        "pgs_freeze_reason": reason,
        "pgs_freeze_time": since,
        "pgs_singleton": cluster.singleton,
        "pgs_errors": [],
        "pgs_warnings": [],
    });
    if let (Some(origin), Some(fields)) = (origin, snapshot.as_object_mut()) {
        fields.insert("origin".into(), json!(origin));
    }
    // A JSON value always serializes.
    let mut text = serde_json::to_string_pretty(&snapshot).unwrap_or_default();
    text.push('\n');
    text
}

fn peer(p: &Peer) -> Value {
    let (pgerr, lag, repl) = match &p.postgres {
        Postgres::Unreachable { reason } => (
            json!({"message": reason.as_deref().unwrap_or("postgres request timed out")}),
            Value::Null,
            Value::Null,
        ),
        Postgres::Online { lag, downstream } => (
            Value::Null,
            match lag {
                None => Value::Null,
                Some(Lag::Seconds(s)) => json!({"minutes": s / 60, "seconds": s % 60}),
                // A unit manatee-adm cannot convert reads back as one.
                Some(Lag::Unconvertible) => json!({"months": 0}),
            },
            downstream.as_ref().map_or(Value::Null, |r| {
                json!({
                    "state": r.state, "sync_state": r.sync_state, "client_addr": r.client_addr,
                    "sent_lsn": r.sent, "write_lsn": r.write, "flush_lsn": r.flush, "replay_lsn": r.replay,
                })
            }),
        ),
    };
    json!({
        "pgp_label": p.label,
        "pgp_ident": {"id": p.id, "ip": p.ip, "zoneId": p.zone_id},
        "pgp_pgerr": pgerr,
        "pgp_lag": lag,
        "pgp_repl": repl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dc::manatee::snapshot::parse_snapshot;

    #[test]
    fn every_conformance_case_reads_back_the_same() {
        let dir = format!(
            "{}/../shared/conformance/manatee-adm/cases",
            env!("CARGO_MANIFEST_DIR")
        );
        let Ok(cases) = std::fs::read_dir(&dir) else {
            return;
        };
        for case in cases.flatten() {
            let text = std::fs::read_to_string(case.path()).unwrap();
            let (cluster, _) = parse_snapshot(&text).unwrap();
            let origin = SnapshotOrigin {
                zookeeper: "10.99.99.11:2181".into(),
                shard: "sdc".into(),
            };
            let again = parse_snapshot(&to_snapshot(&cluster, Some(&origin))).unwrap();
            assert_eq!(again, (cluster, Some(origin)), "{}", case.path().display());
        }
    }
}
