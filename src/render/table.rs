//! Arrays of maps as tables fitted to the terminal width.
//!
//! Operators read the name and the verdict first, so columns are ordered
//! by importance (names, states, placement, addresses, other short values,
//! then UUIDs and long or nested values). When the table is too wide the
//! widest less-important columns are cut (ending in `…`); if that is not
//! enough, the least important columns are dropped and named in a footer.
//! The first column and the verdict columns are never cut nor dropped, and
//! a column of UUIDs is never cut (`fcf596f0-c…` names nothing): it is
//! dropped whole when the table cannot hold it.

use rhai::Map;

use super::cell;
use super::style;

const GAP: usize = 2;
/// A cut column keeps at least this many columns of text (a short UUID).
const MIN_CUT: usize = 9;
/// A value wider than this makes a column "long": it goes last.
const LONG: usize = 40;

struct Column {
    name: String,
    cells: Vec<String>,
    rank: u8,
    width: usize,
    protected: bool,
    /// Holds UUIDs: shown whole or not at all.
    whole: bool,
}

pub fn render(rows: &[Map], width: usize, color: bool) -> String {
    let mut columns = columns(rows);
    let dropped = fit(&mut columns, width);
    let mut out = Vec::with_capacity(rows.len() + 2);
    let header: Vec<String> = columns
        .iter()
        .map(|c| {
            style::header(
                &cell::pad(&cell::truncate(&c.name, c.width), c.width),
                color,
            )
        })
        .collect();
    out.push(header.join(&" ".repeat(GAP)).trim_end().to_string());
    for r in 0..rows.len() {
        let line: Vec<String> = columns
            .iter()
            .map(|c| {
                let raw = &c.cells[r];
                let padded = cell::pad(&cell::truncate(raw, c.width), c.width);
                if style::is_verdict_column(&c.name) {
                    style::verdict(raw, &padded, color)
                } else {
                    padded
                }
            })
            .collect();
        out.push(line.join(&" ".repeat(GAP)).trim_end().to_string());
    }
    if !dropped.is_empty() {
        let note = format!(
            "({} more column{}: {}; select([...]) or --json shows them)",
            dropped.len(),
            if dropped.len() == 1 { "" } else { "s" },
            dropped.join(", ")
        );
        out.push(style::dim(&cell::truncate(&note, width), color));
    }
    out.join("\n")
}

/// Every key of every row, sorted by rank.
fn columns(rows: &[Map]) -> Vec<Column> {
    let mut names: Vec<String> = Vec::new();
    for row in rows {
        for key in row.keys() {
            if !names.iter().any(|n| n == key.as_str()) {
                names.push(key.to_string());
            }
        }
    }
    let mut columns: Vec<Column> = names
        .into_iter()
        .map(|key| {
            let values: Vec<Option<&rhai::Dynamic>> =
                rows.iter().map(|r| r.get(key.as_str())).collect();
            let name = cell::one_line(&key);
            let cells: Vec<String> = values
                .iter()
                .map(|v| v.map(cell::compact).unwrap_or_default())
                .collect();
            let nested = values.iter().flatten().any(|v| v.is_map() || v.is_array());
            let widest = cells.iter().map(|c| cell::width(c)).max().unwrap_or(0);
            let constant = cells.len() > 1 && cells.iter().all(|c| c == &cells[0]);
            let rank = rank(&name, &cells, nested, widest, constant);
            let width = widest.max(cell::width(&name));
            Column {
                protected: style::is_verdict_column(&name),
                whole: cells.iter().any(|c| is_uuid(c)),
                name,
                cells,
                rank,
                width,
            }
        })
        .collect();
    columns.extend(nested_alias(rows));
    // Rhai maps keep keys sorted, so within a rank columns are alphabetical.
    columns.sort_by_key(|c| c.rank);
    if let Some(first) = columns.first_mut() {
        first.protected = true;
    }
    columns
}

