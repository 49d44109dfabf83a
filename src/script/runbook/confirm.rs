//! Confirmation scaled to risk. A step that changes the datacenter asks
//! y/N (`--yes` answers it; `a` answers it for the rest of the run). A step
//! that destroys something asks for the name of what it destroys, and only
//! that name answers it — typed, or given ahead with `--confirm NAME`:
//! neither `--yes` nor `--force` (which goes past refusing checks) does.

use super::error::RunbookError;
use super::step::Step;
use crate::script::interrupt::Interrupted;

#[derive(Debug, PartialEq)]
pub enum Answer {
    /// Go on; says how the step was confirmed, for the transcript.
    Yes(String),
    No(String),
    /// Go on: a step that changes nothing needs no confirmation, and the
    /// transcript needs no line saying so on every read-only step.
    NotAsked,
}

#[derive(Debug)]
pub enum ConfirmError {
    /// No terminal to ask, and no flag that answers.
    NeedsFlag(RunbookError),
    Interrupted,
}

impl From<Interrupted> for ConfirmError {
    fn from(_: Interrupted) -> Self {
        ConfirmError::Interrupted
    }
}

pub struct Confirmer {
    pub yes: bool,
    /// `--confirm NAME`: the names of what the operator agreed to destroy.
    pub confirmed: Vec<String>,
    /// Whether there is someone to ask (stdin is a terminal).
    pub terminal: bool,
    /// The operator answered `a`: yes to every remaining non-destructive step.
    all: bool,
}

impl Confirmer {
    pub fn new(yes: bool, confirmed: Vec<String>, terminal: bool) -> Confirmer {
        Confirmer {
            yes,
            confirmed,
            terminal,
            all: false,
        }
    }

    /// Without a terminal, fails for the first step that no flag answers.
    /// Checked for every step before the first one runs, so an unattended
    /// run does not stop half-way for want of a flag.
    pub fn check_unattended(&self, index: usize, step: &Step) -> Result<(), RunbookError> {
        if self.terminal || !step.mutates {
            return Ok(());
        }
        let needs = |flag: &str, cause: String| RunbookError::NeedsFlag {
            index,
            step: step.name.clone(),
            cause,
            flag: flag.to_string(),
        };
        match &step.destroys {
            Some(target) if !self.confirmed.contains(target) => Err(RunbookError::NeedsFlag {
                index,
                step: step.name.clone(),
                cause: format!(
                    "destroys {target}, which needs its name typed, and there is no terminal to ask"
                ),
                flag: format!("--confirm {target}"),
            }),
            None if !self.yes => Err(needs(
                "--yes",
                "changes the datacenter and there is no terminal to ask".into(),
            )),
            _ => Ok(()),
        }
    }

