//! The VMAPI VM record.
//!
//! Lists of VMs are the largest answers the shell decodes (ten thousand
//! records of ~40 keys), so the decoder is written by hand: serde's
//! `flatten` would first buffer every record into an intermediate tree and
//! then copy it into `extra`; this visitor puts each field where it belongs
//! in one pass.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Vm {
    pub uuid: String,
    pub alias: Option<String>,
    /// `running`, `stopped`, `provisioning`, `failed`, `destroyed`, …
    pub state: String,
    /// Set at allocation; null for a VM that never got a server.
    pub server_uuid: Option<String>,
    pub owner_uuid: String,
    /// Values may be strings, numbers or booleans.
    pub tags: Map<String, Value>,
    /// Every other field, as VMAPI sent it.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Vm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Vm, D::Error> {
        deserializer.deserialize_map(VmVisitor)
    }
}

struct VmVisitor;

impl<'de> Visitor<'de> for VmVisitor {
    type Value = Vm;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a VMAPI VM object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vm, A::Error> {
        let mut uuid = None;
        let mut alias = None;
        let mut state = None;
        let mut server_uuid = None;
        let mut owner_uuid = None;
        let mut tags = None;
        let mut extra = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "uuid" => uuid = Some(map.next_value::<String>()?),
                "alias" => alias = map.next_value::<Option<String>>()?,
                "state" => state = Some(map.next_value::<String>()?),
                "server_uuid" => server_uuid = map.next_value::<Option<String>>()?,
                "owner_uuid" => owner_uuid = Some(map.next_value::<String>()?),
                "tags" => tags = map.next_value::<Option<Map<String, Value>>>()?,
                _ => {
                    let value = map.next_value::<Value>()?;
                    extra.insert(key, value);
                }
            }
        }
        Ok(Vm {
            uuid: uuid.ok_or_else(|| de::Error::missing_field("uuid"))?,
            alias,
            state: state.ok_or_else(|| de::Error::missing_field("state"))?,
            server_uuid,
            owner_uuid: owner_uuid.ok_or_else(|| de::Error::missing_field("owner_uuid"))?,
            tags: tags.unwrap_or_default(),
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_land_in_place() {
        let vm: Vm = serde_json::from_str(
            r#"{"uuid":"u","alias":"a","state":"running","server_uuid":"s","owner_uuid":"o","tags":{"k":1},"ram":1024}"#,
        )
        .expect("decodes");
        assert_eq!(
            (vm.uuid.as_str(), vm.alias.as_deref(), vm.state.as_str()),
            ("u", Some("a"), "running")
        );
        assert_eq!(
            (vm.server_uuid.as_deref(), vm.owner_uuid.as_str()),
            (Some("s"), "o")
        );
        assert_eq!(vm.tags["k"], 1);
        assert_eq!(vm.extra.len(), 1);
        assert_eq!(vm.extra["ram"], 1024);
    }

    #[test]
    fn missing_and_wrong_fields_are_errors() {
        let missing =
            serde_json::from_str::<Vm>(r#"{"uuid":"u","owner_uuid":"o"}"#).expect_err("no state");
        assert!(
            missing.to_string().starts_with("missing field `state`"),
            "{missing}"
        );
        let wrong = serde_json::from_str::<Vm>(r#"{"uuid":5,"state":"x","owner_uuid":"o"}"#)
            .expect_err("number uuid");
        assert!(
            wrong
                .to_string()
                .starts_with("invalid type: integer `5`, expected a string"),
            "{wrong}"
        );
        let not_object = serde_json::from_str::<Vm>("[]").expect_err("array");
        assert!(
            not_object
                .to_string()
                .contains("expected a VMAPI VM object"),
            "{not_object}"
        );
    }

    #[test]
    fn null_tags_are_empty() {
        let vm: Vm =
            serde_json::from_str(r#"{"uuid":"u","state":"s","owner_uuid":"o","tags":null}"#)
                .expect("decodes");
        assert!(vm.tags.is_empty());
        assert_eq!((vm.alias, vm.server_uuid), (None, None));
    }
}
