//! A runbook read and checked: its declaration (the map the file ends
//! with), its doc comment, and the compiled script whose functions the
//! steps name.
//!
//! ```rhai
//! //! Add instances of a stateless service.      <- summary and help
//! fn plan(p) { [ #{ name: "…", action: "provision", args: #{…} } ] }
//! fn provision(args) { … }
//! #{ version: "1.0.0", params: [ #{ name: "service" } ], checks: ["service_exists"] }
//! ```

//! A runbook read and checked: its declaration, its doc comment, its
//! preflight checks, and the compiled script whose functions the steps name.
//!
//! Two forms are read (`stdlib/README.md` is the guide). Form 2 declares
//! `const RUNBOOK = #{ form: 2, version, params }` anywhere (at the top,
//! by convention), finds its checks by name (`fn check_*`) and may gather
//! facts once in `fn context(p)`. Form 1, the first one, ends with the
//! declaration map and lists its checks there; operators' own runbooks in
//! that form keep working.

use rhai::{AST, Dynamic, Engine, Map, Scope};

use super::catalog::Source;
use super::error::RunbookError;
use super::params::ParamSpec;

pub struct Definition {
    pub source: Source,
    pub version: String,
    /// 1 or 2: see the module comment.
    pub form: i64,
    /// The first line of the doc comment.
    pub summary: String,
    /// The whole `//!` doc comment, without the markers.
    pub doc: String,
    pub params: Vec<ParamSpec>,
    /// Preflight checks, in the order they run.
    pub checks: Vec<Check>,
    pub ast: AST,
}

/// One preflight check: a function taking the parameters (and, in form 2,
/// the context), with the title its `///` comment gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub function: String,
    pub title: Option<String>,
}

const KEYS: &[&str] = &["form", "version", "params", "checks"];

/// The constant a form-2 runbook declares itself in.
const DECLARATION: &str = "RUNBOOK";

