//! Runbooks: declared parameters and named steps, with plan, checks,
//! confirmation, journal and transcript.

pub mod cli;
