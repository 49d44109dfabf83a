//! Asking one peer's PostgreSQL what manatee-adm asks (`lib/adm.js
//! _addPostgresStatus`): its first `pg_stat_replication` row and, on a
//! standby, how long ago it last replayed a transaction. Each query has one
//! second, connection included; a failure is described as manatee-adm
//! describes it, because its issue lines quote that description.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio_postgres::{NoTls, SimpleQueryMessage, SimpleQueryRow};

use super::cluster::{Lag, Postgres, Replication};

pub const QUERY_TIMEOUT: Duration = Duration::from_secs(1);
const REPL_STAT: &str = "select * from pg_stat_replication;";
const REPL_LAG: &str = "SELECT now() - pg_last_xact_replay_timestamp() AS time_lag;";

/// Queries the peer at `pg_url` (`tcp://postgres@IP:5432/postgres`); the
/// lag only when `standby`.
pub async fn query_peer(pg_url: &str, standby: bool) -> Postgres {
    let config = match config_of(pg_url) {
        Ok(config) => config,
        Err(reason) => return unreachable(reason),
    };
    let first = async {
        let (client, connection) = config.connect(NoTls).await?;
        // The connection ends by itself once the client is dropped.
        tokio::spawn(connection);
        let rows = client.simple_query(REPL_STAT).await?;
        Ok::<_, tokio_postgres::Error>((client, rows))
    };
    let (client, rows) = match tokio::time::timeout(QUERY_TIMEOUT, first).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(e)) => return unreachable(reason(&e)),
        Err(_) => return unreachable("postgres request timed out".into()),
    };
    let downstream = first_row(&rows).and_then(replication);
    if !standby {
        return Postgres::Online {
            lag: None,
            downstream,
        };
    }
    match tokio::time::timeout(QUERY_TIMEOUT, client.simple_query(REPL_LAG)).await {
        Ok(Ok(rows)) => Postgres::Online {
            lag: first_row(&rows)
                .and_then(|r| r.try_get("time_lag").ok().flatten())
                .map(parse_interval),
            downstream,
        },
        Ok(Err(e)) => unreachable(reason(&e)),
        Err(_) => unreachable("postgres request timed out".into()),
    }
}

/// The first row of `sql` on the peer at `pg_url`, as text (NULL as None);
/// the error is the peer failure as [`query_peer`] describes it.
pub async fn first_row_of(pg_url: &str, sql: &str) -> Result<Vec<Option<String>>, String> {
    let messages = read(pg_url, sql).await?;
    Ok(first_row(&messages)
        .map(|row| {
            (0..row.len())
                .map(|i| row.try_get(i).ok().flatten().map(String::from))
                .collect()
        })
        .unwrap_or_default())
}

/// Every row of `sql` on the peer at `pg_url`, each as its columns' names
/// and text (NULLs left out), so a column a server's version lacks is
/// simply absent; the error is the peer failure as [`query_peer`]
/// describes it.
pub async fn rows_of(pg_url: &str, sql: &str) -> Result<Vec<BTreeMap<String, String>>, String> {
    Ok(read(pg_url, sql)
        .await?
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(named(row)),
            _ => None,
        })
        .collect())
}

/// `sql` on the peer at `pg_url`, within [`QUERY_TIMEOUT`], in a session
/// that cannot write (see [`config_of`]).
async fn read(pg_url: &str, sql: &str) -> Result<Vec<SimpleQueryMessage>, String> {
    let config = config_of(pg_url)?;
    let work = async {
        let (client, connection) = config.connect(NoTls).await?;
        tokio::spawn(connection);
        client.simple_query(sql).await
    };
    match tokio::time::timeout(QUERY_TIMEOUT, work).await {
        Ok(Ok(messages)) => Ok(messages),
        Ok(Err(e)) => Err(reason(&e)),
        Err(_) => Err("postgres request timed out".into()),
    }
}

fn named(row: &SimpleQueryRow) -> BTreeMap<String, String> {
    row.columns()
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((c.name().to_string(), row.try_get(i).ok()??.to_string())))
        .collect()
}

fn unreachable(reason: String) -> Postgres {
    Postgres::Unreachable {
        reason: Some(reason),
    }
}

