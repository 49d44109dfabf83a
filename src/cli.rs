//! The command line: `tritonsh` (the REPL), `-c EXPR`, `FILE.rhai [ARGS]`,
//! and the `lab`, `run`, `runbook`, `manatee` and `completions` subcommands.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};
use rhai::Dynamic;

use crate::connect::{ConnectOptions, connect};
use crate::render;
use crate::script::{OutputOptions, Session};

#[derive(Parser, Debug)]
#[command(
    name = "tritonsh",
    version,
    about = "The operator shell for Triton DataCenter"
)]
pub struct Cli {
    /// Evaluate EXPR and print its result, then exit.
    #[arg(short = 'c', value_name = "EXPR", conflicts_with = "script")]
    pub command: Option<String>,

    /// Print results as JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,

    /// Connect to the lab running in DIR (else TRITONSH_LAB).
    #[arg(long, value_name = "DIR", global = true)]
    pub lab: Option<PathBuf>,

    /// Connect to the datacenter of profile NAME in the config file (else
    /// TRITONSH_PROFILE).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Log to tritonsh.log in the state directory (-vv for more).
    #[arg(short = 'v', action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// A script to run, then its ARGS (the script's `ARGS` array).
    #[arg(
        value_name = "FILE.rhai ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub script: Vec<String>,

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
    Run(crate::runbook_cli::RunArgs),
    /// List, show, export and edit runbooks.
    Runbook {
        #[command(subcommand)]
        command: crate::runbook_cli::RunbookCommand,
    },
    /// The health of every core instance and service (as sdcadm check-health);
    /// exits 1 when anything is unhealthy.
    Health(crate::health_cli::HealthArgs),
    /// Print the script that completes tritonsh's commands, runbook names
    /// and `-p NAME=` in your shell: source <(tritonsh completions bash).
    Completions {
        #[arg(value_enum)]
        shell: crate::shell_completion::Shell,
    },
    /// Inspect and administer a manatee shard as manatee-adm does (show, pg-status, freeze, …).
    #[command(disable_help_flag = true)]
    Manatee {
        #[arg(
            value_name = "COMMAND ARGS",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        args: Vec<String>,
    },
}

pub fn main() -> ExitCode {
    // A Tab in the operator's shell calls back here; nothing else runs.
    crate::shell_completion::answer_if_asked();
    let mut cli = Cli::parse();
    let no_redact = matches!(&cli.subcommand, Some(Command::Run(args)) if args.no_redact);
    init_logging(cli.verbose, !no_redact);
    if !matches!(
        cli.subcommand,
        Some(Command::Lab {
            command: crate::lab::cli::LabCommand::Serve(_)
        })
    ) {
        die_quietly_on_closed_stdout();
    }
    if cli.command.is_some() && cli.subcommand.is_some() {
        eprintln!(
            "tritonsh: -c EXPR cannot be combined with a subcommand (lab, run, runbook, manatee, health, completions): use one or the other"
        );
        return ExitCode::from(2);
    }
    let subcommand = match cli.subcommand.take() {
        Some(Command::Lab { command }) => {
            let lab = cli
                .lab
                .or_else(|| std::env::var_os("TRITONSH_LAB").map(PathBuf::from));
            return crate::lab::cli::run(command, cli.json, lab.as_deref());
        }
        // manatee takes --lab and --profile among its own arguments too.
        Some(Command::Manatee { args }) => {
            return crate::manatee_cli::run(args, cli.lab.clone(), cli.profile.clone());
        }
        other => other,
    };
    // `run` and `health` take --profile after their name too.
    let profile = match &subcommand {
        Some(Command::Run(args)) => args.profile.clone(),
        Some(Command::Health(args)) => args.profile.clone(),
        _ => None,
    };
    let chosen = crate::connect::flag_in_two_places(cli.profile.clone(), profile, "--profile")
        .and_then(|profile| ConnectOptions::from_flags(cli.lab.clone(), profile));
    let connect = match chosen {
        Ok(connect) => connect,
        Err(e) => {
            eprintln!("tritonsh: {e}");
            return ExitCode::from(2);
        }
    };
    match subcommand {
        Some(Command::Run(args)) => {
            crate::runbook_cli::run(args, cli.json, cli.verbose > 0, &connect)
        }
        Some(Command::Runbook { command }) => crate::runbook_cli::runbook(command, cli.json),
        Some(Command::Health(args)) => crate::health_cli::run(args, cli.json, &connect),
        Some(Command::Completions { shell }) => crate::shell_completion::print_script(shell),
        Some(Command::Lab { .. } | Command::Manatee { .. }) | None => shell(&cli, &connect),
    }
}

/// The exit status of an evaluation stopped by Ctrl-C, as shells use.
const INTERRUPTED: u8 = 130;

