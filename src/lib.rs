//! tritonsh: the operator shell for Triton DataCenter's control plane.
//!
//! Layers (see DESIGN.md): `repl` and the command-line front ends (`cli`,
//! `runbook_cli`, `manatee_cli`) at the front, `script` (Rhai and
//! runbooks) below them, `dc` (typed clients of a datacenter) below that.
//! `lab` is a separate world reached only over the network.
//! `api` is the vocabulary both sides share: the set of Triton APIs, their
//! names, URL keys and ping rules. `redact` keeps the datacenter's secrets
//! out of what is written for others (transcripts, logs).

pub mod api;
pub mod cli;
pub mod config;
pub mod connect;
pub mod dc;
#[cfg(test)]
mod fixtures;
pub mod health_cli;
pub mod lab;
pub mod manatee_cli;
pub mod paths;
pub mod redact;
pub mod render;
pub mod repl;
pub mod runbook_cli;
pub mod script;
pub mod shell_completion;
#[cfg(test)]
mod temp_dir;