/// SAPI keeps an instance's alias in `params.alias`: rows with no `alias`
/// of their own but one there get a `params.alias` column, first, so an
/// instance table is named like a VM table. The `params` column stays.
fn nested_alias(rows: &[Map]) -> Option<Column> {
    if rows.iter().any(|r| r.contains_key("alias")) {
        return None;
    }
    let cells: Vec<String> = rows
        .iter()
        .map(|r| {
            r.get("params")
                .and_then(|p| {
                    p.read_lock::<Map>()
                        .and_then(|p| p.get("alias").map(cell::compact))
                })
                .unwrap_or_default()
        })
        .collect();
    if cells.iter().all(String::is_empty) {
        return None;
    }
    let name = "params.alias".to_string();
    let width = cells
        .iter()
        .map(|c| cell::width(c))
        .max()
        .unwrap_or(0)
        .max(name.len());
    Some(Column {
        name,
        cells,
        rank: 0,
        width,
        protected: false,
        whole: false,
    })
}

fn rank(name: &str, cells: &[String], nested: bool, widest: usize, constant: bool) -> u8 {
    match name {
        "alias" | "hostname" | "name" | "id" => 0,
        _ if style::is_verdict_column(name) => 1,
        "server" | "role" | "service" | "smartdc_role" | "type" => 2,
        "ip" | "ips" | "address" | "admin_ip" | "host" | "port" | "url" => 3,
        "uuid" => 4,
        // A value every row shares tells nothing about any one row.
        _ if constant => 8,
        // What an operator looks at next: where it runs, what it is, how big.
        "server_uuid"
        | "headnode"
        | "setup"
        | "reserved"
        | "brand"
        | "ram"
        | "max_physical_memory"
        | "image_uuid"
        | "current_platform"
        | "job_uuid"
        | "service_uuid"
        | "message" => 5,
        _ if nested || widest > LONG => 9,
        _ if name.ends_with("_uuid") || cells.iter().any(|c| is_uuid(c) || is_timestamp(c)) => 7,
        _ => 6,
    }
}

/// `2026-11-22T04:14:01.000Z`: wide, and rarely what a row is about.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 19 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':'
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Narrows (and if need be drops) columns until the table fits `width`;
/// returns the names of the dropped columns.
fn fit(columns: &mut Vec<Column>, width: usize) -> Vec<String> {
    let mut dropped = Vec::new();
    loop {
        let total: usize =
            columns.iter().map(|c| c.width).sum::<usize>() + GAP * columns.len().saturating_sub(1);
        if total <= width {
            break;
        }
        let mut excess = total - width;
        let slack: usize = columns
            .iter()
            .filter(|c| !c.protected)
            .map(|c| c.width.saturating_sub(min_width(c)))
            .sum();
        if slack >= excess {
            // Take from the widest cuttable column first, one column at a
            // time, so the narrow ones stay whole.
            while excess > 0 {
                let Some(widest) = columns
                    .iter_mut()
                    .filter(|c| !c.protected && c.width > min_width(c))
                    .max_by_key(|c| c.width)
                else {
                    break;
                };
                widest.width -= 1;
                excess -= 1;
            }
            break;
        }
        let Some(last) = columns.iter().rposition(|c| !c.protected) else {
            break;
        };
        dropped.push(columns.remove(last).name);
    }
    dropped
}

