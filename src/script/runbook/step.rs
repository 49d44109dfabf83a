//! One step of a plan, as the runbook's `plan(p)` returns it.
//!
//! A step names the runbook functions that check, perform and verify it,
//! and carries the arguments they get. It is plain data so the journal can
//! store the plan and a resume can replay exactly the same steps.
//!
//! A step of kind `provision` (made with `step("provision", name, args)`)
//! names its functions by convention: `provision_done`, `provision_ready`,
//! `provision` and `provision_ok`, each used when the runbook defines it.
//! The names are resolved when the plan is made, so the journal holds the
//! same function names an explicit step would.

use rhai::{Dynamic, Map};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::RunbookError;

/// How long a verification waits when the step does not say.
pub const DEFAULT_WAIT_SECS: u64 = 60;

/// The longest a verification may wait: a week. Longer is a typo, and a
/// deadline that far (i64::MAX seconds) overflows the clock.
pub const MAX_WAIT_SECS: u64 = 7 * 24 * 3600;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// What the step does, for people: "provision papi1 on cn1".
    pub name: String,
    /// Passed to each of the step's functions.
    pub args: Value,
    /// "Is this already done?" — a passing verdict skips the action.
    pub done: Option<String>,
    /// Must pass before the action runs.
    pub require: Option<String>,
    pub action: Option<String>,
    /// Polled until it passes or fails, for at most `wait_secs`.
    pub verify: Option<String>,
    pub wait_secs: u64,
    pub mutates: bool,
    /// The name the operator must type to confirm: set only for
    /// destructive steps.
    pub destroys: Option<String>,
    /// The command an operator would type for this step by hand
    /// (`sdcadm create moray -s cn1`): printed in the plan and transcript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
}

/// The suffixes a step kind's functions carry, in the order a step uses
/// them: is it done, may it run, do it, did it work.
const KIND_SUFFIXES: [&str; 4] = ["_done", "_ready", "", "_ok"];

const KEYS: &[&str] = &[
    "name", "kind", "args", "done", "require", "action", "verify", "wait", "mutates", "destroys",
    "manual",
];

