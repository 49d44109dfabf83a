//! The transcript of a run, for the postmortem: every step, request,
//! output, answer, timing and line the script printed, as JSON lines (`transcript.jsonl`) and as
//! the text the operator saw (`transcript.txt`), beside the journal.
//! A resumed run appends to the same files.
//!
//! Both are written to be handed to support: unless the operator asks
//! otherwise (`--no-redact`), every secret is replaced (`crate::redact`),
//! and the files are the owner's alone (0600), as the journal is.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Local, NaiveDate};
use serde_json::{Value, json};

use super::error::RunbookError;
use super::positions::without_script_positions;
use crate::dc::gate::{RecordedRequest, Witness};
use crate::script::printed::Sink;

pub struct Transcript {
    files: Files,
    /// Print what is said to stdout too (off for `--json`).
    echo: bool,
    /// `-v`: what is shown keeps the script's positions too.
    verbose: bool,
    warned: bool,
    /// Secrets replaced in everything written and shown.
    redact: bool,
}

impl Transcript {
    pub fn open(
        dir: &Path,
        echo: bool,
        verbose: bool,
        redact: bool,
    ) -> Result<Transcript, RunbookError> {
        let open = |name: &str| {
            let path = dir.join(name);
            crate::paths::private_dir(dir)
                .and_then(|_| crate::paths::private_file(&path))
                .map_err(|e| RunbookError::Write {
                    path,
                    cause: e.to_string(),
                })
        };
        Ok(Transcript {
            files: Files {
                jsonl: open("transcript.jsonl")?,
                text: open("transcript.txt")?,
                started: Instant::now(),
                day: Arc::new(Mutex::new(None)),
            },
            echo,
            verbose,
            warned: false,
            redact,
        })
    }

    /// Whether secrets are replaced: the header of a run says it.
    pub fn redacts(&self) -> bool {
        self.redact
    }

    /// `value` as this transcript writes it: redacted, unless it keeps
    /// secrets. For text built from records (a request's body), whose
    /// keys the text alone no longer shows.
    pub fn json(&self, value: Value) -> Value {
        redacted_json(self.redact, value)
    }

    /// One JSON line: `{"at": …, "elapsed_ms": …, "event": kind, …data}`.
    pub fn event(&mut self, kind: &str, data: Value) {
        let result = self.files.event(kind, self.json(data));
        self.check(result);
    }

    /// A line of the readable transcript, shown to the operator as well.
    pub fn say(&mut self, text: &str) {
        let text = &redacted_text(self.redact, text);
        if self.echo {
            // A closed stdout must not stop the run: the transcript has it.
            let _ = writeln!(std::io::stdout(), "{}", self.shown(text));
        }
        self.write_text(text);
    }

    /// The lines that open what this process writes (`super::header`),
    /// for the transcript alone: the terminal has its own short form. Its
    /// first line has the date, so no date line comes before it.
    pub fn header(&mut self, lines: impl FnOnce(DateTime<Local>) -> Vec<String>) {
        let now = Local::now();
        self.files.seen_day(&now);
        let text = redacted_text(self.redact, &lines(now).join("\n"));
        self.write_text(&text);
    }

    /// The runbook's report, which the front end prints when the run ends:
    /// kept (a `report` event) and written as the table it prints, whole.
    pub fn report(&mut self, report: &Value) {
        let report = self.json(report.clone());
        let shown = rhai::serde::to_dynamic(&report).unwrap_or(rhai::Dynamic::UNIT);
        let table = crate::render::render(&shown, usize::MAX, false);
        self.event("report", json!({"report": report}));
        let text = redacted_text(self.redact, &format!("Report:\n{table}"));
        self.write_text(&text);
    }

    /// A line that says the run did not end well: on stderr, where a
    /// failure belongs (with `--json` too), and in the transcript.
    pub fn say_error(&mut self, text: &str) {
        let text = &redacted_text(self.redact, text);
        eprintln!("{}", self.shown(text));
        self.write_text(text);
    }

    fn shown(&self, text: &str) -> String {
        if self.verbose {
            text.to_string()
        } else {
            without_script_positions(text)
        }
    }

    fn write_text(&mut self, text: &str) {
        let result = self.files.text(text);
        self.check(result);
    }

    /// A witness for the mutation gate: each request about to be sent is
    /// written (`sending` event and text line) before it goes out, on
    /// handles of its own, and kept in `sending` for the step to see.
    pub fn witness(&self, step: usize, sending: Arc<Mutex<Vec<RecordedRequest>>>) -> Witness {
        let files = self.files.try_clone();
        let redact = self.redact;
        Arc::new(move |request: &RecordedRequest| {
            let json = serde_json::to_value(request).unwrap_or(Value::Null);
            let json = redacted_json(redact, json);
            if let Ok(files) = &files {
                let said = super::preview::request_line(&json);
                // Failing to write is warned about by the transcript's own
                // writes; the request must go on.
                let _ = files.event("sending", json!({"step": step, "request": json}));
                let _ = files.text(&format!("    sending: {said}"));
            }
            sending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(request.clone());
        })
    }

