//! Runbooks: declared parameters and named steps, with plan, checks,
//! confirmation, journal and transcript.
//!
//! How to write one is `stdlib/README.md`, the guide for operators. Here:
//! `definition` reads a runbook (both forms), `step` a step of its plan,
//! `runner` takes a run from parameters to the end (or resumes one), with
//! `preflight`, `preview` (the dry run) and `execute` (one step for real);
//! every call into the script goes through `call`, which sets the mutation
//! gate for what the call is for.

pub mod call;
pub mod catalog;
pub mod completion;
pub mod confirm;
pub mod definition;
pub mod error;
pub mod execute;
mod header;
pub mod helpers;
pub mod journal;
pub mod params;
pub mod placement;
mod positions;
pub mod preflight;
pub mod preview;
pub mod resume;
pub mod run_lock;
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
