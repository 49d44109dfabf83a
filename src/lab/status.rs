//! What `tritonsh lab status --json` prints: how to reach a running lab.
//!
//! This is the lab's public face. The shell reads only this (and then talks
//! to the URLs in it over the network), never the lab's internal state.

use serde::{Deserialize, Serialize};

use crate::api::ApiUrls;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LabStatus {
    /// Where each API twin answers, as `sapi_url`, `vmapi_url`, ….
    #[serde(flatten)]
    pub urls: ApiUrls,
    pub datacenter_name: String,
    pub dns_domain: String,
    /// The ZooKeeper ensemble as "ip:port", from SAPI's ZK_SERVERS.
    pub zk: Vec<String>,
    /// Binder's DNS as "ip:port"; None until the lab runs binder DNS.
    pub dns: Option<String>,
    pub instances: Vec<LabInstance>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LabInstance {
    pub alias: String,
    pub service: String,
    /// The hostname of the server the instance lives on.
    pub server: String,
    pub ip: String,
    pub state: String,
    /// A binder's ZooKeeper, as `srvr` says: leader, follower, standalone,
    /// "not serving" or down. Absent for other instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zk_mode: Option<String>,
    /// A binder's DNS server, `ip:port`, while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<String>,
    /// A fault that is not a state of its VM: `stalled` (a manatee peer
    /// that answers but replicates nothing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}
