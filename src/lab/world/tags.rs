//! VMAPI's one-string tag encoding: `-key1=value1-key2=value2-`.
//!
//! Moray indexes tags as a single string; `-` and `=` inside keys and values are escaped
//! (`%2D`, `%3D`) and non-string values are typed (`%n{5}`, `%b{true}`), so
//! `(tags=*-smartdc_role=binder-*)` matches exactly one key/value pair.

use serde_json::{Map, Value};

/// Escapes `-` and `=` the way VMAPI does for keys and string values.
pub fn escape(s: &str) -> String {
    s.replace('-', "%2D").replace('=', "%3D")
}

/// The stored form of one value.
pub fn encode_value(v: &Value) -> String {
    match v {
        Value::String(s) => escape(s),
        Value::Number(n) => format!("%n{{{n}}}"),
        Value::Bool(b) => format!("%b{{{b}}}"),
        other => escape(&other.to_string()),
    }
}

/// The whole tags object as moray stores it; `""` for no tags.
pub fn encode(tags: &Map<String, Value>) -> String {
    if tags.is_empty() {
        return String::new();
    }
    let mut out = String::from("-");
    for (k, v) in tags {
        out.push_str(&escape(k));
        out.push('=');
        out.push_str(&encode_value(v));
        out.push('-');
    }
    out
}

/// The substrings of the encoded tag string that a `tag.KEY=VALUE` query parameter looks for
/// (any one of them matches): `*` means "key present"; `true`/`false` and numbers also match
/// their typed encodings.
pub fn param_needles(key: &str, value: &str) -> Vec<String> {
    let k = escape(key);
    if value == "*" {
        return vec![format!("-{k}=")];
    }
    let mut needles = vec![format!("-{k}={}-", escape(value))];
    if value == "true" || value == "false" {
        needles.push(format!("-{k}=%b{{{value}}}-"));
    } else if value.parse::<f64>().is_ok() {
        needles.push(format!("-{k}=%n{{{value}}}-"));
    }
    needles
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn encodes_strings_numbers_booleans_and_escapes() {
        let tags = map(json!({"smartdc_role": "binder", "n": 5, "ok": true, "a-b": "x=y"}));
        let enc = encode(&tags);
        assert!(enc.starts_with('-') && enc.ends_with('-'));
        assert!(enc.contains("-smartdc_role=binder-"));
        assert!(enc.contains("-n=%n{5}-"));
        assert!(enc.contains("-ok=%b{true}-"));
        assert!(enc.contains("-a%2Db=x%3Dy-"));
    }

    #[test]
    fn empty_tags_encode_to_empty_string() {
        assert_eq!(encode(&Map::new()), "");
    }

    #[test]
    fn param_needles_cover_typed_values() {
        assert_eq!(param_needles("role", "web"), vec!["-role=web-"]);
        assert_eq!(param_needles("role", "*"), vec!["-role="]);
        assert_eq!(
            param_needles("ok", "true"),
            vec!["-ok=true-", "-ok=%b{true}-"]
        );
        assert_eq!(param_needles("n", "5"), vec!["-n=5-", "-n=%n{5}-"]);
        assert_eq!(param_needles("a-b", "c-d"), vec!["-a%2Db=c%2Dd-"]);
    }
}
