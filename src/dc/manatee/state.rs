//! The shard's state object (`/manatee/<shard>/state`, ha-core §1.2): read
//! as manatee's own tools read it, and kept field by field so that a write
//! changes only what it means to, in the order the sitter stored it (as
//! manatee-adm's `JSON.stringify` of what it parsed does).

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::cluster::Freeze;
use super::error::ManateeError;
use crate::dc::zk::{ZkEnsemble, ZkError};

/// One peer as the state names it (`lib/shard.js`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerIdent {
    /// `<ip>:<pgPort>:<backupPort>`: what the state machine compares.
    pub id: String,
    pub zone_id: String,
    pub ip: String,
    pub pg_url: String,
}

impl PeerIdent {
    /// PEER in manatee-adm's tables: the zone name's first 8 characters.
    pub fn label(&self) -> String {
        self.zone_id.chars().take(8).collect()
    }
}

/// The parts of the state that say who is where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    pub generation: u64,
    pub init_wal: String,
    pub primary: PeerIdent,
    pub sync: Option<PeerIdent>,
    pub asyncs: Vec<PeerIdent>,
    pub deposed: Vec<PeerIdent>,
    pub freeze: Freeze,
    pub one_node_write_mode: bool,
}

/// The state as stored, its znode version (for the test-and-set of a
/// write), and its topology.
#[derive(Debug, Clone)]
pub struct StateDoc {
    /// Every top-level key in stored order, each value as stored.
    pub fields: IndexMap<String, Box<RawValue>>,
    pub version: i32,
    pub topology: Topology,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    generation: u64,
    primary: Option<PeerIdent>,
    sync: Option<PeerIdent>,
    #[serde(rename = "async")]
    asyncs: Vec<PeerIdent>,
    #[serde(default)]
    deposed: Option<Vec<PeerIdent>>,
    init_wal: String,
    #[serde(default)]
    freeze: Option<serde_json::Value>,
    #[serde(default)]
    one_node_write_mode: Option<serde_json::Value>,
}

pub fn state_path(shard: &str) -> String {
    format!("/manatee/{shard}/state")
}

/// Reads and parses the shard's state. A missing znode is
/// [`ManateeError::NoState`], naming the shards that do exist.
pub async fn read_state(zk: &ZkEnsemble, shard: &str) -> Result<StateDoc, ManateeError> {
    let path = state_path(shard);
    let (data, stat) = match zk.get(&path).await {
        Ok(found) => found,
        Err(ZkError::NoNode { ensemble, .. }) => {
            let known = zk.children("/manatee").await.unwrap_or_default();
            return Err(ManateeError::NoState {
                shard: shard.to_string(),
                ensemble,
                known,
            });
        }
        Err(e) => return Err(e.into()),
    };
    parse_state(&data, stat.version).map_err(|detail| ManateeError::Malformed {
        path,
        ensemble: zk.connect_string(),
        detail,
    })
}

/// Parses stored state bytes; the error says what is wrong and where.
pub fn parse_state(data: &[u8], version: i32) -> Result<StateDoc, String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8 text: {e}"))?;
    let fields: IndexMap<String, Box<RawValue>> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
    let mut de = serde_json::Deserializer::from_str(text);
    let wire: Wire = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = e.path().to_string();
        if at == "." {
            e.inner().to_string()
        } else {
            format!("at {at}: {}", e.inner())
        }
    })?;
    let primary = wire.primary.ok_or_else(|| {
        "it names no primary (\"primary\" is null or absent), so no peer takes writes".to_string()
    })?;
    let freeze = match wire.freeze {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => {
            Freeze::Thawed
        }
        Some(serde_json::Value::Object(o)) => Freeze::Frozen {
            since: o.get("date").and_then(|d| d.as_str()).map(String::from),
            reason: o.get("reason").and_then(|r| r.as_str()).map(String::from),
        },
        Some(_) => Freeze::Frozen {
            since: None,
            reason: None,
        },
    };
    let one_node_write_mode = wire
        .one_node_write_mode
        .is_some_and(|v| !matches!(v, serde_json::Value::Null | serde_json::Value::Bool(false)));
    Ok(StateDoc {
        fields,
        version,
        topology: Topology {
            generation: wire.generation,
            init_wal: wire.init_wal,
            primary,
            sync: wire.sync,
            asyncs: wire.asyncs,
            deposed: wire.deposed.unwrap_or_default(),
            freeze,
            one_node_write_mode,
        },
    })
}

impl StateDoc {
    /// The state as one line of compact JSON, in stored order.
    pub fn to_json(&self) -> String {
        // Serializing raw values and string keys cannot fail.
        serde_json::to_string(&self.fields).unwrap_or_default()
    }

    /// The whole state as a JSON value (key order is not kept).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.to_json()).unwrap_or_default()
    }
}

/// Peer `n` at 10.0.0.n, for the tests that judge peers on plain data.
#[cfg(test)]
impl PeerIdent {
    pub fn numbered(n: u8) -> PeerIdent {
        PeerIdent {
            id: format!("10.0.0.{n}:5432:12345"),
            zone_id: format!("peer{n}-zone"),
            ip: format!("10.0.0.{n}"),
            pg_url: format!("tcp://postgres@10.0.0.{n}:5432/postgres"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NORMAL: &str = r#"{"generation":2,"primary":{"id":"10.0.0.1:5432:12345","zoneId":"9f93657d-2a8d","ip":"10.0.0.1","pgUrl":"tcp://postgres@10.0.0.1:5432/postgres","backupUrl":"http://10.0.0.1:12345"},"sync":null,"async":[],"deposed":[],"initWal":"0/4405D30","oneNodeWriteMode":true,"freeze":true}"#;

    #[test]
    fn stored_order_and_bytes_are_kept() {
        let doc = parse_state(NORMAL.as_bytes(), 3).unwrap();
        assert_eq!(doc.to_json(), NORMAL);
        assert_eq!(doc.version, 3);
        assert_eq!(doc.topology.primary.label(), "9f93657d");
        assert!(doc.topology.one_node_write_mode);
        assert_eq!(
            doc.topology.freeze,
            Freeze::Frozen {
                since: None,
                reason: None
            }
        );
    }

    #[test]
    fn a_state_without_primary_says_so() {
        let text = NORMAL.replace(r#""primary":{"#, r#""primary":null,"x":{"#);
        let err = parse_state(text.as_bytes(), 0).unwrap_err();
        assert!(err.contains("names no primary"), "{err}");
    }

    #[test]
    fn a_bad_field_is_named_with_its_path() {
        let text = NORMAL.replace(r#""ip":"10.0.0.1","#, "");
        let err = parse_state(text.as_bytes(), 0).unwrap_err();
        assert!(err.starts_with("at primary"), "{err}");
        assert!(err.contains("ip"), "{err}");
        let err = parse_state(b"{not json", 0).unwrap_err();
        assert!(err.starts_with("not a JSON object"), "{err}");
    }
}
