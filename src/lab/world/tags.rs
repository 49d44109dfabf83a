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

/// The LDAP filter VMAPI builds for a `tag.KEY=VALUE` query parameter.
///
/// `*` means "key present"; `true`/`false` and numbers also match their typed encodings.
pub fn filter_for_param(key: &str, value: &str) -> String {
    let k = escape(key);
    if value == "*" {
        return format!("(tags=*-{k}=*)");
    }
    let mut alts = vec![format!("(tags=*-{k}={}-*)", escape(value))];
    if value == "true" || value == "false" {
        alts.push(format!("(tags=*-{k}=%b{{{value}}}-*)"));
    } else if value.parse::<f64>().is_ok() {
        alts.push(format!("(tags=*-{k}=%n{{{value}}}-*)"));
    }
    if alts.len() == 1 {
        alts.remove(0)
    } else {
        format!("(|{})", alts.concat())
    }
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
    fn param_filters_cover_typed_values() {
        assert_eq!(filter_for_param("role", "web"), "(tags=*-role=web-*)");
        assert_eq!(filter_for_param("role", "*"), "(tags=*-role=*)");
        assert_eq!(
            filter_for_param("ok", "true"),
            "(|(tags=*-ok=true-*)(tags=*-ok=%b{true}-*))"
        );
        assert_eq!(
            filter_for_param("n", "5"),
            "(|(tags=*-n=5-*)(tags=*-n=%n{5}-*))"
        );
        assert_eq!(filter_for_param("a-b", "c-d"), "(tags=*-a%2Db=c%2Dd-*)");
    }
}
