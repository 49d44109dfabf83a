//! Resuming a run: the stored plan from its first step not done, after the
//! preflight checks are asked again (read-only) — the datacenter may have
//! changed since the plan was made, and the operator hears how long ago
//! that was.

use chrono::Utc;
use serde_json::json;

use super::call::Env;
use super::catalog;
use super::definition::Definition;
use super::error::RunbookError;
use super::header;
use super::journal::{self, Journal, RunStatus};
use super::params;
use super::preflight::When;
use super::runner::{PlanError, Run, RunOptions, RunReport, check_functions, gather_context};
use crate::dc::identity::DatacenterId;

/// A run belongs to the datacenter it ran on: resumed anywhere else, it
/// would send that datacenter another one's changes.
pub fn belongs_here(journal: &Journal, here: &DatacenterId) -> Result<(), RunbookError> {
    match journal.datacenter.as_ref().filter(|ran_on| *ran_on != here) {
        None => Ok(()),
        Some(ran_on) => Err(RunbookError::CannotResume {
            id: journal.id.clone(),
            cause: format!(
                "it ran on {ran_on}, and this shell is on {here}: nothing was sent; resume it there (tritonsh {} run --resume {})",
                ran_on.flag(),
                journal.id
            ),
        }),
    }
}

pub fn resume(env: &Env, id: &str, options: &RunOptions) -> Result<RunReport, RunbookError> {
    let runs = journal::runs_dir();
    let journal = Journal::load(&runs, id)?;
    let cannot = |cause: String| RunbookError::CannotResume {
        id: id.to_string(),
        cause,
    };
    if let Some(ran_on) = journal
        .datacenter
        .as_ref()
        .filter(|d| **d != env.datacenter)
    {
        return Err(cannot(format!(
            "it ran on {ran_on}, and this shell is on {}: nothing was sent; resume it there (tritonsh {} run --resume {id})",
            env.datacenter,
            ran_on.flag()
        )));
    }
    if journal.dry_run {
        return Err(cannot(
            "it was a dry run: start the runbook again without --dry-run".into(),
        ));
    }
    if journal.steps.is_empty() {
        let why = journal
            .stopped
            .clone()
            .unwrap_or_else(|| "it has no plan".into());
        return Err(cannot(format!(
            "it stopped before it had a plan ({why}): start a new run"
        )));
    }
    let Some(from) = journal.resume_point() else {
        return Err(cannot(
            "every step is already done: there is nothing to resume".into(),
        ));
    };
    let source = catalog::reload(
        &journal.runbook,
        &journal.origin,
        &crate::paths::runbook_dir(),
    )?;
    let definition = Definition::load(env.engine, source)?;
    if definition.version != journal.version && !options.force {
        return Err(cannot(format!(
            "it ran {} version {}, which is now version {}: add --force to resume with version {}, or start a new run",
            journal.runbook, journal.version, definition.version, definition.version
        )));
    }
    for (index, record) in journal.steps.iter().enumerate() {
        check_functions(&definition, index + 1, &record.step)?;
    }
    let planned = journal.created_at;
    let mut run = Run::open(env, &definition, journal, options)?;
    let redacted = run.transcript.redacts();
    run.transcript
        .header(|now| header::resumed(&run.journal, &definition.version, redacted, now));
    let age = age(Utc::now() - planned);
    let text = format!(
        "Resuming run {id} of {} {}{} at step {}/{}: {}\nIts plan was made {age} ago ({}): the checks are asked again, and each step whether it is already done.",
        run.journal.runbook,
        definition.version,
        header::redaction_mark(redacted),
        from + 1,
        run.journal.steps.len(),
        run.journal.steps[from].step.name,
        planned.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    run.transcript.log(
        "resumed",
        json!({"run": id, "from_step": from + 1, "version": definition.version,
               "planned_at": planned, "plan_age_secs": (Utc::now() - planned).num_seconds(),
               "redacted": redacted}),
        &text,
    );
    run.journal.status = RunStatus::Running;
    run.journal.stopped = None;
    let params = params::to_rhai(&run.journal.params);
    // Fresh facts for the checks; the plan keeps the ones it was made from.
    let context = match gather_context(env, &definition, &params) {
        Ok(context) => context,
        Err(PlanError::Interrupted) => {
            return run.stop(
                RunStatus::Interrupted,
                "interrupted while gathering the facts again".into(),
            );
        }
        Err(PlanError::Failed(why)) if options.force => {
            run.transcript.say(&format!(
                "  ! the facts cannot be gathered again: {why} (going on: --force)"
            ));
            return run.execute_from(from);
        }
        Err(PlanError::Failed(why)) => {
            return run.stop(
                RunStatus::Failed,
                format!(
                    "the facts its checks need cannot be gathered again: {why}; the datacenter is not as it was {age} ago: look, then add --force to resume anyway, or start a new run"
                ),
            );
        }
    };
    if let Err((status, why)) = run.preflight(&params, &context, When::Resume) {
        return run.stop(status, why);
    }
    run.execute_from(from)
}

/// "40 s", "6 min", "3 h 5 min", "2 days": how old a plan is.
fn age(elapsed: chrono::TimeDelta) -> String {
    let secs = elapsed.num_seconds().max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..172_800 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} days", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_an_operator_says_them() {
        let s = chrono::TimeDelta::seconds;
        assert_eq!(age(s(40)), "40 s");
        assert_eq!(age(s(6 * 60 + 5)), "6 min");
        assert_eq!(age(s(3 * 3600 + 5 * 60)), "3 h 5 min");
        assert_eq!(age(s(3 * 86_400)), "3 days");
        assert_eq!(age(s(-3)), "0 s");
    }
}
