//! Reading a cluster-details snapshot: the JSON that manatee-adm's own test
//! suite feeds it (`MANATEE_ADM_TEST_STATE`), with the ZooKeeper topology
//! (`pgs_*`) and each peer's PostgreSQL answers (`pgp_*`) already gathered.
//! `pgs_errors`/`pgs_warnings` are ignored: issues are derived (`issues`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::cluster::{Cluster, Freeze, Lag, Peer, Postgres, Replication, Role};

/// Why a snapshot could not be used; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read manatee snapshot {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a manatee cluster-details snapshot: {detail}")]
    Invalid { path: String, detail: String },
}

#[derive(Deserialize)]
struct Details {
    pgs_peers: BTreeMap<String, PeerDetails>,
    pgs_generation: u64,
    pgs_initwal: String,
    pgs_primary: String,
    pgs_sync: Option<String>,
    pgs_asyncs: Vec<String>,
    pgs_deposed: Vec<String>,
    pgs_singleton: bool,
    pgs_frozen: bool,
    pgs_freeze_reason: Option<String>,
    pgs_freeze_time: Option<String>,
    /// Where the snapshot was taken: tritonsh writes it (manatee-adm's
    /// format has no place for it, and ignores it).
    #[serde(default)]
    origin: Option<SnapshotOrigin>,
}

/// The ZooKeeper and shard a snapshot was taken from, as `show` prints them.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct SnapshotOrigin {
    pub zookeeper: String,
    pub shard: String,
}

#[derive(Deserialize)]
struct PeerDetails {
    pgp_label: String,
    pgp_ident: Ident,
    pgp_pgerr: Option<Value>,
    pgp_lag: Option<BTreeMap<String, Value>>,
    pgp_repl: Option<ReplRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ident {
    zone_id: String,
    ip: String,
}

/// PostgreSQL 10 renamed `*_location` to `*_lsn`; either may appear.
#[derive(Deserialize)]
struct ReplRow {
    state: Option<String>,
    sync_state: Option<String>,
    client_addr: Option<String>,
    #[serde(alias = "sent_lsn")]
    sent_location: Option<String>,
    #[serde(alias = "write_lsn")]
    write_location: Option<String>,
    #[serde(alias = "flush_lsn")]
    flush_location: Option<String>,
    #[serde(alias = "replay_lsn")]
    replay_location: Option<String>,
}

/// The cluster in the snapshot at `path`, and where it was taken when the
/// snapshot says (tritonsh's do).
pub fn load_snapshot(path: &Path) -> Result<(Cluster, Option<SnapshotOrigin>), SnapshotError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Read {
        path: shown.clone(),
        source,
    })?;
    parse_snapshot(&text).map_err(|detail| SnapshotError::Invalid {
        path: shown,
        detail,
    })
}

/// Parses snapshot text; the error says which field is wrong and how.
pub fn parse_snapshot(text: &str) -> Result<(Cluster, Option<SnapshotOrigin>), String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let details: Details = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // A syntax error's path is wherever the parser gave up, which says
        // nothing about the snapshot's fields.
        let at = e.path().to_string();
        if !e.inner().is_data() {
            format!("not valid JSON: {}", e.inner())
        } else if at == "." {
            e.inner().to_string()
        } else {
            format!("at {at}: {}", e.inner())
        }
    })?;
    let origin = details.origin.clone();
    into_cluster(details).map(|cluster| (cluster, origin))
}

fn into_cluster(mut d: Details) -> Result<Cluster, String> {
    let mut order = vec![(Role::Primary, d.pgs_primary.clone(), "pgs_primary")];
    order.extend(d.pgs_sync.clone().map(|id| (Role::Sync, id, "pgs_sync")));
    order.extend(
        d.pgs_asyncs
            .iter()
            .map(|id| (Role::Async, id.clone(), "pgs_asyncs")),
    );
    order.extend(
        d.pgs_deposed
            .iter()
            .map(|id| (Role::Deposed, id.clone(), "pgs_deposed")),
    );
    let mut peers = Vec::with_capacity(order.len());
    for (role, id, field) in order {
        let details = d.pgs_peers.remove(&id).ok_or_else(|| {
            format!("{field} names peer \"{id}\", which is not in pgs_peers (or is named twice)")
        })?;
        peers.push(into_peer(role, id, details)?);
    }
    let freeze = if d.pgs_frozen {
        Freeze::Frozen {
            since: d.pgs_freeze_time,
            reason: d.pgs_freeze_reason,
        }
    } else {
        Freeze::Thawed
    };
    Ok(Cluster {
        generation: d.pgs_generation,
        init_wal: d.pgs_initwal,
        singleton: d.pgs_singleton,
        freeze,
        peers,
    })
}