fn min_width(c: &Column) -> usize {
    if c.whole {
        return c.width;
    }
    c.width
        .min(MIN_CUT.max(cell::width(&c.name).min(MIN_CUT + 3)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Dynamic;

    fn row(pairs: &[(&str, &str)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), Dynamic::from(v.to_string())))
            .collect()
    }

    const UUID: &str = "3f0b2c1e-8a5d-4e7f-9b6a-1c2d3e4f5a6b";
    const UUID2: &str = "9a1b2c1e-8a5d-4e7f-9b6a-1c2d3e4f5a6b";

    fn vms() -> Vec<Map> {
        vec![
            row(&[
                ("uuid", UUID),
                ("state", "running"),
                ("alias", "binder0"),
                ("server_uuid", UUID),
            ]),
            row(&[
                ("uuid", UUID2),
                ("state", "stopped"),
                ("alias", "binder1"),
                ("server_uuid", UUID2),
            ]),
        ]
    }

    #[test]
    fn an_instance_is_named_by_its_params_alias_first() {
        let mut params = Map::new();
        params.insert("alias".into(), Dynamic::from("papi0"));
        let mut instance = row(&[("uuid", UUID), ("type", "vm")]);
        instance.insert("params".into(), Dynamic::from(params));
        let out = render(&[instance], 200, false);
        let words: Vec<&str> = out
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        assert_eq!(words, ["params.alias", "type", "uuid", "params"]);
        assert!(
            out.lines().nth(1).unwrap_or_default().starts_with("papi0 "),
            "{out}"
        );
    }

    #[test]
    fn columns_are_ordered_by_importance() {
        let out = render(&vms(), 200, false);
        let header = out.lines().next().unwrap_or_default();
        let words: Vec<&str> = header.split_whitespace().collect();
        assert_eq!(words, ["alias", "state", "uuid", "server_uuid"]);
        assert!(
            out.lines()
                .nth(1)
                .unwrap_or_default()
                .starts_with("binder0  running  3f0b2c1e")
        );
    }

    #[test]
    fn every_line_fits_the_width_and_cut_cells_end_in_an_ellipsis() {
        let out = render(&vms(), 50, false);
        for line in out.lines() {
            assert!(cell::width(line) <= 50, "too wide: {line:?}");
        }
        assert!(out.contains('…'), "{out}");
        assert!(out.contains("binder0") && out.contains("running"));
    }

    #[test]
    fn uuids_are_never_cut_only_dropped() {
        let uuid = "fcf596f0-c5a1-4b1e-9d6a-0123456789ab";
        let rows = [row(&[
            ("alias", "papi0"),
            ("uuid", uuid),
            ("note", &"x".repeat(60)),
        ])];
        for width in [120, 70, 50, 30] {
            let out = render(&rows, width, false);
            assert!(
                out.contains(uuid) || !out.contains("fcf596f0"),
                "a cut UUID at width {width}: {out}"
            );
        }
        assert!(render(&rows, 120, false).contains(uuid));
    }

    #[test]
    fn narrow_terminals_drop_low_priority_columns_but_keep_name_and_verdict() {
        let out = render(&vms(), 24, false);
        assert!(out.contains("binder1"), "{out}");
        assert!(out.contains("stopped"), "{out}");
        assert!(!out.contains("server_uuid  "), "{out}");
        assert!(
            out.lines().last().unwrap_or_default().starts_with("("),
            "{out}"
        );
        assert!(out.contains("more column"), "{out}");
    }

    #[test]
    fn columns_every_row_shares_go_after_the_varying_ones() {
        let rows = vec![
            row(&[
                ("alias", "a"),
                ("brand", "joyent"),
                ("ram", "256"),
                ("uuid", UUID),
            ]),
            row(&[
                ("alias", "b"),
                ("brand", "joyent"),
                ("ram", "512"),
                ("uuid", UUID2),
            ]),
        ];
        let out = render(&rows, 200, false);
        let header: Vec<&str> = out
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        assert_eq!(header, ["alias", "uuid", "ram", "brand"]);
    }

    #[test]
    fn missing_keys_leave_empty_cells() {
        let rows = vec![
            row(&[("name", "a"), ("ip", "10.0.0.1")]),
            row(&[("name", "bb")]),
        ];
        let out = render(&rows, 80, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines, ["name  ip", "a     10.0.0.1", "bb"]);
    }

    #[test]
    fn wide_characters_are_aligned_by_display_width() {
        let rows = vec![
            row(&[("name", "日本"), ("x", "1")]),
            row(&[("name", "ab"), ("x", "2")]),
        ];
        let out = render(&rows, 80, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines, ["name  x", "日本  1", "ab    2"]);
    }

    #[test]
    fn no_colour_codes_without_colour_and_some_with_it() {
        assert!(!render(&vms(), 200, false).contains('\u{1b}'));
        let coloured = render(&vms(), 200, true);
        assert!(coloured.contains("\u{1b}[1m"), "bold header: {coloured:?}");
        assert!(
            coloured.contains("\u{1b}[32mrunning"),
            "green running: {coloured:?}"
        );
        assert!(
            coloured.contains("\u{1b}[31mstopped"),
            "red stopped: {coloured:?}"
        );
    }

    #[test]
    fn nested_values_are_compact_and_last() {
        let mut r = row(&[("name", "sapi")]);
        let mut tags = Map::new();
        tags.insert("smartdc_role".into(), "sapi".into());
        r.insert("tags".into(), Dynamic::from(tags));
        r.insert("ram".into(), Dynamic::from(1024_i64));
        let out = render(&[r], 80, false);
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            ["name  ram   tags", "sapi  1024  {smartdc_role: sapi}"]
        );
    }
}
