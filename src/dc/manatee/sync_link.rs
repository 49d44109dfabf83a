//! The primary's link to its sync, judged without write traffic.
//!
//! An idle shard moves no WAL, so a walsender that has stopped (an
//! overloaded host; `lab fault stall` SIGSTOPs it) shows no lag, and its
//! `pg_stat_replication` row stays `streaming`/`sync` because the stopped
//! process keeps its connection: manatee-adm's verify passes. What does
//! move on an idle link is the sync's status reply, sent every
//! `wal_receiver_status_interval`; the primary stamps the row's
//! `reply_time` only when its walsender reads one. `reply_time` is the
//! sync's clock, so its age is taken on the sync's clock too: skew between
//! the hosts cannot fake a stall.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};

use super::check::Finding;
use super::pg_query::rows_of;
use super::state::PeerIdent;

const SENDERS: &str = "select * from pg_stat_replication";
/// The sync's clock and how often it replies (seconds; 0 is never).
const CLOCK: &str = "select clock_timestamp()::text as now, setting as status_interval \
     from pg_settings where name = 'wal_receiver_status_interval'";

/// The primary's walsender for the sync, as its row says.
#[derive(Debug, Clone, PartialEq)]
pub struct Sender {
    pub state: String,
    pub sync_state: String,
    /// Seconds since the sync last replied, on the sync's clock; `None`
    /// before its first reply or where PostgreSQL has no `reply_time`.
    pub silent_for: Option<f64>,
}

/// A finding when the primary does not stream to the sync as its sync, or
/// has read nothing from it for over two of its reply intervals. Nothing
/// when either peer does not answer: verify's own lines say so.
pub async fn judge(primary: &PeerIdent, sync: &PeerIdent) -> Option<Finding> {
    let (senders, clock) = futures::join!(
        rows_of(&primary.pg_url, SENDERS),
        rows_of(&sync.pg_url, CLOCK)
    );
    let clock = clock.ok()?.into_iter().next()?;
    let now = timestamp(clock.get("now")?)?;
    let interval: f64 = clock.get("status_interval")?.parse().ok()?;
    let sender = senders
        .ok()?
        .iter()
        .find(|row| serves(row, sync))
        .map(|row| sender(row, now));
    decide(primary, sync, sender.as_ref(), interval)
}

/// A standby names itself by its pgUrl (`application_name`); on loopback
/// its address may be 127.0.0.1, so either identifies it.
fn serves(row: &BTreeMap<String, String>, sync: &PeerIdent) -> bool {
    row.get("application_name") == Some(&sync.pg_url) || row.get("client_addr") == Some(&sync.ip)
}

fn sender(row: &BTreeMap<String, String>, now: DateTime<FixedOffset>) -> Sender {
    let text = |name: &str| row.get(name).cloned().unwrap_or_default();
    let replied = row.get("reply_time").and_then(|t| timestamp(t));
    Sender {
        state: text("state"),
        sync_state: text("sync_state"),
        silent_for: replied.map(|r| (now - r).num_milliseconds() as f64 / 1000.0),
    }
}

/// PostgreSQL's ISO text of a timestamptz: `2024-05-03 23:33:51.35+00`.
fn timestamp(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z").ok()
}

/// The decision, on plain data. `interval` is the sync's
/// `wal_receiver_status_interval` in seconds.
pub fn decide(
    primary: &PeerIdent,
    sync: &PeerIdent,
    sender: Option<&Sender>,
    interval: f64,
) -> Option<Finding> {
    let problem = match sender {
        None => "the primary has no walsender for it (no pg_stat_replication row)".to_string(),
        Some(s) if s.state != "streaming" => {
            format!(
                "the primary's walsender for it is {:?}, not streaming",
                s.state
            )
        }
        Some(s) if s.sync_state != "sync" => format!(
            "the primary replicates to it as {:?}, not as its sync",
            s.sync_state
        ),
        Some(s) => {
            let silent = s
                .silent_for
                .filter(|t| interval > 0.0 && *t > limit(interval))?;
            format!(
                "the primary has read no reply from it for {silent:.0}s (it replies every {interval}s): the walsender is stuck"
            )
        }
    };
    Some(Finding {
        level: "error",
        what: format!(
            "replication from the primary {} ({}) to the sync {} ({}) is stalled or missing: {problem}",
            primary.label(),
            primary.ip,
            sync.label(),
            sync.ip
        ),
        means: "commits on the primary wait for the sync: writes block (hang) until it streams again, and a takeover now would lose what the sync has not got".into(),
        todo: format!(
            "look at the primary's PostgreSQL (pg_stat_replication, its walsender, host load) and the sync's (pg_stat_wal_receiver); if it does not resume, rebuild the sync (`tritonsh manatee rebuild -n {}`)",
            sync.zone_id
        ),
    })
}

