//! `tritonsh run …` and `tritonsh runbook …`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};
use clap_complete::engine::ArgValueCompleter;

use crate::connect::ConnectOptions;
use crate::script::runbook::call::Env;
use crate::script::runbook::catalog::{self, LocalState, Origin};
use crate::script::runbook::definition::Definition;
use crate::script::runbook::error::RunbookError;
use crate::script::runbook::journal::{self, Journal};
use crate::script::runbook::params;
use crate::script::runbook::resume;
use crate::script::runbook::run_lock;
use crate::script::runbook::runner::{self, RunOptions, RunReport};
use crate::script::{OutputOptions, ScriptCtx};
use crate::shell_completion;

/// `println!` without the panic when stdout is a closed pipe
/// (`tritonsh runbook show x | head`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// A runbook name (`tritonsh runbook list`), or the path of a .rhai file.
    #[arg(required_unless_present = "resume", add = ArgValueCompleter::new(shell_completion::runbooks))]
    pub runbook: Option<String>,

    /// A parameter of the runbook, NAME=VALUE; repeat for more. Lists are
    /// comma-separated: servers=cn1,cn2.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE",
          add = ArgValueCompleter::new(shell_completion::params))]
    pub params: Vec<String>,

    /// Show the plan and the requests each step would send; send none.
    #[arg(long, short = 'n')]
    pub dry_run: bool,

    /// Answer yes to every step that changes the datacenter (never to one
    /// that destroys something: that takes its name, typed or --confirm).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Go past checks that refuse without it (placement against Triton's
    /// advice, a member of a quorum). Read what they say first.
    #[arg(long)]
    pub force: bool,

    /// Answer the typed confirmation of a step that destroys NAME, for a
    /// run with no terminal; repeat for more.
    #[arg(long, value_name = "NAME")]
    pub confirm: Vec<String>,

    /// Keep the datacenter's secrets in the transcript and the -v log, for
    /// your own use: by default they are redacted, so both can be handed on.
    #[arg(long)]
    pub no_redact: bool,

    /// The datacenter of profile NAME (as `tritonsh --profile NAME run`).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Continue the run RUN_ID at its first step not done, with its plan.
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["runbook", "params", "dry_run"])]
    pub resume: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum RunbookCommand {
    /// List runbooks with their version, source and summary.
    List,
    /// Print a runbook (the local copy when there is one).
    Show { name: String },
    /// Copy a stdlib runbook to the local runbook directory for editing.
    Export { name: String },
    /// Open a local copy in $EDITOR, exporting it first if needed.
    Edit { name: String },
    /// List recent runs, newest first.
    Runs,
}

pub fn run(args: RunArgs, json: bool, verbose: bool, connect: &ConnectOptions) -> ExitCode {
    let no_redact = args.no_redact;
    match run_inner(args, json, verbose, connect) {
        Ok(report) => {
            if json {
                // Printed output ends up in tickets too: as redacted as the
                // transcript, unless asked not to be.
                let journal = serde_json::to_value(&report.journal).unwrap_or_default();
                let journal = if no_redact {
                    journal
                } else {
                    crate::redact::json(&journal)
                };
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&journal).unwrap_or_default()
                );
            } else if let Some(found) = &report.journal.report {
                print_report(&if no_redact {
                    found.clone()
                } else {
                    crate::redact::json(found)
                });
            }
            ExitCode::from(report.exit_code())
        }
        Err(e) => fail(e),
    }
}

/// The runbook's report: records as a table, anything else as it comes.
fn print_report(found: &serde_json::Value) {
    let value = rhai::serde::to_dynamic(found).unwrap_or(rhai::Dynamic::UNIT);
    let width = crate::render::terminal_width();
    let color = crate::render::color_wanted();
    outln!("{}", crate::render::render(&value, width, color).trim_end());
}

