//! One map as key/value rows: keys bold and aligned, values compact and
//! cut to the terminal width. A value that is a list of records (health's
//! instances, a shard's peers) is a table of its own below the rows, under
//! its key: on one line it would be cut to nothing, or run for pages.

use rhai::{Array, Map};

use super::cell;
use super::style;
use super::table;

pub fn render(map: &Map, width: usize, color: bool) -> String {
    if map.is_empty() {
        return "(empty)".to_string();
    }
    let (lists, rows): (Vec<_>, Vec<_>) = map
        .iter()
        .partition(|(_, value)| records_of(value).is_some());
    let mut parts = Vec::new();
    if !rows.is_empty() {
        parts.push(key_value_rows(&rows, width, color));
    }
    for (key, value) in lists {
        let records = records_of(value).unwrap_or_default();
        let title = format!("{} ({})", cell::one_line(key), records.len());
        parts.push(format!(
            "{}\n{}",
            style::header(&title, color),
            table::render(&records, width, color)
        ));
    }
    parts.join("\n\n")
}

/// The records of a non-empty list whose every item is a map.
fn records_of(value: &rhai::Dynamic) -> Option<Vec<Map>> {
    let items = value.read_lock::<Array>()?;
    let records: Vec<Map> = items
        .iter()
        .filter_map(|item| item.read_lock::<Map>().map(|m| m.clone()))
        .collect();
    (!records.is_empty() && records.len() == items.len()).then_some(records)
}

fn key_value_rows<K: AsRef<str>>(
    rows: &[(K, &rhai::Dynamic)],
    width: usize,
    color: bool,
) -> String {
    let key_width = rows
        .iter()
        .map(|(k, _)| cell::width(&cell::one_line(k.as_ref())))
        .max()
        .unwrap_or(0);
    let value_width = width.saturating_sub(key_width + 2).max(10);
    rows.iter()
        .map(|(key, value)| {
            let raw = cell::compact(value);
            let shown = cell::truncate(&raw, value_width);
            let key = key.as_ref();
            let shown = if style::is_verdict_column(key) {
                style::verdict(&raw, &shown, color)
            } else {
                shown
            };
            let key = style::header(&cell::pad(&cell::one_line(key), key_width), color);
            format!("{key}  {shown}").trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Dynamic;

    #[test]
    fn keys_are_aligned_and_long_values_cut() {
        let mut m = Map::new();
        m.insert("alias".into(), "binder0".into());
        m.insert("uuid".into(), Dynamic::from("x".repeat(100)));
        let out = render(&m, 30, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "alias  binder0");
        assert!(
            lines[1].starts_with("uuid   xxx") && lines[1].ends_with('…'),
            "{out}"
        );
        assert!(cell::width(lines[1]) <= 30);
    }

    #[test]
    fn a_list_of_records_is_a_table_under_its_key() {
        let peer = |role: &str| {
            let mut m = Map::new();
            m.insert("role".into(), role.into());
            Dynamic::from_map(m)
        };
        let mut m = Map::new();
        m.insert("mode".into(), "normal".into());
        m.insert(
            "peers".into(),
            Dynamic::from_array(vec![peer("primary"), peer("sync")]),
        );
        m.insert("tags".into(), Dynamic::from_array(vec!["a".into()]));
        let out = render(&m, 80, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "mode  normal", "{out}");
        assert!(lines[1].starts_with("tags"), "{out}");
        assert_eq!(lines[2], "", "{out}");
        assert_eq!(lines[3], "peers (2)", "{out}");
        assert!(lines[4].to_lowercase().contains("role"), "{out}");
        assert_eq!(lines[5].trim(), "primary", "{out}");
        assert_eq!(lines[6].trim(), "sync", "{out}");
    }

    #[test]
    fn empty_map_says_so() {
        assert_eq!(render(&Map::new(), 80, false), "(empty)");
    }
}
