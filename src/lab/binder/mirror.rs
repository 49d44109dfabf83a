//! Binder's in-memory mirror of the ZooKeeper subtree under the DNS domain
//! (binder `lib/zk.js`): one node per name, its parsed record, its
//! children, and a reverse index from host addresses to names for PTR.
//!
//! It keeps what binder keeps when ZooKeeper misbehaves: data that does not
//! parse as a JSON object leaves the node's previous record in place, and a
//! refresh that fails leaves the whole mirror as it was (stale answers
//! rather than none, as binder does when its ZooKeeper loses quorum).
//!
//! And what binder keeps by design: a host's reverse entry outlives its
//! node. binder adds an address when a host record arrives and removes it
//! only when that node's address changes, so the address of a stopped or
//! destroyed instance still answers PTR with its last name (found by
//! Joyent's binder in tests/binder_agreement.rs).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::registration::domain_to_path;

/// One ZooKeeper node as read: its path and its raw data.
#[derive(Clone, Debug)]
pub struct ZkNode {
    pub path: String,
    pub data: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub struct Node {
    /// The last label of its name (a host record's VM UUID).
    pub name: String,
    /// The last data that parsed as a JSON object, if any.
    pub record: Option<Value>,
    /// The full names of its children.
    pub children: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Mirror {
    /// The DNS domain (`joyent.us`): names outside it are not mirrored.
    root: String,
    /// By lowercase name.
    nodes: BTreeMap<String, Node>,
    /// Host address → the host that last registered it, for PTR.
    reverse: HashMap<String, Reverse>,
    /// Binder answers SERVFAIL until its first ZooKeeper session.
    ready: bool,
}

/// A reverse entry: the host's name, and its record when its node went.
#[derive(Clone, Debug)]
struct Reverse {
    name: String,
    last_record: Option<Value>,
}

/// The record types that carry a host address.
pub const HOST_TYPES: &[&str] = &[
    "db_host",
    "host",
    "load_balancer",
    "moray_host",
    "redis_host",
    "ops_host",
    "rr_host",
];

impl Mirror {
    pub fn new(dns_domain: &str) -> Mirror {
        Mirror {
            root: dns_domain.to_lowercase(),
            ..Mirror::default()
        }
    }

    /// The ZooKeeper path the mirror starts at: `/us/joyent`.
    pub fn root_path(&self) -> String {
        domain_to_path(&self.root)
    }

    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// The node for a lowercase name.
    pub fn lookup(&self, name: &str) -> Option<&Node> {
        self.nodes.get(name)
    }

    /// The name of the host that last registered this address, and its
    /// record: the node's current one, or the last it had if it is gone.
    pub fn reverse_lookup(&self, address: &str) -> Option<(&str, Option<&Value>)> {
        let entry = self.reverse.get(address)?;
        let record = match self.nodes.get(&entry.name) {
            Some(node) => node.record.as_ref(),
            None => entry.last_record.as_ref(),
        };
        Some((entry.name.as_str(), record))
    }

    /// Replaces the mirror with a complete read of the subtree (every node
    /// under and including the root path). Nodes that vanished go; their
    /// reverse entries stay (see the module's comment).
    pub fn refresh(&mut self, read: &[ZkNode]) {
        let root_path = self.root_path();
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        for zk in read {
            let Some(name) = path_to_domain(&root_path, &self.root, &zk.path) else {
                continue;
            };
            let previous = self.nodes.get(&name).and_then(|n| n.record.clone());
            let record = match parse(&zk.data) {
                Parsed::Record(value) => Some(value),
                Parsed::Null => None,
                Parsed::Ignored => previous,
            };
            let label = name.split('.').next().unwrap_or_default().to_string();
            nodes.insert(
                name,
                Node {
                    name: label,
                    record,
                    children: Vec::new(),
                },
            );
        }
        let names: Vec<String> = nodes.keys().cloned().collect();
        for name in names {
            if let Some((_, parent)) = name.split_once('.')
                && name != self.root
                && let Some(p) = nodes.get_mut(parent)
            {
                p.children.push(name.clone());
            }
        }
        self.update_reverse(&nodes);
        // Binder is ready once its first session has read the tree, even
        // before anything is registered under it.
        self.ready = true;
        self.nodes = nodes;
    }
}

impl Mirror {
    /// As binder does on each host record that arrives: a new or changed
    /// record takes its address (the node's old address is dropped); an
    /// unchanged one leaves the index alone, so the last to register an
    /// address keeps it.
    fn update_reverse(&mut self, now: &BTreeMap<String, Node>) {
        for (name, gone) in &self.nodes {
            if !now.contains_key(name) {
                for entry in self.reverse.values_mut() {
                    if &entry.name == name {
                        entry.last_record = gone.record.clone();
                    }
                }
            }
        }
        for (name, node) in now {
            let before = self.nodes.get(name).and_then(|n| n.record.as_ref());
            if before == node.record.as_ref() {
                continue;
            }
            let Some(address) = node.record.as_ref().and_then(host_address) else {
                continue;
            };
            if let Some(old) = before.and_then(host_address)
                && old != address
            {
                self.reverse.remove(&old);
            }
            let entry = Reverse {
                name: name.clone(),
                last_record: None,
            };
            self.reverse.insert(address, entry);
        }
    }
}

enum Parsed {
    Record(Value),
    /// `null` replaces the record with none (JavaScript's typeof null is
    /// "object", so binder takes it).
    Null,
    /// Not JSON, or a string or number: binder keeps what it had.
    Ignored,
}

fn parse(data: &[u8]) -> Parsed {
    match serde_json::from_slice::<Value>(data) {
        Ok(Value::Null) => Parsed::Null,
        Ok(v @ (Value::Object(_) | Value::Array(_))) => Parsed::Record(v),
        _ => Parsed::Ignored,
    }
}

/// The address of a host-type record, for the reverse index.
pub fn host_address(record: &Value) -> Option<String> {
    let kind = record.get("type")?.as_str()?;
    if !HOST_TYPES.contains(&kind) {
        return None;
    }
    record.get(kind)?.get("address")?.as_str().map(String::from)
}

/// `/us/joyent/coal/moray` under `/us/joyent` → `moray.coal.joyent.us`.
fn path_to_domain(root_path: &str, root: &str, path: &str) -> Option<String> {
    if path == root_path {
        return Some(root.to_string());
    }
    let below = path.strip_prefix(root_path)?.strip_prefix('/')?;
    let mut labels: Vec<String> = below.split('/').rev().map(str::to_lowercase).collect();
    labels.push(root.to_string());
    Some(labels.join("."))
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub fn node(path: &str, data: &str) -> ZkNode {
        ZkNode {
            path: path.into(),
            data: data.as_bytes().to_vec(),
        }
    }

    #[test]
    fn names_children_and_addresses() {
        let mut m = Mirror::new("joyent.us");
        assert!(!m.is_ready());
        m.refresh(&[
            node("/us/joyent", ""),
            node("/us/joyent/coal", ""),
            node(
                "/us/joyent/coal/moray",
                r#"{"type":"service","service":{}}"#,
            ),
            node(
                "/us/joyent/coal/moray/ABC",
                r#"{"type":"moray_host","address":"10.0.0.1","moray_host":{"address":"10.0.0.1"}}"#,
            ),
            node("/elsewhere/x", "{}"),
        ]);
        assert!(m.is_ready());
        let moray = m.lookup("moray.coal.joyent.us").unwrap();
        assert_eq!(moray.children, ["abc.moray.coal.joyent.us"]);
        assert_eq!(m.lookup("abc.moray.coal.joyent.us").unwrap().name, "abc");
        assert_eq!(
            m.reverse_lookup("10.0.0.1").map(|(name, _)| name),
            Some("abc.moray.coal.joyent.us")
        );
        assert!(m.lookup("coal.joyent.us").unwrap().record.is_none());

        // Unparsable data keeps the last record; a vanished node goes.
        m.refresh(&[
            node("/us/joyent", ""),
            node("/us/joyent/coal", ""),
            node("/us/joyent/coal/moray", "not json"),
        ]);
        assert!(m.lookup("moray.coal.joyent.us").unwrap().record.is_some());
        assert!(m.lookup("abc.moray.coal.joyent.us").is_none());
        // binder keeps a vanished host's address, with its last record.
        let (name, record) = m.reverse_lookup("10.0.0.1").unwrap();
        assert_eq!(name, "abc.moray.coal.joyent.us");
        assert_eq!(record.unwrap()["type"], "moray_host");
    }

    #[test]
    fn an_address_moves_with_its_host_and_the_last_to_register_keeps_it() {
        let host = |ip: &str| format!(r#"{{"type":"host","host":{{"address":"{ip}"}},"ttl":7}}"#);
        let mut m = Mirror::new("joyent.us");
        m.refresh(&[node("/us/joyent/coal/sapi/a", &host("10.0.0.1"))]);
        m.refresh(&[node("/us/joyent/coal/sapi/a", &host("10.0.0.2"))]);
        assert!(m.reverse_lookup("10.0.0.1").is_none());
        assert_eq!(
            m.reverse_lookup("10.0.0.2").unwrap().0,
            "a.sapi.coal.joyent.us"
        );

        // b registers a's address: b has it, and keeps it on the next read.
        for _ in 0..2 {
            m.refresh(&[
                node("/us/joyent/coal/sapi/a", &host("10.0.0.2")),
                node("/us/joyent/coal/sapi/b", &host("10.0.0.2")),
            ]);
            assert_eq!(
                m.reverse_lookup("10.0.0.2").unwrap().0,
                "b.sapi.coal.joyent.us"
            );
        }
    }
}
