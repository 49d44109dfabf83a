//! Completion in the operator's own shell: `tritonsh completions bash|zsh|fish`
//! prints a script that asks tritonsh itself at every Tab (clap_complete's
//! dynamic engine), so the runbook names and the `-p NAME=` parameters of
//! the runbook on the line come from the runbooks installed now, local
//! copies included.
//!
//! Completing never connects to a datacenter: a Tab must answer at once.

use std::ffi::OsStr;
use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use clap::builder::StyledStr;
use clap_complete::engine::{CompletionCandidate, PathCompleter, ValueCompleter};
use clap_complete::env::{Bash, EnvCompleter, Fish, Zsh};

use crate::script::runbook::catalog;
use crate::script::runbook::completion;

/// The variable the scripts set when they call tritonsh back.
pub const VAR: &str = "TRITONSH_COMPLETE";

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Answers a completion request and exits, when this process is one (the
/// script set `TRITONSH_COMPLETE`); otherwise returns at once.
pub fn answer_if_asked() {
    clap_complete::CompleteEnv::with_factory(<crate::cli::Cli as clap::CommandFactory>::command)
        .var(VAR)
        .complete();
}

/// `tritonsh completions SHELL`: the script to source.
pub fn print_script(shell: Shell) -> std::process::ExitCode {
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &Bash,
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
    };
    let mut out = Vec::new();
    let written = completer
        .write_registration(VAR, "tritonsh", "tritonsh", &this_program(), &mut out)
        .and_then(|()| std::io::stdout().write_all(&out));
    match written {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tritonsh: cannot write the completion script: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// How the script calls tritonsh back: as it was called now, made
/// absolute when it was a path (`./target/debug/tritonsh`), else by name.
fn this_program() -> String {
    let called = PathBuf::from(
        std::env::args_os()
            .next()
            .unwrap_or_else(|| "tritonsh".into()),
    );
    let program = if called.components().count() > 1 {
        std::env::current_dir()
            .map(|dir| dir.join(&called))
            .unwrap_or(called)
    } else {
        called
    };
    program.to_string_lossy().into_owned()
}

/// `tritonsh run <Tab>`: runbook names, and files for a path.
pub fn runbooks(current: &OsStr) -> Vec<CompletionCandidate> {
    let typed = current.to_string_lossy();
    if catalog::is_path(&typed) {
        return PathCompleter::file().complete(current);
    }
    completion::runbook_names()
        .into_iter()
        .filter(|name| name.starts_with(typed.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

/// `tritonsh run RUNBOOK -p <Tab>`: `NAME=` for each parameter of the
/// runbook named on the line, with its help.
pub fn params(current: &OsStr) -> Vec<CompletionCandidate> {
    let typed = current.to_string_lossy();
    if typed.contains('=') {
        return Vec::new();
    }
    let Some(runbook) = runbook_on_the_line() else {
        return Vec::new();
    };
    completion::params_offline(&runbook)
        .into_iter()
        .filter(|p| p.name.starts_with(typed.as_ref()))
        .map(|p| {
            let help = match p.help.as_str() {
                "" => p.describe(),
                help => format!("{}: {help}", p.describe()),
            };
            CompletionCandidate::new(format!("{}=", p.name)).help(Some(StyledStr::from(help)))
        })
        .collect()
}

/// The runbook of the `run` being completed: the first word after `run`
/// that is neither an option nor the value of one. The words are this
/// process's arguments after `--`, as the script passes them.
fn runbook_on_the_line() -> Option<String> {
    let words: Vec<String> = std::env::args().skip_while(|a| a != "--").skip(1).collect();
    runbook_in(&words)
}

fn runbook_in(words: &[String]) -> Option<String> {
    let mut rest = words.iter().skip_while(|w| *w != "run").skip(1);
    while let Some(word) = rest.next() {
        match word.as_str() {
            "-p" | "--param" | "--resume" | "--lab" | "--profile" => {
                rest.next();
            }
            w if w.starts_with('-') => {}
            w => return Some(w.to_string()),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runbook_is_the_first_word_after_run_that_is_no_option() {
        let words = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            runbook_in(&words("tritonsh -v run -p x=1 --yes scale-service -p se")).as_deref(),
            Some("scale-service")
        );
        assert_eq!(runbook_in(&words("tritonsh run -p")), None);
        assert_eq!(runbook_in(&words("tritonsh runbook list")), None);
    }
}
