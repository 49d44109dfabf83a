//! A runbook's declared parameters, and turning what the operator typed
//! (`--param k=v`, or a Rhai map in the REPL) into checked values.
//!
//! Values are kept as JSON so the journal can store them as they were.

use rhai::{Dynamic, Map};
use serde_json::Value;

use super::error::RunbookError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    String,
    Int,
    Bool,
    /// Comma-separated on the command line: `servers=cn1,cn2`.
    List,
}

impl ParamKind {
    fn parse(name: &str) -> Option<ParamKind> {
        match name {
            "string" => Some(ParamKind::String),
            "int" => Some(ParamKind::Int),
            "bool" => Some(ParamKind::Bool),
            "list" => Some(ParamKind::List),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::Int => "int",
            ParamKind::Bool => "bool",
            ParamKind::List => "list",
        }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ParamSpec {
    pub name: String,
    pub kind: ParamKind,
    /// None: the parameter is required. `Some(Null)` (`default_value: ()`):
    /// optional, and absent when not given.
    pub default: Option<Value>,
    pub help: String,
    /// Where completion finds candidates: in form 2 a function name
    /// (`service_names`), in form 1 a Rhai expression
    /// (`sapi::services().map(|s| s.name)`).
    pub complete: Option<String>,
    /// `min` / `max` of an int: checked before the runbook sees the value,
    /// so no runbook code ever runs on a count it cannot handle.
    pub range: (Option<i64>, Option<i64>),
}

impl ParamSpec {
    /// Reads one entry of the runbook's `params` array:
    /// `#{ name: "count", type: "int", default_value: 1, help: "…", complete: "…" }`.
    pub fn from_dynamic(runbook: &str, entry: &Dynamic) -> Result<ParamSpec, RunbookError> {
        let bad = |cause: String| RunbookError::invalid(runbook, cause);
        let map = entry.read_lock::<Map>().ok_or_else(|| {
            bad(format!(
                "each entry of params must be a map, found {}",
                entry.type_name()
            ))
        })?;
        let text = |key: &str| map.get(key).and_then(|v| v.clone().into_string().ok());
        let name = text("name").ok_or_else(|| bad("a parameter has no name".into()))?;
        for key in map.keys() {
            if ![
                "name",
                "type",
                "default_value",
                "help",
                "complete",
                "min",
                "max",
            ]
            .contains(&key.as_str())
            {
                return Err(bad(format!(
                    "parameter {name}: unknown key '{key}' (expected name, type, default_value, help, complete, min, max)"
                )));
            }
        }
        let type_name = text("type").unwrap_or_else(|| "string".into());
        let kind = ParamKind::parse(&type_name).ok_or_else(|| {
            bad(format!(
                "parameter {name}: unknown type '{type_name}' (expected string, int, bool or list)"
            ))
        })?;
        let default = match map.get("default_value") {
            None => None,
            Some(d) => {
                let value = rhai::serde::from_dynamic::<Value>(d)
                    .map_err(|e| bad(format!("parameter {name}: default: {e}")))?;
                if value.is_null() {
                    Some(Value::Null)
                } else {
                    Some(
                        check_kind(kind, value)
                            .map_err(|cause| bad(format!("parameter {name}: default: {cause}")))?,
                    )
                }
            }
        };
        let bound = |key: &str| match map.get(key) {
            None => Ok(None),
            Some(v) if kind == ParamKind::Int => v
                .as_int()
                .map(Some)
                .map_err(|_| bad(format!("parameter {name}: {key} must be an integer"))),
            Some(_) => Err(bad(format!(
                "parameter {name}: {key} is for int parameters"
            ))),
        };
        let range = (bound("min")?, bound("max")?);
        Ok(ParamSpec {
            name,
            kind,
            default,
            help: text("help").unwrap_or_default(),
            complete: text("complete"),
            range,
        })
    }

    /// `count (int 1..10, default 1)`, `service (string, required)`.
    pub fn describe(&self) -> String {
        let kind = match self.range {
            (None, None) => self.kind.as_str().to_string(),
            (min, max) => format!(
                "{} {}..{}",
                self.kind.as_str(),
                min.map(|n| n.to_string()).unwrap_or_default(),
                max.map(|n| n.to_string()).unwrap_or_default()
            ),
        };
        match &self.default {
            None => format!("{} ({kind}, required)", self.name),
            Some(Value::Null) => format!("{} ({kind}, optional)", self.name),
            Some(Value::String(s)) if s.is_empty() => format!("{} ({kind})", self.name),
            Some(Value::Array(a)) if a.is_empty() => format!("{} ({kind})", self.name),
            Some(d) => format!("{} ({kind}, default {d})", self.name),
        }
    }
}

pub fn usage(specs: &[ParamSpec]) -> String {
    if specs.is_empty() {
        return "none".into();
    }
    specs
        .iter()
        .map(ParamSpec::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks `given` against the declarations and fills in defaults.
pub fn resolve(
    runbook: &str,
    specs: &[ParamSpec],
    given: Vec<(String, Value)>,
) -> Result<serde_json::Map<String, Value>, RunbookError> {
    let bad = |cause: String| RunbookError::BadParam {
        name: runbook.to_string(),
        cause,
        usage: usage(specs),
    };
    let mut values = serde_json::Map::new();
    for (name, value) in given {
        let spec = specs
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| bad(format!("unknown parameter '{name}'")))?;
        let value = check_kind(spec.kind, value)
            .and_then(|value| check_range(spec.range, value))
            .map_err(|cause| bad(format!("parameter {name}: {cause}")))?;
        if values.insert(name.clone(), value).is_some() {
            return Err(bad(format!("parameter {name} given twice")));
        }
    }
    for spec in specs {
        if !values.contains_key(&spec.name) {
            let default = spec
                .default
                .clone()
                .ok_or_else(|| bad(format!("missing required parameter '{}'", spec.name)))?;
            values.insert(spec.name.clone(), default);
        }
    }
    Ok(values)
}

/// Splits the command line's `k=v` pairs; values stay text until
/// `resolve` knows their declared type.
pub fn parse_pairs(
    runbook: &str,
    specs: &[ParamSpec],
    pairs: &[String],
) -> Result<Vec<(String, Value)>, RunbookError> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), Value::String(v.to_string())))
            }
            _ => Err(RunbookError::BadParam {
                name: runbook.to_string(),
                cause: format!("--param '{pair}' is not NAME=VALUE"),
                usage: usage(specs),
            }),
        })
        .collect()
}