fn config_of(pg_url: &str) -> Result<tokio_postgres::Config, String> {
    let url = url::Url::parse(pg_url).map_err(|e| format!("invalid pgUrl {pg_url:?}: {e}"))?;
    let host = url
        .host_str()
        .ok_or_else(|| format!("invalid pgUrl {pg_url:?}: no host"))?;
    let mut config = tokio_postgres::Config::new();
    config
        .host(host)
        .port(url.port().unwrap_or(5432))
        .user(if url.username().is_empty() {
            "postgres"
        } else {
            url.username()
        })
        .dbname(url.path().trim_start_matches('/'))
        // Lags and times are parsed from text: pin their formats. Every
        // query here only reads, and writes to PostgreSQL would pass no
        // gate: the session refuses them.
        .options("-c IntervalStyle=postgres -c DateStyle=ISO -c default_transaction_read_only=on")
        .connect_timeout(QUERY_TIMEOUT);
    Ok(config)
}

fn first_row(messages: &[SimpleQueryMessage]) -> Option<&SimpleQueryRow> {
    messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    })
}

/// PostgreSQL 10 renamed `*_location` to `*_lsn`; either is read.
fn replication(row: &SimpleQueryRow) -> Option<Replication> {
    let text = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| row.try_get(*n).ok().flatten().map(String::from))
    };
    Some(Replication {
        state: text(&["state"]),
        sync_state: text(&["sync_state"]),
        client_addr: text(&["client_addr"]),
        sent: text(&["sent_lsn", "sent_location"]),
        write: text(&["write_lsn", "write_location"]),
        flush: text(&["flush_lsn", "flush_location"]),
        replay: text(&["replay_lsn", "replay_location"]),
    })
}

/// What node-postgres's error would have given manatee-adm: a server error
/// is `postgres: ` (manatee-adm's format drops the detail), a socket error
/// its errno name (`ECONNREFUSED`), anything else its message.
fn reason(e: &tokio_postgres::Error) -> String {
    if e.as_db_error().is_some() {
        return "postgres: ".into();
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.raw_os_error() {
                Some(code) => format!("{:?}", nix::errno::Errno::from_raw(code)),
                None => io.to_string(),
            };
        }
        source = s.source();
    }
    e.to_string()
}

/// An interval as PostgreSQL prints it (`IntervalStyle=postgres`):
/// `[N year[s]] [N mon[s]] [N day[s]] [-]HH:MM:SS[.frac]`. Fractions are
/// dropped; years and months cannot be turned into seconds; a negative
/// interval (a standby's clock ahead of its upstream's) counts as none.
pub fn parse_interval(text: &str) -> Lag {
    let mut seconds: i64 = 0;
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if word.contains(':') {
            let negative = word.starts_with('-');
            let parts: Vec<i64> = word
                .trim_start_matches(['-', '+'])
                .split(':')
                .map(|p| p.split('.').next().unwrap_or("0").parse().unwrap_or(0))
                .collect();
            let [h, m, s] = parts[..] else {
                return Lag::Unconvertible;
            };
            let t = h * 3600 + m * 60 + s;
            seconds += if negative { -t } else { t };
            continue;
        }
        let Ok(n) = word.parse::<i64>() else {
            return Lag::Unconvertible;
        };
        match words.next() {
            Some("day" | "days") => seconds += n * 86_400,
            _ => return Lag::Unconvertible,
        }
    }
    Lag::Seconds(seconds.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_become_whole_seconds() {
        assert_eq!(parse_interval("00:00:05.912"), Lag::Seconds(5));
        assert_eq!(parse_interval("00:05:42"), Lag::Seconds(342));
        assert_eq!(parse_interval("1 day 00:01:05"), Lag::Seconds(86_400 + 65));
        assert_eq!(parse_interval("3 days"), Lag::Seconds(3 * 86_400));
        assert_eq!(parse_interval("25:00:00"), Lag::Seconds(90_000));
        assert_eq!(parse_interval("-00:00:00.4"), Lag::Seconds(0));
        assert_eq!(parse_interval("1 mon 00:00:01"), Lag::Unconvertible);
        assert_eq!(parse_interval("1 year"), Lag::Unconvertible);
    }

    #[test]
    fn a_url_that_is_not_one_is_the_peer_failure() {
        let failed = futures::executor::block_on(query_peer("not a url", false));
        assert!(
            matches!(&failed, Postgres::Unreachable { reason: Some(r) } if r.contains("invalid pgUrl")),
            "{failed:?}"
        );
    }
}
