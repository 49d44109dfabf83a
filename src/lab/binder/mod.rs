//! The lab's binder: what registrar writes into ZooKeeper for each
//! instance, and the DNS answers binder computes from it.

pub mod answer;
pub mod dns_process;
pub mod dns_server;
pub mod mirror;
pub mod registrar;
pub mod registration;
