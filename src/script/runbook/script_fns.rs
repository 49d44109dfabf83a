//! `run("name", #{params})` and `resume_run("RUN_ID")` for the REPL and
//! scripts: the same runs as `tritonsh run`, returning the journal as a map.
//!
//! Options, as a third map: `#{ dry_run: true, yes: true, force: true }`
//! (and `no_redact: true`, for a transcript that keeps the secrets).

use std::io::IsTerminal;
use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, Map, NativeCallContext};

use super::call::Env;
use super::catalog;
use super::definition::Definition;
use super::error::RunbookError;
use super::params;
use super::resume;
use super::runner::{self, RunOptions, RunReport};
use crate::script::ctx::{ScriptCtx, terminated};
use crate::script::register::func;

type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

const RUN: &str = "Runs a runbook (see `tritonsh runbook list`); returns the run's journal.\n\
    Options: #{dry_run: true} shows the plan and sends nothing, #{yes: true} confirms every step, \
    #{force: true} goes past checks that refuse without it, #{confirm: \"papi2\"} answers the typed name of what a step destroys, #{no_redact: true} keeps secrets in the transcript.\n\
    Example: run(\"scale-service\", #{service: \"papi\", count: 2}, #{dry_run: true})";
const RESUME: &str = "Continues run `run_id` at its first step not done, with the plan it started with.\n\
    Options as for run().";

pub fn register(engine: &mut Engine, ctx: Arc<ScriptCtx>) {
    let c = ctx.clone();
    func("run", &["runbook: String", "params: Map"], "Map", RUN).register_into_engine(
        engine,
        move |cx: NativeCallContext, name: &str, given: Map| run(&cx, &c, name, given, Map::new()),
    );
    let c = ctx.clone();
    func(
        "run",
        &["runbook: String", "params: Map", "options: Map"],
        "Map",
        RUN,
    )
    .register_into_engine(
        engine,
        move |cx: NativeCallContext, name: &str, given: Map, options: Map| {
            run(&cx, &c, name, given, options)
        },
    );
    let c = ctx.clone();
    func("resume_run", &["run_id: String"], "Map", RESUME)
        .register_into_engine(engine, move |cx: NativeCallContext, id: &str| {
            resume(&cx, &c, id, Map::new())
        });
    let c = ctx;
    func(
        "resume_run",
        &["run_id: String", "options: Map"],
        "Map",
        RESUME,
    )
    .register_into_engine(
        engine,
        move |cx: NativeCallContext, id: &str, options: Map| resume(&cx, &c, id, options),
    );
}

fn env<'a>(cx: &'a NativeCallContext, ctx: &'a ScriptCtx) -> Env<'a> {
    Env {
        engine: cx.engine(),
        datacenter: ctx.dc.id().clone(),
        gate: ctx.dc.gate().clone(),
        interrupt: &ctx.interrupt,
        rt: ctx.rt.clone(),
        printed: ctx.printed.clone(),
    }
}

fn run(
    cx: &NativeCallContext,
    ctx: &ScriptCtx,
    name: &str,
    given: Map,
    options: Map,
) -> Result<Dynamic> {
    let options = run_options(&options)?;
    let env = env(cx, ctx);
    let report = (|| {
        let source = catalog::resolve(name, &crate::paths::runbook_dir())?;
        let definition = Definition::load(env.engine, source)?;
        let given = params::from_rhai_map(&given).map_err(|cause| RunbookError::BadParam {
            name: name.to_string(),
            cause,
            usage: params::usage(&definition.params),
        })?;
        runner::start(&env, &definition, given, &options)
    })();
    finish(ctx, report)
}

fn resume(cx: &NativeCallContext, ctx: &ScriptCtx, id: &str, options: Map) -> Result<Dynamic> {
    let options = run_options(&options)?;
    finish(ctx, resume::resume(&env(cx, ctx), id, &options))
}

fn run_options(options: &Map) -> Result<RunOptions> {
    let mut run = RunOptions {
        echo: true,
        terminal: std::io::stdin().is_terminal(),
        ..RunOptions::default()
    };
    for (key, value) in options {
        if key.as_str() == "confirm" {
            run.confirm = confirmed(value)?;
            continue;
        }
        let flag = value
            .as_bool()
            .map_err(|_| format!("run option {key} must be true or false"))?;
        match key.as_str() {
            "dry_run" => run.dry_run = flag,
            "yes" => run.yes = flag,
            "force" => run.force = flag,
            "no_redact" => run.no_redact = flag,
            other => {
                return Err(format!(
                    "unknown run option '{other}' (expected dry_run, yes, force, confirm, no_redact)"
                )
                .into());
            }
        }
    }
    Ok(run)
}

/// `confirm: "papi2"` or `confirm: ["papi2", "papi3"]`: the names of what
/// the run may destroy.
fn confirmed(value: &Dynamic) -> Result<Vec<String>> {
    let bad =
        || "run option confirm is the name of what may be destroyed, or a list of names".into();
    if let Some(name) = value.clone().try_cast::<rhai::ImmutableString>() {
        return Ok(vec![name.to_string()]);
    }
    value
        .clone()
        .try_cast::<rhai::Array>()
        .ok_or_else(bad)?
        .into_iter()
        .map(|v| {
            v.try_cast::<rhai::ImmutableString>()
                .map(|s| s.to_string())
                .ok_or_else(bad)
        })
        .collect()
}

/// The journal as a map; an interrupted run ends the evaluation the way
/// Ctrl-C ends any other.
fn finish(
    ctx: &ScriptCtx,
    report: std::result::Result<RunReport, RunbookError>,
) -> Result<Dynamic> {
    let report = report.map_err(|e| e.to_string())?;
    if ctx.interrupt.is_triggered() {
        return Err(terminated());
    }
    rhai::serde::to_dynamic(&report.journal)
}
