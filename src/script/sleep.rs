//! `sleep(seconds)` that Ctrl-C ends. Rhai's own sleep blocks its thread
//! where `on_progress` cannot reach it, so a polling loop in a runbook
//! would sit out its wait after the operator asked it to stop.

use std::sync::Arc;
use std::time::Duration;

use rhai::{Engine, EvalAltResult, FLOAT};

use super::ctx::ScriptCtx;
use super::register::func;

pub fn register(engine: &mut Engine, ctx: &Arc<ScriptCtx>) {
    const DOC: &str = "Waits this many seconds (a fraction is fine); Ctrl-C ends the wait.";
    let c = ctx.clone();
    func("sleep", &["seconds: int"], "()", DOC)
        .register_into_engine(engine, move |seconds: i64| wait(&c, seconds as FLOAT));
    let c = ctx.clone();
    func("sleep", &["seconds: float"], "()", DOC)
        .register_into_engine(engine, move |seconds: FLOAT| wait(&c, seconds));
}

fn wait(ctx: &ScriptCtx, seconds: FLOAT) -> Result<(), Box<EvalAltResult>> {
    let duration = Duration::try_from_secs_f64(seconds.max(0.0))
        .map_err(|_| format!("sleep({seconds}): not a number of seconds"))?;
    ctx.call(async move {
        tokio::time::sleep(duration).await;
        Ok::<(), String>(())
    })
}
