//! `manatee-adm show [-v]`: the shard's summary for a human. Unlike
//! `pg-status`, problems go to stdout, and the exit status stays 0.

use super::Output;
use super::cluster::{Cluster, Freeze};
use super::columns::{self, PEERS_DEFAULT, PG_STATUS_DEFAULT};
use super::issues::Issues;

/// Where the state was read from, printed in the header as given
/// (`ZK_IPS` and `SHARD` in a manatee zone).
pub struct Origin<'a> {
    pub zookeeper: &'a str,
    pub shard: &'a str,
}

pub fn show(cluster: &Cluster, origin: &Origin, verbose: bool) -> Output {
    let mut out = format!(
        "zookeeper:   {}\ncluster:     {}\ngeneration:  {} ({})\nmode:        {}\n",
        origin.zookeeper,
        origin.shard,
        cluster.generation,
        cluster.init_wal,
        if cluster.singleton {
            "singleton (one-node-write)"
        } else {
            "normal"
        }
    );
    match &cluster.freeze {
        Freeze::Thawed => out.push_str("freeze:      not frozen\n"),
        Freeze::Frozen { since, reason } => {
            let unknown = || "unknown";
            out.push_str(&format!(
                "freeze:      frozen since {}\nfreeze info: {}\n",
                since.as_deref().unwrap_or_else(unknown),
                reason.as_deref().unwrap_or_else(unknown)
            ));
        }
    }
    let all = cluster.selected(None);
    out.push('\n');
    if verbose {
        out.push_str(&columns::table(PEERS_DEFAULT, &all, false));
        out.push('\n');
    }
    out.push_str(&columns::table(PG_STATUS_DEFAULT, &all, false));
    let issues = Issues::of(cluster);
    if !issues.is_empty() {
        out.push('\n');
        out.push_str(&issues.lines());
    }
    Output {
        stdout: out,
        ..Output::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_true_freeze_shows_unknown_date_and_reason() {
        let cluster = Cluster {
            generation: 4,
            init_wal: "0/4405D30".into(),
            singleton: false,
            freeze: Freeze::Frozen {
                since: None,
                reason: None,
            },
            peers: Vec::new(),
        };
        let origin = Origin {
            zookeeper: "10.99.99.11",
            shard: "sdc",
        };
        let out = show(&cluster, &origin, false).stdout;
        assert!(
            out.contains("generation:  4 (0/4405D30)\nmode:        normal\nfreeze:      frozen since unknown\nfreeze info: unknown\n"),
            "{out}"
        );
    }
}
