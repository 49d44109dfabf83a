//! Running one step for real: is it already done? may it run? confirm,
//! act, then verify with a bounded wait.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::dc::gate::{GateMode, RecordedRequest};

use super::call::{CallError, Env};
use super::confirm::{Answer, ConfirmError, Confirmer};
use super::definition::Definition;
use super::error::RunbookError;
use super::step::Step;
use super::transcript::Transcript;
use super::verdict::Verdict;
use crate::script::interrupt::Interrupted;

/// How often a verification is polled.
const POLL: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub enum StepOutcome {
    Done(String),
    /// Already done by this run (this step before it was cut off, or an
    /// earlier step): the action did not run again.
    Skipped(String),
    /// Already done, not by this run: the action did not run.
    Found(String),
    /// Done, and its verification warns: the run goes on, the operator
    /// sees ⚠.
    Warned(String),
    Failed(String),
    /// The verification's wait ran out with the change still in progress.
    Unknown(String),
    Interrupted,
    Declined(String),
    NeedsFlag(RunbookError),
}

pub struct StepRun<'a> {
    pub env: &'a Env<'a>,
    pub definition: &'a Definition,
    pub confirmer: &'a mut Confirmer,
    /// `--force`: a require check that needs it lets the step go on.
    pub force: bool,
    pub transcript: &'a mut Transcript,
    pub ask: &'a mut dyn FnMut(&str) -> Result<String, Interrupted>,
    pub index: usize,
    pub total: usize,
    /// What this run sent before this step: what its done check finds may
    /// then be its own work.
    pub sent_before: SentBefore,
}

/// Whether a step found already done may owe it to this run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SentBefore {
    /// This run sent no change before this step: it was someone else.
    Nothing,
    /// This run sent a change for this step, then was cut off.
    ThisStep,
    /// This run's step N, before this one, sent a change: what this step
    /// would do may be what that one did.
    Step(usize),
}

impl SentBefore {
    /// From the steps this run sent a change for (in any of its processes).
    pub fn of(sent: &BTreeSet<usize>, step: usize) -> SentBefore {
        if sent.contains(&step) {
            return SentBefore::ThisStep;
        }
        match sent.range(..step).next_back() {
            Some(&earlier) => SentBefore::Step(earlier),
            None => SentBefore::Nothing,
        }
    }

    /// The line said when the step's done check passes with `why`.
    fn already(self, why: &str) -> String {
        match self {
            SentBefore::Nothing => format!("already done, not by this run: {why}"),
            SentBefore::ThisStep => {
                format!("already done: {why} (this run sent it before it was cut off)")
            }
            SentBefore::Step(n) => {
                format!("already done by this run (its step {n} changed the datacenter): {why}")
            }
        }
    }
}

