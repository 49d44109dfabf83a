//! Script values that may hold [`Record`]s, for the code that looks inside
//! values: JSON output, paths, payloads.

use rhai::{Array, Dynamic, Map};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::record::Record;
use crate::dc::GateMode;

/// `value` with every record in it turned into an ordinary map, for code
/// that reads maps (tables, payloads).
pub fn plain(value: &Dynamic) -> Dynamic {
    if let Some(record) = value.read_lock::<Record>() {
        return Dynamic::from_map(record.to_map());
    }
    if let Some(items) = value.read_lock::<Array>()
        && items.iter().any(holds_records)
    {
        return Dynamic::from_array(items.iter().map(plain).collect());
    }
    if let Some(map) = value.read_lock::<Map>()
        && map.values().any(holds_records)
    {
        return Dynamic::from_map(map.iter().map(|(k, v)| (k.clone(), plain(v))).collect());
    }
    value.clone()
}

fn holds_records(value: &Dynamic) -> bool {
    if value.is::<Record>() {
        return true;
    }
    if let Some(items) = value.read_lock::<Array>() {
        return items.iter().any(holds_records);
    }
    if let Some(map) = value.read_lock::<Map>() {
        return map.values().any(holds_records);
    }
    false
}

/// A script value as JSON: a record unchanged since it was listed is
/// written as the API sent it (or re-indented, for pretty output),
/// anything else as Rhai's serde writes it.
pub struct Json<'a> {
    pub value: &'a Dynamic,
    /// Decode records' text so a pretty printer can indent it.
    pub reindent: bool,
}

impl Json<'_> {
    fn of<'b>(&self, value: &'b Dynamic) -> Json<'b> {
        Json {
            value,
            reindent: self.reindent,
        }
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        if let Some(record) = self.value.read_lock::<Record>() {
            return match (record.raw(), record.plain()) {
                (Some(raw), _) if self.reindent => {
                    let value: serde_json::Value =
                        serde_json::from_str(raw.get()).map_err(serde::ser::Error::custom)?;
                    value.serialize(ser)
                }
                (Some(raw), _) => raw.serialize(ser),
                (None, Some(map)) => self.map(map, ser),
                (None, None) => ser.serialize_unit(),
            };
        }
        if let Some(items) = self.value.read_lock::<Array>() {
            let mut seq = ser.serialize_seq(Some(items.len()))?;
            for item in items.iter() {
                seq.serialize_element(&self.of(item))?;
            }
            return seq.end();
        }
        if let Some(map) = self.value.read_lock::<Map>() {
            return self.map(&map, ser);
        }
        self.value.serialize(ser)
    }
}

impl Json<'_> {
    fn map<S: Serializer>(&self, map: &Map, ser: S) -> Result<S::Ok, S::Error> {
        let mut out = ser.serialize_map(Some(map.len()))?;
        for (k, v) in map {
            out.serialize_entry(k.as_str(), &self.of(v))?;
        }
        out.end()
    }
}

/// The rows of a list call: lazy records, except while a runbook holds the
/// gate (a plan, check, report or dry run: anything but `Send`). Runbooks
/// journal what those calls return with Rhai's serde, which knows only
/// maps; the runbook layer is not ours to change here.
pub fn rows(gate: GateMode, records: impl Iterator<Item = Record>) -> Dynamic {
    let lazy = gate == GateMode::Send;
    Dynamic::from_array(
        records
            .map(|r| {
                if lazy {
                    Dynamic::from(r)
                } else {
                    Dynamic::from_map(r.to_map())
                }
            })
            .collect(),
    )
}

/// Rows of typed records (checked, and with every default filled, by
/// their decoders): each is written back to JSON, which costs far less
/// than building its map, and read from there as any record.
pub fn typed_rows<T: Serialize>(gate: GateMode, items: &[T]) -> Result<Dynamic, String> {
    let records: Result<Vec<Record>, _> = items
        .iter()
        .map(|item| serde_json::value::to_raw_value(item).map(|raw| Record::new(raw, &[])))
        .collect();
    records
        .map(|r| rows(gate, r.into_iter()))
        .map_err(|e| format!("cannot keep a record: {e}"))
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;

    use super::*;

    fn record() -> Record {
        let raw = RawValue::from_string(r#"{"a":{"b":[1,2.5,null]}}"#.into()).expect("json");
        Record::new(raw, &[])
    }

    #[test]
    fn rows_are_records_only_while_the_gate_sends() {
        let lazy = rows(GateMode::Send, std::iter::once(record()));
        assert!(lazy.into_array().expect("an array")[0].is::<Record>());
        for mode in [GateMode::Deny, GateMode::Record] {
            let plain = rows(mode, std::iter::once(record()));
            assert!(
                plain.into_array().expect("an array")[0].is_map(),
                "{mode:?}"
            );
        }
    }

    #[test]
    fn plain_and_json_reach_records_anywhere() {
        let nested = Dynamic::from_map(Map::from_iter([(
            "rows".into(),
            Dynamic::from_array(vec![Dynamic::from(record())]),
        )]));
        let text = serde_json::to_string(&Json {
            value: &nested,
            reindent: false,
        })
        .expect("json");
        assert_eq!(text, r#"{"rows":[{"a":{"b":[1,2.5,null]}}]}"#);
        let plain = plain(&nested);
        assert!(!holds_records(&plain));
        assert_eq!(
            rhai::serde::from_dynamic::<serde_json::Value>(&plain).expect("plain data"),
            serde_json::from_str::<serde_json::Value>(&text).expect("json")
        );
    }
}
