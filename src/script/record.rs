//! A record as the API sent it, turned into Rhai values only where a
//! script looks.
//!
//! `vmapi::list()` of a large datacenter is ten thousand records that a
//! script mostly counts, filters on one field or prints a few columns of.
//! Building a nested Rhai map for every field of every record cost more
//! than fetching them; a `Record` keeps the record's JSON text and decodes
//! one field when it is read. The first write (`vm.alias = "x"`) turns it
//! into an ordinary map, so changes behave as they do on any map.

use std::sync::Arc;

use rhai::{Dynamic, Map};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// Fields a record has even when the API left them out, and their value
/// then (a typed `Vm` fills them the same way).
pub type Defaults = &'static [(&'static str, fn() -> Dynamic)];

#[derive(Clone, Debug)]
pub struct Record {
    state: State,
    defaults: Defaults,
}

#[derive(Clone, Debug)]
enum State {
    /// One JSON object, as sent; shared by every clone of the record.
    Raw(Arc<RawValue>),
    /// Written to: an ordinary map from now on.
    Plain(Map),
}

impl Record {
    /// `raw` must be a JSON object (the list decoders check it).
    pub fn new(raw: Box<RawValue>, defaults: Defaults) -> Record {
        Record {
            state: State::Raw(Arc::from(raw)),
            defaults,
        }
    }

    /// The value of one field; `()` when there is none, as for a map.
    pub fn get(&self, key: &str) -> Dynamic {
        let found = match &self.state {
            State::Plain(map) => return map.get(key).cloned().unwrap_or(Dynamic::UNIT),
            State::Raw(raw) => field(raw, key).and_then(|v| decode(v.get())),
        };
        match found {
            Some(v) if !v.is_unit() => v,
            _ => self.default(key),
        }
    }

    /// Sets one field, turning the record into a map first.
    pub fn set(&mut self, key: &str, value: Dynamic) {
        self.plain_mut().insert(key.into(), value);
    }

    /// Removes one field; its value, or `()`.
    pub fn remove(&mut self, key: &str) -> Dynamic {
        self.plain_mut().remove(key).unwrap_or(Dynamic::UNIT)
    }

    /// Makes the record the map `map` (what a map function changed it to).
    pub fn replace(&mut self, map: Map) {
        self.state = State::Plain(map);
    }

    /// Every field as a Rhai map (defaults filled), leaving `self` as is.
    pub fn to_map(&self) -> Map {
        match &self.state {
            State::Plain(map) => map.clone(),
            State::Raw(raw) => {
                let mut map = decode(raw.get())
                    .and_then(|d| d.try_cast::<Map>())
                    .unwrap_or_default();
                for (name, default) in self.defaults {
                    let slot = map.entry((*name).into()).or_insert(Dynamic::UNIT);
                    if slot.is_unit() {
                        *slot = default();
                    }
                }
                map
            }
        }
    }

    /// The record's JSON text, as the API sent it, while it is unchanged.
    pub fn raw(&self) -> Option<&RawValue> {
        match &self.state {
            State::Raw(raw) => Some(raw),
            State::Plain(_) => None,
        }
    }

    /// The map, once written to.
    pub fn plain(&self) -> Option<&Map> {
        match &self.state {
            State::Plain(map) => Some(map),
            State::Raw(_) => None,
        }
    }

    fn plain_mut(&mut self) -> &mut Map {
        if let State::Raw(_) = self.state {
            self.state = State::Plain(self.to_map());
        }
        match &mut self.state {
            State::Plain(map) => map,
            State::Raw(_) => unreachable!("just made plain"),
        }
    }

    fn default(&self, key: &str) -> Dynamic {
        self.defaults
            .iter()
            .find(|(name, _)| *name == key)
            .map_or(Dynamic::UNIT, |(_, make)| make())
    }
}

/// JSON text as Rhai values (integers stay integers, as everywhere else).
fn decode(json: &str) -> Option<Dynamic> {
    serde_json::from_str::<Dynamic>(json).ok()
}

/// The JSON of field `key` of the object `raw`: one pass over the text,
/// nothing allocated for the fields passed over.
fn field<'a>(raw: &'a RawValue, key: &str) -> Option<&'a RawValue> {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    de.deserialize_map(FieldVisitor { key }).ok().flatten()
}

struct FieldVisitor<'k> {
    key: &'k str,
}

impl<'de> Visitor<'de> for FieldVisitor<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // serde_json wants the whole object read, found or not; the last
        // of duplicate keys wins, as when decoding the whole record.
        let mut found = None;
        while let Some(is_key) = map.next_key_seed(KeyIs(self.key))? {
            if is_key {
                found = Some(map.next_value::<&RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Whether a key equals the one looked for, escaped keys included.
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAGS: Defaults = &[("tags", || Dynamic::from_map(Map::new()))];

    fn record(json: &str) -> Record {
        Record::new(RawValue::from_string(json.into()).expect("json"), TAGS)
    }

    #[test]
    fn fields_are_decoded_when_read() {
        let r = record(r#"{"alias":"a\"b","n":3,"nics":[{"ip":"10.0.0.1"}],"x\u0041":1}"#);
        assert_eq!(r.get("alias").to_string(), "a\"b");
        assert_eq!(r.get("n").as_int(), Ok(3));
        assert!(r.get("nics").is_array());
        assert_eq!(r.get("xA").as_int(), Ok(1), "escaped keys are found");
        assert!(r.get("missing").is_unit());
        assert!(r.get("tags").is_map(), "a default fills a missing field");
    }

    #[test]
    fn a_write_makes_a_map_and_keeps_the_other_fields() {
        let mut r = record(r#"{"alias":"a","state":"running"}"#);
        r.set("alias", "b".into());
        assert!(r.raw().is_none());
        assert_eq!(r.get("alias").to_string(), "b");
        assert_eq!(r.get("state").to_string(), "running");
        assert!(r.get("tags").is_map());
        assert_eq!(r.remove("state").to_string(), "running");
        assert!(r.get("state").is_unit());
    }
}
