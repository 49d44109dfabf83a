//! A JSON object that keeps its keys in insertion order.
//!
//! serde_json's `Map` sorts keys (the crate is built without `preserve_order`), but the twins must
//! answer with keys in the order the real services use, so renderings are built with this.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Obj(Vec<(String, Node)>);

/// A value inside an `Obj`: plain JSON, or a nested ordered object / list of them.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Value(Value),
    Obj(Obj),
    List(Vec<Obj>),
}

impl Node {
    fn to_value(&self) -> Value {
        match self {
            Node::Value(v) => v.clone(),
            Node::Obj(o) => o.to_value(),
            Node::List(l) => Value::Array(l.iter().map(Obj::to_value).collect()),
        }
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Value(v) => v.serialize(serializer),
            Node::Obj(o) => o.serialize(serializer),
            Node::List(l) => l.serialize(serializer),
        }
    }
}

impl Obj {
    pub fn new() -> Obj {
        Obj(Vec::new())
    }

    pub fn put(&mut self, key: &str, value: impl Into<Value>) {
        self.0.push((key.to_string(), Node::Value(value.into())));
    }

    pub fn put_obj(&mut self, key: &str, value: Obj) {
        self.0.push((key.to_string(), Node::Obj(value)));
    }

    pub fn put_list(&mut self, key: &str, value: Vec<Obj>) {
        self.0.push((key.to_string(), Node::List(value)));
    }

    /// The value under `key`, as plain JSON.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.to_value())
    }

    /// Keeps only the named keys, in their original order.
    pub fn retain_keys(&mut self, keep: &[&str]) {
        self.0.retain(|(k, _)| keep.contains(&k.as_str()));
    }

    pub fn remove(&mut self, key: &str) {
        self.0.retain(|(k, _)| k != key);
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".to_string())
    }

    /// A (key-sorted) `Value` for code that wants to inspect the rendering.
    pub fn to_value(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), v.to_value()))
                .collect(),
        )
    }
}

impl Serialize for Obj {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_insertion_order_and_filters() {
        let mut o = Obj::new();
        o.put("uuid", "u");
        o.put("alias", Value::Null);
        o.put("brand", "joyent");
        assert_eq!(
            o.to_json_string(),
            r#"{"uuid":"u","alias":null,"brand":"joyent"}"#
        );
        o.retain_keys(&["brand", "uuid"]);
        assert_eq!(o.to_json_string(), r#"{"uuid":"u","brand":"joyent"}"#);
        assert_eq!(o.get("brand"), Some(Value::from("joyent")));
        let mut inner = Obj::new();
        inner.put("z", 1);
        inner.put("a", 2);
        o.put_list("nics", vec![inner]);
        assert_eq!(
            o.to_json_string(),
            r#"{"uuid":"u","brand":"joyent","nics":[{"z":1,"a":2}]}"#
        );
    }
}