impl Step {
    /// Reads a step from the plan. `defined` says whether the runbook has a
    /// function of that name taking one argument; a step's `kind` is
    /// resolved through it.
    pub fn from_dynamic(
        runbook: &str,
        index: usize,
        value: &Dynamic,
        defined: &dyn Fn(&str) -> bool,
    ) -> Result<Step, RunbookError> {
        let bad =
            |cause: String| RunbookError::invalid(runbook, format!("plan step {index}: {cause}"));
        let map = value
            .read_lock::<Map>()
            .ok_or_else(|| bad(format!("expected a map, found {}", value.type_name())))?;
        if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown key '{key}' (expected one of {})",
                KEYS.join(", ")
            )));
        }
        let text = |key: &str| -> Result<Option<String>, RunbookError> {
            match map.get(key) {
                None => Ok(None),
                Some(v) if v.is_unit() => Ok(None),
                Some(v) => v
                    .clone()
                    .into_string()
                    .map(Some)
                    .map_err(|t| bad(format!("'{key}' must be a string, found {t}"))),
            }
        };
        let name = text("name")?.ok_or_else(|| bad("has no name".into()))?;
        let kind = text("kind")?;
        // By kind: the functions the runbook defines, unless the step names
        // one itself.
        let by_kind = |slot: usize, key: &str| -> Result<Option<String>, RunbookError> {
            match (text(key)?, &kind) {
                (Some(named), _) => Ok(Some(named)),
                (None, Some(kind)) => {
                    let function = format!("{kind}{}", KIND_SUFFIXES[slot]);
                    Ok(defined(&function).then_some(function))
                }
                (None, None) => Ok(None),
            }
        };
        let done = by_kind(0, "done")?;
        let require = by_kind(1, "require")?;
        let action = by_kind(2, "action")?;
        let verify = by_kind(3, "verify")?;
        if let Some(kind) = &kind
            && done.is_none()
            && require.is_none()
            && action.is_none()
            && verify.is_none()
        {
            return Err(bad(format!(
                "step kind '{kind}' has no function: define fn {kind}(a), and {kind}_done(a), {kind}_ok(a), {kind}_ready(a) as needed"
            )));
        }
        let args = match map.get("args") {
            None => Value::Object(Default::default()),
            Some(a) => {
                rhai::serde::from_dynamic::<Value>(a).map_err(|e| bad(format!("args: {e}")))?
            }
        };
        let wait_secs = match map.get("wait") {
            None => DEFAULT_WAIT_SECS,
            Some(w) => w
                .as_int()
                .ok()
                .and_then(|w| u64::try_from(w).ok())
                .filter(|w| *w <= MAX_WAIT_SECS)
                .ok_or_else(|| {
                    bad(format!(
                        "'wait' must be a number of seconds from 0 to {MAX_WAIT_SECS} (a week)"
                    ))
                })?,
        };
        let mutates = match map.get("mutates") {
            None => action.is_some(),
            Some(m) => m
                .as_bool()
                .map_err(|_| bad("'mutates' must be true or false".into()))?,
        };
        let destroys = text("destroys")?;
        if destroys.is_some() && !mutates {
            return Err(bad(
                "a step that destroys something mutates: drop 'mutates: false'".into(),
            ));
        }
        Ok(Step {
            name,
            args,
            done,
            require,
            action,
            verify,
            wait_secs,
            mutates,
            destroys,
            manual: text("manual")?,
        })
    }

    /// The runbook functions this step calls, each taking `args`.
    pub fn functions(&self) -> impl Iterator<Item = &str> {
        [&self.done, &self.require, &self.action, &self.verify]
            .into_iter()
            .filter_map(|f| f.as_deref())
    }

    pub fn args_rhai(&self) -> Dynamic {
        rhai::serde::to_dynamic(&self.args).unwrap_or(Dynamic::UNIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(src: &str) -> Result<Step, RunbookError> {
        let d: Dynamic = rhai::Engine::new().eval(src).unwrap();
        Step::from_dynamic("t", 1, &d, &|f| ["provision", "provision_ok"].contains(&f))
    }

    #[test]
    fn a_step_with_an_action_mutates_unless_it_says_otherwise() {
        let s = step(r#"#{ name: "provision papi1 on cn1", action: "provision", args: #{ alias: "papi1" }, wait: 300 }"#).unwrap();
        assert!(s.mutates);
        assert_eq!(s.wait_secs, 300);
        assert_eq!(s.args["alias"], "papi1");
        let s = step(r#"#{ name: "look", action: "look", mutates: false }"#).unwrap();
        assert!(!s.mutates);
        let s = step(r#"#{ name: "wait for it", verify: "running" }"#).unwrap();
        assert!(!s.mutates);
        assert_eq!(s.wait_secs, DEFAULT_WAIT_SECS);
    }

    #[test]
    fn mistakes_in_a_step_are_named() {
        let err = step(r#"#{ name: "x", verfy: "f" }"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("plan step 1: unknown key 'verfy'"), "{err}");
        let err = step(r#"#{ action: "f" }"#).unwrap_err().to_string();
        assert!(err.contains("has no name"), "{err}");
        let err = step(r#"#{ name: "x", action: "f", mutates: false, destroys: "papi2" }"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("destroys"), "{err}");
        let err = step(r#"#{ name: "x", wait: -1 }"#).unwrap_err().to_string();
        assert!(err.contains("'wait'"), "{err}");
        let err = step(r#"#{ name: "x", wait: 9223372036854775807 }"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("'wait' must be a number of seconds from 0 to"),
            "{err}"
        );
    }

    #[test]
    fn a_kind_names_the_functions_the_runbook_defines() {
        let s = step(r#"#{ kind: "provision", name: "provision papi1", manual: "sdcadm create papi -s cn1" }"#)
            .unwrap();
        assert_eq!(s.action.as_deref(), Some("provision"));
        assert_eq!(s.verify.as_deref(), Some("provision_ok"));
        assert_eq!(s.done, None);
        assert!(s.mutates);
        assert_eq!(s.manual.as_deref(), Some("sdcadm create papi -s cn1"));
        let s = step(r#"#{ kind: "provision", name: "p", verify: "other" }"#).unwrap();
        assert_eq!(s.verify.as_deref(), Some("other"), "a named function wins");
        let err = step(r#"#{ kind: "reboot", name: "reboot papi1" }"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("step kind 'reboot' has no function: define fn reboot(a)"),
            "{err}"
        );
    }

    #[test]
    fn steps_survive_the_journal() {
        let s =
            step(r#"#{ name: "x", action: "f", destroys: "papi2", args: #{ n: 2, l: [1, "a"] } }"#)
                .unwrap();
        let back: Step = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }
}
