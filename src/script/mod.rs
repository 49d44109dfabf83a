//! The Rhai layer: the engine, one binding module per service, runbooks.

mod binder;
mod cnapi;
mod convert;
pub mod ctx;
pub mod engine;
mod error_text;
mod exit;
pub mod filters;
mod health;
mod help;
mod helpers;
mod imgapi;
pub mod interrupt;
mod jobs;
pub mod lazy_dc;
mod manatee;
pub mod names;
pub mod printed;
mod record;
mod record_fns;
pub mod record_value;
mod register;
pub mod runbook;
mod sapi;
pub mod session;
mod sleep;
mod vm_record;
mod vmapi;
mod zk;
mod zone;

pub use convert::not_data;
pub use ctx::{OutputOptions, ScriptCtx};
pub use lazy_dc::LazyDatacenter;
pub use session::{Interrupter, Session};
