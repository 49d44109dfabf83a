//! A VMAPI VM kept as its JSON text (a lazy [`Record`]).
//!
//! `vmapi::list()` hands scripts ten thousand VMs; each is checked as a
//! typed `Vm` would be (a record without `uuid` is the same one-line "bad
//! response" error), then kept as the text VMAPI sent, decoded field by
//! field when a script reads it.

use std::borrow::Cow;
use std::fmt;

use rhai::{Dynamic, Map};
use serde::de::{Deserialize, Deserializer, Error, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::record::{Defaults, Record};

#[derive(Debug)]
pub struct VmRecord(pub Record);

/// What a typed `Vm` fills in: `alias` and `server_uuid` are () when absent
/// (as for any map), `tags` a map, so `vm.tags.smartdc_role` never fails on
/// a VM without tags.
pub const VM_DEFAULTS: Defaults = &[
    ("alias", || Dynamic::UNIT),
    ("server_uuid", || Dynamic::UNIT),
    ("tags", || Dynamic::from_map(Map::new())),
];

/// The fields a typed `Vm` requires, borrowed from the text: checking them
/// allocates nothing for an ordinary record.
#[derive(serde::Deserialize)]
#[serde(expecting = "a VMAPI VM object")]
#[allow(dead_code)] // read only to check their types
struct Required<'a> {
    #[serde(borrow)]
    uuid: Cow<'a, str>,
    #[serde(borrow)]
    state: Cow<'a, str>,
    #[serde(borrow)]
    owner_uuid: Cow<'a, str>,
    #[serde(borrow, default)]
    alias: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    server_uuid: Option<Cow<'a, str>>,
    #[serde(default)]
    tags: Option<AnyMap>,
}

/// A JSON object, contents not kept.
struct AnyMap;

impl<'de> Deserialize<'de> for AnyMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AnyMap, D::Error> {
        d.deserialize_map(AnyMap)
    }
}

impl<'de> Visitor<'de> for AnyMap {
    type Value = AnyMap;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map or null")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyMap, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(AnyMap)
    }
}

impl<'de> Deserialize<'de> for VmRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<VmRecord, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        if let Err(err) = serde_json::from_str::<Required>(raw.get()) {
            // serde_json's position is inside this record, not the page.
            let text = err.to_string();
            let text = text.split(" at line ").next().unwrap_or(&text);
            return Err(D::Error::custom(text));
        }
        Ok(VmRecord(Record::new(raw, VM_DEFAULTS)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(json: &str) -> Result<Vec<VmRecord>, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn a_vm_keeps_every_field() {
        let vms = decode(
            r#"[{"uuid":"u","alias":null,"state":"running","owner_uuid":"o","tags":{"k":1},"nics":[{"ip":"10.0.0.1"}]}]"#,
        )
        .expect("decodes");
        let map = vms[0].0.to_map();
        assert_eq!(map["uuid"].to_string(), "u");
        assert!(map["alias"].is_unit());
        assert!(map["nics"].is_array());
        assert_eq!(map.len(), 7, "server_uuid is added");
    }

    #[test]
    fn absent_fields_are_filled_as_a_typed_vm_would() {
        let vms =
            decode(r#"[{"uuid":"u","state":"s","owner_uuid":"o","tags":null}]"#).expect("decodes");
        let map = vms[0].0.to_map();
        assert!(map["alias"].is_unit() && map["server_uuid"].is_unit());
        assert!(map["tags"].read_lock::<Map>().is_some_and(|t| t.is_empty()));
        assert!(vms[0].0.get("tags").is_map());
    }

    #[test]
    fn missing_and_wrong_fields_are_errors() {
        let missing = decode(r#"[{"uuid":"u","state":"s"}]"#).expect_err("no owner");
        assert!(
            missing.starts_with("missing field `owner_uuid`"),
            "{missing}"
        );
        let number = decode(r#"[{"uuid":5,"state":"s","owner_uuid":"o"}]"#).expect_err("number");
        assert!(
            number.starts_with("invalid type: integer `5`, expected a string"),
            "{number}"
        );
        let alias = decode(r#"[{"uuid":"u","state":"s","owner_uuid":"o","alias":[]}]"#)
            .expect_err("array alias");
        assert!(alias.starts_with("invalid type: sequence"), "{alias}");
        let tags = decode(r#"[{"uuid":"u","state":"s","owner_uuid":"o","tags":"x"}]"#)
            .expect_err("string tags");
        assert!(tags.contains("expected a map or null"), "{tags}");
        let not_object = decode("[[]]").expect_err("array");
        assert!(
            not_object.contains("expected a VMAPI VM object"),
            "{not_object}"
        );
    }
}
