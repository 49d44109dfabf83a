//! `tritonsh run …` and `tritonsh runbook …`.

use std::process::ExitCode;

use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// A runbook name, or the path of a .rhai file.
    pub runbook: String,
}

#[derive(Subcommand, Debug)]
pub enum RunbookCommand {
    /// List runbooks with their version and source.
    List,
}

pub fn run(_args: RunArgs) -> ExitCode {
    ExitCode::SUCCESS
}

pub fn runbook(command: RunbookCommand) -> ExitCode {
    match command {
        RunbookCommand::List => ExitCode::SUCCESS,
    }
}
