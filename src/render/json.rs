//! `--json`: script values as JSON for machines.

use rhai::Dynamic;

/// `value` as pretty JSON (`()` is `null`).
pub fn to_json(value: &Dynamic) -> Result<String, String> {
    serde_json::to_string_pretty(value).map_err(|e| format!("cannot show the result as JSON: {e}"))
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
}
