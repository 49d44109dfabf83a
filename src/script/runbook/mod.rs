//! Runbooks: declared parameters and named steps, with plan, checks,
//! confirmation, journal and transcript.
//!
//! A runbook is a Rhai file ending with its declaration; `plan(p)` returns
//! the steps, each naming the runbook functions that check, perform and
//! verify it (see `definition.rs` and `step.rs`). The plan is computed
//! once and stored in the journal, so a resume replays the same steps.

pub mod call;
pub mod catalog;
pub mod cli;
pub mod confirm;
pub mod definition;
pub mod error;
pub mod execute;
pub mod helpers;
pub mod journal;
pub mod params;
pub mod preflight;
pub mod preview;
pub mod runner;
mod script_fns;
pub mod step;
pub mod transcript;
pub mod verdict;

/// The functions runbooks use that need no datacenter: verdicts and the
/// Rust-side helpers.
pub fn register_helpers(engine: &mut rhai::Engine) {
    // Step maps nest deeper than Rhai's debug-build default allows.
    engine.set_max_expr_depths(256, 128);
    verdict::register(engine);
    helpers::register(engine);
}

/// Everything runbooks and the REPL use: `run(…)`, `resume_run(…)`, the
/// verdicts and the helpers. Called from `script::engine::build`.
pub fn register(engine: &mut rhai::Engine, ctx: std::sync::Arc<crate::script::ScriptCtx>) {
    register_helpers(engine);
    script_fns::register(engine, ctx);
}