/// Two missed replies and a second's slack: one late reply is not a stall.
fn limit(interval: f64) -> f64 {
    2.0 * interval + 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streaming(silent_for: Option<f64>) -> Sender {
        Sender {
            state: "streaming".into(),
            sync_state: "sync".into(),
            silent_for,
        }
    }

    fn judged(sender: Option<&Sender>, interval: f64) -> Option<String> {
        decide(
            &PeerIdent::numbered(1),
            &PeerIdent::numbered(2),
            sender,
            interval,
        )
        .map(|f| f.what)
    }

    #[test]
    fn a_sync_that_replied_lately_is_fine() {
        assert_eq!(judged(Some(&streaming(Some(0.4))), 1.0), None);
        assert_eq!(judged(Some(&streaming(Some(20.0))), 10.0), None);
        assert_eq!(judged(Some(&streaming(None)), 1.0), None);
    }

    #[test]
    fn a_walsender_that_reads_no_reply_is_stalled() {
        let what = judged(Some(&streaming(Some(15.2))), 1.0).unwrap();
        assert!(
            what.contains("to the sync peer2-zo (10.0.0.2) is stalled"),
            "{what}"
        );
        assert!(what.contains("no reply from it for 15s"), "{what}");
        let finding = decide(
            &PeerIdent::numbered(1),
            &PeerIdent::numbered(2),
            Some(&streaming(Some(15.0))),
            1.0,
        )
        .unwrap();
        assert_eq!(finding.level, "error");
        assert!(finding.means.contains("writes block"), "{}", finding.means);
    }

    #[test]
    fn without_periodic_replies_silence_says_nothing() {
        assert_eq!(judged(Some(&streaming(Some(600.0))), 0.0), None);
    }

    #[test]
    fn a_missing_or_wrong_row_is_found() {
        let what = judged(None, 1.0).unwrap();
        assert!(what.contains("no walsender for it"), "{what}");
        let catchup = Sender {
            state: "catchup".into(),
            ..streaming(Some(0.1))
        };
        let what = judged(Some(&catchup), 1.0).unwrap();
        assert!(what.contains("\"catchup\", not streaming"), "{what}");
        let potential = Sender {
            sync_state: "potential".into(),
            ..streaming(Some(0.1))
        };
        let what = judged(Some(&potential), 1.0).unwrap();
        assert!(what.contains("as \"potential\", not as its sync"), "{what}");
    }

    #[test]
    fn a_row_is_the_sync_s_by_its_pg_url_or_address() {
        let row = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        let sync = PeerIdent::numbered(2);
        assert!(serves(&row("application_name", &sync.pg_url), &sync));
        assert!(serves(&row("client_addr", "10.0.0.2"), &sync));
        assert!(!serves(&row("client_addr", "10.0.0.3"), &sync));
    }

    #[test]
    fn postgres_timestamps_parse_with_their_offset() {
        let a = timestamp("2024-05-03 23:33:51.354833+00").unwrap();
        let b = timestamp("2024-05-04 01:34:01+02").unwrap();
        assert_eq!((b - a).num_milliseconds(), 9_645);
        let now = timestamp("2024-05-03 23:34:06.354833+00").unwrap();
        let row = BTreeMap::from([
            ("state".to_string(), "streaming".to_string()),
            ("sync_state".to_string(), "sync".to_string()),
            (
                "reply_time".to_string(),
                "2024-05-03 23:33:51.354833+00".to_string(),
            ),
        ]);
        assert_eq!(sender(&row, now), streaming(Some(15.0)));
    }
}
