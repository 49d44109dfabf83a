//! Typed async clients of a datacenter: SAPI, VMAPI, CNAPI and workflow jobs.
//!
//! Nothing here knows about Rhai or the terminal; nothing above this layer
//! speaks HTTP.

pub mod gate;
