//! One value as text inside a table cell or a key/value row: compact,
//! on one line, measured in terminal columns (not bytes, not chars).

use rhai::Dynamic;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// A scalar printed as itself (strings without quotes).
pub fn scalar(value: &Dynamic) -> String {
    if value.is_unit() {
        return String::new();
    }
    if let Some(s) = value.read_lock::<rhai::ImmutableString>() {
        return s.to_string();
    }
    if value.is_array() || value.is_map() {
        return compact(value);
    }
    value.to_string()
}

/// Any value on one line: nested maps as `{k: v, …}`, arrays as `[a, b]`,
/// line breaks in strings shown as spaces.
pub fn compact(value: &Dynamic) -> String {
    if let Some(array) = value.read_lock::<rhai::Array>() {
        let items: Vec<String> = array.iter().map(compact).collect();
        return format!("[{}]", items.join(", "));
    }
    if let Some(map) = value.read_lock::<rhai::Map>() {
        let items: Vec<String> = map
            .iter()
            .map(|(k, v)| format!("{}: {}", one_line(k), compact(v)))
            .collect();
        return format!("{{{}}}", items.join(", "));
    }
    one_line(&scalar(value))
}

/// `s` harmless to a terminal but kept on its lines: line breaks and tabs
/// stay, other control characters (escape, carriage return) are written
/// out, as [`one_line`] does.
pub fn harmless(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// `s` on one line and harmless to a terminal: line breaks and tabs become
/// spaces, other control characters are written out (`\u{1b}`). Records
/// carry text anyone may set (a customer's VM alias or tags): an escape
/// sequence in it must not repaint or retitle the operator's terminal.
pub fn one_line(s: &str) -> String {
    if !s.contains(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// Display width in terminal columns.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` columns, ending in `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `s` followed by spaces up to `w` columns.
pub fn pad(s: &str, w: usize) -> String {
    let have = width(s);
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(have)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_counts_wide_characters_as_two_columns() {
        assert_eq!(truncate("日本語テキスト", 5), "日本…");
        assert_eq!(width(&truncate("日本語テキスト", 5)), 5);
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }

    #[test]
    fn compact_nested_values_on_one_line() {
        let mut m = rhai::Map::new();
        m.insert("role".into(), "binder".into());
        m.insert(
            "n".into(),
            Dynamic::from(vec![Dynamic::from(1_i64), "a\nb".into()]),
        );
        assert_eq!(compact(&Dynamic::from(m)), "{n: [1, a b], role: binder}");
    }

    #[test]
    fn escape_sequences_from_records_are_written_out_not_sent() {
        let mut m = rhai::Map::new();
        m.insert("k\u{1b}]0;x\u{7}".into(), "\u{1b}[31mred".into());
        assert_eq!(
            compact(&Dynamic::from(m)),
            "{k\\u{1b}]0;x\\u{7}: \\u{1b}[31mred}"
        );
    }
}
