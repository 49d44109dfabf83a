//! manatee-adm's table columns (`-o`, `-H`) and its table layout: every cell
//! padded on the right to the column's width and never truncated, cells
//! joined by one space, so lines keep trailing spaces (scripts that parse
//! `peers -o …` depend on this being exact).

use super::cluster::{Lag, Peer, Postgres, Replication, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    PeerName,
    PeerAbbr,
    Role,
    Ip,
    PgOnline,
    PgRepl,
    PgSent,
    PgWrite,
    PgFlush,
    PgReplay,
    PgLag,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnError {
    #[error("unsupported column: \"{0}\"")]
    Unsupported(String),
    #[error("column not available with this subcommand: \"{0}\"")]
    NeedsPostgres(&'static str),
}

const ALL: [Column; 11] = [
    Column::PeerName,
    Column::PeerAbbr,
    Column::Role,
    Column::Ip,
    Column::PgOnline,
    Column::PgRepl,
    Column::PgSent,
    Column::PgWrite,
    Column::PgFlush,
    Column::PgReplay,
    Column::PgLag,
];

/// `peers` lists the topology only; it never asks PostgreSQL.
pub const PEERS_DEFAULT: &[Column] = &[Column::Role, Column::PeerName, Column::Ip];

/// `pg-status` and `show`; there is deliberately no WRITE column.
pub const PG_STATUS_DEFAULT: &[Column] = &[
    Column::Role,
    Column::PeerAbbr,
    Column::PgOnline,
    Column::PgRepl,
    Column::PgSent,
    Column::PgFlush,
    Column::PgReplay,
    Column::PgLag,
];

impl Column {
    /// Name (as `-o` takes it), label and width.
    fn spec(self) -> (&'static str, &'static str, usize) {
        match self {
            Column::PeerName => ("peername", "PEERNAME", 36),
            Column::PeerAbbr => ("peerabbr", "PEER", 8),
            Column::Role => ("role", "ROLE", 8),
            Column::Ip => ("ip", "IP", 16),
            Column::PgOnline => ("pg-online", "PG", 4),
            Column::PgRepl => ("pg-repl", "REPL", 5),
            Column::PgSent => ("pg-sent", "SENT", 13),
            Column::PgWrite => ("pg-write", "WRITE", 13),
            Column::PgFlush => ("pg-flush", "FLUSH", 13),
            Column::PgReplay => ("pg-replay", "REPLAY", 13),
            Column::PgLag => ("pg-lag", "LAG", 6),
        }
    }

    pub fn label(self) -> &'static str {
        self.spec().1
    }

    pub fn width(self) -> usize {
        self.spec().2
    }

    pub fn needs_postgres(self) -> bool {
        self.spec().0.starts_with("pg-")
    }

    /// One `-o` word; `zonename`/`zoneabbr` are the older names.
    pub fn parse(name: &str) -> Result<Column, ColumnError> {
        let name = match name {
            "zonename" => "peername",
            "zoneabbr" => "peerabbr",
            other => other,
        };
        ALL.into_iter()
            .find(|c| c.spec().0 == name)
            .ok_or_else(|| ColumnError::Unsupported(name.to_string()))
    }

    /// Every `-o` value (each may hold a comma-separated list), in order.
    pub fn parse_list(options: &[String]) -> Result<Vec<Column>, ColumnError> {
        options
            .iter()
            .flat_map(|o| o.split(','))
            .map(Column::parse)
            .collect()
    }

    pub fn cell(self, peer: &Peer) -> String {
        let online = match &peer.postgres {
            Postgres::Online { lag, downstream } => Some((lag, downstream.as_ref())),
            Postgres::Unreachable { .. } => None,
        };
        let row = online.and_then(|(_, row)| row.filter(|r| r.state.is_some()));
        let position = |pick: fn(&Replication) -> &Option<String>| {
            row.and_then(|r| pick(r).clone())
                .unwrap_or_else(|| "-".into())
        };
        match self {
            Column::PeerName => peer.zone_id.clone(),
            Column::PeerAbbr => peer.label.clone(),
            Column::Role => peer.role.name().into(),
            Column::Ip => peer.ip.clone(),
            Column::PgOnline => if online.is_some() { "ok" } else { "fail" }.into(),
            Column::PgRepl => position(|r| &r.sync_state),
            Column::PgSent => position(|r| &r.sent),
            Column::PgWrite => position(|r| &r.write),
            Column::PgFlush => position(|r| &r.flush),
            Column::PgReplay => position(|r| &r.replay),
            Column::PgLag => match online {
                Some((Some(lag), _)) if peer.role != Role::Primary => format_lag(*lag),
                _ => "-".into(),
            },
        }
    }
}

/// Total minutes and seconds, `5m42s`, `1441m05s`: minutes are not rolled
/// into hours so that lags compare at a glance down the column.
pub fn format_lag(lag: Lag) -> String {
    match lag {
        Lag::Seconds(s) => format!("{}m{:02}s", s / 60, s % 60),
        Lag::Unconvertible => "?".into(),
    }
}

/// The table for `peers` (in order), with a header line unless
/// `omit_header`; nothing at all when there are no peers.
pub fn table(columns: &[Column], peers: &[&Peer], omit_header: bool) -> String {
    if peers.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    if !omit_header {
        push_line(&mut out, columns, |c| c.label().to_string());
    }
    for peer in peers {
        push_line(&mut out, columns, |c| c.cell(peer));
    }
    out
}

fn push_line(out: &mut String, columns: &[Column], text: impl Fn(Column) -> String) {
    let cells: Vec<String> = columns
        .iter()
        .map(|&c| format!("{:<width$}", text(c), width = c.width()))
        .collect();
    out.push_str(&cells.join(" "));
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(role: Role, postgres: Postgres) -> Peer {
        Peer {
            role,
            id: "10.0.0.1:5432:12345".into(),
            zone_id: "301e2d2c-cd09-11e4-837d-13ea7132a060".into(),
            label: "301e2d2c".into(),
            ip: "10.0.0.1".into(),
            postgres,
        }
    }

    fn streaming() -> Replication {
        Replication {
            state: Some("streaming".into()),
            sync_state: Some("sync".into()),
            client_addr: Some("10.0.0.2".into()),
            sent: Some("0/3000060".into()),
            write: Some("0/3000050".into()),
            flush: Some("0/3000040".into()),
            replay: Some("0/3000030".into()),
        }
    }

    #[test]
    fn lag_is_total_minutes_and_two_digit_seconds() {
        assert_eq!(format_lag(Lag::Seconds(0)), "0m00s");
        assert_eq!(format_lag(Lag::Seconds(342)), "5m42s");
        assert_eq!(format_lag(Lag::Seconds(1441 * 60 + 5)), "1441m05s");
        assert_eq!(format_lag(Lag::Unconvertible), "?");
    }

    #[test]
    fn lsn_columns_take_each_position_from_the_downstream_row() {
        let p = peer(
            Role::Sync,
            Postgres::Online {
                lag: None,
                downstream: Some(streaming()),
            },
        );
        let cells: Vec<String> = [
            Column::PgSent,
            Column::PgWrite,
            Column::PgFlush,
            Column::PgReplay,
        ]
        .iter()
        .map(|c| c.cell(&p))
        .collect();
        assert_eq!(cells, ["0/3000060", "0/3000050", "0/3000040", "0/3000030"]);
    }

    #[test]
    fn a_row_without_state_counts_as_no_downstream() {
        let row = Replication {
            state: None,
            ..streaming()
        };
        let p = peer(
            Role::Sync,
            Postgres::Online {
                lag: None,
                downstream: Some(row),
            },
        );
        assert_eq!(Column::PgRepl.cell(&p), "-");
        assert_eq!(Column::PgSent.cell(&p), "-");
    }

    #[test]
    fn an_unreachable_peer_shows_fail_and_dashes() {
        let p = peer(
            Role::Async,
            Postgres::Unreachable {
                reason: Some("ECONNREFUSED".into()),
            },
        );
        assert_eq!(Column::PgOnline.cell(&p), "fail");
        assert_eq!(Column::PgLag.cell(&p), "-");
        assert_eq!(Column::PgRepl.cell(&p), "-");
    }

    #[test]
    fn cells_pad_to_the_width_and_long_ones_are_not_cut() {
        let p = peer(
            Role::Async,
            Postgres::Online {
                lag: Some(Lag::Seconds(1441 * 60 + 5)),
                downstream: None,
            },
        );
        let out = table(&[Column::Role, Column::PgLag], &[&p], false);
        assert_eq!(out, "ROLE     LAG   \nasync    1441m05s\n");
    }

    #[test]
    fn no_peers_means_no_header_either() {
        assert_eq!(table(PEERS_DEFAULT, &[], false), "");
    }

    #[test]
    fn column_lists_split_on_commas_and_know_the_old_names() {
        let options = vec!["role,zonename".to_string(), "ip".to_string()];
        assert_eq!(
            Column::parse_list(&options),
            Ok(vec![Column::Role, Column::PeerName, Column::Ip])
        );
        assert_eq!(
            Column::parse_list(&["bogus".to_string()]),
            Err(ColumnError::Unsupported("bogus".into()))
        );
    }
}
