//! Script errors as ONE line: where (source, line, column) and the cause,
//! e.g. `line 1, col 7: VMAPI GET /vms/x: 404 ResourceNotFound: VM not found`.

use rhai::{EvalAltResult, ParseError, Position};

/// `source` names the script file, if the code came from one.
pub fn eval_error(err: &EvalAltResult, source: Option<&str>) -> String {
    let mut frames = Vec::new();
    let mut leaf = err;
    loop {
        match leaf {
            EvalAltResult::ErrorInFunctionCall(name, _, inner, _) => {
                frames.push(if name.starts_with("anon$") {
                    "in a closure".to_string()
                } else {
                    format!("in {name}()")
                });
                leaf = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, _) => {
                frames.push(format!("in module {name}"));
                leaf = inner;
            }
            _ => break,
        }
    }
    let mut line = format!("{}{}", location(source, err.position()), cause(leaf));
    if !frames.is_empty() {
        line.push_str(&format!(" ({}", frames.join(", ")));
        if let (Some(l), Some(c)) = (leaf.position().line(), leaf.position().position()) {
            line.push_str(&format!(", at line {l}, col {c}"));
        }
        line.push(')');
    }
    one_line(&line)
}

pub fn parse_error(err: &ParseError, source: Option<&str>) -> String {
    one_line(&format!(
        "{}syntax error: {}",
        location(source, err.1),
        err.0
    ))
}

fn location(source: Option<&str>, pos: Position) -> String {
    let src = source.map(|s| format!("{s} ")).unwrap_or_default();
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{src}line {l}, col {c}: "),
        (Some(l), None) => format!("{src}line {l}: "),
        _ => source.map(|s| format!("{s}: ")).unwrap_or_default(),
    }
}

fn cause(leaf: &EvalAltResult) -> String {
    match leaf {
        // Host functions fail with the datacenter layer's own one-line text.
        EvalAltResult::ErrorRuntime(value, _) => {
            if value.is_unit() {
                "error thrown".to_string()
            } else {
                value.to_string()
            }
        }
        EvalAltResult::ErrorTerminated(..) => "interrupted".to_string(),
        EvalAltResult::ErrorParsing(p, _) => format!("syntax error: {p}"),
        EvalAltResult::ErrorDataTooLarge(what, _) => format!(
            "{what} too large: a script's values are limited so that one cannot take the shell's memory"
        ),
        other => {
            // Rhai appends " (line 1, position 7)"; the location is ours to print.
            let text = other.to_string();
            let suffix = format!(" ({})", other.position());
            text.strip_suffix(&suffix).unwrap_or(&text).to_string()
        }
    }
}

fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