/// Converts a Rhai map (from `run("name", #{…})`) into name/value pairs.
pub fn from_rhai_map(map: &Map) -> Result<Vec<(String, Value)>, String> {
    map.iter()
        .map(|(k, v)| {
            rhai::serde::from_dynamic::<Value>(v)
                .map(|v| (k.to_string(), v))
                .map_err(|e| format!("parameter {k}: {e}"))
        })
        .collect()
}

/// Accepts a value of the declared kind, or text that spells one.
fn check_kind(kind: ParamKind, value: Value) -> Result<Value, String> {
    match (kind, value) {
        (ParamKind::String, Value::String(s)) => Ok(Value::String(s)),
        (ParamKind::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
        (ParamKind::Int, Value::Number(n)) if n.is_i64() => Ok(Value::Number(n)),
        (ParamKind::Int, Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("expected an integer, got '{s}'")),
        (ParamKind::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (ParamKind::Bool, Value::String(s)) => match s.trim() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("expected true or false, got '{s}'")),
        },
        (ParamKind::List, Value::Array(items)) => Ok(Value::Array(items)),
        (ParamKind::List, Value::String(s)) => Ok(Value::Array(
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(|x| Value::String(x.to_string()))
                .collect(),
        )),
        (kind, other) => Err(format!("expected {}, got {other}", kind.as_str())),
    }
}

