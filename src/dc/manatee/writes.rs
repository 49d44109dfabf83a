//! manatee-adm's writes to the state (`lib/adm.js`): read it, change one
//! field, write it back as a test-and-set on the version read, with a
//! `history/0-` copy in the same transaction. Refusals are manatee-adm's
//! own messages. Each change is a pure function of the state read, so it is
//! tested without ZooKeeper; [`commit`] writes the result.

use serde_json::value::RawValue;

use super::error::ManateeError;
use super::live::Shard;
use super::state::{PeerIdent, StateDoc, state_path};
use crate::dc::zk::ZkError;

/// `freeze -r REASON`: no takeover happens until `unfreeze`.
pub fn freeze(
    doc: &mut StateDoc,
    shard: &str,
    reason: &str,
    now: &str,
) -> Result<(), ManateeError> {
    if let super::Freeze::Frozen { reason: was, .. } = &doc.topology.freeze {
        let was = was.as_deref().unwrap_or("undefined");
        return Err(ManateeError::refused(
            format!("shard is already been frozen: {was}"),
            shard,
            "",
        ));
    }
    let value = serde_json::json!({"date": now, "reason": reason});
    set(doc, "freeze", &value);
    Ok(())
}

/// `unfreeze`: deletes the key, as manatee-adm does.
pub fn unfreeze(doc: &mut StateDoc, shard: &str) -> Result<(), ManateeError> {
    if doc.topology.freeze == super::Freeze::Thawed {
        return Err(ManateeError::refused("shard is not frozen", shard, ""));
    }
    doc.fields.shift_remove("freeze");
    Ok(())
}

/// Which deposed peer `reap` removes.
pub enum Reap<'a> {
    ZoneName(&'a str),
    Ip(&'a str),
}

/// `reap -n ZONENAME | -i IP`: forgets a deposed peer that is gone for good.
pub fn reap(doc: &mut StateDoc, shard: &str, which: &Reap) -> Result<(), ManateeError> {
    let (found, shown) = match which {
        Reap::ZoneName(z) => (
            doc.topology.deposed.iter().rposition(|d| d.zone_id == *z),
            *z,
        ),
        Reap::Ip(ip) => (doc.topology.deposed.iter().rposition(|d| d.ip == *ip), *ip),
    };
    let Some(index) = found else {
        return Err(ManateeError::refused(
            format!("{shown} not in deposed or does not exist"),
            shard,
            ": `tritonsh manatee peers -r deposed` lists the deposed peers",
        ));
    };
    let mut deposed: Vec<Box<RawValue>> = doc
        .fields
        .get("deposed")
        .map(|raw| serde_json::from_str(raw.get()))
        .transpose()
        .map_err(|e| ManateeError::refused(format!("deposed is not a list: {e}"), shard, ""))?
        .unwrap_or_default();
    if index < deposed.len() {
        deposed.remove(index);
    }
    set(doc, "deposed", &deposed);
    Ok(())
}

/// `set-onwm -m on|off`: flips one-node-write mode in the state only.
pub fn set_onwm(doc: &mut StateDoc, shard: &str, on: bool) -> Result<(), ManateeError> {
    let stored = doc.fields.get("oneNodeWriteMode").map(|v| v.get());
    if on && stored == Some("true") {
        return Err(ManateeError::refused(
            "One node write mode already enabled",
            shard,
            "",
        ));
    }
    if !on && stored.is_none() {
        return Err(ManateeError::refused(
            "One node write mode already disabled",
            shard,
            "",
        ));
    }
    if on {
        set(doc, "oneNodeWriteMode", &true);
    } else {
        doc.fields.shift_remove("oneNodeWriteMode");
    }
    Ok(())
}

/// `clear-promote`: drops an operator's promotion request.
pub fn clear_promote(doc: &mut StateDoc, shard: &str) -> Result<(), ManateeError> {
    if doc.fields.shift_remove("promote").is_none() {
        return Err(ManateeError::refused(
            "cluster has no outstanding promotion request",
            shard,
            "",
        ));
    }
    Ok(())
}

/// What `promote -r ROLE -n ZONENAME [-i ASYNCINDEX]` asks for.
pub struct Promote<'a> {
    pub role: &'a str,
    pub zonename: &'a str,
    pub async_index: Option<usize>,
}

