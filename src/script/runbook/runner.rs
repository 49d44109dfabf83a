//! A run from start to end: parameters, preflight, the plan (computed once
//! and stored), then either the dry-run preview or the steps; and a resume,
//! which replays the stored plan from the first step not done.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::dc::gate::GateMode;
use crate::script::interrupt::Interrupted;
use crate::script::printed::Routed;

use super::call::{CallError, Env};
use super::confirm::Confirmer;
use super::definition::Definition;
use super::error::RunbookError;
use super::execute::{SentBefore, StepOutcome, StepRun};
use super::header;
use super::journal::{self, Journal, RunStatus, StepStatus};
use super::params;
use super::preflight::{self, Preflight, When};
use super::preview::{self, PreviewResult};
use super::run_lock::RunLock;
use super::step::Step;
use super::transcript::Transcript;

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub dry_run: bool,
    pub yes: bool,
    pub force: bool,
    /// `--confirm NAME`: what the operator agreed to destroy, by name.
    pub confirm: Vec<String>,
    /// Show progress on stdout (off for `--json`).
    pub echo: bool,
    /// Whether there is an operator to ask (stdin is a terminal).
    pub terminal: bool,
    /// `-v`: show the script's positions in failures, as the transcript
    /// keeps them.
    pub verbose: bool,
    /// `--no-redact`: the transcript keeps the datacenter's secrets, for
    /// the operator's own use.
    pub no_redact: bool,
}

pub struct RunReport {
    pub journal: Journal,
    pub dir: PathBuf,
}

impl RunReport {
    /// 0 only when every step is ok (or a dry run showed its plan).
    pub fn exit_code(&self) -> u8 {
        match self.journal.status {
            RunStatus::Ok | RunStatus::Planned => 0,
            RunStatus::Interrupted => 130,
            _ => 1,
        }
    }
}

pub fn start(
    env: &Env,
    definition: &Definition,
    given: Vec<(String, Value)>,
    options: &RunOptions,
) -> Result<RunReport, RunbookError> {
    let values = params::resolve(definition.name(), &definition.params, given)?;
    let id = journal::new_id(chrono::Utc::now());
    let journal = Journal::new(
        id.clone(),
        definition.name(),
        &definition.version,
        definition.source.origin.clone(),
        values.clone(),
        env.datacenter.clone(),
        options.dry_run,
    );
    let mut run = Run::open(env, definition, journal, options)?;
    let redacted = run.transcript.redacts();
    run.transcript
        .header(|now| header::started(&run.journal, redacted, now));
    run.transcript.log(
        "run_started",
        json!({"run": id, "runbook": definition.name(), "version": definition.version,
               "origin": definition.source.origin, "params": values, "dry_run": options.dry_run,
               "datacenter": env.datacenter, "tritonsh": env!("CARGO_PKG_VERSION"),
               "redacted": redacted}),
        &format!(
            "{} {} ({}) — run {id} on {}{}{}",
            definition.name(),
            definition.version,
            definition.source.origin,
            env.datacenter,
            if options.dry_run {
                ", dry run: nothing will be sent"
            } else {
                ""
            },
            header::redaction_mark(redacted),
        ),
    );
    let params = params::to_rhai(&values);
    let context = match gather_context(env, definition, &params) {
        Ok(context) => context,
        Err(PlanError::Interrupted) => {
            return run.stop(
                RunStatus::Interrupted,
                "interrupted while gathering the facts".into(),
            );
        }
        Err(PlanError::Failed(why)) => return run.stop(RunStatus::Failed, why),
    };
    if !context.is_unit() {
        run.journal.context = rhai::serde::from_dynamic::<Value>(&context).ok();
    }
    if let Err((status, why)) = run.preflight(&params, &context, When::Start) {
        return run.stop(status, why);
    }
    let steps = match plan(env, definition, params, &context) {
        Ok(steps) => steps,
        Err(PlanError::Interrupted) => {
            return run.stop(RunStatus::Interrupted, "interrupted while planning".into());
        }
        Err(PlanError::Failed(why)) => return run.stop(RunStatus::Failed, why),
    };
    run.journal.set_plan(steps);
    run.journal.save(&run.dir)?;
    run.show_plan();
    if options.dry_run {
        return run.preview();
    }
    match run.first_change_would_fail() {
        Ok(None) => run.execute_from(0),
        Ok(Some(why)) => run.stop(RunStatus::Failed, why),
        Err(status) => run.stop(status, "interrupted while checking the plan".into()),
    }
}

