//! `manatee-adm peers`: who holds which role, from the state alone. It never
//! asks PostgreSQL, so it works when every database is down.

use super::Output;
use super::cluster::{Cluster, Role};
use super::columns::{self, Column, ColumnError};

pub fn peers(
    cluster: &Cluster,
    columns: &[Column],
    role: Option<Role>,
    omit_header: bool,
) -> Result<Output, ColumnError> {
    if let Some(c) = columns.iter().find(|c| c.needs_postgres()) {
        return Err(ColumnError::NeedsPostgres(c.label()));
    }
    Ok(Output {
        stdout: columns::table(columns, &cluster.selected(role), omit_header),
        ..Output::default()
    })
}