/// An int within its declared `min` and `max`.
fn check_range(range: (Option<i64>, Option<i64>), value: Value) -> Result<Value, String> {
    let Some(n) = value.as_i64() else {
        return Ok(value);
    };
    match range {
        (Some(min), Some(max)) if !(min..=max).contains(&n) => {
            Err(format!("must be between {min} and {max}, got {n}"))
        }
        (Some(min), None) if n < min => Err(format!("must be at least {min}, got {n}")),
        (None, Some(max)) if n > max => Err(format!("must be at most {max}, got {n}")),
        _ => Ok(value),
    }
}

/// The Rhai value runbook functions receive.
pub fn to_rhai(values: &serde_json::Map<String, Value>) -> Dynamic {
    rhai::serde::to_dynamic(values).unwrap_or_else(|_| Dynamic::from_map(Map::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs() -> Vec<ParamSpec> {
        let engine = rhai::Engine::new();
        let list: rhai::Array = engine
            .eval(
                r#"[ #{ name: "service", type: "string", help: "the service" },
                    #{ name: "count", type: "int", default_value: 1, min: 1, max: 10 },
                    #{ name: "servers", type: "list", default_value: [] },
                    #{ name: "image", default_value: () } ]"#,
            )
            .unwrap();
        list.iter()
            .map(|d| ParamSpec::from_dynamic("t", d).unwrap())
            .collect()
    }

    fn given(pairs: &[&str]) -> Vec<(String, Value)> {
        let pairs: Vec<String> = pairs.iter().map(|s| s.to_string()).collect();
        parse_pairs("t", &specs(), &pairs).unwrap()
    }

    #[test]
    fn text_is_typed_and_defaults_fill_in() {
        let v = resolve(
            "t",
            &specs(),
            given(&["service=papi", "count=2", "servers=cn1, cn2"]),
        )
        .unwrap();
        assert_eq!(v["service"], "papi");
        assert_eq!(v["count"], 2);
        assert_eq!(v["servers"], serde_json::json!(["cn1", "cn2"]));
        let v = resolve("t", &specs(), given(&["service=papi"])).unwrap();
        assert_eq!(v["count"], 1);
        assert_eq!(v["image"], Value::Null, "optional and not given: absent");
        let v = resolve("t", &specs(), given(&["service=papi", "image=abc"])).unwrap();
        assert_eq!(v["image"], "abc");
    }

    #[test]
    fn bad_params_name_the_problem_and_list_the_parameters() {
        let usage = "parameters: service (string, required), count (int 1..10, default 1), servers (list), image (string, optional)";
        for (pairs, cause) in [
            (
                &["service=papi", "cuont=2"][..],
                "unknown parameter 'cuont'",
            ),
            (
                &["service=papi", "count=two"][..],
                "parameter count: expected an integer, got 'two'",
            ),
            (&["count=2"][..], "missing required parameter 'service'"),
            (
                &["service=papi", "count=1000000"][..],
                "parameter count: must be between 1 and 10, got 1000000",
            ),
            (
                &["service=papi", "count=0"][..],
                "parameter count: must be between 1 and 10, got 0",
            ),
            (
                &["service=a", "service=b"][..],
                "parameter service given twice",
            ),
        ] {
            let err = resolve("t", &specs(), given(pairs))
                .unwrap_err()
                .to_string();
            assert!(err.contains(cause), "{err}");
            assert!(err.ends_with(usage), "{err}");
        }
        let err = parse_pairs("t", &specs(), &["nonsense".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--param 'nonsense' is not NAME=VALUE"),
            "{err}"
        );
    }

    #[test]
    fn declarations_reject_unknown_types_and_keys() {
        let engine = rhai::Engine::new();
        let d: Dynamic = engine.eval(r#"#{ name: "x", type: "float" }"#).unwrap();
        assert!(
            ParamSpec::from_dynamic("t", &d)
                .unwrap_err()
                .to_string()
                .contains("unknown type 'float'")
        );
        let d: Dynamic = engine.eval(r#"#{ name: "x", defualt_value: 1 }"#).unwrap();
        assert!(
            ParamSpec::from_dynamic("t", &d)
                .unwrap_err()
                .to_string()
                .contains("unknown key 'defualt_value'")
        );
    }
}
