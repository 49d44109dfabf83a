//! Calling one function of a runbook with the mutation gate set for what
//! the call is for: `Send` for an action, `Record` for an action previewed
//! in a dry run, `Deny` for checks, verifications and the plan (a check
//! that tries to change the datacenter is refused before it reaches it).

use std::time::Duration;

use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Scope};

use crate::dc::gate::{GateMode, MutationGate, RecordedRequest};
use crate::dc::identity::DatacenterId;
use crate::script::interrupt::{Interrupt, Interrupted};
use crate::script::printed::Printed;

use super::verdict::Verdict;

/// What a run needs from the shell: the engine with every binding, the
/// datacenter's gate, the interrupt Ctrl-C triggers, and the route of
/// what the script prints.
pub struct Env<'a> {
    pub engine: &'a Engine,
    /// The datacenter the run is on: its journal records it.
    pub datacenter: DatacenterId,
    pub gate: MutationGate,
    pub interrupt: &'a Interrupt,
    pub rt: tokio::runtime::Handle,
    /// Where the script's printed lines go: a run sends them to its
    /// transcript.
    pub printed: Printed,
}

#[derive(Debug)]
pub struct Called {
    pub value: Dynamic,
    /// Requests the gate kept from the network during the call.
    pub recorded: Vec<RecordedRequest>,
    /// Mutating requests the call sent.
    pub sent: Vec<RecordedRequest>,
}

#[derive(Debug)]
pub enum CallError {
    Interrupted,
    Failed {
        message: String,
        recorded: Vec<RecordedRequest>,
        sent: Vec<RecordedRequest>,
    },
}

impl Env<'_> {
    pub fn call(
        &self,
        ast: &AST,
        mode: GateMode,
        function: &str,
        args: Vec<Dynamic>,
    ) -> Result<Called, CallError> {
        if self.interrupt.is_triggered() {
            return Err(CallError::Interrupted);
        }
        let previous = self.gate.mode();
        self.gate.take_recorded();
        self.gate.take_sent();
        self.gate.set(mode);
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let result = self.engine.call_fn_with_options::<Dynamic>(
            options,
            &mut Scope::new(),
            ast,
            function,
            args,
        );
        self.gate.set(previous);
        let recorded = self.gate.take_recorded();
        let sent = self.gate.take_sent();
        match result {
            Ok(value) => Ok(Called {
                value,
                recorded,
                sent,
            }),
            Err(_) if self.interrupt.is_triggered() => Err(CallError::Interrupted),
            Err(e) if is_terminated(&e) => Err(CallError::Interrupted),
            Err(e) => Err(CallError::Failed {
                message: flatten(&e),
                recorded,
                sent,
            }),
        }
    }

    /// Asks a check, a `done`/`ready` test or a verification for its
    /// verdict, with every mutation refused.
    pub fn verdict(
        &self,
        ast: &AST,
        function: &str,
        args: Vec<Dynamic>,
    ) -> Result<Verdict, CallError> {
        self.call(ast, GateMode::Deny, function, args)
            .map(|called| Verdict::from_dynamic(function, &called.value))
    }

    /// Waits `duration` unless interrupted first.
    pub fn sleep(&self, duration: Duration) -> Result<(), Interrupted> {
        // The timer is made inside the runtime: outside, tokio has none.
        self.interrupt
            .block_on(&self.rt, async move { tokio::time::sleep(duration).await })
    }
}

fn is_terminated(err: &EvalAltResult) -> bool {
    match err {
        EvalAltResult::ErrorTerminated(..) => true,
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => is_terminated(inner),
        _ => false,
    }
}

/// One line for a Rhai error: the innermost cause and where in the
/// runbook it happened, without Rhai's nested "in call to function" frames.
pub fn flatten(err: &EvalAltResult) -> String {
    match err {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => flatten(inner),
        EvalAltResult::ErrorRuntime(value, pos) => {
            let text = value.to_string().replace('\n', " ");
            if pos.is_none() {
                text
            } else {
                format!("{text} ({pos})")
            }
        }
        other => other.to_string().replace('\n', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_flatten_to_the_innermost_cause_with_its_line() {
        let engine = Engine::new();
        let ast = engine
            .compile("fn a(x) { b(x) }\nfn b(x) {\n throw `no VM named ${x}`; }")
            .unwrap();
        let interrupt = Interrupt::default();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let env = Env {
            engine: &engine,
            datacenter: DatacenterId::lab(std::path::Path::new("/nowhere")),
            gate: MutationGate::default(),
            interrupt: &interrupt,
            rt: rt.handle().clone(),
            printed: Printed::default(),
        };
        match env.call(&ast, GateMode::Deny, "a", vec!["papi9".into()]) {
            Err(CallError::Failed { message, .. }) => {
                assert_eq!(message, "no VM named papi9 (line 3, position 2)")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(env.gate.mode(), GateMode::Send, "the gate is put back");
        interrupt.trigger();
        assert!(matches!(
            env.call(&ast, GateMode::Deny, "a", vec!["x".into()]),
            Err(CallError::Interrupted)
        ));
    }
}
