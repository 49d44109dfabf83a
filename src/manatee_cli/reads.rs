//! The read-only subcommands, from a live shard or a snapshot: one
//! renderer for both.

use std::path::PathBuf;
use std::time::Duration;

use super::{Failure, Live, ManateeCli, ManateeCommand, TableArgs, USAGE, columns, role};
use crate::dc::manatee::{
    self, Cluster, Column, Output,
    columns::{PEERS_DEFAULT, PG_STATUS_DEFAULT},
    show::Origin,
};

/// `--snapshot FILE`: the table commands only.
pub(super) fn from_snapshot(cli: ManateeCli, path: PathBuf) -> Result<Output, Failure> {
    let (cluster, taken) = manatee::load_snapshot(&path).map_err(|e| (1, e.to_string()))?;
    match cli.command {
        ManateeCommand::Peers(table) => peers(&cluster, &table),
        ManateeCommand::PgStatus {
            table,
            wide,
            period: None,
            count: None,
        } => pg_status(&cluster, &table, wide),
        ManateeCommand::Show { verbose } => {
            // -z/-s (ZK_IPS/SHARD) say it again if given; else the
            // snapshot says where it was taken; else it is said unknown.
            let unknown = format!("unknown (snapshot {})", path.display());
            let zookeeper = (cli.zk.clone())
                .or_else(|| taken.as_ref().map(|t| t.zookeeper.clone()))
                .unwrap_or_else(|| unknown.clone());
            let shard = (cli.shard.clone())
                .or_else(|| taken.as_ref().map(|t| t.shard.clone()))
                .unwrap_or(unknown);
            let origin = Origin {
                zookeeper: &zookeeper,
                shard: &shard,
            };
            Ok(manatee::show::show(&cluster, &origin, verbose))
        }
        ManateeCommand::Verify { verbose } => Ok(manatee::verify::verify(&cluster, verbose)),
        _ => Err((
            USAGE,
            "a snapshot answers peers, pg-status (without PERIOD), show and verify; drop --snapshot to ask the live shard"
                .into(),
        )),
    }
}

pub(super) fn live(live: &mut Live, command: ManateeCommand) -> Result<Output, Failure> {
    let shard = live.shard.clone();
    let failed = |e: manatee::ManateeError| (1, e.to_string());
    match command {
        ManateeCommand::Peers(table) => {
            // Checked before any network: a usage error needs no shard.
            columns(&table, PEERS_DEFAULT)?;
            peers(&load(live)?, &table)
        }
        ManateeCommand::PgStatus {
            table,
            wide,
            period,
            count,
        } => {
            let (period, count) = repeat(period.as_deref(), count.as_deref())?;
            pg_status_repeated(live, &table, wide, period, count)
        }
        ManateeCommand::Show { verbose } => {
            let cluster = load(live)?;
            let origin = Origin {
                zookeeper: &shard.zk_shown,
                shard: &shard.name,
            };
            Ok(manatee::show::show(&cluster, &origin, verbose))
        }
        ManateeCommand::Verify { verbose } => match live.block_on(manatee::load(&shard)) {
            Ok((_, cluster)) => Ok(manatee::verify::verify(&cluster, verbose)),
            Err(e) => Ok(Output {
                stdout: "error: failed to fetch cluster state\n".into(),
                stderr: format!("tritonsh manatee: {e}\n"),
                exit: 1,
            }),
        },
        ManateeCommand::History {
            json,
            sort,
            verbose,
        } => {
            if sort != "zkSeq" && sort != "time" {
                return Err((
                    USAGE,
                    "-s / --sort must be one of \"zkSeq\" or \"time\"".into(),
                ));
            }
            let entries = live
                .block_on(manatee::history::read_history(
                    &shard.zk,
                    &shard.name,
                    sort == "time",
                ))
                .map_err(failed)?;
            let stdout = if json {
                manatee::history::json_lines(&entries)
            } else {
                manatee::history::table(&entries, verbose)
            };
            Ok(text(stdout))
        }
        ManateeCommand::ZkState => {
            let doc = live
                .block_on(manatee::state::read_state(&shard.zk, &shard.name))
                .map_err(failed)?;
            Ok(text(format!("{}\n", doc.to_json())))
        }
        ManateeCommand::ZkActive => {
            let active = live
                .block_on(manatee::active::read_active(&shard.zk, &shard.name))
                .map_err(failed)?;
            let json = serde_json::to_string(&active).unwrap_or_default();
            Ok(text(format!("{json}\n")))
        }
        ManateeCommand::Snapshot => {
            let cluster = load(live)?;
            let origin = manatee::SnapshotOrigin {
                zookeeper: live.shard.zk_shown.clone(),
                shard: live.shard.name.clone(),
            };
            Ok(text(manatee::snapshot_write::to_snapshot(
                &cluster,
                Some(&origin),
            )))
        }
        ManateeCommand::Check => {
            let dc = live.datacenter()?;
            let findings = live
                .block_on(manatee::check::check(&shard, Some(&dc)))
                .map_err(failed)?;
            Ok(Output {
                stdout: manatee::check::lines(&findings),
                stderr: String::new(),
                exit: u8::from(!findings.is_empty()),
            })
        }
        _ => Err((USAGE, "not a read-only subcommand".into())),
    }
}