fn run_inner(
    args: RunArgs,
    json: bool,
    verbose: bool,
    connect: &ConnectOptions,
) -> Result<RunReport, RunbookError> {
    let options = RunOptions {
        dry_run: args.dry_run,
        yes: args.yes,
        force: args.force,
        confirm: args.confirm.clone(),
        echo: !json,
        terminal: std::io::stdin().is_terminal(),
        verbose,
        no_redact: args.no_redact,
    };
    let dir = crate::paths::runbook_dir();
    // The runbook and its parameters are checked before connecting, so a
    // typo is reported at once, datacenter or not.
    let start = match (&args.resume, &args.runbook) {
        (Some(id), _) => {
            let journal = Journal::load(&journal::runs_dir(), id)?;
            // Refused before this shell connects anywhere.
            let here = crate::connect::datacenter_id(connect).map_err(RunbookError::Other)?;
            resume::belongs_here(&journal, &here)?;
            None
        }
        (None, Some(name)) => {
            let source = catalog::resolve(name, &dir)?;
            let definition = Definition::load(&bare_engine(), source.clone())?;
            let given = params::parse_pairs(definition.name(), &definition.params, &args.params)?;
            params::resolve(definition.name(), &definition.params, given.clone())?;
            Some((source, given))
        }
        (None, None) => {
            return Err(RunbookError::Other(
                "name a runbook, or give --resume RUN_ID".into(),
            ));
        }
    };
    let shell = Shell::start(connect, json)?;
    let env = shell.env();
    match (start, &args.resume) {
        (Some((source, given)), _) => {
            let definition = Definition::load(env.engine, source)?;
            runner::start(&env, &definition, given, &options)
        }
        (None, Some(id)) => resume::resume(&env, id, &options),
        (None, None) => Err(RunbookError::Other(
            "name a runbook, or give --resume RUN_ID".into(),
        )),
    }
}

/// What a run needs, set up for the command line: the shell's engine and
/// context, with Ctrl-C, SIGTERM and SIGHUP wired to the interrupt.
struct Shell {
    engine: rhai::Engine,
    ctx: Arc<ScriptCtx>,
    // Kept alive for the host calls; shut down last (see Drop).
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for Shell {
    /// A run interrupted at a question leaves a blocking read of stdin that
    /// nothing can cancel; waiting for it would hang the process until the
    /// operator typed a line. Leave it behind instead.
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl Shell {
    fn start(connect: &ConnectOptions, json: bool) -> Result<Shell, RunbookError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| RunbookError::Other(format!("cannot start the async runtime: {e}")))?;
        let output = OutputOptions {
            json,
            color: false,
            width: crate::render::terminal_width(),
        };
        let (ctx, _banner) = crate::connect::connect(connect, rt.handle().clone(), output)
            .map_err(RunbookError::Other)?;
        // A run needs the datacenter: no journal for a run that cannot start.
        ctx.dc.find(true).map_err(RunbookError::Other)?;
        let on_signal = ctx.clone();
        // A closed terminal (SIGHUP) is an interruption like SIGTERM: the
        // run records where it stopped instead of dying mid-step.
        rt.spawn(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut term), Ok(mut hangup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
                _ = hangup.recv() => {}
            }
            on_signal.trigger();
        });
        let engine = crate::script::engine::build(ctx.clone());
        Ok(Shell {
            engine,
            ctx,
            rt: Some(rt),
        })
    }

    fn env(&self) -> Env<'_> {
        Env {
            engine: &self.engine,
            datacenter: self.ctx.dc.id().clone(),
            gate: self.ctx.dc.gate().clone(),
            interrupt: &self.ctx.interrupt,
            rt: self.ctx.rt.clone(),
            printed: self.ctx.printed.clone(),
        }
    }
}

