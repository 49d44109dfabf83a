//! Between Rhai values and the datacenter layer: records out as maps,
//! filter maps in as query pairs, payload maps in as JSON.

use rhai::{Dynamic, EvalAltResult, ImmutableString, Map, NativeCallContext};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::record::Record;
use super::record_value::Json;
use crate::dc::Query;

pub type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

/// A record (or list of records) as Rhai maps and arrays, every field kept.
pub fn to_map<T: Serialize>(record: &T) -> Result<Dynamic> {
    rhai::serde::to_dynamic(record)
}

/// Filter maps become query pairs verbatim: `#{"tag.smartdc_role": "binder"}`
/// is `tag.smartdc_role=binder`; numbers and booleans are written out,
/// arrays joined with commas.
pub fn query(function: &str, filters: &Map) -> Result<Query> {
    filters
        .iter()
        .map(|(key, value)| Ok((key.to_string(), query_value(function, key, value)?)))
        .collect()
}

fn query_value(function: &str, key: &str, value: &Dynamic) -> Result<String> {
    if let Some(items) = value.read_lock::<rhai::Array>() {
        let parts: Result<Vec<String>> = items
            .iter()
            .map(|v| query_value(function, key, v))
            .collect();
        return Ok(parts?.join(","));
    }
    if let Some(s) = value.read_lock::<ImmutableString>() {
        return Ok(s.to_string());
    }
    if value.is_int() || value.is_float() || value.is_bool() || value.is_char() {
        return Ok(value.to_string());
    }
    Err(format!(
        "{function}: filter {key} must be a string, number, boolean or array, not {}",
        value.type_name()
    )
    .into())
}

/// A script map as the typed body the datacenter layer sends.
pub fn from_map<T: DeserializeOwned>(function: &str, what: &str, value: &Dynamic) -> Result<T> {
    // serde would send a closure as its internal name ("anon$5f4a…"),
    // writing garbage into the datacenter: refuse anything that is not data.
    if let Some(detail) = not_data(value, what) {
        return Err(format!("{function}: {detail}").into());
    }
    let json = Json {
        value,
        reindent: false,
    };
    let json = serde_json::to_value(json).map_err(|e| format!("{function}: {what}: {e}"))?;
    serde_json::from_value(json).map_err(|e| format!("{function}: {what}: {e}").into())
}

/// Where `value` holds something that is not data (a function, a range, a
/// timestamp…), as "`at` [2].f is a Fn, which has no JSON form; leave it
/// out". Rhai's serde would print such values as their Rust type name
/// ("anon$45b4…", "core::ops::range::Range<i64>"), a silent lie in JSON.
pub fn not_data(value: &Dynamic, at: &str) -> Option<String> {
    if value.is_array() {
        let items = value.read_lock::<rhai::Array>()?;
        return items
            .iter()
            .enumerate()
            .find_map(|(i, item)| not_data(item, &format!("{at}[{i}]")));
    }
    if let Some(record) = value.read_lock::<Record>() {
        // Unchanged, it is JSON by construction; changed, it is a map.
        let map = record.plain()?;
        return map
            .iter()
            .find_map(|(k, item)| not_data(item, &format!("{at}.{k}")));
    }
    if value.is_map() {
        let map = value.read_lock::<rhai::Map>()?;
        return map
            .iter()
            .find_map(|(k, item)| not_data(item, &format!("{at}.{k}")));
    }
    let plain = value.is_unit()
        || value.is_bool()
        || value.is_int()
        || value.is_float()
        || value.is_string()
        || value.is_char()
        || value.is_blob();
    (!plain).then(|| {
        format!(
            "{at} is a {}, which has no JSON form; leave it out",
            value.type_name()
        )
    })
}

/// Rhai leaves no position on errors from module functions (`vmapi::get`);
/// the call's own position is what tells the user which call failed.
pub fn at<T>(cx: &NativeCallContext, result: Result<T>) -> Result<T> {
    result.map_err(|mut err| {
        if err.position().is_none() {
            err.set_position(cx.call_position());
        }
        err
    })
}

/// Whether `s` is a UUID (then it is looked up as one, not as a name).
pub fn is_uuid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok()
}

/// The single record among `found` named `name`, or an error saying there
/// is none (and how to list them) or several (and how to choose).
pub fn one<T>(
    found: Vec<T>,
    what: &str,
    name: &str,
    list_hint: &str,
    uuid: impl Fn(&T) -> &str,
) -> Result<T> {
    let mut found = found;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(format!("no {what} named {name} ({list_hint} lists them)").into()),
        n => {
            let uuids: Vec<&str> = found.iter().map(uuid).collect();
            Err(format!(
                "{n} {what}s are named {name}: {} (use a uuid)",
                uuids.join(", ")
            )
            .into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_sent_verbatim() {
        let mut m = Map::new();
        m.insert("tag.smartdc_role".into(), "binder".into());
        m.insert("limit".into(), Dynamic::from(5_i64));
        m.insert(
            "uuids".into(),
            Dynamic::from(vec![Dynamic::from("a"), Dynamic::from("b")]),
        );
        let q = query("vmapi::list", &m).unwrap_or_default();
        assert!(q.contains(&("tag.smartdc_role".into(), "binder".into())));
        assert!(q.contains(&("limit".into(), "5".into())));
        assert!(q.contains(&("uuids".into(), "a,b".into())));
    }

    #[test]
    fn nested_maps_are_refused_with_the_key() {
        let mut m = Map::new();
        m.insert("tags".into(), Dynamic::from(Map::new()));
        let err = query("vmapi::list", &m)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("vmapi::list: filter tags must be"), "{err}");
    }
}
