//! The lab's control protocol: what the daemon's control endpoint
//! (`control_server.rs`) and the CLI asking it (`control_client.rs`) say to
//! each other over loopback HTTP. Both sides import these types, so the two
//! cannot drift apart.
//!
//! - `control.json` in the lab directory: [`ControlInfo`], where to ask.
//! - `GET /status`: a [`crate::lab::status::LabStatus`].
//! - `POST /faults/{kind}` with a [`FaultRequest`]: a [`ControlMessage`],
//!   on success and on refusal alike.

use serde::{Deserialize, Serialize};

/// `control.json`: where the daemon's control endpoint listens.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ControlInfo {
    pub url: String,
    pub pid: u32,
}

/// The faults the lab can inject, as the CLI and the URL name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    ServerDown,
    ServerUp,
    Stop,
    Start,
    /// A manatee peer stops replicating to its downstream, and answers.
    Stall,
}

impl FaultKind {
    pub const ALL: [FaultKind; 5] = [
        FaultKind::ServerDown,
        FaultKind::ServerUp,
        FaultKind::Stop,
        FaultKind::Start,
        FaultKind::Stall,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::ServerDown => "server-down",
            FaultKind::ServerUp => "server-up",
            FaultKind::Stop => "stop",
            FaultKind::Start => "start",
            FaultKind::Stall => "stall",
        }
    }

    /// The fault named `name` in `/faults/{name}`.
    pub fn from_name(name: &str) -> Option<FaultKind> {
        FaultKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// The body of `POST /faults/{kind}`: what the fault applies to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FaultRequest {
    pub target: String,
}

/// The control endpoint's answer to a fault or an error: one line.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ControlMessage {
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_names_round_trip() {
        for kind in FaultKind::ALL {
            assert_eq!(FaultKind::from_name(kind.as_str()), Some(kind));
        }
        assert_eq!(FaultKind::from_name("reboot"), None);
    }
}
