//! `/manatee/<shard>/state` and the election nodes, in manatee's own JSON
//! (ha-core.md §1.2–1.3), so manatee-adm reads what the lab writes.
//!
//! Key order follows manatee: a peer that declared itself (the primary, and
//! a deposed former primary) is `id, ip, pgUrl, zoneId, backupUrl`; a peer
//! copied from the election list is `id, zoneId, ip, pgUrl, backupUrl`.
//! Initial setup writes `generation, primary, initWal, deposed, sync, async`,
//! later generations `generation, primary, sync, async, deposed, initWal`.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

pub const PG_PORT: u16 = 5432;
pub const BACKUP_PORT: u16 = 12345;

/// A peer as the state names it. Only `id` is compared.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Peer {
    pub id: String,
    pub zone_id: String,
    pub ip: String,
    pub pg_url: String,
    pub backup_url: String,
}

impl Peer {
    pub fn new(ip: &str, zone_id: &str) -> Peer {
        Peer {
            id: format!("{ip}:{PG_PORT}:{BACKUP_PORT}"),
            zone_id: zone_id.to_string(),
            ip: ip.to_string(),
            pg_url: format!("tcp://postgres@{ip}:{PG_PORT}/postgres"),
            backup_url: format!("http://{ip}:{BACKUP_PORT}"),
        }
    }

    /// The election node's data: the id is in the node's name, not here.
    pub fn election_data(&self) -> String {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Data<'a> {
            zone_id: &'a str,
            ip: &'a str,
            pg_url: &'a str,
            backup_url: &'a str,
        }
        serde_json::to_string(&Data {
            zone_id: &self.zone_id,
            ip: &self.ip,
            pg_url: &self.pg_url,
            backup_url: &self.backup_url,
        })
        .unwrap_or_default()
    }

    /// A peer from its election node: `<id>-<seq>` and its data. A node
    /// lacking `pgUrl` or `backupUrl` gets them made from the id, as the
    /// sitter does.
    pub fn from_election(name: &str, data: &[u8]) -> Option<(Peer, u64)> {
        let (id, seq) = name.rsplit_once('-')?;
        let seq = seq.parse().ok()?;
        let ip = id.split(':').next()?;
        let value: Value = serde_json::from_slice(data).unwrap_or(Value::Null);
        let field = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        let mut peer = Peer::new(ip, &field("zoneId").unwrap_or_default());
        peer.id = id.to_string();
        if let Some(ip) = field("ip") {
            peer.ip = ip;
        }
        if let Some(url) = field("pgUrl") {
            peer.pg_url = url;
        }
        if let Some(url) = field("backupUrl") {
            peer.backup_url = url;
        }
        Some((peer, seq))
    }
}

/// The election list as the sitter sees it: the newest node per id, sorted
/// by id (lexicographically, not by sequence).
pub fn actives(nodes: Vec<(Peer, u64)>) -> Vec<Peer> {
    let mut newest: std::collections::BTreeMap<String, (Peer, u64)> = Default::default();
    for (peer, seq) in nodes {
        match newest.get(&peer.id) {
            Some((_, have)) if *have >= seq => {}
            _ => {
                newest.insert(peer.id.clone(), (peer, seq));
            }
        }
    }
    newest.into_values().map(|(peer, _)| peer).collect()
}

/// A peer written in the order its own sitter writes it.
struct Declared<'a>(&'a Peer);

impl Serialize for Declared<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        let mut map = s.serialize_map(Some(5))?;
        map.serialize_entry("id", &p.id)?;
        map.serialize_entry("ip", &p.ip)?;
        map.serialize_entry("pgUrl", &p.pg_url)?;
        map.serialize_entry("zoneId", &p.zone_id)?;
        map.serialize_entry("backupUrl", &p.backup_url)?;
        map.end()
    }
}

/// A peer written in the order of the election list's entries.
struct Listed<'a>(&'a Peer);

impl Serialize for Listed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        let mut map = s.serialize_map(Some(5))?;
        map.serialize_entry("id", &p.id)?;
        map.serialize_entry("zoneId", &p.zone_id)?;
        map.serialize_entry("ip", &p.ip)?;
        map.serialize_entry("pgUrl", &p.pg_url)?;
        map.serialize_entry("backupUrl", &p.backup_url)?;
        map.end()
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterState {
    pub generation: u64,
    pub primary: Peer,
    pub sync: Option<Peer>,
    #[serde(default)]
    pub r#async: Vec<Peer>,
    #[serde(default)]
    pub deposed: Vec<Peer>,
    pub init_wal: String,
    /// Absent, null, true or `{date, reason}`: truthy means frozen.
    #[serde(default)]
    pub freeze: Option<Value>,
    #[serde(default)]
    pub one_node_write_mode: Option<bool>,
    /// An operator's promotion request, kept as written.
    #[serde(default)]
    pub promote: Option<Value>,
    /// Written by initial setup (`initWal` before `sync`), or later.
    #[serde(skip)]
    pub setup_order: bool,
}

