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

use rhai::{AST, Dynamic, Engine, Map};

use super::catalog::Source;
use super::error::RunbookError;
use super::params::ParamSpec;

pub struct Definition {
    pub source: Source,
    pub version: String,
    /// The first line of the doc comment.
    pub summary: String,
    /// The whole `//!` doc comment, without the markers.
    pub doc: String,
    pub params: Vec<ParamSpec>,
    /// Preflight checks: functions taking the parameters.
    pub checks: Vec<String>,
    pub ast: AST,
}

const KEYS: &[&str] = &["version", "params", "checks"];

impl Definition {
    /// Compiles the runbook and evaluates its declaration (top-level code
    /// only: no step runs).
    pub fn load(engine: &Engine, source: Source) -> Result<Definition, RunbookError> {
        let name = source.name.clone();
        let bad = |cause: String| RunbookError::invalid(&name, cause);
        let ast = engine
            .compile(&source.text)
            .map_err(|e| bad(format!("{} ({})", e.err_type(), e.position())))?;
        let declaration: Dynamic = engine.eval_ast(&ast).map_err(|e| {
            bad(format!(
                "evaluating the declaration: {}",
                super::call::flatten(&e)
            ))
        })?;
        let map = declaration.read_lock::<Map>().ok_or_else(|| {
            bad(format!(
                "the file must end with a map such as #{{ version: \"1.0.0\", params: [], checks: [] }}, found {}",
                declaration.type_name()
            ))
        })?;
        if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(bad(format!(
                "unknown key '{key}' in the declaration (expected {})",
                KEYS.join(", ")
            )));
        }
        let version = map
            .get("version")
            .and_then(|v| v.clone().into_string().ok())
            .ok_or_else(|| bad("the declaration has no version, e.g. version: \"1.0.0\"".into()))?;
        let params = list(map.get("params"))
            .map_err(|t| bad(format!("params must be an array, found {t}")))?
            .iter()
            .map(|p| ParamSpec::from_dynamic(&name, p))
            .collect::<Result<Vec<_>, _>>()?;
        let checks = list(map.get("checks"))
            .map_err(|t| {
                bad(format!(
                    "checks must be an array of function names, found {t}"
                ))
            })?
            .into_iter()
            .map(|c| {
                c.into_string()
                    .map_err(|t| bad(format!("checks must name functions, found {t}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        drop(map);
        let doc = doc_comment(&source.text);
        let summary = doc.lines().next().unwrap_or_default().trim().to_string();
        let definition = Definition {
            source,
            version,
            summary,
            doc,
            params,
            checks,
            ast,
        };
        definition.require_function("plan", "the plan")?;
        for check in &definition.checks {
            definition.require_function(check, "a preflight check")?;
        }
        Ok(definition)
    }

    pub fn name(&self) -> &str {
        &self.source.name
    }

    /// Fails unless the script defines `function` with one parameter.
    pub fn require_function(&self, function: &str, role: &str) -> Result<(), RunbookError> {
        let found = self
            .ast
            .iter_functions()
            .any(|f| f.name == function && f.params.len() == 1);
        if found {
            Ok(())
        } else {
            Err(RunbookError::invalid(
                self.name(),
                format!(
                    "{role} names function '{function}', which is not defined as fn {function}(x)"
                ),
            ))
        }
    }
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
        assert_eq!(d.checks, vec!["ok".to_string()]);
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
            ("fn plan(p) { [] }\n42", "must end with a map"),
            ("fn plan(p) { [ }", "runbook t: "),
        ] {
            let err = load(text).err().expect(text).to_string();
            assert!(err.contains(expected), "{text}: {err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
