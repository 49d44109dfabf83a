//! One map as key/value rows: keys bold and aligned, values compact and
//! cut to the terminal width.

use rhai::Map;

use super::cell;
use super::style;

pub fn render(map: &Map, width: usize, color: bool) -> String {
    if map.is_empty() {
        return "(empty)".to_string();
    }
    let key_width = map
        .keys()
        .map(|k| cell::width(&cell::one_line(k)))
        .max()
        .unwrap_or(0);
    let value_width = width.saturating_sub(key_width + 2).max(10);
    map.iter()
        .map(|(key, value)| {
            let raw = cell::compact(value);
            let shown = cell::truncate(&raw, value_width);
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
    fn empty_map_says_so() {
        assert_eq!(render(&Map::new(), 80, false), "(empty)");
    }
}
