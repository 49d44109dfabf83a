//! The interactive shell on rustyline: completion (including live names from
//! the datacenter), history hints, highlighting, multi-line input, and
//! Ctrl-C that cancels an evaluation without leaving the shell.

mod access_path;
mod completer;
mod evaluator;
mod helper;
mod highlighter;
mod history;
mod lexer;
mod live;
mod map_literal;
mod sigint;
mod validator;

use std::process::ExitCode;
use std::sync::Arc;

use nu_ansi_term::Color;
use rhai::Dynamic;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::render;
use crate::script::session::Session;
use helper::ReplHelper;
use history::HistoryFile;
use live::LiveCache;
use sigint::SigintWatch;

/// Runs the REPL on `session` until Ctrl-D. `banner` says what the shell is
/// connected to. Exits non-zero only when the terminal itself fails.
pub fn run(session: Session, banner: &str) -> ExitCode {
    let color = render::color_wanted();
    let json = session.ctx().output.json;
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
    let interrupter = session.interrupter();
    let mut sigint = match SigintWatch::install(move || interrupter.interrupt()) {
        Ok(watch) => watch,
        Err(e) => {
            eprintln!("cannot catch Ctrl-C: {e}; use -c EXPR or a FILE.rhai instead");
            return ExitCode::FAILURE;
        }
    };
    let live = live_names(&session);
    let session = Arc::new(session);
    editor.set_helper(Some(ReplHelper::new(session.clone(), Some(live), color)));
    let mut history = HistoryFile::new(crate::paths::state_dir().join("history"));
    history.load(&mut editor);

    // The prompt names the datacenter: two terminals on two datacenters
    // must not look alike.
    let prompt = format!("[{}] tritonsh> ", session.ctx().dc.id().short());
    println!("{banner}");
    println!("Type help() for the functions, Tab to complete, Ctrl-D to exit.");
    loop {
        let line = match editor.readline(&prompt) {
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
        // A failure only means history is not kept, which `save` reports.
        let _ = editor.add_history_entry(line.as_str());
        history.save(&mut editor);

        let (result, interrupted) = sigint.during(|| session.eval(&line));
        if let Some(status) = session.ctx().take_exit() {
            return ExitCode::from(status);
        }
        match result.and_then(|value| show(&value, json, color)) {
            Ok(text) if text.is_empty() => {}
            Ok(text) => println!("{text}"),
            // The session says where it stopped; the operator knows where.
            Err(message) if interrupted && message.ends_with("interrupted") => {
                eprintln!("{}", paint(color, Color::Yellow, "interrupted"));
            }
            Err(message) => eprintln!("{}", paint(color, Color::Red, &one_line(&message))),
        }
    }
}

/// Starts the first fetch at once, so the first Tab has names to offer.
fn live_names(session: &Session) -> LiveCache {
    let ctx = session.ctx();
    let cache = LiveCache::new(
        ctx.rt.clone(),
        live::from_datacenter(ctx.dc.clone()),
        live::FRESH_FOR,
    );
    cache.names();
    cache
}

/// A result as text: a table or record fitted to the terminal as it is now
/// (it may have been resized), or JSON with `--json`; `()` shows nothing.
fn show(value: &Dynamic, json: bool, color: bool) -> Result<String, String> {
    if value.is_unit() {
        Ok(String::new())
    } else if json {
        render::json::to_json(value)
    } else {
        Ok(render::render(value, render::terminal_width(), color))
    }
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
