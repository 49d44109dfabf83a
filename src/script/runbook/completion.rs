//! Completion of runbook names and parameter values, for the REPL.
//!
//! A parameter declares where its values come from as a Rhai expression
//! (`complete: "sapi::services().map(|s| s.name)"`); it is evaluated with
//! the gate denying mutations, so completing can never change anything.

use rhai::Engine;

use super::catalog;
use super::definition::Definition;
use crate::dc::gate::{GateMode, MutationGate};

/// Every runbook name, stdlib and local.
pub fn runbook_names() -> Vec<String> {
    catalog::all_names(&crate::paths::runbook_dir())
}

/// The parameter names of `runbook`, in declaration order.
pub fn param_names(engine: &Engine, runbook: &str) -> Vec<String> {
    load(engine, runbook)
        .map(|d| d.params.into_iter().map(|p| p.name).collect())
        .unwrap_or_default()
}

/// The candidates for `param` of `runbook`: its `complete` expression's
/// values as text; empty when it declares none or the expression fails.
pub fn candidates(engine: &Engine, gate: &MutationGate, runbook: &str, param: &str) -> Vec<String> {
    let Some(expression) = load(engine, runbook)
        .and_then(|d| d.params.into_iter().find(|p| p.name == param))
        .and_then(|p| p.complete)
    else {
        return Vec::new();
    };
    let previous = gate.mode();
    gate.set(GateMode::Deny);
    let values = engine.eval::<rhai::Array>(&expression);
    gate.set(previous);
    values
        .map(|a| {
            a.into_iter()
                .filter(|v| !v.is_unit())
                .map(|v| v.to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn load(engine: &Engine, runbook: &str) -> Option<Definition> {
    let source = catalog::resolve(runbook, &crate::paths::runbook_dir()).ok()?;
    Definition::load(engine, source).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdlib_parameters_are_offered() {
        let mut engine = Engine::new();
        crate::script::runbook::register_helpers(&mut engine);
        assert!(runbook_names().contains(&"scale-service".to_string()));
        assert_eq!(
            param_names(&engine, "scale-service"),
            ["service", "count", "servers", "image"]
        );
        assert!(param_names(&engine, "no-such").is_empty());
        // No datacenter here: the expression fails, and completion offers nothing.
        assert!(
            candidates(
                &engine,
                &MutationGate::default(),
                "scale-service",
                "service"
            )
            .is_empty()
        );
    }
}
