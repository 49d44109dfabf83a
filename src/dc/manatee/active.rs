//! `manatee-adm zk-active`: the election nodes of the shard, one per live
//! sitter session, `{nodename: data}` (duplicates of one peer kept: a
//! restarted sitter's old session has not expired yet).

use futures::future::join_all;
use indexmap::IndexMap;
use serde_json::value::RawValue;

use super::error::ManateeError;
use crate::dc::zk::{ZkEnsemble, ZkError};

pub async fn read_active(
    zk: &ZkEnsemble,
    shard: &str,
) -> Result<IndexMap<String, Box<RawValue>>, ManateeError> {
    let dir = format!("/manatee/{shard}/election");
    let no_state = |e: ZkError| match e {
        ZkError::NoNode { ensemble, .. } => ManateeError::NoState {
            shard: shard.to_string(),
            ensemble,
            known: Vec::new(),
        },
        other => other.into(),
    };
    let names = zk.children(&dir).await.map_err(no_state)?;
    let reads = join_all(names.iter().map(|n| {
        let path = format!("{dir}/{n}");
        async move { zk.get(&path).await }
    }))
    .await;
    let mut active = IndexMap::new();
    for (name, read) in names.into_iter().zip(reads) {
        let data = match read {
            Ok((data, _)) => data,
            // The session ended between the listing and the read.
            Err(ZkError::NoNode { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        let raw =
            RawValue::from_string(String::from_utf8_lossy(&data).to_string()).map_err(|e| {
                ManateeError::Malformed {
                    path: format!("{dir}/{name}"),
                    ensemble: zk.connect_string(),
                    detail: format!("not JSON: {e}"),
                }
            })?;
        active.insert(name, raw);
    }
    Ok(active)
}
