//! `help()` and `help("vmapi::list")`, read from the doc comments every
//! host function is registered with (see `register.rs`), so the help can
//! never disagree with what is registered.

use std::collections::BTreeMap;

use rhai::{Engine, EvalAltResult, ImmutableString, NativeCallContext};
use serde::Deserialize;

use super::register::func;

type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

pub fn register(engine: &mut Engine) {
    func(
        "help",
        &[],
        "String",
        "Lists every module and function with a one-line summary.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext| -> Result<String> {
        Ok(overview(&catalog(ctx.engine())?))
    });
    func(
        "help",
        &["name: String"],
        "String",
        "Shows one function's signatures and documentation, or one module's functions.\n\
         Example: help(\"vmapi::list\"), help(\"vmapi\")",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, name: ImmutableString| -> Result<String> {
            detail(&catalog(ctx.engine())?, name.trim())
        },
    );
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ModuleMeta {
    #[serde(default)]
    modules: BTreeMap<String, ModuleMeta>,
    #[serde(default)]
    functions: Vec<FnMeta>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FnMeta {
    name: String,
    #[serde(default)]
    params: Vec<ParamMeta>,
    #[serde(default)]
    return_type: String,
    #[serde(default)]
    doc_comments: Vec<String>,
}

#[derive(Deserialize)]
struct ParamMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "type")]
    typ: Option<String>,
}

/// Functions by section: "" for the global ones, else the module name.
type Catalog = BTreeMap<String, Vec<FnMeta>>;

fn catalog(engine: &Engine) -> Result<Catalog> {
    let json = engine
        .gen_fn_metadata_to_json(false)
        .map_err(|e| format!("help: cannot read the function list: {e}"))?;
    let meta: ModuleMeta = serde_json::from_str(&json)
        .map_err(|e| format!("help: cannot read the function list: {e}"))?;
    let mut catalog = Catalog::new();
    // Rhai's operators and internal getters are not for people, nor the
    // undocumented overloads for lazy records (`help` shows the map ones).
    let user_facing = |f: &FnMeta| {
        f.name.chars().next().is_some_and(|c| c.is_alphabetic())
            && !f.name.contains('$')
            && !(f.doc_comments.is_empty() && f.params.is_empty())
    };
    catalog.insert(
        String::new(),
        meta.functions.into_iter().filter(user_facing).collect(),
    );
    for (name, module) in meta.modules {
        catalog.insert(
            name,
            module.functions.into_iter().filter(user_facing).collect(),
        );
    }
    Ok(catalog)
}

fn summary(f: &FnMeta) -> String {
    doc_lines(f).into_iter().next().unwrap_or_default()
}

fn doc_lines(f: &FnMeta) -> Vec<String> {
    f.doc_comments
        .iter()
        .flat_map(|block| block.lines())
        .map(|line| {
            line.trim_start_matches("///")
                .trim_start_matches("/**")
                .trim_end_matches("*/")
        })
        .map(|line| line.strip_prefix(' ').unwrap_or(line).to_string())
        .collect()
}

fn call_shape(prefix: &str, f: &FnMeta) -> String {
    let params: Vec<&str> = f
        .params
        .iter()
        .map(|p| p.name.as_deref().filter(|n| *n != "_").unwrap_or("_"))
        .collect();
    format!("{prefix}{}({})", f.name, params.join(", "))
}

fn signature(prefix: &str, f: &FnMeta) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| match (p.name.as_deref(), p.typ.as_deref()) {
            (Some(n), Some(t)) => format!("{n}: {t}"),
            (Some(n), None) => n.to_string(),
            (None, Some(t)) => format!("_: {t}"),
            (None, None) => "_".to_string(),
        })
        .collect();
    let ret = if f.return_type.is_empty() || f.return_type == "()" {
        String::new()
    } else {
        format!(" -> {}", f.return_type)
    };
    format!("{prefix}{}({}){ret}", f.name, params.join(", "))
}

