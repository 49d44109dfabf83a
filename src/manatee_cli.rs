//! `tritonsh manatee …`: manatee-adm's read-only subcommands (`peers`,
//! `pg-status`, `show`, `verify`), printing exactly what manatee-adm prints
//! so that operators' eyes and scripts carry over.
//!
//! The arguments are parsed here rather than by the top-level parser because
//! manatee-adm's `-v` (verbose output) would clash with tritonsh's global
//! `-v` (logging).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::dc::manatee::{
    self, Cluster, Column, Output, Role,
    columns::{PEERS_DEFAULT, PG_STATUS_DEFAULT},
    show::Origin,
};

/// A usage mistake, as manatee-adm reports one.
const USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "tritonsh manatee",
    about = "Inspect a manatee shard as manatee-adm does"
)]
struct ManateeCli {
    /// ZooKeeper address(es) of the shard, printed by `show`.
    #[arg(short = 'z', long = "zk", env = "ZK_IPS", global = true)]
    zk: Option<String>,
    /// The shard's name (`sdc` in Triton), printed by `show`.
    #[arg(short = 's', long = "shard", env = "SHARD", global = true)]
    shard: Option<String>,
    /// Read the shard's state from a cluster-details snapshot FILE.
    #[arg(long, value_name = "FILE", global = true)]
    snapshot: Option<PathBuf>,
    #[command(subcommand)]
    command: ManateeCommand,
}

#[derive(Subcommand, Debug)]
enum ManateeCommand {
    /// List the peers in the state and their roles.
    Peers(TableArgs),
    /// Show each peer's PostgreSQL replication status.
    PgStatus {
        #[command(flatten)]
        table: TableArgs,
        /// Show the whole zone name instead of its first 8 characters.
        #[arg(short = 'w', long = "wide", visible_alias = "cinematic")]
        wide: bool,
    },
    /// Summarize the shard: generation, mode, freeze, peers, problems.
    Show {
        /// Also list each peer's zone name and IP.
        #[arg(short = 'v', long = "verbose")]
        verbose: bool,
    },
    /// Print the shard's problems; exit 1 if there is any.
    Verify {
        /// Say so when there is no problem.
        #[arg(short = 'v', long = "verbose")]
        verbose: bool,
    },
}

#[derive(Args, Debug)]
struct TableArgs {
    /// Omit the header line.
    #[arg(short = 'H', long = "omitHeader")]
    omit_header: bool,
    /// Columns to show, comma-separated (repeatable).
    #[arg(short = 'o', long = "columns", value_name = "COL[,COL…]")]
    columns: Vec<String>,
    /// Only peers with ROLE: primary, sync, async or deposed.
    #[arg(short = 'r', long = "role", value_name = "ROLE")]
    role: Option<String>,
}

pub fn run(args: Vec<String>) -> ExitCode {
    let cli = match ManateeCli::try_parse_from(
        std::iter::once("tritonsh manatee".to_string()).chain(args),
    ) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match execute(cli) {
        Ok(output) => print(output),
        Err((code, message)) => {
            eprintln!("tritonsh manatee: {message}");
            ExitCode::from(code)
        }
    }
}

fn execute(cli: ManateeCli) -> Result<Output, (u8, String)> {
    let Some(path) = &cli.snapshot else {
        return Err((
            USAGE,
            "reading a live shard comes with ZooKeeper support, not built yet: pass --snapshot FILE (a cluster-details snapshot)".into(),
        ));
    };
    let cluster = manatee::load_snapshot(path).map_err(|e| (1, e.to_string()))?;
    match cli.command {
        ManateeCommand::Peers(table) => {
            let columns = columns(&table, PEERS_DEFAULT)?;
            manatee::peers::peers(&cluster, &columns, role(&table)?, table.omit_header)
                .map_err(|e| (USAGE, e.to_string()))
        }
        ManateeCommand::PgStatus { table, wide } => {
            let mut columns = columns(&table, PG_STATUS_DEFAULT)?;
            if wide {
                for c in columns.iter_mut().filter(|c| **c == Column::PeerAbbr) {
                    *c = Column::PeerName;
                }
            }
            let role = role(&table)?;
            Ok(manatee::pg_status::pg_status(
                &cluster,
                &columns,
                role,
                table.omit_header,
            ))
        }
        ManateeCommand::Show { verbose } => show(&cli.zk, &cli.shard, &cluster, verbose),
        ManateeCommand::Verify { verbose } => Ok(manatee::verify::verify(&cluster, verbose)),
    }
}

fn show(
    zk: &Option<String>,
    shard: &Option<String>,
    cluster: &Cluster,
    verbose: bool,
) -> Result<Output, (u8, String)> {
    let (Some(zookeeper), Some(shard)) = (zk, shard) else {
        return Err((
            USAGE,
            "show prints the shard's ZooKeeper and name: set ZK_IPS and SHARD, or pass -z and -s"
                .into(),
        ));
    };
    let origin = Origin { zookeeper, shard };
    Ok(manatee::show::show(cluster, &origin, verbose))
}

fn columns(table: &TableArgs, default: &[Column]) -> Result<Vec<Column>, (u8, String)> {
    if table.columns.is_empty() {
        return Ok(default.to_vec());
    }
    Column::parse_list(&table.columns).map_err(|e| (USAGE, e.to_string()))
}

fn role(table: &TableArgs) -> Result<Option<Role>, (u8, String)> {
    table
        .role
        .as_deref()
        .map(|name| {
            Role::parse(name)
                .ok_or_else(|| (USAGE, format!("unsupported value for --role: \"{name}\"")))
        })
        .transpose()
}

fn print(output: Output) -> ExitCode {
    // A closed pipe ends the process (SIGPIPE), so write errors have no one
    // left to be reported to.
    let _ = std::io::stdout().write_all(output.stdout.as_bytes());
    let _ = std::io::stderr().write_all(output.stderr.as_bytes());
    ExitCode::from(output.exit)
}
