//! What changed in the world, so the lab can start or stop the real processes behind instances.

use serde::{Deserialize, Serialize};

use super::vm::VmState;

/// One observable change. The world records these as it mutates; `SharedWorld` broadcasts them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub enum Change {
    /// A server's CNAPI status went running ↔ unknown.
    ServerStatus {
        uuid: String,
        hostname: String,
        running: bool,
    },
    /// A VM changed state (provisioning → running, running → stopped, → destroyed, …).
    VmState {
        vm_uuid: String,
        alias: Option<String>,
        /// SAPI service name when the VM is a SAPI instance (binder, manatee, …).
        service: Option<String>,
        server_uuid: Option<String>,
        /// Primary admin IP, if the VM has a NIC.
        ip: Option<String>,
        from: VmState,
        to: VmState,
    },
    /// A SAPI instance record appeared (seeding or SAPI CreateInstance).
    InstanceAdded {
        uuid: String,
        service: String,
        alias: Option<String>,
    },
    /// A SAPI instance record was removed (DeleteInstance or a rolled-back create).
    InstanceRemoved {
        uuid: String,
        service: String,
        alias: Option<String>,
    },
    /// A server record was removed from CNAPI ("forget").
    ServerForgotten { uuid: String, hostname: String },
}
