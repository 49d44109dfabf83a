//! `manatee-adm verify`: the problems only, one per line, and exit status 1
//! if there is any, for monitoring and scripts. `-v` confirms a clean shard.

use super::Output;
use super::cluster::Cluster;
use super::issues::Issues;

pub fn verify(cluster: &Cluster, verbose: bool) -> Output {
    let issues = Issues::of(cluster);
    if issues.is_empty() {
        let stdout = if verbose { "all checks passed\n" } else { "" };
        return Output {
            stdout: stdout.into(),
            ..Output::default()
        };
    }
    Output {
        stdout: issues.lines(),
        stderr: String::new(),
        exit: 1,
    }
}
