//! Completion of runbook names and parameter values, for the REPL.
//!
//! A parameter declares where its values come from: in form 2 a function
//! name (`complete: "service_names"`, the runbook's own `fn x()` or one of
//! the shell's below), in form 1 a Rhai expression. Either is evaluated
//! with the gate denying mutations, so completing can never change anything.

use rhai::Engine;

use super::catalog;
use super::definition::Definition;
use super::params::ParamSpec;
use crate::dc::gate::{GateMode, MutationGate};

/// The completion sources every runbook can name, with what they list.
const BUILTINS: &[(&str, &str)] = &[
    ("service_names", "sapi::services().map(|s| s.name)"),
    (
        "instance_names",
        "sapi::instances().map(|i| i.params.alias ?? i.uuid)",
    ),
    ("server_names", "cnapi::servers().map(|s| s.hostname)"),
    (
        "vm_aliases",
        "vmapi::list(#{state: \"active\"}).filter(|v| v.alias != ()).map(|v| v.alias)",
    ),
];

/// The names of the shell's completion sources, for error messages.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(n, _)| *n).collect()
}

/// The expression behind a shell completion source.
pub fn builtin(name: &str) -> Option<&'static str> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
}

/// Every runbook name, stdlib and local.
pub fn runbook_names() -> Vec<String> {
    catalog::all_names(&crate::paths::runbook_dir())
}

/// The parameter names of `runbook`, in declaration order.
pub fn param_names(engine: &Engine, runbook: &str) -> Vec<String> {
    params(engine, runbook)
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// The parameters of `runbook`, in declaration order; none when it cannot
/// be read.
pub fn params(engine: &Engine, runbook: &str) -> Vec<ParamSpec> {
    load(engine, runbook).map(|d| d.params).unwrap_or_default()
}

/// The parameters of `runbook` read without a session (the operator's
/// shell completing `-p`): an engine with only the runbook helpers.
pub fn params_offline(runbook: &str) -> Vec<ParamSpec> {
    let mut engine = Engine::new();
    super::register_helpers(&mut engine);
    params(&engine, runbook)
}

/// The candidates for `param` of `runbook`: its `complete` expression's
/// values as text; empty when it declares none or the expression fails.
pub fn candidates(engine: &Engine, gate: &MutationGate, runbook: &str, param: &str) -> Vec<String> {
    let Some(definition) = load(engine, runbook) else {
        return Vec::new();
    };
    let Some(source) = definition
        .params
        .iter()
        .find(|p| p.name == param)
        .and_then(|p| p.complete.clone())
    else {
        return Vec::new();
    };
    let previous = gate.mode();
    gate.set(GateMode::Deny);
    let values = if definition.form == 1 {
        engine.eval::<rhai::Array>(&source)
    } else if definition.is_defined(&source, 0) {
        engine.call_fn::<rhai::Array>(&mut rhai::Scope::new(), &definition.ast, &source, ())
    } else {
        engine.eval::<rhai::Array>(builtin(&source).unwrap_or("[]"))
    };
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
        assert!(builtin_names().contains(&"service_names"));
        assert_eq!(
            builtin("server_names"),
            Some("cnapi::servers().map(|s| s.hostname)")
        );
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