/// `promote`: validated as manatee-adm validates it, then the request is
/// written for the sitters to act on (expiring in 30 s). Warnings that
/// manatee-adm would ask about are the caller's to confirm.
pub fn promote(
    doc: &mut StateDoc,
    shard: &str,
    request: &Promote,
    expire_time: &str,
) -> Result<(), ManateeError> {
    let refused = |m: String| ManateeError::refused(m, shard, "");
    let t = &doc.topology;
    if !["sync", "async"].contains(&request.role) {
        return Err(refused(format!(
            "promotion of \"{}\" is invalid",
            request.role
        )));
    }
    let is = |p: &PeerIdent| p.zone_id == request.zonename;
    let current = if is(&t.primary) {
        "primary"
    } else if t.sync.as_ref().is_some_and(is) {
        "sync"
    } else if t.asyncs.iter().any(is) {
        "async"
    } else if t.deposed.iter().any(is) {
        "deposed"
    } else {
        return Err(refused(format!(
            "\"{}\" not found in shard information",
            request.zonename
        )));
    };
    let mut async_index = request.async_index;
    if request.role == "async" && async_index.is_none() {
        if t.asyncs.len() != 1 {
            return Err(refused(
                "promotion of \"async\" ambiguous given the current state of the cluster (asyncIndex required)".into(),
            ));
        }
        async_index = Some(0);
    }
    if request.role != "async" && async_index.is_some() {
        return Err(refused(format!(
            "asyncIndex cannot be specified with role \"{}\"",
            request.role
        )));
    }
    if current != request.role {
        return Err(refused(format!(
            "\"{}\" does not hold the role \"{}\" (it is currently \"{current}\")",
            request.zonename, request.role
        )));
    }
    let id = match async_index {
        Some(i) => {
            let at = t.asyncs.iter().position(is).unwrap_or_default();
            if at != i {
                return Err(refused(format!(
                    "\"{}\" is not position {i} in the async chain (it is currently position {at})",
                    request.zonename
                )));
            }
            t.asyncs[i].id.clone()
        }
        None => t.sync.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
    };
    if let super::Freeze::Frozen { reason, .. } = &t.freeze {
        return Err(refused(format!(
            "cluster is frozen (reason: \"{}\")",
            reason.as_deref().unwrap_or("undefined")
        )));
    }
    if t.one_node_write_mode {
        return Err(refused("cluster is in singleton mode".into()));
    }
    // In the order manatee-adm builds it.
    let mut value: indexmap::IndexMap<&str, serde_json::Value> = indexmap::IndexMap::new();
    value.insert("id", id.into());
    if let Some(i) = async_index {
        value.insert("asyncIndex", i.into());
    }
    value.insert("role", request.role.into());
    value.insert("generation", t.generation.into());
    value.insert("expireTime", expire_time.into());
    set(doc, "promote", &value);
    Ok(())
}

/// Sets a top-level key: in place if present, else at the end (as a
/// JavaScript object gains a new key).
fn set(doc: &mut StateDoc, key: &str, value: &impl serde::Serialize) {
    // Serializing JSON values and raw values cannot fail.
    let text = serde_json::to_string(value).unwrap_or_default();
    if let Ok(raw) = RawValue::from_string(text) {
        doc.fields.insert(key.to_string(), raw);
    }
}

