//! A VMAPI VM decoded straight into a Rhai map.
//!
//! `vmapi::list()` hands scripts ten thousand maps; decoding the page bytes
//! into Rhai values directly (instead of into typed `Vm`s, then converting)
//! keeps one copy in memory, not two. The fields a typed `Vm` requires are
//! still checked, so a record without `uuid` is the same one-line
//! "bad response" error.

use rhai::{Dynamic, Map};
use serde::de::{Deserialize, Deserializer, Error, Unexpected};

#[derive(Debug)]
pub struct VmMap(pub Dynamic);

/// Fields every VM has, as strings (`dc::Vm` requires them too).
const REQUIRED: &[&str] = &["uuid", "state", "owner_uuid"];
/// Fields that are strings when present and not null.
const OPTIONAL_STRINGS: &[&str] = &["alias", "server_uuid"];

impl<'de> Deserialize<'de> for VmMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<VmMap, D::Error> {
        let mut value = Dynamic::deserialize(deserializer)?;
        let Some(mut map) = value.write_lock::<Map>() else {
            return Err(D::Error::invalid_type(
                unexpected(&value),
                &"a VMAPI VM object",
            ));
        };
        check(&map)?;
        fill_defaults(&mut map);
        drop(map);
        Ok(VmMap(value))
    }
}

/// The map a typed `Vm` would have given: `alias` and `server_uuid` always
/// present, `tags` always a map, so `vm.tags.smartdc_role` never fails on a
/// VM without tags.
fn fill_defaults(map: &mut Map) {
    for name in OPTIONAL_STRINGS {
        map.entry((*name).into()).or_insert(Dynamic::UNIT);
    }
    let tags = map.entry("tags".into()).or_insert(Dynamic::UNIT);
    if tags.is_unit() {
        *tags = Map::new().into();
    }
}

fn check<E: Error>(map: &Map) -> Result<(), E> {
    for name in REQUIRED {
        match map.get(*name) {
            None => return Err(E::missing_field(name)),
            Some(v) if !v.is_string() => {
                return Err(E::invalid_type(unexpected(v), &"a string"));
            }
            Some(_) => {}
        }
    }
    for name in OPTIONAL_STRINGS {
        if let Some(v) = map.get(*name)
            && !v.is_string()
            && !v.is_unit()
        {
            return Err(E::invalid_type(unexpected(v), &"a string or null"));
        }
    }
    match map.get("tags") {
        Some(v) if !v.is_map() && !v.is_unit() => {
            Err(E::invalid_type(unexpected(v), &"a map or null"))
        }
        _ => Ok(()),
    }
}

/// What serde's messages call the value that was found instead.
fn unexpected(value: &Dynamic) -> Unexpected<'static> {
    if let Ok(n) = value.as_int() {
        Unexpected::Signed(n)
    } else if let Ok(b) = value.as_bool() {
        Unexpected::Bool(b)
    } else if let Ok(f) = value.as_float() {
        Unexpected::Float(f)
    } else if value.is_array() {
        Unexpected::Seq
    } else if value.is_map() {
        Unexpected::Map
    } else if value.is_unit() {
        Unexpected::Unit
    } else {
        Unexpected::Other("a string")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(json: &str) -> Result<Vec<VmMap>, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn a_vm_becomes_a_map_with_every_field() {
        let vms = decode(
            r#"[{"uuid":"u","alias":null,"state":"running","owner_uuid":"o","tags":{"k":1},"nics":[{"ip":"10.0.0.1"}]}]"#,
        )
        .expect("decodes");
        let map = vms[0].0.read_lock::<Map>().expect("a map");
        assert_eq!(map["uuid"].to_string(), "u");
        assert!(map["alias"].is_unit());
        assert!(map["nics"].is_array());
        assert_eq!(map.len(), 7, "server_uuid is added");
    }

    #[test]
    fn absent_fields_are_filled_as_a_typed_vm_would() {
        let vms =
            decode(r#"[{"uuid":"u","state":"s","owner_uuid":"o","tags":null}]"#).expect("decodes");
        let map = vms[0].0.read_lock::<Map>().expect("a map");
        assert!(map["alias"].is_unit() && map["server_uuid"].is_unit());
        assert!(map["tags"].read_lock::<Map>().is_some_and(|t| t.is_empty()));
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
