//! `tritonsh manatee …`: manatee-adm's subcommands, printing exactly what
//! manatee-adm prints so that operators' eyes and scripts carry over. The
//! shard is read live (ZooKeeper from `--zk`/`ZK_IPS`, else the profile's or
//! lab's members; `--shard`/`SHARD`, else `sdc`), or from a cluster-details
//! snapshot (`--snapshot FILE`) for the read-only table commands.
//!
//! The arguments are parsed here rather than by the top-level parser because
//! manatee-adm's `-v` (verbose output) would clash with tritonsh's global
//! `-v` (logging).

mod reads;
mod writes;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::connect::ConnectOptions;
use crate::dc::Datacenter;
use crate::dc::manatee::{Column, Output, Role, Shard};

/// A usage mistake, as manatee-adm reports one.
const USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "tritonsh manatee",
    about = "Inspect and administer a manatee shard as manatee-adm does"
)]
struct ManateeCli {
    /// ZooKeeper address(es), `ip[:port]` comma-separated (port 2181 by default).
    #[arg(short = 'z', long = "zk", env = "ZK_IPS", global = true)]
    zk: Option<String>,
    /// The shard's name (default `sdc`, Triton's).
    #[arg(short = 's', long = "shard", env = "SHARD", global = true)]
    shard: Option<String>,
    /// Read the shard from a cluster-details snapshot FILE (peers, pg-status, show, verify).
    #[arg(long, value_name = "FILE", global = true)]
    snapshot: Option<PathBuf>,
    /// The lab running in DIR (as `tritonsh --lab DIR manatee …`).
    #[arg(long, value_name = "DIR", global = true)]
    lab: Option<PathBuf>,
    /// The datacenter of profile NAME (as `tritonsh --profile NAME manatee …`).
    #[arg(long, value_name = "NAME", global = true)]
    profile: Option<String>,
    #[command(subcommand)]
    command: ManateeCommand,
}

