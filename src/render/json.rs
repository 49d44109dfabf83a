//! `--json`: script values as JSON for machines.

use rhai::Dynamic;

use crate::script::not_data;
use crate::script::record_value::Json;

/// `value` as pretty JSON (`()` is `null`).
pub fn to_json(value: &Dynamic) -> Result<String, String> {
    if let Some(what) = not_data(value, "the result") {
        return Err(format!("cannot show the result as JSON: {what}"));
    }
    let json = Json {
        value,
        reindent: true,
    };
    serde_json::to_string_pretty(&json).map_err(|e| format!("cannot show the result as JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_and_arrays_become_json() {
        let mut m = rhai::Map::new();
        m.insert("a".into(), Dynamic::from(1_i64));
        m.insert("b".into(), Dynamic::from(vec![Dynamic::from("x")]));
        let json = to_json(&Dynamic::from(m)).unwrap_or_default();
        let back: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, serde_json::json!({"a": 1, "b": ["x"]}));
    }

    #[test]
    fn functions_and_ranges_are_refused_not_named() {
        let engine = rhai::Engine::new();
        let value: Dynamic = engine.eval("[1, #{ f: |x| x }]").unwrap();
        let err = to_json(&value).unwrap_err();
        assert_eq!(
            err,
            "cannot show the result as JSON: the result[1].f is a Fn, which has no JSON form; leave it out"
        );
        let value: Dynamic = engine.eval("1..3").unwrap();
        assert!(to_json(&value).is_err());
    }
}
