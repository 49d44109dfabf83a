//! `tritonsh lab …`: start, stop, inspect and fault a lab.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::lab::control_client::inject;
use crate::lab::control_protocol::{ControlInfo, FaultKind};
use crate::lab::down::{Stopped, down};
use crate::lab::error::LabError;
use crate::lab::lab_dir::LabDir;
use crate::lab::settings::{LabSettings, NewLab, Profile};
use crate::lab::status::LabStatus;
use crate::lab::status_table::{self, table};
use crate::lab::up::{Started, up};
use crate::lab::{daemon, default_dir, published};
use crate::render::progress::Show;

#[derive(Subcommand, Debug)]
pub enum LabCommand {
    /// Start the lab in the background (or say it already runs) and print how to reach it.
    Up(UpArgs),
    /// Stop everything the lab started; its state stays in the directory for the next `up`.
    Down(DirArg),
    /// Show how to reach the lab and the state of every instance (`--json` for automation).
    Status(DirArg),
    /// Break (and repair) the lab: servers down, instances stopped, replication stalled.
    Fault {
        #[command(subcommand)]
        fault: FaultCommand,
    },
    /// Run the lab in the foreground (what `lab up` starts in the background).
    #[command(hide = true)]
    Serve(UpArgs),
}

#[derive(Args, Debug)]
pub struct DirArg {
    /// The lab directory (default: the lab named by --lab/TRITONSH_LAB, else the default lab).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    #[command(flatten)]
    pub dir: DirArg,
    /// The layout of a new lab: ha (the default) or fresh. An existing lab keeps its own.
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,
    /// Customer VMs to seed a new lab with (default 0), spread over the compute nodes.
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(..=i64::from(crate::lab::layout::MAX_CUSTOMER_VMS))
    )]
    pub vms: Option<u32>,
    /// How long a provisioning job runs before it succeeds, in milliseconds.
    #[arg(long, value_name = "MS")]
    pub provision_delay_ms: Option<u64>,
}

#[derive(Subcommand, Debug)]
pub enum FaultCommand {
    /// Power a server off: CNAPI reports it `unknown` and its instances stop.
    ServerDown(FaultTarget),
    /// Power a server on again: its instances start.
    ServerUp(FaultTarget),
    /// Stop one instance (its API, if it serves one, stops answering).
    Stop(FaultTarget),
    /// Start a stopped instance, or end a manatee peer's stall.
    Start(FaultTarget),
    /// Stop a manatee peer's replication to its downstream (reconnects included)
    /// while its PostgreSQL and sitter answer, until `lab fault start`.
    Stall(FaultTarget),
}

#[derive(Args, Debug)]
pub struct FaultTarget {
    /// The server hostname (server-down/up) or instance alias (stop/start/stall).
    pub target: String,
    #[command(flatten)]
    pub dir: DirArg,
}

