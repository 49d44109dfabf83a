//! `tritonsh lab …`: start, stop, inspect and fault a lab.

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum LabCommand {
    /// Show how to reach the lab.
    Status,
}

pub fn run(command: LabCommand) -> ExitCode {
    match command {
        LabCommand::Status => ExitCode::SUCCESS,
    }
}