impl StepRun<'_> {
    pub fn run(&mut self, step: &Step) -> StepOutcome {
        let args = step.args_rhai();
        let mut already = None;
        if let Some(done) = &step.done {
            match self.verdict(done, &args) {
                Ok(Verdict::Pass(why)) => {
                    self.note("already_done", &self.sent_before.already(&why));
                    already = Some(why);
                }
                Ok(_) => {}
                Err(CallError::Interrupted) => return StepOutcome::Interrupted,
                Err(CallError::Failed { message, .. }) => {
                    return StepOutcome::Failed(format!(
                        "checking whether it is already done: {message}"
                    ));
                }
            }
        }
        if already.is_none() {
            if let Some(outcome) = self.require(step, &args) {
                return outcome;
            }
            match self
                .confirmer
                .confirm(self.index, self.total, step, self.ask)
            {
                Ok(Answer::Yes(how)) => self.note("answer", &format!("confirmed: {how}")),
                Ok(Answer::NotAsked) => {}
                Ok(Answer::No(how)) => {
                    self.note("answer", &format!("not confirmed: {how}"));
                    return StepOutcome::Declined(how);
                }
                Err(ConfirmError::NeedsFlag(e)) => return StepOutcome::NeedsFlag(e),
                Err(ConfirmError::Interrupted) => return StepOutcome::Interrupted,
            }
            if let Some(action) = &step.action {
                let mode = if step.mutates {
                    GateMode::Send
                } else {
                    GateMode::Deny
                };
                let sending = Arc::new(Mutex::new(Vec::new()));
                let witness = self.transcript.witness(self.index, sending.clone());
                self.env.gate.set_witness(Some(witness));
                let called = self
                    .env
                    .call(&self.definition.ast, mode, action, vec![args.clone()]);
                self.env.gate.set_witness(None);
                match called {
                    Ok(called) => {
                        self.requests(&called.sent);
                        self.output(&called.value);
                    }
                    Err(CallError::Interrupted) => {
                        let sending =
                            std::mem::take(&mut *sending.lock().unwrap_or_else(|e| e.into_inner()));
                        self.interrupted_after(step, &sending);
                        return StepOutcome::Interrupted;
                    }
                    Err(CallError::Failed { message, sent, .. }) => {
                        self.requests(&sent);
                        return StepOutcome::Failed(message);
                    }
                }
            }
        }
        let verified = match &step.verify {
            None => None,
            Some(verify) => match self.verify(verify, &args, step.wait_secs) {
                Ok(Verdict::Pass(why)) => Some(why),
                Ok(Verdict::Warn(why)) => {
                    if already.is_none() {
                        return StepOutcome::Warned(why);
                    }
                    Some(format!("⚠ {why}"))
                }
                Ok(Verdict::Pending(why)) => return StepOutcome::Unknown(why),
                Ok(other) => return StepOutcome::Failed(other.why().to_string()),
                Err(Interrupted) => return StepOutcome::Interrupted,
            },
        };
        let found = |why: String| {
            if self.sent_before == SentBefore::Nothing {
                StepOutcome::Found(why)
            } else {
                StepOutcome::Skipped(why)
            }
        };
        match (already, verified) {
            (Some(why), None) => found(why),
            (Some(why), Some(verified)) => found(format!("{why}; {verified}")),
            (None, Some(verified)) => StepOutcome::Done(verified),
            (None, None) => StepOutcome::Done("finished (the step has no verification)".into()),
        }
    }

    /// The step's precondition; `Some` stops the step.
    fn require(&mut self, step: &Step, args: &rhai::Dynamic) -> Option<StepOutcome> {
        let require = step.require.as_ref()?;
        match self.verdict(require, args) {
            Ok(Verdict::Pass(why)) => {
                self.note("require", &format!("✓ {why}"));
                None
            }
            Ok(Verdict::Warn(why)) => {
                self.note("require", &format!("⚠ {why}"));
                None
            }
            Ok(Verdict::NeedsForce(why)) if self.force => {
                self.note("require", &format!("! {why} (going on: --force)"));
                None
            }
            Ok(Verdict::NeedsForce(why)) => Some(StepOutcome::Failed(format!(
                "{why}; add --force to go on anyway"
            ))),
            Ok(other) => Some(StepOutcome::Failed(other.why().to_string())),
            Err(CallError::Interrupted) => Some(StepOutcome::Interrupted),
            Err(CallError::Failed { message, .. }) => Some(StepOutcome::Failed(format!(
                "{require} could not tell: {message}"
            ))),
        }
    }

    /// Polls `verify` until it passes or fails, or `wait_secs` run out: then
    /// the answer is `Pending` (unknown), never a pass.
    fn verify(
        &mut self,
        verify: &str,
        args: &rhai::Dynamic,
        wait_secs: u64,
    ) -> Result<Verdict, Interrupted> {
        // A journal edited by hand skips the plan's check of `wait`: capped
        // here too, since `Instant + Duration` panics on overflow.
        let max = wait_secs.min(super::step::MAX_WAIT_SECS);
        let deadline = Instant::now() + Duration::from_secs(max);
        let mut announced = false;
        loop {
            let last = match self.verdict(verify, args) {
                Ok(Verdict::Pending(why)) => why,
                Ok(Verdict::NeedsForce(why)) => return Ok(Verdict::Fail(why)),
                Ok(verdict) => return Ok(verdict),
                Err(CallError::Interrupted) => return Err(Interrupted),
                Err(CallError::Failed { message, .. }) => {
                    format!("{verify} could not tell: {message}")
                }
            };
            let now = Instant::now();
            if now >= deadline {
                return Ok(Verdict::Pending(format!(
                    "not verified within {wait_secs}s: {last}"
                )));
            }
            if !announced {
                announced = true;
                self.note("waiting", &format!("waiting up to {wait_secs}s: {last}"));
            }
            self.env.sleep(POLL.min(deadline - now))?;
        }
    }

    fn verdict(&self, function: &str, args: &rhai::Dynamic) -> Result<Verdict, CallError> {
        self.env
            .verdict(&self.definition.ast, function, vec![args.clone()])
    }

    /// The mutating requests the action sent, for the postmortem.
    fn requests(&mut self, sent: &[RecordedRequest]) {
        for request in sent {
            let json = serde_json::to_value(request).unwrap_or(Value::Null);
            let shown = self.transcript.json(json.clone());
            let line = format!("    sent: {}", super::preview::request_line(&shown));
            self.transcript.log(
                "request",
                json!({"step": self.index, "request": json}),
                &line,
            );
        }
    }

    fn output(&mut self, value: &rhai::Dynamic) {
        if value.is_unit() {
            return;
        }
        let json = rhai::serde::from_dynamic::<Value>(value)
            .unwrap_or_else(|_| Value::String(value.to_string()));
        let mut text = self.transcript.json(json.clone()).to_string();
        if text.chars().count() > 200 {
            text = text.chars().take(200).collect::<String>() + "…";
        }
        self.transcript.log(
            "output",
            json!({"step": self.index, "output": json}),
            &format!("    → {text}"),
        );
    }

    /// An action interrupted after it sent a change: the change may have
    /// been applied, and the operator must hear how a resume finds out.
    fn interrupted_after(&mut self, step: &Step, sending: &[RecordedRequest]) {
        let Some(last) = sending.last() else {
            return;
        };
        let json = serde_json::to_value(last).unwrap_or(Value::Null);
        let how = match &step.done {
            Some(done) => {
                format!("--resume asks `{done}` first and does not send it again if it was")
            }
            None => "the step has no done check: look before resuming".to_string(),
        };
        self.note(
            "may_be_applied",
            &format!(
                "interrupted after sending {}: it may have been applied; {how}",
                super::preview::request_line(&self.transcript.json(json.clone()))
            ),
        );
    }

    fn note(&mut self, kind: &str, text: &str) {
        self.transcript.log(
            kind,
            json!({"step": self.index, "text": text}),
            &format!("    {text}"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_found_done_after_this_runs_change_is_not_anothers_work() {
        let sent = BTreeSet::from([1, 3]);
        assert_eq!(SentBefore::of(&sent, 1), SentBefore::ThisStep);
        assert_eq!(SentBefore::of(&sent, 2), SentBefore::Step(1));
        assert_eq!(SentBefore::of(&sent, 5), SentBefore::Step(3));
        assert_eq!(SentBefore::of(&BTreeSet::new(), 2), SentBefore::Nothing);
        assert_eq!(
            SentBefore::Step(1).already("papi1 runs"),
            "already done by this run (its step 1 changed the datacenter): papi1 runs"
        );
        assert_eq!(
            SentBefore::Nothing.already("papi1 runs"),
            "already done, not by this run: papi1 runs"
        );
    }
}
