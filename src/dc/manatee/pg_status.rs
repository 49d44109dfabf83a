//! `manatee-adm pg-status`: the replication table. Problems go to stderr
//! (after a blank line) so that stdout stays a table a script can parse;
//! the exit status is 0 either way (`verify` is the check).

use super::Output;
use super::cluster::{Cluster, Role};
use super::columns::{self, Column};
use super::issues::Issues;

pub fn pg_status(
    cluster: &Cluster,
    columns: &[Column],
    role: Option<Role>,
    omit_header: bool,
) -> Output {
    let issues = Issues::of(cluster);
    let stderr = if issues.is_empty() {
        String::new()
    } else {
        format!("\n{}", issues.lines())
    };
    Output {
        stdout: columns::table(columns, &cluster.selected(role), omit_header),
        stderr,
        exit: 0,
    }
}