fn shell(cli: &Cli, options: &ConnectOptions) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    let output = OutputOptions {
        json: cli.json,
        color: render::color_wanted(),
        width: render::terminal_width(),
    };
    let (ctx, banner) = match connect(options, rt.handle().clone(), output) {
        Ok(connected) => connected,
        Err(e) => return fail(&e),
    };
    tracing::info!(%banner, "datacenter chosen");
    let session = Session::new(ctx);
    if let Some(expr) = &cli.command {
        // Which datacenter a one-liner ran on, for the operator at a
        // terminal; a pipeline's stderr stays clean.
        if std::io::stderr().is_terminal() {
            eprintln!("tritonsh: on {}", session.ctx().dc.id());
        }
        return batch(&rt, &session, None, expr, output);
    }
    if let Some((script, args)) = cli.script.split_first() {
        return run_file(&rt, &session, Path::new(script), args, output);
    }
    // The REPL's banner says which datacenter it uses, so it finds it now
    // (starting the default lab if need be); a batch run waits for a call.
    // Said once, on stderr; the banner then does not claim a connection.
    let banner = match session.ctx().dc.find(false) {
        Ok(_) => banner,
        Err(e) => {
            eprintln!("tritonsh: {e}; datacenter calls will try again");
            "not connected yet: help() and Tab work; datacenter calls will try again".to_string()
        }
    };
    crate::repl::run(session, &banner)
}

fn run_file(
    rt: &tokio::runtime::Runtime,
    session: &Session,
    script: &Path,
    args: &[String],
    output: OutputOptions,
) -> ExitCode {
    let code = match std::fs::read_to_string(script) {
        Ok(code) => code,
        // The script slot takes anything (its ARGS may start with `-`), so a
        // mistyped option such as `--jsno` lands here: name it as an option.
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && script.to_string_lossy().starts_with('-') =>
        {
            return fail(&format!(
                "unknown option {} (tritonsh --help lists them; a script whose name starts with - is ./{0})",
                script.display()
            ));
        }
        Err(e) => return fail(&format!("cannot read {}: {e}", script.display())),
    };
    // `#!/usr/bin/env tritonsh` lets a script run as a command; Rhai does
    // not know the line, so it is blanked (keeping line numbers right).
    let code = match code.strip_prefix("#!") {
        Some(rest) => rest
            .find('\n')
            .map(|i| rest[i..].to_string())
            .unwrap_or_default(),
        None => code,
    };
    let args: rhai::Array = args.iter().map(|a| Dynamic::from(a.clone())).collect();
    if let Err(e) = session.set_var("ARGS", args.into()) {
        return fail(&e);
    }
    let name = script.display().to_string();
    batch(rt, session, Some(&name), &code, output)
}

/// Evaluates once, prints the result (nothing for `()`, `null` with
/// `--json`), errors on stderr.
fn batch(
    rt: &tokio::runtime::Runtime,
    session: &Session,
    source: Option<&str>,
    code: &str,
    output: OutputOptions,
) -> ExitCode {
    let interrupter = session.interrupter();
    let watch = rt.spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            interrupter.interrupt();
        }
    });
    let result = session.eval_source(source, code);
    watch.abort();
    // `exit(status, result)` still prints its result.
    let exit = session.ctx().take_exit().map(ExitCode::from);
    if let (Some(code), Err(_)) = (exit, &result) {
        return code;
    }
    match result {
        Ok(value) if value.is_unit() && !output.json => exit.unwrap_or(ExitCode::SUCCESS),
        Ok(value) if output.json => match render::json::to_json(&value) {
            Ok(json) => {
                println!("{json}");
                exit.unwrap_or(ExitCode::SUCCESS)
            }
            Err(e) => fail(&e),
        },
        Ok(value) => {
            println!("{}", render::render(&value, output.width, output.color));
            exit.unwrap_or(ExitCode::SUCCESS)
        }
        Err(e) if session.ctx().is_stopped() => {
            eprintln!("{e}");
            ExitCode::from(INTERRUPTED)
        }
        // Script errors already say where they happened.
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("tritonsh: {message}");
    ExitCode::FAILURE
}

/// `tritonsh … | head` must end like any Unix tool when the reader goes
/// away, not panic in `println!`. Rust ignores SIGPIPE so that writes to a
/// closed socket return an error; sockets are written with MSG_NOSIGNAL on
/// Linux, so restoring the default only affects stdout and stderr. The lab
/// daemon keeps ignoring it: its output is a log file, and it must not die.
fn die_quietly_on_closed_stdout() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: installing the default disposition runs no code of ours in
    // the handler; nothing else in the process changes SIGPIPE.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
}

/// Quiet by default; `-v` logs to a file so the terminal stays clean,
/// with the datacenter's secrets redacted unless `redact` is false.
fn init_logging(verbose: u8, redact: bool) {
    if verbose == 0 {
        return;
    }
    let dir = crate::paths::state_dir();
    let path = dir.join("tritonsh.log");
    let file = std::fs::create_dir_all(&dir).and_then(|_| crate::paths::private_file(&path));
    let file = match file {
        Ok(file) => file,
        Err(e) => {
            eprintln!(
                "tritonsh: cannot log to {}: {e}; going on without a log",
                path.display()
            );
            return;
        }
    };
    let level = if verbose == 1 {
        "tritonsh=debug"
    } else {
        "trace"
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        .with_writer(crate::redact::LogWriter::new(file, redact))
        .with_ansi(false)
        .try_init();
}