fn section_lines(prefix: &str, functions: &[FnMeta]) -> Vec<String> {
    let mut by_name: BTreeMap<&str, Vec<&FnMeta>> = BTreeMap::new();
    for f in functions {
        by_name.entry(f.name.as_str()).or_default().push(f);
    }
    let mut rows: Vec<(String, String)> = Vec::new();
    for overloads in by_name.values_mut() {
        overloads.sort_by_key(|f| f.params.len());
        let mut shapes: Vec<(String, String)> = Vec::new();
        for f in overloads.iter() {
            let shape = (call_shape(prefix, f), summary(f));
            // Overloads that differ only in parameter types read the same.
            if !shapes.contains(&shape) {
                shapes.push(shape);
            }
        }
        match optional_tail(prefix, overloads) {
            Some(shape) => rows.push((shape, summary(overloads[0]))),
            None => rows.extend(shapes),
        }
    }
    let width = rows
        .iter()
        .map(|(s, _)| s.chars().count())
        .max()
        .unwrap_or(0);
    rows.into_iter()
        .map(|(shape, text)| format!("  {shape:width$}  {text}").trim_end().to_string())
        .collect()
}

/// `list()` and `list(filters)` with one summary read as `list([filters])`.
fn optional_tail(prefix: &str, overloads: &[&FnMeta]) -> Option<String> {
    let (shortest, longest) = (overloads.first()?, overloads.last()?);
    let names = |f: &FnMeta| -> Vec<String> {
        f.params
            .iter()
            .map(|p| p.name.clone().unwrap_or_else(|| "_".into()))
            .collect()
    };
    let (short, long) = (names(shortest), names(longest));
    let same_summary = overloads.iter().all(|f| summary(f) == summary(shortest));
    if short.len() == long.len() || !same_summary || !long.starts_with(&short) {
        return None;
    }
    let mut shape = short.join(", ");
    let rest = long[short.len()..].join(", ");
    shape = if shape.is_empty() {
        format!("[{rest}]")
    } else {
        format!("{shape}, [{rest}]")
    };
    Some(format!("{prefix}{}({shape})", shortest.name))
}

fn overview(catalog: &Catalog) -> String {
    let mut out = vec![
        "tritonsh: Rhai with the datacenter's APIs. help(\"vmapi::list\") shows one function."
            .to_string(),
    ];
    for (module, functions) in catalog {
        if module.is_empty() || functions.is_empty() {
            continue;
        }
        out.push(String::new());
        out.push(format!("{module}::"));
        out.extend(section_lines(&format!("{module}::"), functions));
    }
    if let Some(global) = catalog.get("").filter(|g| !g.is_empty()) {
        out.push(String::new());
        out.push("functions (also as methods: rows.where(…)):".to_string());
        out.extend(section_lines("", global));
    }
    out.join("\n")
}

fn detail(catalog: &Catalog, name: &str) -> Result<String> {
    if let Some(functions) = catalog.get(name).filter(|_| !name.is_empty()) {
        let mut out = vec![format!("{name}::")];
        out.extend(section_lines(&format!("{name}::"), functions));
        return Ok(out.join("\n"));
    }
    let (module, fn_name) = name.rsplit_once("::").unwrap_or(("", name));
    let prefix = if module.is_empty() {
        String::new()
    } else {
        format!("{module}::")
    };
    let matching: Vec<&FnMeta> = catalog
        .get(module)
        .map(|fs| fs.iter().filter(|f| f.name == fn_name).collect())
        .unwrap_or_default();
    if matching.is_empty() {
        return Err(format!("no function named {name} (help() lists them)").into());
    }
    let mut out: Vec<String> = matching.iter().map(|f| signature(&prefix, f)).collect();
    let mut seen: Vec<Vec<String>> = Vec::new();
    for f in matching {
        let doc = doc_lines(f);
        if !doc.is_empty() && !seen.contains(&doc) {
            out.push(String::new());
            out.extend(doc.iter().map(|l| format!("  {l}")));
            seen.push(doc);
        }
    }
    Ok(out.join("\n"))
}