impl ClusterState {
    pub fn parse(data: &[u8]) -> Result<ClusterState, String> {
        let mut state: ClusterState = serde_json::from_slice(data).map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(data);
        state.setup_order = matches!(
            (text.find("\"initWal\""), text.find("\"sync\"")),
            (Some(wal), Some(sync)) if wal < sync
        );
        Ok(state)
    }

    /// The state as manatee stores it: compact JSON, one line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn is_frozen(&self) -> bool {
        match &self.freeze {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(_) => true,
        }
    }

    pub fn onwm(&self) -> bool {
        self.one_node_write_mode == Some(true)
    }

    /// The upstream of a standby: the primary for the sync, the sync for
    /// `async[0]`, `async[i-1]` for `async[i]`.
    pub fn upstream_of(&self, id: &str) -> Option<&Peer> {
        if self.sync.as_ref().is_some_and(|s| s.id == id) {
            return Some(&self.primary);
        }
        let i = self.r#async.iter().position(|p| p.id == id)?;
        match i {
            0 => self.sync.as_ref(),
            i => self.r#async.get(i - 1),
        }
    }
}

impl Serialize for ClusterState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        let sync = self.sync.as_ref().map(Listed);
        let asyncs: Vec<Listed> = self.r#async.iter().map(Listed).collect();
        let deposed: Vec<Declared> = self.deposed.iter().map(Declared).collect();
        map.serialize_entry("generation", &self.generation)?;
        map.serialize_entry("primary", &Declared(&self.primary))?;
        if self.setup_order {
            map.serialize_entry("initWal", &self.init_wal)?;
            map.serialize_entry("deposed", &deposed)?;
            map.serialize_entry("sync", &sync)?;
            map.serialize_entry("async", &asyncs)?;
        } else {
            map.serialize_entry("sync", &sync)?;
            map.serialize_entry("async", &asyncs)?;
            map.serialize_entry("deposed", &deposed)?;
            map.serialize_entry("initWal", &self.init_wal)?;
        }
        if let Some(onwm) = self.one_node_write_mode {
            map.serialize_entry("oneNodeWriteMode", &onwm)?;
        }
        if let Some(freeze) = &self.freeze {
            map.serialize_entry("freeze", freeze)?;
        }
        if let Some(promote) = &self.promote {
            map.serialize_entry("promote", promote)?;
        }
        map.end()
    }
}

/// A WAL position `X/Y` as a number, for comparisons.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.trim().split_once('/')?;
    let hi = u64::from_str_radix(hi, 16).ok()?;
    let lo = u64::from_str_radix(lo, 16).ok()?;
    Some((hi << 32) | lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::fixtures::text as fixture;

    #[test]
    fn a_state_written_again_is_byte_for_byte_manatees() {
        let compact = fixture("manatee-state-normal.compact.json");
        let state = ClusterState::parse(compact.trim().as_bytes()).expect("parses");
        assert_eq!(state.to_json(), compact.trim());
    }

    #[test]
    fn a_takeover_state_keeps_the_deposed_primarys_own_key_order() {
        let pretty = fixture("manatee-state-after-takeover.json");
        let state = ClusterState::parse(pretty.as_bytes()).expect("parses");
        let value: Value = serde_json::from_str(&pretty).expect("json");
        // serde_json's Value sorts keys: compare through that lens, and
        // check the deposed peer's order by hand.
        let written = state.to_json();
        assert_eq!(
            serde_json::from_str::<Value>(&written).expect("json"),
            value
        );
        assert!(written.contains(r#""deposed":[{"id":"10.99.99.16:5432:12345","ip":"#));
    }

    #[test]
    fn election_nodes_keep_the_newest_per_id_and_sort_by_id() {
        let data = Peer::new("127.0.0.12", "z2").election_data();
        assert_eq!(
            data,
            r#"{"zoneId":"z2","ip":"127.0.0.12","pgUrl":"tcp://postgres@127.0.0.12:5432/postgres","backupUrl":"http://127.0.0.12:12345"}"#
        );
        let nodes = vec![
            Peer::from_election("127.0.0.12:5432:12345-0000000003", data.as_bytes()).unwrap(),
            Peer::from_election("127.0.0.11:5432:12345-0000000001", b"{}").unwrap(),
            Peer::from_election("127.0.0.12:5432:12345-0000000000", b"{}").unwrap(),
        ];
        let list = actives(nodes);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].id, "127.0.0.11:5432:12345");
        assert_eq!(list[0].pg_url, "tcp://postgres@127.0.0.11:5432/postgres");
        assert_eq!(list[1].zone_id, "z2");
    }

    #[test]
    fn lsns_compare_as_numbers() {
        assert!(parse_lsn("0/1E4B8D0") > parse_lsn("0/00000000"));
        assert!(parse_lsn("1/0") > parse_lsn("0/FFFFFFFF"));
        assert_eq!(parse_lsn("junk"), None);
    }
}