impl Definition {
    /// Compiles the runbook and evaluates its declaration (top-level code
    /// only: no step runs).
    pub fn load(engine: &Engine, source: Source) -> Result<Definition, RunbookError> {
        let name = source.name.clone();
        let bad = |cause: String| RunbookError::invalid(&name, cause);
        let ast = engine
            .compile(&source.text)
            .map_err(|e| bad(format!("{} ({})", e.err_type(), e.position())))?;
        let mut scope = Scope::new();
        let last: Dynamic = engine.eval_ast_with_scope(&mut scope, &ast).map_err(|e| {
            bad(format!(
                "evaluating the declaration: {}",
                super::call::flatten(&e)
            ))
        })?;
        let declaration = scope.get_value::<Dynamic>(DECLARATION).unwrap_or(last);
        let map = declaration.read_lock::<Map>().ok_or_else(|| {
            bad(format!(
                "declare the runbook with const {DECLARATION} = #{{ form: 2, version: \"1.0.0\", params: [] }} (or end the file with such a map), found {}",
                declaration.type_name()
            ))
        })?;
        if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown key '{key}' in the declaration (expected {})",
                KEYS.join(", ")
            )));
        }
        let form = match map.get("form") {
            None => 1,
            Some(f) => f
                .as_int()
                .ok()
                .filter(|f| [1, 2].contains(f))
                .ok_or_else(|| bad(format!("form must be 1 or 2, found {f}")))?,
        };
        let version = map
            .get("version")
            .and_then(|v| v.clone().into_string().ok())
            .ok_or_else(|| bad("the declaration has no version, e.g. version: \"1.0.0\"".into()))?;
        let params = list(map.get("params"))
            .map_err(|t| bad(format!("params must be an array, found {t}")))?
            .iter()
            .map(|p| ParamSpec::from_dynamic(&name, p))
            .collect::<Result<Vec<_>, _>>()?;
        let listed = map.get("checks").cloned();
        drop(map);
        let checks = match (form, listed) {
            (2, Some(_)) => {
                return Err(bad(
                    "form 2 finds its checks by name (fn check_…(p)): drop the checks list".into(),
                ));
            }
            (2, None) => checks_by_name(&source.text, &ast),
            (_, listed) => list(listed.as_ref())
                .map_err(|t| {
                    bad(format!(
                        "checks must be an array of function names, found {t}"
                    ))
                })?
                .into_iter()
                .map(|c| {
                    c.into_string()
                        .map(|function| Check {
                            function,
                            title: None,
                        })
                        .map_err(|t| bad(format!("checks must name functions, found {t}")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        let doc = doc_comment(&source.text);
        let summary = doc.lines().next().unwrap_or_default().trim().to_string();
        let definition = Definition {
            source,
            version,
            form,
            summary,
            doc,
            params,
            checks,
            ast,
        };
        let takes_context = if form == 2 { 2 } else { 1 };
        definition.require_arity("plan", "the plan", takes_context)?;
        for check in &definition.checks {
            definition.require_arity(&check.function, "a preflight check", takes_context)?;
        }
        if definition.is_defined("context", 0) || definition.is_defined("context", 2) {
            return Err(bad("fn context(p) takes the parameters only".into()));
        }
        definition.check_completions()?;
        Ok(definition)
    }

    pub fn name(&self) -> &str {
        &self.source.name
    }

    /// Whether the script defines `function` with `arity` parameters.
    pub fn is_defined(&self, function: &str, arity: usize) -> bool {
        self.ast
            .iter_functions()
            .any(|f| f.name == function && f.params.len() == arity)
    }

    /// Whether the runbook gathers facts once, in `fn context(p)`.
    pub fn has_context(&self) -> bool {
        self.is_defined("context", 1)
    }

    /// What `function` (a check or the plan) is called with: the
    /// parameters, and the context when it takes a second argument.
    pub fn arguments(&self, function: &str, params: &Dynamic, context: &Dynamic) -> Vec<Dynamic> {
        if self.is_defined(function, 2) {
            vec![params.clone(), context.clone()]
        } else {
            vec![params.clone()]
        }
    }

    /// Fails unless the script defines `function` with one parameter.
    pub fn require_function(&self, function: &str, role: &str) -> Result<(), RunbookError> {
        self.require_arity(function, role, 1)
    }

    /// Fails unless the script defines `function` with one parameter, or
    /// up to `most`.
    fn require_arity(&self, function: &str, role: &str, most: usize) -> Result<(), RunbookError> {
        if (1..=most).any(|n| self.is_defined(function, n)) {
            return Ok(());
        }
        let shape = if most == 2 {
            format!("fn {function}(p) or fn {function}(p, c)")
        } else {
            format!("fn {function}(x)")
        };
        Err(RunbookError::invalid(
            self.name(),
            format!("{role} names function '{function}', which is not defined as {shape}"),
        ))
    }

    /// In form 2 a parameter's `complete` names a function: the runbook's
    /// own (no arguments) or one of the shell's.
    fn check_completions(&self) -> Result<(), RunbookError> {
        if self.form != 2 {
            return Ok(());
        }
        for param in &self.params {
            let Some(function) = &param.complete else {
                continue;
            };
            if !self.is_defined(function, 0) && super::completion::builtin(function).is_none() {
                return Err(RunbookError::invalid(
                    self.name(),
                    format!(
                        "parameter {}: complete names '{function}', which is neither fn {function}() in the runbook nor one of {}",
                        param.name,
                        super::completion::builtin_names().join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Form 2's checks: every `fn check_…`, in the order the file defines them,
/// titled by the `///` lines just above it.
fn checks_by_name(text: &str, ast: &AST) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    let mut comment: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(doc) = line.strip_prefix("///") {
            comment.push(doc.trim());
            continue;
        }
        let header = line.strip_prefix("private ").unwrap_or(line);
        if let Some(rest) = header.strip_prefix("fn ") {
            let function = rest.split('(').next().unwrap_or_default().trim();
            if function.starts_with("check_") && !checks.iter().any(|c| c.function == function) {
                checks.push(Check {
                    function: function.to_string(),
                    title: (!comment.is_empty()).then(|| comment.join(" ")),
                });
            }
        }
        comment.clear();
    }
    // A definition the line scan missed (odd formatting) still runs, last.
    for f in ast.iter_functions() {
        if f.name.starts_with("check_") && !checks.iter().any(|c| c.function == f.name) {
            checks.push(Check {
                function: f.name.to_string(),
                title: None,
            });
        }
    }
    checks
}

fn list(value: Option<&Dynamic>) -> Result<rhai::Array, &'static str> {
    match value {
        None => Ok(Vec::new()),
        Some(v) => v.clone().into_array(),
    }
}

/// The leading `//!` lines of a runbook.
pub fn doc_comment(text: &str) -> String {
    text.lines()
        .map(str::trim_start)
        .take_while(|l| l.starts_with("//!"))
        .map(|l| {
            l.trim_start_matches("//!")
                .strip_prefix(' ')
                .unwrap_or(l.trim_start_matches("//!"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::runbook::catalog::Origin;

    fn load(text: &str) -> Result<Definition, RunbookError> {
        let source = Source {
            name: "t".into(),
            origin: Origin::Stdlib,
            text: text.into(),
        };
        Definition::load(&Engine::new(), source)
    }

    #[test]
    fn reads_version_doc_params_and_checks() {
        let d = load(
            "//! Does a thing.\n//! More about it.\nfn plan(p) { [] }\nfn ok(p) { true }\n\
             #{ version: \"1.2.0\", params: [#{ name: \"n\", type: \"int\", default_value: 1 }], checks: [\"ok\"] }",
        )
        .unwrap();
        assert_eq!(d.version, "1.2.0");
        assert_eq!(d.summary, "Does a thing.");
        assert_eq!(d.doc, "Does a thing.\nMore about it.");
        assert_eq!(d.params[0].name, "n");
        assert_eq!(d.checks[0].function, "ok");
        assert_eq!(d.form, 1);
    }

    #[test]
    fn form_two_declares_first_and_finds_checks_by_name() {
        let d = load(
            "//! Does a thing.\n\
             const RUNBOOK = #{ form: 2, version: \"2.0.0\", params: [#{ name: \"image\", default_value: () }] };\n\
             fn context(p) { #{ n: 1 } }\n\
             /// the second check\n/// runs second\nfn check_b(p, c) { pass(\"b\") }\n\
             fn helper(x) { x }\n\
             /// the first one\nfn check_a(p) { pass(\"a\") }\n\
             fn plan(p, c) { [] }\n",
        )
        .unwrap();
        assert_eq!((d.form, d.version.as_str()), (2, "2.0.0"));
        let checks: Vec<(&str, Option<&str>)> = d
            .checks
            .iter()
            .map(|c| (c.function.as_str(), c.title.as_deref()))
            .collect();
        assert_eq!(
            checks,
            [
                ("check_b", Some("the second check runs second")),
                ("check_a", Some("the first one"))
            ]
        );
        assert!(d.has_context());
        assert_eq!(d.arguments("check_b", &1.into(), &2.into()).len(), 2);
        assert_eq!(d.arguments("check_a", &1.into(), &2.into()).len(), 1);
        assert_eq!(d.params[0].default, Some(serde_json::Value::Null));
    }

    #[test]
    fn mistakes_in_the_declaration_are_named() {
        for (text, expected) in [
            ("fn plan(p) { [] }\n#{ params: [] }", "has no version"),
            (
                "fn plan(p) { [] }\n#{ version: \"1\", chekcs: [] }",
                "unknown key 'chekcs'",
            ),
            ("#{ version: \"1\" }", "names function 'plan'"),
            (
                "fn plan(p) { [] }\n#{ version: \"1\", checks: [\"nope\"] }",
                "a preflight check names function 'nope'",
            ),
            (
                "fn plan(p) { [] }\n42",
                "declare the runbook with const RUNBOOK",
            ),
            (
                "const RUNBOOK = #{ form: 2, version: \"1\", checks: [] };\nfn plan(p) { [] }",
                "form 2 finds its checks by name",
            ),
            (
                "const RUNBOOK = #{ form: 3, version: \"1\" };\nfn plan(p) { [] }",
                "form must be 1 or 2, found 3",
            ),
            (
                "const RUNBOOK = #{ form: 2, version: \"1\", params: [#{ name: \"s\", complete: \"nope\" }] };\nfn plan(p) { [] }",
                "complete names 'nope', which is neither fn nope()",
            ),
            ("fn plan(p) { [ }", "runbook t: "),
        ] {
            let err = load(text).err().expect(text).to_string();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
