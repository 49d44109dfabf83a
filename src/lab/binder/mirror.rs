//! Binder's in-memory mirror of the ZooKeeper subtree under the DNS domain
//! (binder `lib/zk.js`): one node per name, its parsed record, its
//! children, and a reverse index from host addresses to names for PTR.
//!
//! It keeps what binder keeps when ZooKeeper misbehaves: data that does not
//! parse as a JSON object leaves the node's previous record in place, and a
//! refresh that fails leaves the whole mirror as it was (stale answers
//! rather than none, as binder does when its ZooKeeper loses quorum).

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
    /// Host address → name, for PTR.
    reverse: HashMap<String, String>,
    /// Binder answers SERVFAIL until its first ZooKeeper session.
    ready: bool,
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

    /// The name whose host record has this address.
    pub fn reverse_lookup(&self, address: &str) -> Option<&str> {
        self.reverse.get(address).map(String::as_str)
    }

    /// Replaces the mirror with a complete read of the subtree (every node
    /// under and including the root path). Nodes that vanished go, with
    /// their reverse entries.
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
        self.reverse = nodes
            .iter()
            .filter_map(|(name, node)| Some((host_address(node.record.as_ref()?)?, name.clone())))
            .collect();
        // Binder is ready once its first session has read the tree, even
        // before anything is registered under it.
        self.ready = true;
        self.nodes = nodes;
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
            m.reverse_lookup("10.0.0.1"),
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
        assert_eq!(m.reverse_lookup("10.0.0.1"), None);
    }
}
