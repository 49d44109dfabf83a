//! The Rhai engine of a session: every service module, the helpers, help,
//! and the runbook functions, plus Ctrl-C for pure-Rhai loops.

use std::sync::Arc;

use rhai::{Dynamic, Engine};

use super::ctx::ScriptCtx;

/// The largest string a script may build.
const MAX_STRING_BYTES: usize = 128 * 1024 * 1024;
/// The most items in one array or map.
const MAX_ITEMS: usize = 10_000_000;

pub fn build(ctx: Arc<ScriptCtx>) -> Engine {
    let mut engine = Engine::new();
    // A script that grows a value without bound (`s += s` in a loop) ends
    // with a one-line error instead of taking the process, and the REPL
    // session with it. The limits are far above any datacenter's lists
    // (10 000 VMs are an array of 10 000), and Rhai checks them cheaply.
    engine.set_max_string_size(MAX_STRING_BYTES);
    engine.set_max_array_size(MAX_ITEMS);
    engine.set_max_map_size(MAX_ITEMS);
    let progress_ctx = ctx.clone();
    engine.on_progress(move |_| {
        progress_ctx
            .is_stopped()
            .then(|| Dynamic::from("interrupted"))
    });
    // With --json, stdout carries the result and nothing else: a script's
    // own lines go to stderr so `… --json | jq` still parses. During a run
    // they go to its transcript, which shows them (see `printed`).
    let printed = ctx.printed.clone();
    let json = ctx.output.json;
    engine.on_print(move |text| {
        printed.line(text, |text| {
            if json {
                eprintln!("{text}");
            } else {
                println!("{text}");
            }
        })
    });
    let printed = ctx.printed.clone();
    engine.on_debug(move |text, source, pos| {
        let text = match (source, pos.line()) {
            (Some(src), Some(line)) => format!("{src}:{line}: {text}"),
            (None, Some(line)) => format!("line {line}: {text}"),
            _ => text.to_string(),
        };
        printed.line(&text, |text| eprintln!("{text}"));
    });
    engine.register_static_module("sapi", super::sapi::module(&ctx).into());
    engine.register_static_module("vmapi", super::vmapi::module(&ctx).into());
    engine.register_static_module("cnapi", super::cnapi::module(&ctx).into());
    engine.register_static_module("imgapi", super::imgapi::module(&ctx).into());
    engine.register_static_module("jobs", super::jobs::module(&ctx).into());
    engine.register_static_module("zk", super::zk::module(&ctx).into());
    engine.register_static_module("zone", super::zone::module(&ctx).into());
    engine.register_static_module("binder", super::binder::module(&ctx).into());
    engine.register_static_module("manatee", super::manatee::module(&ctx).into());
    super::record_fns::register(&mut engine);
    super::helpers::register(&mut engine);
    super::help::register(&mut engine);
    super::exit::register(&mut engine, &ctx);
    super::sleep::register(&mut engine, &ctx);
    super::health::register(&mut engine, &ctx);
    // The runbook functions (`run`, `resume_run`, verdicts, helpers): their
    // one call site.
    super::runbook::register(&mut engine, ctx.clone());
    engine
}