fn text(stdout: String) -> Output {
    Output {
        stdout,
        ..Output::default()
    }
}

fn load(live: &Live) -> Result<Cluster, Failure> {
    live.block_on(manatee::load(&live.shard))
        .map(|(_, cluster)| cluster)
        .map_err(|e| (1, e.to_string()))
}

fn peers(cluster: &Cluster, table: &TableArgs) -> Result<Output, Failure> {
    let columns = columns(table, PEERS_DEFAULT)?;
    manatee::peers::peers(cluster, &columns, role(table)?, table.omit_header)
        .map_err(|e| (USAGE, e.to_string()))
}

fn pg_status_columns(table: &TableArgs, wide: bool) -> Result<Vec<Column>, Failure> {
    let mut columns = columns(table, PG_STATUS_DEFAULT)?;
    if wide && table.columns.is_empty() {
        for c in columns.iter_mut().filter(|c| **c == Column::PeerAbbr) {
            *c = Column::PeerName;
        }
    }
    Ok(columns)
}

fn pg_status(cluster: &Cluster, table: &TableArgs, wide: bool) -> Result<Output, Failure> {
    let columns = pg_status_columns(table, wide)?;
    Ok(manatee::pg_status::pg_status(
        cluster,
        &columns,
        role(table)?,
        table.omit_header,
    ))
}

/// `[PERIOD [COUNT]]` as manatee-adm checks them: whole numbers ≥ 1.
fn repeat(
    period: Option<&str>,
    count: Option<&str>,
) -> Result<(Option<u64>, Option<u64>), Failure> {
    let number = |what: &str, text: &str| {
        text.parse::<u64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| (USAGE, format!("invalid {what}: \"{text}\"")))
    };
    Ok((
        period.map(|p| number("period", p)).transpose()?,
        count.map(|c| number("count", c)).transpose()?,
    ))
}

/// Prints each round as it comes (a PERIOD means watching); a round that
/// cannot read the shard says why and the next one tries again.
fn pg_status_repeated(
    live: &Live,
    table: &TableArgs,
    wide: bool,
    period: Option<u64>,
    count: Option<u64>,
) -> Result<Output, Failure> {
    let columns = pg_status_columns(table, wide)?;
    let role = role(table)?;
    let mut round = 0;
    loop {
        round += 1;
        let last = period.is_none() || count == Some(round);
        match live.block_on(manatee::load(&live.shard)) {
            Ok((_, cluster)) => {
                let out =
                    manatee::pg_status::pg_status(&cluster, &columns, role, table.omit_header);
                if last {
                    return Ok(out);
                }
                super::print(out);
            }
            Err(e) if last => return Err((1, e.to_string())),
            Err(e) => eprintln!("tritonsh manatee: {e}"),
        }
        std::thread::sleep(Duration::from_secs(period.unwrap_or(1)));
    }
}