    /// Where the script's `print()` and `debug()` lines go during the run:
    /// redacted as every line here, shown where the run's own lines are,
    /// and kept (`printed` events), on handles of their own.
    pub fn printer(&self) -> Sink {
        let files = self.files.try_clone();
        let (redact, echo) = (self.redact, self.echo);
        Arc::new(move |text: &str| {
            let text = redacted_text(redact, text);
            if echo {
                // A closed stdout must not stop the run: the transcript has it.
                let _ = writeln!(std::io::stdout(), "{text}");
            } else {
                // With --json, stdout carries the journal alone.
                eprintln!("{text}");
            }
            if let Ok(files) = &files {
                // As for the witness: the transcript's own writes warn.
                let _ = files.event("printed", json!({"text": text}));
                let _ = files.text(&text);
            }
        })
    }

    /// The steps this run sent a change for, in any of its processes: read
    /// back from `transcript.jsonl`, where each request is written before
    /// it goes out, so a run killed mid-step still knows what it began.
    pub fn steps_that_sent(dir: &Path) -> BTreeSet<usize> {
        let text = std::fs::read_to_string(dir.join("transcript.jsonl")).unwrap_or_default();
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| matches!(event["event"].as_str(), Some("sending" | "request")))
            .filter_map(|event| event["step"].as_u64())
            .map(|step| step as usize)
            .collect()
    }

    /// Both: an event, and the line that tells it.
    pub fn log(&mut self, kind: &str, data: Value, text: &str) {
        self.event(kind, data);
        self.say(text);
    }

    fn check(&mut self, result: std::io::Result<()>) {
        if let Err(e) = result
            && !self.warned
        {
            self.warned = true;
            eprintln!("warning: cannot write the run transcript: {e}; the run goes on");
        }
    }
}

/// Both files of a transcript, on handles that can be cloned for whoever
/// writes beside it (the gate's witness, the script's printed lines).
struct Files {
    jsonl: File,
    text: File,
    started: Instant,
    /// The date of the last text line written, by any handle: lines carry
    /// only their time, and a line with the date comes before the first
    /// line of another day.
    day: Arc<Mutex<Option<NaiveDate>>>,
}

impl Files {
    fn try_clone(&self) -> std::io::Result<Files> {
        Ok(Files {
            jsonl: self.jsonl.try_clone()?,
            text: self.text.try_clone()?,
            started: self.started,
            day: self.day.clone(),
        })
    }

    /// One JSON line: `{"at": …, "elapsed_ms": …, "event": kind, …data}`.
    fn event(&self, kind: &str, data: Value) -> std::io::Result<()> {
        let mut line = json!({
            "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "elapsed_ms": self.started.elapsed().as_millis() as u64,
            "event": kind,
        });
        if let (Some(line), Value::Object(data)) = (line.as_object_mut(), data) {
            line.extend(data);
        }
        writeln!(&self.jsonl, "{line}")
    }

    /// Lines of the readable transcript, each with its time, after the
    /// date when it is not the date of the line before.
    fn text(&self, text: &str) -> std::io::Result<()> {
        let now = Local::now();
        let stamp = now.format("%H:%M:%S%.3f");
        // Held while writing, so the date line stays before its lines.
        let mut day = self.day.lock().unwrap_or_else(|e| e.into_inner());
        let dated = date_line(&mut day, &now);
        dated
            .iter()
            .map(String::as_str)
            .chain(text.lines())
            .try_for_each(|line| writeln!(&self.text, "{stamp}  {line}"))
    }

    /// `now`'s date is written already (a header that says it).
    fn seen_day(&self, now: &DateTime<Local>) {
        *self.day.lock().unwrap_or_else(|e| e.into_inner()) = Some(now.date_naive());
    }
}

/// `── 2026-12-08, times in UTC ──` when `now` is not on the day of the
/// line before (none before: a process that wrote no header yet).
fn date_line(day: &mut Option<NaiveDate>, now: &DateTime<Local>) -> Option<String> {
    let today = now.date_naive();
    if *day == Some(today) {
        return None;
    }
    *day = Some(today);
    Some(format!(
        "── {}, times in {} ──",
        today.format("%Y-%m-%d"),
        super::header::zone(now)
    ))
}

pub(super) fn redacted_json(redact: bool, value: Value) -> Value {
    if redact {
        crate::redact::json(&value)
    } else {
        value
    }
}

