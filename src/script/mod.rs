//! The Rhai layer: the engine, one binding module per service, runbooks.

pub mod interrupt;
pub mod runbook;
