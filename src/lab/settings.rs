//! `lab.json`: what was chosen when the lab was created, kept so that a lab
//! restarted after `lab down` has the same layout, addresses and URLs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lab::address_block::AddressBlock;

/// Which layout a new lab is seeded with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// The recommended HA layout: binder, manatee and moray with three
    /// instances each (headnode and two compute nodes).
    Ha,
    /// A datacenter before HA: one instance of every core service on the headnode.
    Fresh,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Ha => "ha",
            Profile::Fresh => "fresh",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LabSettings {
    pub profile: Profile,
    /// Customer VMs seeded over the compute nodes.
    pub vms: u32,
    /// How long a provisioning job takes (queued → running → succeeded).
    pub provision_delay_ms: u64,
    /// The loopback block the lab's addresses live in; set on first start.
    #[serde(default)]
    pub block: Option<AddressBlock>,
    /// The port each API instance listens on (alias → port), so published
    /// URLs survive a restart when port 80 is not available.
    #[serde(default)]
    pub ports: BTreeMap<String, u16>,
}

/// How `lab up` asks for a new lab; ignored for a lab that already exists.
#[derive(Clone, Debug, PartialEq)]
pub struct NewLab {
    pub profile: Profile,
    pub vms: u32,
    pub provision_delay_ms: Option<u64>,
}

/// Short enough for tests to wait on, long enough to see `running`.
pub const DEFAULT_PROVISION_DELAY_MS: u64 = 500;

impl Default for NewLab {
    fn default() -> NewLab {
        NewLab {
            profile: Profile::Ha,
            vms: 0,
            provision_delay_ms: None,
        }
    }
}

impl LabSettings {
    pub fn from_request(new: &NewLab) -> LabSettings {
        LabSettings {
            profile: new.profile,
            vms: new.vms,
            provision_delay_ms: new.provision_delay_ms.unwrap_or(DEFAULT_PROVISION_DELAY_MS),
            block: None,
            ports: BTreeMap::new(),
        }
    }
}
