//! Preflight: the runbook's checks, run before the plan is made (and again,
//! read-only, when a run is resumed), each saying why it passes or fails.
//!
//! A check that needs `--force` fails unless the operator gave it, and says
//! so — but only while no check has failed outright: when one "could not
//! tell" or failed, `--force` would not get the run through, and offering it
//! sends the operator the wrong way.

use serde_json::json;

use super::call::{CallError, Env};
use super::definition::Definition;
use super::journal::CheckRecord;
use super::positions::without_script_positions;
use super::transcript::Transcript;
use super::verdict::Verdict;

/// Why the checks are asked.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Before a new run makes its plan: `--force` passes `needs_force`.
    Start,
    /// Before a resume goes on with a stored plan: every failure says the
    /// datacenter changed since, and `--force` resumes anyway.
    Resume,
}

pub enum Preflight {
    /// Every check passed (or `--force` went past the ones that did not).
    Passed(Vec<CheckRecord>),
    Failed(Failed),
    Interrupted,
}

pub struct Failed {
    /// Why the run stops: one line, the first check that failed outright.
    pub why: String,
    pub records: Vec<CheckRecord>,
}

/// A check that did not pass.
struct Failure {
    why: String,
    /// `needs_force`: `--force` goes past it.
    forcible: bool,
}

pub fn run(
    env: &Env,
    definition: &Definition,
    params: &rhai::Dynamic,
    context: &rhai::Dynamic,
    force: bool,
    when: When,
    transcript: &mut Transcript,
) -> Preflight {
    let mut records = Vec::new();
    if definition.checks.is_empty() {
        return Preflight::Passed(records);
    }
    transcript.say(match when {
        When::Start => "Preflight checks:",
        When::Resume => "Preflight checks, asked again (read-only):",
    });
    let mut failures: Vec<Failure> = Vec::new();
    // What the checks that could not tell were told: two checks asking
    // for the same missing thing say it once.
    let mut untold: Vec<String> = Vec::new();
    for check in &definition.checks {
        let function = &check.function;
        let args = definition.arguments(function, params, context);
        let verdict = match env.verdict(&definition.ast, function, args) {
            Ok(verdict) => verdict,
            Err(CallError::Interrupted) => return Preflight::Interrupted,
            Err(CallError::Failed { message, .. }) => {
                // The same failure at another line of the script is the same.
                let said = without_script_positions(&message);
                if untold.contains(&said) {
                    Verdict::Fail(format!("{function} could not tell either (as above)"))
                } else {
                    untold.push(said);
                    Verdict::Fail(format!("{function} could not tell: {message}"))
                }
            }
        };
        let title = check
            .title
            .as_ref()
            .map(|t| format!("{t}: "))
            .unwrap_or_default();
        let going_on = force && (when == When::Resume || verdict.is_needs_force());
        let hard_before = failures.iter().any(|f| !f.forcible);
        let line = match &verdict {
            Verdict::Pass(why) => format!("  ✓ {title}{why}"),
            Verdict::Warn(why) => format!("  ⚠ {title}{why}"),
            _ if going_on => format!("  ! {title}{} (going on: --force)", verdict.why()),
            Verdict::NeedsForce(why) if when == When::Start && !hard_before => {
                format!("  ✗ {title}{why} (add --force to go on anyway)")
            }
            other => format!("  ✗ {title}{}", other.why()),
        };
        if !verdict.is_pass() && !going_on {
            failures.push(Failure {
                why: verdict.why().to_string(),
                forcible: verdict.is_needs_force(),
            });
        }
        transcript.log(
            "check",
            json!({"check": function, "title": check.title, "verdict": verdict, "again": when == When::Resume}),
            &line,
        );
        records.push(CheckRecord {
            check: function.clone(),
            verdict,
        });
    }
    match summary(&failures, when) {
        None => Preflight::Passed(records),
        Some(why) => Preflight::Failed(Failed { why, records }),
    }
}

/// The one line a failed preflight ends the run with: the first check that
/// failed outright (else the first that needs `--force`), and `--force`
/// only where it would get the run through.
fn summary(failures: &[Failure], when: When) -> Option<String> {
    let first = failures
        .iter()
        .find(|f| !f.forcible)
        .or_else(|| failures.first())?;
    let only_forcible = failures.iter().all(|f| f.forcible);
    let what = match failures.len() {
        1 => format!("preflight check failed: {}", first.why),
        n => format!("{n} preflight checks failed, first: {}", first.why),
    };
    Some(match when {
        When::Start if only_forcible => format!("{what}; add --force to go on anyway"),
        When::Start => what,
        When::Resume => format!(
            "{what}; the datacenter is not as it was when the plan was made: look, then add --force to resume anyway, or start a new run"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(why: &str, forcible: bool) -> Failure {
        Failure {
            why: why.into(),
            forcible,
        }
    }

    #[test]
    fn force_is_offered_only_where_it_would_get_the_run_through() {
        let forcible = [failure("two on cn1", true)];
        assert_eq!(
            summary(&forcible, When::Start).unwrap(),
            "preflight check failed: two on cn1; add --force to go on anyway"
        );
        let mixed = [
            failure("two on cn1", true),
            failure("s could not tell: no service", false),
        ];
        assert_eq!(
            summary(&mixed, When::Start).unwrap(),
            "2 preflight checks failed, first: s could not tell: no service"
        );
        assert!(
            summary(&mixed, When::Resume)
                .unwrap()
                .ends_with("add --force to resume anyway, or start a new run")
        );
        assert!(summary(&[], When::Start).is_none());
    }
}
