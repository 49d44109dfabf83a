//! Runbooks: declared parameters and named steps, with plan, checks,
//! confirmation, journal and transcript.
//!
//! A runbook is a Rhai file: a `//!` doc comment (its first line is the
//! summary), functions, and a final declaration map:
//!
//! ```rhai
//! //! Restart a service's instances one by one.
//! fn service_exists(p) { … pass("papi has 3 instances") }      // preflight check
//! fn plan(p) {                                                  // computed once
//!     [ #{ name: "reboot papi1 on cn1", args: #{ uuid: "…" },
//!          done: "is_fresh",     // passes → already done: the action is skipped
//!          require: "peers_up",  // must pass before the action
//!          action: "reboot",     // runs with mutations let through
//!          verify: "is_running", // polled until pass/fail, `wait` seconds at most
//!          wait: 120,
//!          destroys: "papi1",    // destructive: typed confirmation or --force
//!       } ]
//! }
//! fn reboot(a) { vmapi::reboot(a.uuid) }
//! fn is_running(a) { if vmapi::get(a.uuid).state == "running" { pass("up") } else { pending("booting") } }
//! #{ version: "1.0.0",
//!    params: [ #{ name: "service", type: "string", help: "…", complete: "sapi::services().map(|s| s.name)" },
//!              #{ name: "count", type: "int", default_value: 1 } ],
//!    checks: ["service_exists"] }
//! ```
//!
//! Checks and verifications answer `pass(why)`, `fail(why)`, `pending(why)`
//! or `needs_force(why)`; they, and `plan`, run with the mutation gate
//! denying changes. Steps are data (function names plus JSON-able `args`):
//! the journal stores the plan, and a resume replays exactly those steps.
//! A step with an `action` mutates unless it says `mutates: false`.

pub mod call;
pub mod catalog;
pub mod completion;
pub mod confirm;
pub mod definition;
pub mod error;
pub mod execute;
pub mod helpers;
pub mod journal;
pub mod params;
pub mod preflight;
pub mod preview;
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
