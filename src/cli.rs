//! The command line: `tritonsh`, `-c`, `FILE.rhai`, `lab`, `run`, `runbook`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "tritonsh",
    version,
    about = "The operator shell for Triton DataCenter"
)]
pub struct Cli {
    /// Evaluate EXPR and print its result, then exit.
    #[arg(short = 'c', value_name = "EXPR")]
    pub command: Option<String>,

    /// Print results as JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    /// Connect to the lab running in DIR.
    #[arg(long, env = "TRITONSH_LAB", value_name = "DIR", global = true)]
    pub lab: Option<std::path::PathBuf>,

    #[command(subcommand)]
    pub subcommand: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run, inspect and fault the rehearsal datacenter on loopback.
    Lab {
        #[command(subcommand)]
        command: crate::lab::cli::LabCommand,
    },
    /// Run a runbook (by name, or a FILE.rhai).
    Run(crate::script::runbook::cli::RunArgs),
    /// List, show, export and edit runbooks.
    Runbook {
        #[command(subcommand)]
        command: crate::script::runbook::cli::RunbookCommand,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.subcommand {
        Some(Command::Lab { command }) => {
            crate::lab::cli::run(command, cli.json, cli.lab.as_deref())
        }
        Some(Command::Run(args)) => crate::script::runbook::cli::run(args),
        Some(Command::Runbook { command }) => crate::script::runbook::cli::runbook(command),
        None => ExitCode::SUCCESS,
    }
}
