//! `exit()` and `exit(status)`: end a script with an exit status, as a
//! shell script would.
//!
//! Rhai's own `exit(value)` stops the evaluation but hands `value` back as
//! its result, so `tritonsh check.rhai` would print 3 and exit 0 — useless
//! to cron or a pipeline. Ours records the status on the context and stops
//! the evaluation the same way; the front ends act on it (`-c` and
//! FILE.rhai exit with it, the REPL ends).

use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, Position};

use super::ctx::ScriptCtx;
use super::register::func;

pub fn register(engine: &mut Engine, ctx: &Arc<ScriptCtx>) {
    let c = ctx.clone();
    func(
        "exit",
        &[],
        "()",
        "Ends the script (or the shell) with exit status 0.",
    )
    .register_into_engine(engine, move || stop(&c, 0));
    let c = ctx.clone();
    func(
        "exit",
        &["status: int"],
        "()",
        "Ends the script (or the shell) with this exit status (0-255), e.g. exit(1) when a check failed.",
    )
    .register_into_engine(engine, move |status: i64| {
        let status = u8::try_from(status).map_err(|_| {
            format!("exit({status}): an exit status is 0 to 255 (0 means all is well)")
        })?;
        stop(&c, status)
    });
}

fn stop(ctx: &ScriptCtx, status: u8) -> Result<Dynamic, Box<EvalAltResult>> {
    ctx.request_exit(status);
    Err(EvalAltResult::Exit(Dynamic::UNIT, Position::NONE).into())
}
