//! The lab: a small datacenter on loopback, reached only over the network.

pub mod cli;
pub mod status;
pub mod twin;
pub mod world;
