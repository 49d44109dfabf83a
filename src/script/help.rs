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
    doc: String,
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
type Catalog = BTreeMap<String, Section>;

#[derive(Default)]
struct Section {
    /// The module's own doc comment (none for the global functions).
    doc: String,
    functions: Vec<FnMeta>,
}

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
        Section {
            doc: String::new(),
            functions: meta.functions.into_iter().filter(user_facing).collect(),
        },
    );
    for (name, module) in meta.modules {
        let section = Section {
            doc: clean_doc(&module.doc).join(" "),
            functions: module.functions.into_iter().filter(user_facing).collect(),
        };
        catalog.insert(name, section);
    }
    Ok(catalog)
}

/// The doc's first sentence, whole: docs are wrapped at any width, so
/// the first line alone is often cut mid-phrase.
fn summary(f: &FnMeta) -> String {
    first_sentence(&doc_lines(f))
}

fn first_sentence(lines: &[String]) -> String {
    let mut text = String::new();
    for line in lines {
        if line.trim().is_empty() || line.starts_with("Example") {
            break;
        }
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(line.trim());
        if let Some(end) = sentence_end(&text) {
            text.truncate(end + 1);
            break;
        }
    }
    text
}

/// Where the first `. ` ends a sentence (not `e.g. `, `i.e. `).
fn sentence_end(text: &str) -> Option<usize> {
    text.match_indices(". ")
        .map(|(at, _)| at)
        .find(|&at| !text[..at].ends_with("e.g") && !text[..at].ends_with("i.e"))
}

fn doc_lines(f: &FnMeta) -> Vec<String> {
    f.doc_comments.iter().flat_map(|b| clean_doc(b)).collect()
}

fn clean_doc(block: &str) -> Vec<String> {
    block
        .lines()
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

/// The modules, one line each, then the functions outside any module:
/// a screenful; `help("vmapi")` lists a module's functions.
fn overview(catalog: &Catalog) -> String {
    let mut out = vec![
        "tritonsh: Rhai with the datacenter's APIs. help(\"vmapi\") lists a module's functions, help(\"vmapi::list\") shows one."
            .to_string(),
        String::new(),
        "modules:".to_string(),
    ];
    let modules: Vec<(&String, &Section)> = catalog
        .iter()
        .filter(|(name, s)| !name.is_empty() && !s.functions.is_empty())
        .collect();
    let width = modules.iter().map(|(n, _)| n.len() + 2).max().unwrap_or(0);
    for (name, section) in modules {
        let shown = format!("{name}::");
        let doc = first_sentence(std::slice::from_ref(&section.doc));
        out.push(format!("  {shown:width$}  {doc}").trim_end().to_string());
    }
    if let Some(global) = catalog.get("").filter(|g| !g.functions.is_empty()) {
        out.push(String::new());
        out.push("functions (also as methods: rows.where(…)):".to_string());
        out.extend(section_lines("", &global.functions));
    }
    out.join("\n")
}

fn detail(catalog: &Catalog, name: &str) -> Result<String> {
    let module = name.trim_end_matches("::");
    if let Some(section) = catalog.get(module).filter(|_| !module.is_empty()) {
        let mut out = vec![
            format!("{module}::  {}", section.doc)
                .trim_end()
                .to_string(),
        ];
        out.extend(section_lines(&format!("{module}::"), &section.functions));
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
        .map(|s| s.functions.iter().filter(|f| f.name == fn_name).collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_is_the_whole_first_sentence() {
        let lines = |text: &str| text.lines().map(String::from).collect::<Vec<_>>();
        assert_eq!(
            first_sentence(&lines(
                "Ends the script with this status (0-255), e.g.\n`exit(1)` when a check failed. More."
            )),
            "Ends the script with this status (0-255), e.g. `exit(1)` when a check failed."
        );
        assert_eq!(
            first_sentence(&lines("One line without a stop\n\nExample: x()")),
            "One line without a stop"
        );
    }
}