pub fn runbook(command: RunbookCommand, json: bool) -> ExitCode {
    let result = match command {
        RunbookCommand::List => list(json),
        RunbookCommand::Show { name } => show(&name),
        RunbookCommand::Export { name } => export(&name),
        RunbookCommand::Edit { name } => edit(&name),
        RunbookCommand::Runs => runs(json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn fail(e: RunbookError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(2)
}

#[derive(serde::Serialize)]
struct Listed {
    name: String,
    version: String,
    source: String,
    summary: String,
}

/// An engine without a datacenter: enough to read a runbook's declaration.
fn bare_engine() -> rhai::Engine {
    let mut engine = rhai::Engine::new();
    crate::script::runbook::register_helpers(&mut engine);
    engine
}

fn list(json: bool) -> Result<(), RunbookError> {
    let dir = crate::paths::runbook_dir();
    let engine = bare_engine();
    let listed: Vec<Listed> = catalog::all_names(&dir)
        .into_iter()
        .map(|name| {
            let stdlib_version =
                catalog::stdlib_text(&name).and_then(|text| version_of(&engine, &name, text));
            let source =
                describe_source(catalog::local_state(&dir, &name), stdlib_version.as_deref());
            match catalog::resolve(&name, &dir).and_then(|s| Definition::load(&engine, s)) {
                Ok(d) => Listed {
                    name,
                    version: d.version,
                    source,
                    summary: d.summary,
                },
                Err(e) => Listed {
                    name,
                    version: "?".into(),
                    source,
                    summary: format!("cannot load: {e}"),
                },
            }
        })
        .collect();
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&listed).unwrap_or_default()
        );
        return Ok(());
    }
    let width = |f: fn(&Listed) -> &str, title: &str| {
        listed
            .iter()
            .map(|l| f(l).chars().count())
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let (wn, wv, ws) = (
        width(|l| &l.name, "NAME"),
        width(|l| &l.version, "VERSION"),
        width(|l| &l.source, "SOURCE"),
    );
    outln!(
        "{:wn$}  {:wv$}  {:ws$}  SUMMARY",
        "NAME",
        "VERSION",
        "SOURCE"
    );
    for l in &listed {
        outln!(
            "{:wn$}  {:wv$}  {:ws$}  {}",
            l.name,
            l.version,
            l.source,
            l.summary
        );
    }
    Ok(())
}

fn version_of(engine: &rhai::Engine, name: &str, text: &str) -> Option<String> {
    let source = catalog::Source {
        name: name.to_string(),
        origin: Origin::Stdlib,
        text: text.to_string(),
    };
    Definition::load(engine, source).ok().map(|d| d.version)
}

fn describe_source(state: LocalState, stdlib_version: Option<&str>) -> String {
    let stdlib = stdlib_version.unwrap_or("?");
    match state {
        LocalState::StdlibOnly => "stdlib".into(),
        LocalState::LocalOnly => "local".into(),
        LocalState::SameAsStdlib => format!("local, same as stdlib {stdlib}"),
        LocalState::Edited => format!("local, edited from stdlib {stdlib}"),
        LocalState::StdlibChanged => format!("local, exported from an older stdlib (now {stdlib})"),
        LocalState::Differs => format!("local, differs from stdlib {stdlib}"),
    }
}

fn show(name: &str) -> Result<(), RunbookError> {
    let source = catalog::resolve(name, &crate::paths::runbook_dir())?;
    outln!("{}", source.text.trim_end_matches('\n'));
    Ok(())
}

fn export(name: &str) -> Result<(), RunbookError> {
    let path = catalog::export(&crate::paths::runbook_dir(), name)?;
    outln!("{}", path.display());
    Ok(())
}

fn edit(name: &str) -> Result<(), RunbookError> {
    let dir = crate::paths::runbook_dir();
    let path = catalog::local_path(&dir, name);
    if !path.exists() {
        catalog::export(&dir, name)?;
    }
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(words)
        .arg(&path)
        .status()
        .map_err(|e| {
            RunbookError::Other(format!("cannot start editor '{editor}': {e}; set $EDITOR"))
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(RunbookError::Other(format!(
            "editor '{editor}' exited with {status}; {} is kept",
            path.display()
        )))
    }
}

fn runs(json: bool) -> Result<(), RunbookError> {
    let journals = Journal::list(&journal::runs_dir());
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&journals).unwrap_or_default()
        );
        return Ok(());
    }
    let rows: rhai::Array = journals.iter().map(run_row).collect();
    let table = crate::render::render(
        &rows.into(),
        crate::render::terminal_width(),
        crate::render::color_wanted(),
    );
    outln!("{table}");
    Ok(())
}

/// One run as a row of `runbook runs`. A run whose journal still says
/// running but whose process is gone (killed, closed terminal) was cut
/// off: it says so, and how to go on.
fn run_row(j: &Journal) -> rhai::Dynamic {
    let done = j.steps.iter().filter(|s| s.status.is_complete()).count();
    let word = serde_json::to_value(j.status)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let gone = j.status == journal::RunStatus::Running
        && run_lock::owner_gone(&journal::runs_dir().join(&j.id));
    let (status, note) = if gone {
        (
            "interrupted (process gone)".to_string(),
            format!("to go on: tritonsh run --resume {}", j.id),
        )
    } else {
        (word, j.stopped.clone().unwrap_or_default())
    };
    let mut row = rhai::Map::new();
    row.insert("id".into(), j.id.clone().into());
    row.insert("status".into(), status.into());
    row.insert(
        "runbook".into(),
        format!("{} {}", j.runbook, j.version).into(),
    );
    row.insert("steps".into(), format!("{done}/{}", j.steps.len()).into());
    row.insert("note".into(), note.into());
    row.into()
}
