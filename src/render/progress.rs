//! One line on stderr about a wait, so a command that waits is never
//! silent: on a terminal a live line redrawn in place (what it waits for,
//! how long so far, the limit, what was seen last); piped, a line each time
//! what was seen changes, not on every tick, so logs stay readable.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Whether a wait shows its progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// On stderr: live on a terminal, a line per change when piped.
    Stderr,
    /// Not at all (a caller with its own output, or none).
    Nothing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Live,
    Lines,
    Off,
}

pub struct Progress {
    /// The command, as its errors name it: "lab down".
    label: &'static str,
    limit: Duration,
    started: Instant,
    mode: Mode,
    /// What the last line printed said was seen.
    printed: Option<String>,
    drawn: bool,
}

impl Progress {
    /// A wait that gives up after `limit`, starting now.
    pub fn new(label: &'static str, limit: Duration, show: Show) -> Progress {
        let mode = match show {
            Show::Nothing => Mode::Off,
            Show::Stderr if std::io::stderr().is_terminal() => Mode::Live,
            Show::Stderr => Mode::Lines,
        };
        Progress {
            label,
            limit,
            started: Instant::now(),
            mode,
            printed: None,
            drawn: false,
        }
    }

    /// Another poll of the wait: `what` it waits for, and what it `seen`
    /// last (nothing yet: `None`; piped, nothing prints until something is).
    pub fn tick(&mut self, what: &str, seen: Option<&str>) {
        let elapsed = self.started.elapsed();
        match self.mode {
            Mode::Off => {}
            Mode::Live => {
                let line = live_line(self.label, what, seen, elapsed, self.limit);
                let width = stderr_width();
                eprint!("\r\x1b[2K{}", fit(&line, width));
                let _ = std::io::stderr().flush();
                self.drawn = true;
            }
            Mode::Lines => {
                let Some(seen) = seen else { return };
                if self.printed.as_deref() != Some(seen) {
                    eprintln!("{}", changed_line(self.label, seen, elapsed));
                    self.printed = Some(seen.to_string());
                }
            }
        }
    }
}

/// The live line goes when the wait ends, so the command's own output (or
/// its one-line error) starts on a clean line.
impl Drop for Progress {
    fn drop(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }
}

/// The clock first, then what was seen: a narrow terminal cuts the end,
/// and what the wait is for matters least once something was seen.
fn live_line(
    label: &str,
    what: &str,
    seen: Option<&str>,
    elapsed: Duration,
    limit: Duration,
) -> String {
    let clock = format!(
        "{label} [{:.1} s of at most {} s]",
        elapsed.as_secs_f64(),
        limit.as_secs()
    );
    match seen {
        Some(seen) => format!("{clock}: {seen} · {what}"),
        None => format!("{clock}: {what}"),
    }
}

fn changed_line(label: &str, seen: &str, elapsed: Duration) -> String {
    format!("{label}: {seen} [{:.1} s]", elapsed.as_secs_f64())
}

fn stderr_width() -> usize {
    terminal_size::terminal_size_of(std::io::stderr())
        .map_or(80, |(terminal_size::Width(w), _)| usize::from(w))
}

/// A line longer than the terminal wraps, and `\r` then redraws only its
/// last row: cut it to fit, with an ellipsis.
fn fit(line: &str, width: usize) -> String {
    let room = width.saturating_sub(1);
    if line.chars().count() <= room {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(room.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_live_line_names_the_wait_the_time_the_limit_and_what_was_seen() {
        let line = live_line(
            "lab down",
            "waiting for the lab daemon (pid 7) to stop",
            Some("stopping ZooKeeper (binder0)"),
            Duration::from_millis(1240),
            Duration::from_secs(30),
        );
        assert_eq!(
            line,
            "lab down [1.2 s of at most 30 s]: stopping ZooKeeper (binder0) · waiting for the lab daemon (pid 7) to stop"
        );
    }

    #[test]
    fn a_piped_line_says_what_changed_and_when() {
        assert_eq!(
            changed_line("lab up", "waiting for binder0", Duration::from_millis(3020)),
            "lab up: waiting for binder0 [3.0 s]"
        );
    }

    #[test]
    fn a_long_line_is_cut_to_the_terminal() {
        assert_eq!(fit("abcdefgh", 6), "abcd…");
        assert_eq!(fit("abcde", 6), "abcde");
        assert_eq!(fit("ééééé", 6).chars().count(), 5);
    }
}