/// `json` and `lab` are the global `--json` and `--lab DIR` flags.
pub fn run(command: LabCommand, json: bool, lab: Option<&Path>) -> ExitCode {
    let pick = |arg: &DirArg| {
        LabDir::new(
            &arg.dir
                .clone()
                .or_else(|| lab.map(Path::to_path_buf))
                .unwrap_or_else(default_dir),
        )
    };
    let (name, outcome) = match command {
        LabCommand::Up(args) => ("lab up", run_up(&pick(&args.dir), &args, json)),
        LabCommand::Down(arg) => ("lab down", run_down(&pick(&arg), json)),
        LabCommand::Status(arg) => ("lab status", run_status(&pick(&arg), json)),
        LabCommand::Fault { fault } => run_fault(fault, pick, json),
        LabCommand::Serve(args) => (
            "lab serve",
            daemon::serve(&pick(&args.dir), &new_lab(&args)),
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn new_lab(args: &UpArgs) -> NewLab {
    NewLab {
        profile: args.profile.unwrap_or(Profile::Ha),
        vms: args.vms.unwrap_or(0),
        provision_delay_ms: args.provision_delay_ms,
    }
}

fn run_up(dir: &LabDir, args: &UpArgs, json: bool) -> Result<(), LabError> {
    let (status, note) = match up(dir, &new_lab(args), Show::Stderr)? {
        Started::Now(status) => (status, "started"),
        Started::AlreadyRunning(status) => (status, "already running"),
    };
    // lab.json now holds the layout the lab really has, new or kept.
    if let Some(kept) = dir.read_json::<LabSettings>(&dir.settings_file())? {
        warn_if_ignored(dir, args, &kept);
    }
    if json {
        print_json(&status)?;
    } else {
        println!("lab {note} in {}", dir.root().display());
        print!("{}", status_table::api_lines(&status));
        println!("  requests are logged in {}", dir.request_log().display());
    }
    Ok(())
}

/// `--profile` and `--vms` shape a new lab only, and `--provision-delay-ms`
/// a lab that starts: a running one keeps them, and the operator must hear
/// that rather than believe otherwise.
fn warn_if_ignored(dir: &LabDir, args: &UpArgs, kept: &LabSettings) {
    let profile_differs = args.profile.is_some_and(|p| p != kept.profile);
    let vms_differ = args.vms.is_some_and(|n| n != kept.vms);
    if profile_differs || vms_differ {
        eprintln!(
            "lab up: the lab in {} already exists as profile {} with {} customer VMs and keeps them; \
             --profile and --vms shape a new lab only (lab down, then remove the directory, to start over)",
            dir.root().display(),
            kept.profile.as_str(),
            kept.vms
        );
    }
    if let Some(ms) = args
        .provision_delay_ms
        .filter(|&ms| ms != kept.provision_delay_ms)
    {
        eprintln!(
            "lab up: the lab in {} is running with a provision delay of {} ms and keeps it; \
             --provision-delay-ms {ms} takes effect when it starts (lab down, then lab up --provision-delay-ms {ms})",
            dir.root().display(),
            kept.provision_delay_ms
        );
    }
}

fn run_down(dir: &LabDir, json: bool) -> Result<(), LabError> {
    let root = dir.root().display();
    let (stopped, message) = match down(dir, Show::Stderr)? {
        Stopped::Now { pid } => (true, format!("lab in {root} stopped (pid {pid})")),
        Stopped::WasNotRunning => (false, format!("no lab was running in {root}")),
    };
    say(
        json,
        serde_json::json!({ "dir": dir.root(), "stopped": stopped, "message": message }),
    )
}

/// With `--json`, `record` on stdout; else its one-line `message`.
fn say(json: bool, record: serde_json::Value) -> Result<(), LabError> {
    if json {
        let text = serde_json::to_string_pretty(&record)
            .map_err(|e| LabError::Other(format!("cannot encode the answer: {e}")))?;
        println!("{text}");
    } else {
        println!("{}", record["message"].as_str().unwrap_or_default());
    }
    Ok(())
}

fn run_status(dir: &LabDir, json: bool) -> Result<(), LabError> {
    let status = published::status(dir.root())?;
    if json {
        print_json(&status)
    } else {
        print!("{}", table(&status));
        Ok(())
    }
}

fn run_fault(
    fault: FaultCommand,
    pick: impl Fn(&DirArg) -> LabDir,
    json: bool,
) -> (&'static str, Result<(), LabError>) {
    let (name, kind, target) = match fault {
        FaultCommand::ServerDown(t) => ("lab fault server-down", FaultKind::ServerDown, t),
        FaultCommand::ServerUp(t) => ("lab fault server-up", FaultKind::ServerUp, t),
        FaultCommand::Stop(t) => ("lab fault stop", FaultKind::Stop, t),
        FaultCommand::Start(t) => ("lab fault start", FaultKind::Start, t),
        FaultCommand::Stall(t) => ("lab fault stall", FaultKind::Stall, t),
    };
    let dir = pick(&target.dir);
    let outcome = control(&dir)
        .and_then(|control| inject(&control, kind, &target.target))
        .and_then(|message| {
            let fault = name.trim_start_matches("lab fault ");
            say(
                json,
                serde_json::json!({ "fault": fault, "target": target.target, "message": message }),
            )
        });
    (name, outcome)
}

fn control(dir: &LabDir) -> Result<ControlInfo, LabError> {
    // Checks the daemon is alive, so a dead lab gets "no lab is running".
    published::status(dir.root())?;
    dir.read_json(&dir.control_file())?
        .ok_or_else(|| LabError::NotRunning {
            dir: dir.root().to_path_buf(),
        })
}

fn print_json(status: &LabStatus) -> Result<(), LabError> {
    let text = serde_json::to_string_pretty(status)
        .map_err(|e| LabError::Other(format!("cannot encode the status: {e}")))?;
    println!("{text}");
    Ok(())
}
