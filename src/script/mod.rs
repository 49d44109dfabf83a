//! The Rhai layer: the engine, one binding module per service, runbooks.

pub mod ctx;
pub mod engine;
mod error_text;
mod help;
mod helpers;
pub mod interrupt;
mod register;
pub mod runbook;
pub mod session;

pub use ctx::{OutputOptions, ScriptCtx};
pub use session::Session;