#[derive(Subcommand, Debug)]
enum ManateeCommand {
    /// List the peers in the state and their roles.
    Peers(TableArgs),
    /// Show each peer's PostgreSQL replication status, every PERIOD seconds COUNT times.
    PgStatus {
        #[command(flatten)]
        table: TableArgs,
        /// Show the whole zone name instead of its first 8 characters.
        #[arg(short = 'w', long = "wide", visible_alias = "cinematic")]
        wide: bool,
        period: Option<String>,
        count: Option<String>,
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
    /// Every state written to the shard, with what changed.
    History {
        /// One JSON object per line.
        #[arg(short = 'j', long = "json")]
        json: bool,
        /// zkSeq (default) or time.
        #[arg(long = "sort", default_value = "zkSeq")]
        sort: String,
        /// Add a SUMMARY column.
        #[arg(short = 'v', long = "verbose")]
        verbose: bool,
    },
    /// The raw state stored in ZooKeeper.
    #[command(alias = "state")]
    ZkState,
    /// The peers with a ZooKeeper session (election nodes).
    #[command(alias = "active")]
    ZkActive,
    /// Write the shard as a cluster-details snapshot (for --snapshot).
    Snapshot,
    /// What manatee-adm cannot see: stalled replication, peers sharing a
    /// server, old freezes, deposed peers left behind. Exit 1 if any.
    Check,
    /// Stop every takeover until unfreeze.
    Freeze {
        /// Why (shown by show and history).
        #[arg(short = 'r', long = "reason")]
        reason: Option<String>,
    },
    /// Allow takeovers again.
    Unfreeze,
    /// Forget a deposed peer that is gone for good.
    Reap {
        #[arg(short = 'i', long = "ip")]
        ip: Option<String>,
        #[arg(short = 'n', long = "zonename")]
        zonename: Option<String>,
    },
    /// Turn one-node-write mode on or off in the state (the sitters' config must match).
    SetOnwm {
        #[arg(short = 'm', long = "mode")]
        mode: Option<String>,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "yes", visible_alias = "ignorePrompts")]
        yes: bool,
    },
    /// Ask the sitters to promote a sync or async peer.
    Promote {
        #[arg(short = 'r', long = "role")]
        role: Option<String>,
        #[arg(short = 'n', long = "zonename")]
        zonename: Option<String>,
        #[arg(short = 'i', long = "asyncIndex")]
        async_index: Option<usize>,
        /// Lag (seconds) not worth a warning.
        #[arg(short = 'l', long = "lagToIgnore", default_value_t = 5)]
        lag_to_ignore: u64,
        #[arg(short = 'y', long = "yes")]
        yes: bool,
    },
    /// Remove an outstanding promotion request.
    ClearPromote,
    /// Rebuild a peer from its upstream: `manatee-adm rebuild -y` in its zone.
    Rebuild {
        #[arg(short = 'n', long = "zonename")]
        zonename: Option<String>,
        #[arg(short = 'y', long = "yes", visible_alias = "ignorePrompts")]
        yes: bool,
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

/// A failure: the exit status and one line.
type Failure = (u8, String);

/// What a live command needs: the shard, the runtime, and the datacenter
/// when the command reaches past ZooKeeper and PostgreSQL.
struct Live {
    rt: tokio::runtime::Runtime,
    shard: Shard,
    connect: ConnectOptions,
    dc: Option<Arc<Datacenter>>,
}

impl Live {
    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// The datacenter (VMAPI, CNAPI), found now if need be.
    fn datacenter(&mut self) -> Result<Arc<Datacenter>, Failure> {
        if let Some(dc) = &self.dc {
            return Ok(dc.clone());
        }
        let dc = find_datacenter(&self.connect, &self.rt)?;
        self.dc = Some(dc.clone());
        Ok(dc)
    }
}

/// `lab` and `profile` are the flags given before `manatee`; the same
/// flags after it name the same datacenter, or are refused.
pub fn run(args: Vec<String>, lab: Option<PathBuf>, profile: Option<String>) -> ExitCode {
    let cli = match ManateeCli::try_parse_from(
        std::iter::once("tritonsh manatee".to_string()).chain(args),
    ) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let chosen = crate::connect::flag_in_two_places(lab, cli.lab.clone(), "--lab")
        .and_then(|lab| {
            Ok((
                lab,
                crate::connect::flag_in_two_places(profile, cli.profile.clone(), "--profile")?,
            ))
        })
        .and_then(|(lab, profile)| ConnectOptions::from_flags(lab, profile));
    let connect = match chosen {
        Ok(connect) => connect,
        Err(e) => {
            eprintln!("tritonsh manatee: {e}");
            return ExitCode::from(USAGE);
        }
    };
    match execute(cli, &connect) {
        Ok(output) => print(output),
        Err((code, message)) => {
            eprintln!("tritonsh manatee: {message}");
            ExitCode::from(code)
        }
    }
}

fn execute(cli: ManateeCli, connect: &ConnectOptions) -> Result<Output, Failure> {
    if let Some(path) = cli.snapshot.clone() {
        return reads::from_snapshot(cli, path);
    }
    let mut live = open(&cli, connect)?;
    match cli.command {
        ManateeCommand::Freeze { reason } => writes::freeze(&live, reason),
        ManateeCommand::Unfreeze => writes::unfreeze(&live),
        ManateeCommand::Reap { ip, zonename } => writes::reap(&live, ip, zonename),
        ManateeCommand::SetOnwm { mode, yes } => writes::set_onwm(&live, mode, yes),
        ManateeCommand::Promote {
            role,
            zonename,
            async_index,
            lag_to_ignore,
            yes,
        } => writes::promote(&live, role, zonename, async_index, lag_to_ignore, yes),
        ManateeCommand::ClearPromote => writes::clear_promote(&live),
        ManateeCommand::Rebuild { zonename, yes } => writes::rebuild(&mut live, zonename, yes),
        command => reads::live(&mut live, command),
    }
}

/// The runtime and the shard: ZooKeeper from `--zk`/`ZK_IPS` as given, else
/// the datacenter's members.
fn open(cli: &ManateeCli, connect: &ConnectOptions) -> Result<Live, Failure> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| (1, format!("cannot start the async runtime: {e}")))?;
    let name = cli.shard.clone().unwrap_or_else(|| "sdc".into());
    let given = cli.zk.as_deref().filter(|z| !z.trim().is_empty());
    let (members, dc) = match given {
        Some(_) => (Vec::new(), None),
        None => {
            let dc = find_datacenter(connect, &rt)?;
            (dc.zk.members().to_vec(), Some(dc))
        }
    };
    // manatee's commands write as manatee-adm does: through the
    // datacenter's gate, which sends.
    let gate = dc.as_ref().map(|dc| dc.gate().clone()).unwrap_or_default();
    Ok(Live {
        shard: Shard::new(given, &members, &name, gate),
        rt,
        connect: connect.clone(),
        dc,
    })
}

fn find_datacenter(
    connect: &ConnectOptions,
    rt: &tokio::runtime::Runtime,
) -> Result<Arc<Datacenter>, Failure> {
    let output = crate::script::OutputOptions {
        json: false,
        color: false,
        width: 80,
    };
    let (ctx, _) = crate::connect::connect(connect, rt.handle().clone(), output)
        .map_err(|e| (1, format!("{e} (or give ZooKeeper with --zk / ZK_IPS)")))?;
    ctx.dc.find(true).map_err(|e| (1, e))
}

fn columns(table: &TableArgs, default: &[Column]) -> Result<Vec<Column>, Failure> {
    if table.columns.is_empty() {
        return Ok(default.to_vec());
    }
    Column::parse_list(&table.columns).map_err(|e| (USAGE, e.to_string()))
}

fn role(table: &TableArgs) -> Result<Option<Role>, Failure> {
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
