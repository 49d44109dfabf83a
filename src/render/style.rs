//! Colour: headers bold, states green when healthy and red when not; all
//! of it off with `NO_COLOR` or when the output is not a terminal.

use std::io::IsTerminal;

use nu_ansi_term::{Color, Style};

/// True when stdout is a terminal and `NO_COLOR` is unset or empty.
pub fn color_wanted() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

pub fn header(text: &str, color: bool) -> String {
    if color {
        Style::new().bold().paint(text).to_string()
    } else {
        text.to_string()
    }
}

pub fn dim(text: &str, color: bool) -> String {
    if color {
        Style::new().dimmed().paint(text).to_string()
    } else {
        text.to_string()
    }
}

/// Columns whose values say whether something is healthy.
pub fn is_verdict_column(name: &str) -> bool {
    matches!(
        name,
        "state" | "status" | "execution" | "outcome" | "verdict" | "ok" | "health" | "result"
    )
}

/// A verdict cell coloured by what it says (the text is already padded,
/// so colour codes never upset the alignment).
pub fn verdict(raw: &str, padded: &str, color: bool) -> String {
    if !color {
        return padded.to_string();
    }
    let paint = match raw {
        "running" | "online" | "succeeded" | "ok" | "true" | "active" | "healthy" | "pass"
        | "passed" => Color::Green.normal(),
        "stopped" | "failed" | "offline" | "destroyed" | "error" | "false" | "down"
        | "unhealthy" | "fail" | "canceled" => Color::Red.normal(),
        "provisioning" | "stopping" | "rebooting" | "queued" | "unknown" | "running-still"
        | "still running" | "degraded" => Color::Yellow.normal(),
        _ => return padded.to_string(),
    };
    paint.paint(padded).to_string()
}
