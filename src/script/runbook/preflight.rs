//! Preflight: the runbook's checks, run before the plan is made, each
//! saying why it passes or fails. A check that needs `--force` fails
//! unless the operator gave it, and says so.

use serde_json::json;

use super::call::{CallError, Env};
use super::definition::Definition;
use super::journal::{CheckRecord, Journal};
use super::transcript::Transcript;
use super::verdict::Verdict;

pub enum Preflight {
    Passed,
    Failed(String),
    Interrupted,
}

pub fn run(
    env: &Env,
    definition: &Definition,
    params: &rhai::Dynamic,
    context: &rhai::Dynamic,
    force: bool,
    journal: &mut Journal,
    transcript: &mut Transcript,
) -> Preflight {
    if definition.checks.is_empty() {
        return Preflight::Passed;
    }
    transcript.say("Preflight checks:");
    let mut failures = Vec::new();
    for check in &definition.checks {
        let function = &check.function;
        let args = definition.arguments(function, params, context);
        let verdict = match env.verdict(&definition.ast, function, args) {
            Ok(verdict) => verdict,
            Err(CallError::Interrupted) => return Preflight::Interrupted,
            Err(CallError::Failed { message, .. }) => {
                Verdict::Fail(format!("{function} could not tell: {message}"))
            }
        };
        let title = check
            .title
            .as_ref()
            .map(|t| format!("{t}: "))
            .unwrap_or_default();
        let line = match &verdict {
            Verdict::Pass(why) => format!("  ✓ {title}{why}"),
            Verdict::NeedsForce(why) if force => format!("  ! {title}{why} (going on: --force)"),
            Verdict::NeedsForce(why) => {
                failures.push(format!("{why}; add --force to go on anyway"));
                format!("  ✗ {title}{why} (add --force to go on anyway)")
            }
            Verdict::Fail(why) | Verdict::Pending(why) => {
                failures.push(why.clone());
                format!("  ✗ {title}{why}")
            }
        };
        transcript.log(
            "check",
            json!({"check": function, "title": check.title, "verdict": verdict}),
            &line,
        );
        journal.preflight.push(CheckRecord {
            check: function.clone(),
            verdict,
        });
    }
    match failures.first() {
        None => Preflight::Passed,
        Some(first) if failures.len() == 1 => {
            Preflight::Failed(format!("preflight check failed: {first}"))
        }
        Some(first) => Preflight::Failed(format!(
            "{} preflight checks failed, first: {first}",
            failures.len()
        )),
    }
}
