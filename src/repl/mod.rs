//! The interactive shell on rustyline: completion (including live names from
//! the datacenter), history hints, highlighting, multi-line input, and
//! Ctrl-C that cancels an evaluation without leaving the shell.

mod completer;
mod evaluator;
mod helper;
mod highlighter;
mod history;
mod lexer;
mod live;
mod sigint;
mod validator;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use nu_ansi_term::Color;
use rhai::Dynamic;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

pub use evaluator::Evaluator;
pub use live::{FRESH_FOR, Fetch, Fetched, LiveCache, LiveNames};

use helper::ReplHelper;
use history::HistoryFile;
use sigint::SigintWatch;

const PROMPT: &str = "tritonsh> ";

/// Everything the loop needs besides the session itself.
pub struct ReplOptions<'a> {
    /// What the shell is connected to, printed first.
    pub banner: &'a str,
    pub rt: tokio::runtime::Handle,
    /// Live names for completion; `None` completes only from the session.
    pub live: Option<LiveCache>,
    /// Turns a result into text: `(value, terminal width, colour)`.
    pub render: &'a dyn Fn(&Dynamic, usize, bool) -> String,
}

/// Runs the REPL until Ctrl-D; exits non-zero only when the terminal itself
/// fails.
pub fn run_with(evaluator: Arc<dyn Evaluator>, options: ReplOptions) -> ExitCode {
    let color = use_color();
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .history_ignore_space(true)
        .auto_add_history(false)
        .build();
    let mut editor: Editor<ReplHelper, FileHistory> = match Editor::with_config(config) {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("cannot start the line editor: {e}; run with -c EXPR or a FILE.rhai instead");
            return ExitCode::FAILURE;
        }
    };
    if let Some(live) = &options.live {
        // Starts the first fetch so the first Tab has names to offer.
        live.names();
    }
    editor.set_helper(Some(ReplHelper::new(
        Arc::clone(&evaluator),
        options.live,
        color,
    )));
    let mut history = HistoryFile::new(crate::paths::state_dir().join("history"));
    history.load(&mut editor);

    let mut sigint = match SigintWatch::install(&options.rt, Arc::clone(&evaluator)) {
        Ok(watch) => watch,
        Err(e) => {
            eprintln!("cannot catch Ctrl-C: {e}; the shell cannot run without it");
            return ExitCode::FAILURE;
        }
    };

    println!("{}", options.banner);
    println!("Type help() for the functions, Tab to complete, Ctrl-D to exit.");
    loop {
        let line = match editor.readline(PROMPT) {
            Ok(line) => line,
            // Ctrl-C while editing only drops the line being typed.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("cannot read from the terminal: {e}; the shell stops here");
                return ExitCode::FAILURE;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        // A failure is only history not being kept; the warning says so.
        let _ = editor.add_history_entry(line.as_str());
        history.save(&mut editor);

        let (result, interrupted) = sigint.during(|| evaluator.eval(&line));
        match result {
            Ok(value) if value.is_unit() => {}
            Ok(value) => println!("{}", (options.render)(&value, width(), color)),
            Err(_) if interrupted => eprintln!("{}", paint(color, Color::Yellow, "interrupted")),
            Err(message) => eprintln!("{}", paint(color, Color::Red, &one_line(&message))),
        }
    }
}

/// NO_COLOR (any non-empty value) or output that is not a terminal turns
/// colour off.
fn use_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

fn width() -> usize {
    terminal_size::terminal_size().map_or(80, |(w, _)| usize::from(w.0))
}

fn paint(color: bool, c: Color, text: &str) -> String {
    if color {
        c.paint(text).to_string()
    } else {
        text.to_string()
    }
}

fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