fn redacted_text(redact: bool, text: &str) -> String {
    if redact {
        crate::redact::text(text)
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_json_lines_and_text_and_appends() {
        let dir =
            std::env::temp_dir().join(format!("tritonsh-transcript-{}", uuid::Uuid::new_v4()));
        let mut t = Transcript::open(&dir, false, false, true).unwrap();
        t.log(
            "step_started",
            json!({"step": 1}),
            "1. provision papi1 on cn1",
        );
        drop(t);
        let mut t = Transcript::open(&dir, false, false, true).unwrap();
        t.event("resumed", json!({}));
        drop(t);
        let lines: Vec<Value> = std::fs::read_to_string(dir.join("transcript.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "step_started");
        assert_eq!(lines[0]["step"], 1);
        assert_eq!(lines[1]["event"], "resumed");
        let text = std::fs::read_to_string(dir.join("transcript.txt")).unwrap();
        assert!(text.contains("  1. provision papi1 on cn1"), "{text}");
        assert!(Transcript::steps_that_sent(&dir).is_empty());
        let mut t = Transcript::open(&dir, false, false, true).unwrap();
        t.event("sending", json!({"step": 2, "request": {}}));
        assert_eq!(Transcript::steps_that_sent(&dir), BTreeSet::from([2]));
    }

    #[test]
    fn secrets_are_redacted_unless_kept_and_the_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tritonsh-redacted-{}", uuid::Uuid::new_v4()));
        let body = json!({"metadata": {"ufds_admin_pw": "Transcript-Test-Pw"}});
        let mut t = Transcript::open(&dir, false, false, true).unwrap();
        t.log(
            "output",
            json!({"output": body}),
            "-----BEGIN KEY-----\nabc\n-----END KEY-----",
        );
        let mut kept = Transcript::open(&dir.join("kept"), false, false, false).unwrap();
        kept.event("output", json!({"output": body}));
        let jsonl = std::fs::read_to_string(dir.join("transcript.jsonl")).unwrap();
        assert!(
            !jsonl.contains("Transcript-Test-Pw") && jsonl.contains("[redacted]"),
            "{jsonl}"
        );
        let text = std::fs::read_to_string(dir.join("transcript.txt")).unwrap();
        assert!(
            !text.contains("abc") && text.contains("[redacted]"),
            "{text}"
        );
        let kept = std::fs::read_to_string(dir.join("kept/transcript.jsonl")).unwrap();
        assert!(kept.contains("Transcript-Test-Pw"), "{kept}");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("transcript.jsonl")), 0o600);
    }

    #[test]
    fn a_date_line_comes_before_the_first_line_of_each_day() {
        use chrono::TimeZone;
        let at = |d: u32, h: u32| chrono::Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap();
        let local = |d, h| at(d, h).with_timezone(&Local);
        let mut day = None;
        let first = date_line(&mut day, &local(7, 23));
        let zone = super::super::header::zone(&local(7, 23));
        let date = local(7, 23).format("%Y-%m-%d");
        assert_eq!(first, Some(format!("── {date}, times in {zone} ──")));
        assert_eq!(date_line(&mut day, &local(7, 23)), None);
        let next = local(8, 23);
        let line = date_line(&mut day, &next).unwrap_or_default();
        assert!(
            line.contains(&next.format("%Y-%m-%d").to_string()),
            "{line}"
        );
    }

    #[test]
    fn the_header_says_the_date_and_the_report_is_kept() {
        let dir = crate::temp_dir::TempDir::new("transcript-header");
        let mut t = Transcript::open(&dir, false, false, true).unwrap();
        t.header(|now| vec![format!("started {}", now.format("%Y-%m-%d"))]);
        t.say("[1/1] look");
        t.report(&json!([{"key": "root", "value": "x", "ufds_admin_pw": "Report-Secret-9"}]));
        drop(t);
        let t = Transcript::open(&dir, false, false, true).unwrap();
        (t.printer())("printed on resume");
        let text = std::fs::read_to_string(dir.join("transcript.txt")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].contains("  started 20"),
            "no date line first: {text}"
        );
        assert!(lines[1].ends_with("  [1/1] look"), "{text}");
        assert!(lines[2].ends_with("  Report:"), "{text}");
        assert!(
            lines[3].contains("key") && lines[3].contains("ufds_admin_pw"),
            "{text}"
        );
        assert!(
            lines[4].contains("root") && lines[4].contains("[redacted]"),
            "{text}"
        );
        assert!(!text.contains("Report-Secret-9"), "{text}");
        // Another process writes the date before its first line.
        assert!(lines[5].contains(", times in "), "{text}");
        assert!(lines[6].ends_with("  printed on resume"), "{text}");
        let jsonl = std::fs::read_to_string(dir.join("transcript.jsonl")).unwrap();
        assert!(jsonl.contains(r#""event":"report""#), "{jsonl}");
    }

    #[test]
    fn printed_lines_are_kept_redacted() {
        let dir = crate::temp_dir::TempDir::new("transcript-printed");
        crate::redact::learn(&json!({"ufds_ldap_root_pw": "Printed-Line-Secret-77"}));
        let t = Transcript::open(&dir, false, false, true).unwrap();
        (t.printer())("root is PRINTED-LINE-SECRET-77, or Printed-Line");
        let jsonl = std::fs::read_to_string(dir.join("transcript.jsonl")).unwrap();
        let event: Value = serde_json::from_str(jsonl.trim()).unwrap();
        assert_eq!(event["event"], "printed");
        assert_eq!(event["text"], "root is [redacted], or [redacted]");
        let text = std::fs::read_to_string(dir.join("transcript.txt")).unwrap();
        assert!(
            text.ends_with("  root is [redacted], or [redacted]\n"),
            "{text}"
        );
    }
}