pub(super) enum PlanError {
    Failed(String),
    Interrupted,
}

/// Calls the runbook's `context(p)`, when it has one, with the gate
/// denying every mutation: the facts its checks and plan share.
pub(super) fn gather_context(
    env: &Env,
    definition: &Definition,
    params: &rhai::Dynamic,
) -> Result<rhai::Dynamic, PlanError> {
    if !definition.has_context() {
        return Ok(rhai::Dynamic::UNIT);
    }
    match env.call(
        &definition.ast,
        GateMode::Deny,
        "context",
        vec![params.clone()],
    ) {
        Ok(called) => Ok(called.value),
        Err(CallError::Interrupted) => Err(PlanError::Interrupted),
        Err(CallError::Failed { message, .. }) => Err(PlanError::Failed(message)),
    }
}

/// Calls the runbook's `plan(p)` with the gate denying every mutation.
fn plan(
    env: &Env,
    definition: &Definition,
    params: rhai::Dynamic,
    context: &rhai::Dynamic,
) -> Result<Vec<Step>, PlanError> {
    let args = definition.arguments("plan", &params, context);
    let value = match env.call(&definition.ast, GateMode::Deny, "plan", args) {
        Ok(called) => called.value,
        Err(CallError::Interrupted) => return Err(PlanError::Interrupted),
        Err(CallError::Failed { message, .. }) => {
            return Err(PlanError::Failed(format!(
                "cannot make the plan: {message}"
            )));
        }
    };
    let items = value.into_array().map_err(|t| {
        PlanError::Failed(format!(
            "plan(p) must return an array of steps, returned {t}"
        ))
    })?;
    let mut steps = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let defined = |f: &str| definition.is_defined(f, 1);
        let step = Step::from_dynamic(definition.name(), i + 1, item, &defined)
            .map_err(|e| PlanError::Failed(e.to_string()))?;
        check_functions(definition, i + 1, &step).map_err(|e| PlanError::Failed(e.to_string()))?;
        steps.push(step);
    }
    Ok(steps)
}

pub(super) fn check_functions(
    definition: &Definition,
    index: usize,
    step: &Step,
) -> Result<(), RunbookError> {
    step.functions()
        .try_for_each(|f| definition.require_function(f, &format!("step {index} ({})", step.name)))
}

pub(super) struct Run<'a> {
    env: &'a Env<'a>,
    definition: &'a Definition,
    pub(super) journal: Journal,
    dir: PathBuf,
    pub(super) transcript: Transcript,
    options: &'a RunOptions,
    /// Held until the run ends: one process per run.
    _lock: RunLock,
    /// Held until the run ends: what the script prints goes to the
    /// transcript.
    _printing: Routed,
}

