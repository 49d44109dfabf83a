//! `exit()` and `exit(status)`: end a script with an exit status, as a
//! shell script would.
//!
//! Rhai's own `exit(value)` stops the evaluation but hands `value` back as
//! its result, so `tritonsh check.rhai` would print 3 and exit 0 — useless
//! to cron or a pipeline. Ours records the status on the context and stops
//! the evaluation the same way; the front ends act on it (`-c` and
//! FILE.rhai exit with it, the REPL ends). `exit(status, result)` also
//! hands back a result for `-c` and FILE.rhai to print, so a check can say
//! what it found and fail in one go.

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
    .register_into_engine(engine, move |status: Dynamic| stop(&c, checked(&status)?));
    let c = ctx.clone();
    func(
        "exit",
        &["status: int", "result: ?"],
        "()",
        "Ends the script with this exit status (0-255) and prints result as the script's result, e.g. exit(1, problems).",
    )
    .register_into_engine(engine, move |status: Dynamic, result: Dynamic| {
        stop_with(&c, checked(&status)?, result)
    });
}

/// The status as an exit status. Anything but an integer is refused, not
/// taken for 0: `exit("1")` from a check that failed must not report success.
fn checked(status: &Dynamic) -> Result<u8, Box<EvalAltResult>> {
    let shown = if status.is_string() {
        format!("{status:?}")
    } else {
        status.to_string()
    };
    let number = status.as_int().map_err(|kind| {
        format!("exit({shown}): an exit status is an integer 0 to 255, not a {kind}")
    })?;
    u8::try_from(number).map_err(|_| {
        format!("exit({number}): an exit status is 0 to 255 (0 means all is well)").into()
    })
}

fn stop(ctx: &ScriptCtx, status: u8) -> Result<Dynamic, Box<EvalAltResult>> {
    stop_with(ctx, status, Dynamic::UNIT)
}

fn stop_with(ctx: &ScriptCtx, status: u8, result: Dynamic) -> Result<Dynamic, Box<EvalAltResult>> {
    ctx.request_exit(status);
    Err(EvalAltResult::Exit(result, Position::NONE).into())
}