fn into_peer(role: Role, id: String, d: PeerDetails) -> Result<Peer, String> {
    let postgres = match d.pgp_pgerr {
        Some(err) if !err.is_null() => Postgres::Unreachable { reason: None },
        _ => Postgres::Online {
            lag: match &d.pgp_lag {
                Some(units) => Some(
                    lag_from_units(units).map_err(|e| format!("at pgs_peers.{id}.pgp_lag: {e}"))?,
                ),
                None => None,
            },
            downstream: d.pgp_repl.map(|row| Replication {
                state: row.state,
                sync_state: row.sync_state,
                client_addr: row.client_addr,
                sent: row.sent_location,
                write: row.write_location,
                flush: row.flush_location,
                replay: row.replay_location,
            }),
        },
    };
    Ok(Peer {
        role,
        id,
        zone_id: d.pgp_ident.zone_id,
        label: d.pgp_label,
        ip: d.pgp_ident.ip,
        postgres,
    })
}

/// Converts a parsed PostgreSQL interval (`{days, hours, minutes, seconds,
/// milliseconds}`, absent units being zero) into whole seconds.
fn lag_from_units(units: &BTreeMap<String, Value>) -> Result<Lag, String> {
    let mut total: u64 = 0;
    for (unit, value) in units {
        let scale = match unit.as_str() {
            "days" => 86_400,
            "hours" => 3_600,
            "minutes" => 60,
            "seconds" => 1,
            "milliseconds" => continue,
            _ => return Ok(Lag::Unconvertible),
        };
        let amount = value
            .as_f64()
            .filter(|n| *n >= 0.0)
            .ok_or_else(|| format!("{unit} is {value}, not a non-negative number"))?;
        total = total.saturating_add((amount.trunc() as u64).saturating_mul(scale));
    }
    Ok(Lag::Seconds(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(json: &str) -> BTreeMap<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn lag_adds_every_unit_and_drops_fractions() {
        let lag = lag_from_units(&units(
            r#"{"days":1,"hours":1,"minutes":1,"seconds":5.9,"milliseconds":900}"#,
        ));
        assert_eq!(lag, Ok(Lag::Seconds(86_400 + 3_600 + 60 + 5)));
    }

    #[test]
    fn lag_in_months_is_not_converted() {
        assert_eq!(
            lag_from_units(&units(r#"{"months":1,"seconds":3}"#)),
            Ok(Lag::Unconvertible)
        );
    }

    #[test]
    fn negative_lag_is_bad_input() {
        assert!(lag_from_units(&units(r#"{"seconds":-3}"#)).is_err());
    }

    #[test]
    fn a_role_naming_an_unknown_peer_is_reported() {
        let text = r#"{"pgs_peers":{},"pgs_generation":1,"pgs_initwal":"0/0",
            "pgs_primary":"10.0.0.1:5432:12345","pgs_sync":null,"pgs_asyncs":[],
            "pgs_deposed":[],"pgs_singleton":true,"pgs_frozen":false,
            "pgs_freeze_reason":null,"pgs_freeze_time":null}"#;
        let err = parse_snapshot(text).unwrap_err();
        assert!(
            err.contains("pgs_primary names peer \"10.0.0.1:5432:12345\""),
            "{err}"
        );
    }

    #[test]
    fn text_that_is_not_json_says_so() {
        let err = parse_snapshot("[package]").unwrap_err();
        assert!(err.starts_with("not valid JSON: "), "{err}");
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        let err = parse_snapshot(r#"{"pgs_peers":{"a":{"pgp_label":"x"}}}"#).unwrap_err();
        assert!(err.starts_with("at pgs_peers.a"), "{err}");
        assert!(err.contains("pgp_ident"), "{err}");
    }
}