impl<'a> Run<'a> {
    /// Saves the journal, takes the run's lock and opens its transcript:
    /// what a start and a resume both need before the first line is said.
    pub(super) fn open(
        env: &'a Env<'a>,
        definition: &'a Definition,
        mut journal: Journal,
        options: &'a RunOptions,
    ) -> Result<Run<'a>, RunbookError> {
        let dir = journal::runs_dir().join(&journal.id);
        crate::paths::private_dir(&dir).map_err(|e| RunbookError::Write {
            path: dir.clone(),
            cause: e.to_string(),
        })?;
        // The lock first: a second process resuming the same run must not
        // write its stale copy of the journal.
        let lock = RunLock::acquire(&dir, &journal.id)?;
        journal.save(&dir)?;
        let transcript = Transcript::open(&dir, options.echo, options.verbose, !options.no_redact)?;
        let printing = env.printed.route(transcript.printer());
        Ok(Run {
            env,
            definition,
            journal,
            dir,
            transcript,
            options,
            _lock: lock,
            _printing: printing,
        })
    }

    /// The runbook's checks, their answers kept in the journal; `Err` is
    /// how the run must stop when one fails (or on Ctrl-C).
    pub(super) fn preflight(
        &mut self,
        params: &rhai::Dynamic,
        context: &rhai::Dynamic,
        when: When,
    ) -> Result<(), (RunStatus, String)> {
        let checked = preflight::run(
            self.env,
            self.definition,
            params,
            context,
            self.options.force,
            when,
            &mut self.transcript,
        );
        let (status, why) = match checked {
            Preflight::Passed(records) => {
                self.journal.preflight = records;
                return Ok(());
            }
            Preflight::Failed(failed) => {
                self.journal.preflight = failed.records;
                (RunStatus::Failed, failed.why)
            }
            Preflight::Interrupted => (
                RunStatus::Interrupted,
                "interrupted during the preflight checks".to_string(),
            ),
        };
        Err((status, why))
    }

    fn show_plan(&mut self) {
        if self.options.dry_run {
            // The preview lists the steps with what each would send.
            return;
        }
        let steps: Vec<&Step> = self.journal.steps.iter().map(|r| &r.step).collect();
        let mut lines = vec!["Plan:".to_string()];
        for (i, step) in steps.iter().enumerate() {
            lines.push(format!("  {}. {}{}", i + 1, step.name, risk(step)));
            lines.extend(by_hand(step));
        }
        let text = lines.join("\n");
        self.transcript.log("plan", json!({"steps": steps}), &text);
    }

    /// A plan bound to fail is refused before anything is sent: when the
    /// plan's first step changes the datacenter (no earlier step, not even
    /// a wait, changes what it sees), it is previewed, and if its action
    /// fails before asking to send anything, the run stops there, as its
    /// dry run would show.
    fn first_change_would_fail(&mut self) -> Result<Option<String>, RunStatus> {
        let Some(step) = self.journal.steps.first().map(|s| s.step.clone()) else {
            return Ok(None);
        };
        if !step.mutates {
            return Ok(None);
        }
        let preview = match preview::preview(self.env, self.definition, &step) {
            PreviewResult::Done(preview) => preview,
            PreviewResult::Interrupted => return Err(RunStatus::Interrupted),
        };
        Ok(preview.fails_before_sending.map(|why| {
            format!(
                "step 1 ({}) cannot succeed now: {why}; nothing was sent (its dry run shows the same)",
                step.name
            )
        }))
    }

    fn preview(mut self) -> Result<RunReport, RunbookError> {
        self.transcript.say("Plan (dry run):");
        for index in 0..self.journal.steps.len() {
            let step = self.journal.steps[index].step.clone();
            let preview = match preview::preview(self.env, self.definition, &step) {
                PreviewResult::Done(p) => p,
                PreviewResult::Interrupted => {
                    return self.stop(
                        RunStatus::Interrupted,
                        "interrupted during the dry run".into(),
                    );
                }
            };
            let mut lines = vec![format!("  {}. {}{}", index + 1, step.name, risk(&step))];
            lines.extend(by_hand(&step));
            if let Some(why) = &preview.would_skip {
                lines.push(format!("       already done, a run would skip it: {why}"));
            }
            for request in &preview.requests {
                lines.push(format!(
                    "       would send: {}",
                    preview::request_line(&self.transcript.json(request.clone()))
                ));
            }
            if let Some(gap) = preview.shown_gap() {
                lines.push(format!("       {gap}"));
            }
            self.transcript.log(
                "preview",
                json!({"step": index + 1, "preview": preview}),
                &lines.join("\n"),
            );
            self.journal.steps[index].preview = Some(preview);
        }
        self.journal.status = RunStatus::Planned;
        self.journal.save(&self.dir)?;
        self.transcript.log(
            "run_ended",
            json!({"status": "planned"}),
            &format!("Dry run {} done: nothing was sent. Run it without --dry-run to make these changes.", self.journal.id),
        );
        Ok(self.report())
    }

    pub(super) fn execute_from(mut self, from: usize) -> Result<RunReport, RunbookError> {
        let total = self.journal.steps.len();
        let mut confirmer = Confirmer::new(
            self.options.yes,
            self.options.confirm.clone(),
            self.options.terminal,
        );
        for index in from..total {
            if let Err(e) = confirmer.check_unattended(index + 1, &self.journal.steps[index].step) {
                // The run's end says it, once.
                return self.stop(RunStatus::Failed, e.to_string());
            }
        }
        let (env, definition) = (self.env, self.definition);
        let mut ask = |question: &str| ask_terminal(env, question);
        for index in from..total {
            let step = self.journal.steps[index].step.clone();
            self.journal.mark(index, StepStatus::Started, None);
            self.journal.save(&self.dir)?;
            let mut text = format!("[{}/{total}] {}", index + 1, step.name);
            if let Some(manual) = &step.manual {
                text.push_str(&format!("\n    by hand: {manual}"));
            }
            self.transcript.log(
                "step_started",
                json!({"step": index + 1, "name": step.name, "manual": step.manual}),
                &text,
            );
            let outcome = StepRun {
                env,
                definition,
                confirmer: &mut confirmer,
                force: self.options.force,
                transcript: &mut self.transcript,
                ask: &mut ask,
                index: index + 1,
                total,
                // Read again for each step: the step before may have sent.
                sent_before: SentBefore::of(&Transcript::steps_that_sent(&self.dir), index + 1),
            }
            .run(&step);
            let (status, reason, stop) = match outcome {
                StepOutcome::Done(why) => (StepStatus::Done, why, None),
                StepOutcome::Warned(why) => (StepStatus::Warned, why, None),
                StepOutcome::Skipped(why) => (StepStatus::Skipped, why, None),
                StepOutcome::Found(why) => (StepStatus::Found, why, None),
                StepOutcome::Failed(why) => (StepStatus::Failed, why, Some(RunStatus::Failed)),
                StepOutcome::Unknown(why) => (StepStatus::Unknown, why, Some(RunStatus::Unknown)),
                StepOutcome::Interrupted => (
                    StepStatus::Interrupted,
                    "interrupted".into(),
                    Some(RunStatus::Interrupted),
                ),
                StepOutcome::Declined(how) => (
                    StepStatus::Pending,
                    format!("not confirmed ({how})"),
                    Some(RunStatus::Declined),
                ),
                StepOutcome::NeedsFlag(e) => {
                    (StepStatus::Pending, e.to_string(), Some(RunStatus::Failed))
                }
            };
            self.journal.mark(index, status, Some(reason.clone()));
            self.journal.save(&self.dir)?;
            let mark = match status {
                StepStatus::Done => "✓ ok",
                StepStatus::Warned => "⚠ ok, with a warning",
                StepStatus::Skipped => "✓ skipped",
                StepStatus::Found => "✓ found done, not by this run",
                StepStatus::Failed => "✗ failed",
                StepStatus::Unknown => "? unknown",
                StepStatus::Interrupted => "✗ interrupted",
                StepStatus::Pending | StepStatus::Started => "✗ not run",
            };
            self.transcript.log(
                "step_ended",
                json!({"step": index + 1, "status": status, "reason": reason}),
                &format!("    {mark}: {reason}"),
            );
            if let Some(run_status) = stop {
                let why = format!("step {} ({}): {reason}", index + 1, step.name);
                return self.stop(run_status, why);
            }
        }
        self.journal.status = RunStatus::Ok;
        self.make_report();
        self.journal.save(&self.dir)?;
        let text = format!("Run {}: ok, {}", self.journal.id, self.tally());
        self.transcript
            .log("run_ended", json!({"status": "ok"}), &text);
        Ok(self.report())
    }

    /// "2 of 2 steps done.", unless some were found done by someone else:
    /// then how many this run did, and which it did not.
    fn tally(&self) -> String {
        let total = self.journal.steps.len();
        let found: Vec<String> = (self.journal.steps.iter().enumerate())
            .filter(|(_, s)| s.status == StepStatus::Found)
            .map(|(i, _)| (i + 1).to_string())
            .collect();
        if found.is_empty() {
            return format!("{total} of {total} steps done.");
        }
        format!(
            "{} of {total} steps done by this run; step(s) {} found already done, not by this run.",
            total - found.len(),
            found.join(", ")
        )
    }

    /// Asks the runbook's `report(p, c)`, when it has one, what the run
    /// found: after the steps, whether they all passed or one failed (a
    /// health check's report matters most when its verdict fails).
    fn make_report(&mut self) {
        let function = "report";
        if !(self.definition.is_defined(function, 1) || self.definition.is_defined(function, 2)) {
            return;
        }
        let params = params::to_rhai(&self.journal.params);
        let context = self
            .journal
            .context
            .as_ref()
            .and_then(|c| rhai::serde::to_dynamic(c).ok())
            .unwrap_or(rhai::Dynamic::UNIT);
        let args = self.definition.arguments(function, &params, &context);
        match self
            .env
            .call(&self.definition.ast, GateMode::Deny, function, args)
        {
            Ok(called) => {
                self.journal.report = rhai::serde::from_dynamic::<Value>(&called.value).ok();
                if let Some(report) = &self.journal.report {
                    self.transcript.report(report);
                }
            }
            Err(CallError::Interrupted) => {}
            Err(CallError::Failed { message, .. }) => self.transcript.log(
                "report_failed",
                json!({"why": message}),
                &format!("    (no report: {message})"),
            ),
        }
    }

    /// Ends the run short of its last step, saying what to do next.
    pub(super) fn stop(
        mut self,
        status: RunStatus,
        why: String,
    ) -> Result<RunReport, RunbookError> {
        if matches!(status, RunStatus::Failed | RunStatus::Unknown)
            && self
                .journal
                .steps
                .iter()
                .any(|s| s.status != StepStatus::Pending)
        {
            self.make_report();
        }
        self.journal.status = status;
        self.journal.stopped = Some(why.clone());
        self.journal.save(&self.dir)?;
        let id = &self.journal.id;
        let begun = self
            .journal
            .steps
            .iter()
            .any(|s| s.status != StepStatus::Pending);
        let resumable = begun && !self.journal.dry_run;
        let next = match status {
            RunStatus::Unknown if resumable => {
                format!(" Check it, then: tritonsh run --resume {id}")
            }
            RunStatus::Interrupted | RunStatus::Declined | RunStatus::Failed if resumable => {
                format!(" To go on from there: tritonsh run --resume {id}")
            }
            _ => String::new(),
        };
        let word = serde_json::to_value(status)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        self.transcript
            .event("run_ended", json!({"status": status, "why": why}));
        // Once, on stderr: the front end adds nothing. Where in the script
        // it failed is for the runbook's author: the transcript keeps it.
        self.transcript
            .say_error(&format!("Run {id} {word}: {why}.{next}"));
        Ok(self.report())
    }

    fn report(self) -> RunReport {
        RunReport {
            journal: self.journal,
            dir: self.dir,
        }
    }
}

/// `[changes]`, `[destroys papi2]`, or nothing for a read-only step.
fn risk(step: &Step) -> String {
    match (&step.destroys, step.mutates) {
        (Some(target), _) => format!("   [destroys {target}]"),
        (None, true) => "   [changes the datacenter]".into(),
        (None, false) => String::new(),
    }
}

/// The command an operator would type for the step by hand, if it says.
fn by_hand(step: &Step) -> Option<String> {
    step.manual
        .as_ref()
        .map(|manual| format!("       by hand: {manual}"))
}

/// Asks on the terminal; Ctrl-C while waiting for the answer interrupts.
/// The question goes to stderr: with `--json`, stdout carries only the
/// journal, and a redirected stdout must not swallow the question.
fn ask_terminal(env: &Env, question: &str) -> Result<String, Interrupted> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let read = env.rt.spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    });
    let answer = env.interrupt.block_on(&env.rt, read)?;
    Ok(answer.ok().and_then(|r| r.ok()).unwrap_or_default())
}
