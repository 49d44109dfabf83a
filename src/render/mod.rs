//! Turning script values into text for a terminal: tables, key/value
//! rows, JSON, colour.
//!
//! Arrays of maps (what every list call returns) become tables fitted to
//! the terminal width; a map becomes key/value rows; anything else prints
//! as itself.

mod cell;
pub mod json;
pub mod progress;
mod record;
mod style;
mod table;

use std::io::IsTerminal;

use rhai::Dynamic;

use crate::script::record_value::plain;

pub use style::color_wanted;

/// Renders `value` for a terminal `width` columns wide; `color` adds ANSI
/// styles (callers decide with [`color_wanted`]).
///
/// The result has no trailing newline; `()` renders as the empty string.
pub fn render(value: &Dynamic, width: usize, color: bool) -> String {
    // Tables read maps: the records shown are decoded now, and only they.
    let value = &plain(value);
    if value.is_unit() {
        return String::new();
    }
    if let Some(array) = value.read_lock::<rhai::Array>() {
        if array.is_empty() {
            return "(empty)".to_string();
        }
        let rows: Vec<rhai::Map> = array
            .iter()
            .filter_map(|item| item.read_lock::<rhai::Map>().map(|m| m.clone()))
            .collect();
        if rows.len() == array.len() {
            return table::render(&rows, width, color);
        }
        return array
            .iter()
            .map(|item| cell::truncate(&cell::compact(item), width))
            .collect::<Vec<_>>()
            .join("\n");
    }
    if let Some(map) = value.read_lock::<rhai::Map>() {
        return record::render(&map, width, color);
    }
    // A string may come from anyone (a VM's alias, a file): it keeps its
    // lines but cannot send the terminal an escape sequence.
    cell::harmless(&cell::scalar(value))
}

/// The width to fit output into: the terminal's, else `$COLUMNS`, else a
/// generous default. Output that is not for a terminal (a pipe, a file) is
/// never cut: `… | grep UUID` must see whole cells.
pub fn terminal_width() -> usize {
    if !std::io::stdout().is_terminal() {
        return usize::MAX;
    }
    if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size() {
        return usize::from(w).max(20);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w >= 20)
        .unwrap_or(160)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_renders_as_nothing() {
        assert_eq!(render(&Dynamic::UNIT, 80, false), "");
    }

    #[test]
    fn scalars_render_as_themselves() {
        assert_eq!(render(&Dynamic::from(2_i64), 80, false), "2");
        assert_eq!(render(&Dynamic::from("binder0"), 80, false), "binder0");
        assert_eq!(render(&Dynamic::from(true), 80, false), "true");
    }

    #[test]
    fn strings_keep_their_lines_but_not_their_escape_sequences() {
        assert_eq!(
            render(&Dynamic::from("a\x1b[31mred\nnext\r"), 80, false),
            "a\\u{1b}[31mred\nnext\\r"
        );
    }

    #[test]
    fn empty_array_says_so() {
        assert_eq!(
            render(&Dynamic::from(rhai::Array::new()), 80, false),
            "(empty)"
        );
    }

    #[test]
    fn array_of_scalars_is_one_per_line() {
        let a: rhai::Array = vec!["a".into(), 1_i64.into()];
        assert_eq!(render(&Dynamic::from(a), 80, false), "a\n1");
    }
}
