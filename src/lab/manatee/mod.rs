//! The lab's manatee: every manatee instance runs a real PostgreSQL 15 on
//! its own address and a sitter that follows manatee's rules, so the shard
//! in ZooKeeper and the replication between the peers are the real thing
//! (ha-core.md §1–2, §8.3–8.5).

mod link_route;
mod machine;
pub mod peer_process;
mod postgres;
pub mod rebuild;
mod sitter;
mod stall;
mod state;
