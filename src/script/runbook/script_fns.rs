//! `run("name", #{params})` and `resume_run("RUN_ID")` for the REPL and
//! scripts: the same runs as `tritonsh run`, returning the journal as a map.
//!
//! Options, as a third map: `#{ dry_run: true, yes: true, force: true }`.

use std::io::IsTerminal;
use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, Map, NativeCallContext};

use super::call::Env;
use super::catalog;
use super::definition::Definition;
use super::error::RunbookError;
use super::params;
use super::runner::{self, RunOptions, RunReport};
use crate::script::ctx::{ScriptCtx, terminated};

type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

pub fn register(engine: &mut Engine, ctx: Arc<ScriptCtx>) {
    let c = ctx.clone();
    engine.register_fn(
        "run",
        move |cx: NativeCallContext, name: &str, given: Map| run(&cx, &c, name, given, Map::new()),
    );
    let c = ctx.clone();
    engine.register_fn(
        "run",
        move |cx: NativeCallContext, name: &str, given: Map, options: Map| {
            run(&cx, &c, name, given, options)
        },
    );
    let c = ctx.clone();
    engine.register_fn("resume_run", move |cx: NativeCallContext, id: &str| {
        resume(&cx, &c, id, Map::new())
    });
    let c = ctx;
    engine.register_fn(
        "resume_run",
        move |cx: NativeCallContext, id: &str, options: Map| resume(&cx, &c, id, options),
    );
}

fn env<'a>(cx: &'a NativeCallContext, ctx: &'a ScriptCtx) -> Env<'a> {
    Env {
        engine: cx.engine(),
        gate: ctx.dc.gate().clone(),
        interrupt: &ctx.interrupt,
        rt: ctx.rt.clone(),
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
    finish(ctx, runner::resume(&env(cx, ctx), id, &options))
}

fn run_options(options: &Map) -> Result<RunOptions> {
    let mut run = RunOptions {
        echo: true,
        terminal: std::io::stdin().is_terminal(),
        ..RunOptions::default()
    };
    for (key, value) in options {
        let flag = value
            .as_bool()
            .map_err(|_| format!("run option {key} must be true or false"))?;
        match key.as_str() {
            "dry_run" => run.dry_run = flag,
            "yes" => run.yes = flag,
            "force" => run.force = flag,
            other => {
                return Err(
                    format!("unknown run option '{other}' (expected dry_run, yes, force)").into(),
                );
            }
        }
    }
    Ok(run)
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
