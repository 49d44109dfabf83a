//! The dry run of one step: what it would send, with nothing sent.
//!
//! The action runs with the gate in `Record` mode: its first mutating
//! request is written down and the call fails with "not sent", so the
//! action stops there. What it would have done after that request cannot
//! be known, and the preview says so rather than implying "no change".

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dc::gate::{GateMode, RecordedRequest};

use super::call::{CallError, Env};
use super::definition::Definition;
use super::step::Step;
use super::verdict::Verdict;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Preview {
    /// The step's check says it is already done: a run would skip it.
    pub would_skip: Option<String>,
    /// The mutating requests the action would send, in order.
    pub requests: Vec<Value>,
    /// Why the preview is not the whole effect of the step, if it is not.
    pub not_fully_previewed: Option<String>,
    /// The action failed before it asked to change anything: run now, it
    /// would fail the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fails_before_sending: Option<String>,
}

impl Preview {
    /// What the dry run shows of `not_fully_previewed`, which the journal
    /// keeps whole: for a step that stopped at its first request, a few
    /// words (every step of a dry run stops there); else why nothing is
    /// shown, which the operator must hear.
    pub fn shown_gap(&self) -> Option<String> {
        let why = self.not_fully_previewed.as_ref()?;
        Some(if self.requests.is_empty() {
            format!("nothing to show: {why}")
        } else {
            "(the dry run stops here: what would follow is not shown)".into()
        })
    }
}

pub enum PreviewResult {
    Done(Preview),
    Interrupted,
}

pub fn preview(env: &Env, definition: &Definition, step: &Step) -> PreviewResult {
    let mut preview = Preview::default();
    let args = step.args_rhai();
    if let Some(done) = &step.done {
        match env.verdict(&definition.ast, done, vec![args.clone()]) {
            Ok(Verdict::Pass(why)) => {
                preview.would_skip = Some(why);
                return PreviewResult::Done(preview);
            }
            Err(CallError::Interrupted) => return PreviewResult::Interrupted,
            // The step may depend on an earlier one: a failing check is
            // only information here.
            Ok(_) | Err(CallError::Failed { .. }) => {}
        }
    }
    let Some(action) = step.action.as_deref().filter(|_| step.mutates) else {
        return PreviewResult::Done(preview);
    };
    let (recorded, failure) = match env.call(&definition.ast, GateMode::Record, action, vec![args])
    {
        Ok(called) => (called.recorded, None),
        Err(CallError::Interrupted) => return PreviewResult::Interrupted,
        Err(CallError::Failed {
            message, recorded, ..
        }) => (recorded, Some(message)),
    };
    if recorded.is_empty() {
        preview.fails_before_sending = failure.clone();
    }
    preview.not_fully_previewed = match (&failure, recorded.is_empty()) {
        (Some(_), false) => Some(
            "the action stops at this request in a dry run, so what would follow it is not shown"
                .into(),
        ),
        (Some(message), true) => Some(format!("the action failed before any request: {message}")),
        (None, true) => Some("the action sent no request the dry run could record".into()),
        (None, false) => None,
    };
    preview.requests = recorded.iter().map(request_json).collect();
    PreviewResult::Done(preview)
}

fn request_json(request: &RecordedRequest) -> Value {
    serde_json::to_value(request).unwrap_or(Value::Null)
}

/// `SAPI POST /instances {"service_uuid":…}` for the text transcript.
pub fn request_line(request: &Value) -> String {
    let text = |key: &str| request.get(key).and_then(Value::as_str).unwrap_or("?");
    let mut line = format!("{} {} {}", text("api"), text("method"), text("path"));
    if let Some(body) = request.get("body").filter(|b| !b.is_null()) {
        line.push(' ');
        line.push_str(&body.to_string());
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_at_the_first_request_is_said_briefly() {
        let stopped = Preview {
            requests: vec![serde_json::json!({"api": "SAPI"})],
            not_fully_previewed: Some("the action stops at this request in a dry run, so what would follow it is not shown".into()),
            ..Preview::default()
        };
        assert_eq!(
            stopped.shown_gap().as_deref(),
            Some("(the dry run stops here: what would follow is not shown)")
        );
        let failed = Preview {
            not_fully_previewed: Some("the action failed before any request: no papi".into()),
            ..Preview::default()
        };
        assert_eq!(
            failed.shown_gap().as_deref(),
            Some("nothing to show: the action failed before any request: no papi")
        );
        assert_eq!(Preview::default().shown_gap(), None);
    }
}