/// Writes `after`, the state `before` was changed into: test-and-set on
/// the version read, plus `history/0-` (manatee-adm's writes always use
/// generation 0 there). The gate sees the change: `set` holds each key
/// added or changed, `removed` each key deleted.
pub async fn commit(
    shard: &Shard,
    before: &StateDoc,
    after: &StateDoc,
) -> Result<String, ManateeError> {
    let path = state_path(&shard.name);
    let history = format!("/manatee/{}/history/0-", shard.name);
    let json = after.to_json();
    match shard
        .zk
        .set_with_history(
            &path,
            json.as_bytes(),
            after.version,
            &history,
            change(before, after),
        )
        .await
    {
        Ok(node) => Ok(node),
        Err(ZkError::BadVersion { .. }) => Err(ManateeError::Raced {
            shard: shard.name.clone(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// What a write changes in the state, for a plan and a transcript.
fn change(before: &StateDoc, after: &StateDoc) -> serde_json::Value {
    let value = |raw: &RawValue| serde_json::from_str(raw.get()).unwrap_or_default();
    let set: serde_json::Map<String, serde_json::Value> = after
        .fields
        .iter()
        .filter(|(k, v)| before.fields.get(*k).is_none_or(|old| old.get() != v.get()))
        .map(|(k, v)| (k.clone(), value(v)))
        .collect();
    let removed: Vec<&String> = before
        .fields
        .keys()
        .filter(|k| !after.fields.contains_key(*k))
        .collect();
    serde_json::json!({ "set": set, "removed": removed })
}

/// Reads the state, applies `change` (given the shard's name), writes it.
pub async fn apply(
    shard: &Shard,
    change: impl FnOnce(&mut StateDoc, &str) -> Result<(), ManateeError>,
) -> Result<(), ManateeError> {
    let before = super::state::read_state(&shard.zk, &shard.name).await?;
    let mut after = before.clone();
    change(&mut after, &shard.name)?;
    commit(shard, &before, &after).await.map(|_| ())
}

/// After a promotion request: waits until the sitters have dropped it and
/// the peer no longer holds `role`, or the request expired (30 s), as
/// manatee-adm watches.
pub async fn watch_promotion(
    shard: &Shard,
    zonename: &str,
    role: &str,
) -> Result<(), ManateeError> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(31);
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let doc = super::state::read_state(&shard.zk, &shard.name).await?;
        let t = &doc.topology;
        let still = if role == "sync" {
            t.sync.as_ref().is_some_and(|s| s.zone_id == zonename)
        } else {
            t.asyncs.iter().any(|a| a.zone_id == zonename)
        };
        let pending = doc.fields.contains_key("promote");
        if !pending && !still {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            let mut why = String::from("Topology has not changed within the expected deadline");
            if pending {
                why.push_str("; the cluster has ignored the request (see clear-promote)");
            }
            if still {
                why.push_str("; the role has not changed");
            }
            return Err(ManateeError::refused(
                why,
                &shard.name,
                ": check the manatee-sitter logs",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dc::manatee::state::parse_state;

    const STATE: &str = r#"{"generation":3,"primary":{"id":"10.0.0.2:5432:12345","zoneId":"bbbb0002-x","ip":"10.0.0.2","pgUrl":"tcp://postgres@10.0.0.2:5432/postgres"},"sync":{"id":"10.0.0.3:5432:12345","zoneId":"cccc0003-x","ip":"10.0.0.3","pgUrl":"tcp://postgres@10.0.0.3:5432/postgres"},"async":[],"deposed":[{"id":"10.0.0.1:5432:12345","zoneId":"aaaa0001-x","ip":"10.0.0.1","pgUrl":"tcp://postgres@10.0.0.1:5432/postgres"}],"initWal":"0/4405D30"}"#;

    fn doc() -> StateDoc {
        parse_state(STATE.as_bytes(), 7).unwrap()
    }

    #[test]
    fn freeze_appends_the_key_and_refuses_twice() {
        let mut d = doc();
        freeze(&mut d, "sdc", "test", "2024-05-01T00:00:00.000Z").unwrap();
        assert!(d.to_json().ends_with(
            r#""initWal":"0/4405D30","freeze":{"date":"2024-05-01T00:00:00.000Z","reason":"test"}}"#
        ));
        let d = parse_state(d.to_json().as_bytes(), 8).unwrap();
        let mut again = d.clone();
        let err = freeze(&mut again, "sdc", "x", "now")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("shard is already been frozen: test"),
            "{err}"
        );
        let mut thawed = d;
        unfreeze(&mut thawed, "sdc").unwrap();
        assert_eq!(thawed.to_json(), STATE);
    }

    #[test]
    fn the_change_names_keys_set_and_removed() {
        let before = doc();
        let mut after = before.clone();
        freeze(&mut after, "sdc", "why", "2024-05-01T00:00:00.000Z").unwrap();
        reap(&mut after, "sdc", &Reap::Ip("10.0.0.1")).unwrap();
        assert_eq!(
            change(&before, &after),
            serde_json::json!({
                "set": {"deposed": [], "freeze": {"date": "2024-05-01T00:00:00.000Z", "reason": "why"}},
                "removed": []
            })
        );
        assert_eq!(
            change(&after, &before)["removed"],
            serde_json::json!(["freeze"])
        );
    }

    #[test]
    fn reap_removes_the_deposed_peer_or_names_what_is_missing() {
        let mut d = doc();
        reap(&mut d, "sdc", &Reap::Ip("10.0.0.1")).unwrap();
        assert!(d.to_json().contains(r#""deposed":[],"#));
        let err = reap(&mut doc(), "sdc", &Reap::ZoneName("cccc0003-x"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("cccc0003-x not in deposed or does not exist"),
            "{err}"
        );
    }

    #[test]
    fn set_onwm_off_deletes_the_key() {
        let mut d = doc();
        let err = set_onwm(&mut d, "sdc", false).unwrap_err().to_string();
        assert!(
            err.starts_with("One node write mode already disabled"),
            "{err}"
        );
        set_onwm(&mut d, "sdc", true).unwrap();
        assert!(d.to_json().ends_with(r#""oneNodeWriteMode":true}"#));
        let mut on = parse_state(d.to_json().as_bytes(), 8).unwrap();
        set_onwm(&mut on, "sdc", false).unwrap();
        assert_eq!(on.to_json(), STATE);
    }

    #[test]
    fn promote_checks_the_role_and_writes_the_request() {
        let sync = Promote {
            role: "sync",
            zonename: "cccc0003-x",
            async_index: None,
        };
        let mut d = doc();
        promote(&mut d, "sdc", &sync, "2024-05-01T00:00:30.000Z").unwrap();
        assert!(d.to_json().ends_with(r#""promote":{"id":"10.0.0.3:5432:12345","role":"sync","generation":3,"expireTime":"2024-05-01T00:00:30.000Z"}}"#), "{}", d.to_json());
        let wrong = Promote {
            role: "async",
            ..sync
        };
        let err = promote(&mut doc(), "sdc", &wrong, "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("ambiguous"), "{err}");
        let mut cleared = d;
        clear_promote(&mut cleared, "sdc").unwrap();
        let err = clear_promote(&mut cleared, "sdc").unwrap_err().to_string();
        assert!(err.starts_with("cluster has no outstanding promotion request"));
    }
}
