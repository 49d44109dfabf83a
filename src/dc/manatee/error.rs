//! Why a live manatee command could not do its work: one line each, naming
//! the shard and ZooKeeper, and what to do next. Refusals keep manatee-adm's
//! own words first, so that scripts matching them (sdcadm tolerates
//! "shard is already been frozen") keep working.

use crate::dc::zk::ZkError;

#[derive(Debug, thiserror::Error)]
pub enum ManateeError {
    #[error(transparent)]
    Zk(#[from] ZkError),

    #[error(
        "No state exists for shard {shard} (ZooKeeper {ensemble} has no /manatee/{shard}/state; shards there: {}): check --shard / SHARD",
        shown(.known)
    )]
    NoState {
        shard: String,
        ensemble: String,
        known: Vec<String>,
    },

    #[error(
        "{path} on ZooKeeper {ensemble} is not a manatee state: {detail} (see it with `tritonsh manatee zk-state`)"
    )]
    Malformed {
        path: String,
        ensemble: String,
        detail: String,
    },

    /// manatee-adm's refusal, then where and what to do.
    #[error("{message} (shard {shard}){hint}")]
    Refused {
        message: String,
        shard: String,
        hint: String,
    },

    #[error(
        "the state of shard {shard} changed while this command was writing it (someone else wrote first): nothing was written; look at `tritonsh manatee show` and run it again"
    )]
    Raced { shard: String },

    #[error("{0}")]
    Aborted(String),

    #[error("{0}")]
    Datacenter(String),
}

fn shown(known: &[String]) -> String {
    if known.is_empty() {
        "none".into()
    } else {
        known.join(", ")
    }
}

impl ManateeError {
    /// A refusal in manatee-adm's words, with a hint (starting with `: `
    /// or ` — `) or none.
    pub fn refused(message: impl Into<String>, shard: &str, hint: &str) -> ManateeError {
        ManateeError::Refused {
            message: message.into(),
            shard: shard.to_string(),
            hint: hint.to_string(),
        }
    }
}