    /// `ask` shows a question and returns the line the operator typed.
    pub fn confirm(
        &mut self,
        index: usize,
        total: usize,
        step: &Step,
        ask: &mut dyn FnMut(&str) -> Result<String, Interrupted>,
    ) -> Result<Answer, ConfirmError> {
        if !step.mutates {
            return Ok(Answer::NotAsked);
        }
        self.check_unattended(index, step)
            .map_err(ConfirmError::NeedsFlag)?;
        if let Some(target) = &step.destroys {
            if self.confirmed.contains(target) {
                return Ok(Answer::Yes(format!("--confirm {target}")));
            }
            let typed = ask(&format!(
                "Step {index}/{total}: {} destroys {target}. Type {target} to go on: ",
                step.name
            ))?;
            return Ok(if typed.trim() == target {
                Answer::Yes(format!("typed {target}"))
            } else {
                Answer::No(format!("typed '{}', not '{target}'", typed.trim()))
            });
        }
        if self.yes {
            return Ok(Answer::Yes("--yes".into()));
        }
        if self.all {
            return Ok(Answer::Yes("answered a (all) earlier".into()));
        }
        let typed = ask(&format!(
            "Step {index}/{total}: {} — go on? [y/N/a(ll)] ",
            step.name
        ))?;
        match typed.trim().to_lowercase().as_str() {
            "y" | "yes" => Ok(Answer::Yes("answered y".into())),
            "a" | "all" => {
                self.all = true;
                Ok(Answer::Yes("answered a (all)".into()))
            }
            other => Ok(Answer::No(format!("answered '{other}'"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(destroys: Option<&str>) -> Step {
        Step {
            name: "remove papi2".into(),
            args: serde_json::json!({}),
            done: None,
            require: None,
            action: Some("remove".into()),
            verify: None,
            wait_secs: 1,
            mutates: true,
            destroys: destroys.map(String::from),
            manual: None,
        }
    }

    fn answering(answer: &'static str) -> impl FnMut(&str) -> Result<String, Interrupted> {
        move |_| Ok(answer.to_string())
    }

    #[test]
    fn yes_answers_mutating_steps_but_never_destructive_ones() {
        let mut c = Confirmer::new(true, vec!["papi3".into()], false);
        assert_eq!(
            c.confirm(1, 2, &step(None), &mut answering("")).unwrap(),
            Answer::Yes("--yes".into())
        );
        match c.confirm(2, 2, &step(Some("papi2")), &mut answering("")) {
            Err(ConfirmError::NeedsFlag(e)) => {
                let e = e.to_string();
                assert!(e.ends_with("add --confirm papi2 to answer it"), "{e}");
                assert!(
                    e.starts_with("step 2 (remove papi2): destroys papi2"),
                    "{e}"
                );
            }
            other => panic!("{other:?}"),
        }
        let mut c = Confirmer::new(false, vec!["papi2".into()], false);
        assert_eq!(
            c.confirm(1, 1, &step(Some("papi2")), &mut answering(""))
                .unwrap(),
            Answer::Yes("--confirm papi2".into())
        );
    }

    #[test]
    fn a_step_that_changes_nothing_is_not_asked() {
        let mut c = Confirmer::new(false, Vec::new(), false);
        let read_only = Step {
            mutates: false,
            ..step(None)
        };
        let mut never = |_: &str| -> Result<String, Interrupted> { panic!("must not ask") };
        assert_eq!(
            c.confirm(1, 1, &read_only, &mut never).unwrap(),
            Answer::NotAsked
        );
    }

    #[test]
    fn without_a_terminal_the_error_names_the_flag() {
        let mut c = Confirmer::new(false, Vec::new(), false);
        match c.confirm(1, 1, &step(None), &mut answering("y")) {
            Err(ConfirmError::NeedsFlag(e)) => {
                assert!(e.to_string().ends_with("add --yes to answer it"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn typed_answers() {
        let mut c = Confirmer::new(false, Vec::new(), true);
        assert!(matches!(
            c.confirm(1, 1, &step(Some("papi2")), &mut answering("papi2\n")),
            Ok(Answer::Yes(_))
        ));
        assert!(matches!(
            c.confirm(1, 1, &step(Some("papi2")), &mut answering("y")),
            Ok(Answer::No(_))
        ));
        assert!(matches!(
            c.confirm(1, 1, &step(None), &mut answering("")),
            Ok(Answer::No(_))
        ));
        assert!(matches!(
            c.confirm(1, 1, &step(None), &mut answering("a")),
            Ok(Answer::Yes(_))
        ));
        let mut never =
            |_: &str| -> Result<String, Interrupted> { panic!("must not ask after 'a'") };
        assert!(matches!(
            c.confirm(2, 2, &step(None), &mut never),
            Ok(Answer::Yes(_))
        ));
        let mut interrupted = |_: &str| -> Result<String, Interrupted> { Err(Interrupted) };
        assert!(matches!(
            c.confirm(1, 1, &step(Some("papi2")), &mut interrupted),
            Err(ConfirmError::Interrupted)
        ));
    }
}
