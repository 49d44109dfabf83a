//! How a world is shaped: names, owners, the address range the twins hand out, and job timing.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// Datacenter-wide settings; labcore fills these when it seeds a layout.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WorldConfig {
    pub datacenter_name: String,
    pub dns_domain: String,
    /// `ufds_admin_uuid`: owner of every core zone.
    pub admin_uuid: String,
    /// Where the twins take admin IPs for VMs they provision (SAPI/VMAPI creates).
    /// Addresses already held by a live VM or a server are skipped.
    pub provision_ips: IpRange,
    pub admin_network: AdminNetwork,
    /// Time from job creation to its end (queued → running → succeeded|failed).
    pub job_duration_ms: u64,
    /// Platform image every server runs (sysinfo `Live Image`).
    pub platform: String,
}

/// An inclusive range of IPv4 addresses.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct IpRange {
    pub first: Ipv4Addr,
    pub last: Ipv4Addr,
}

impl IpRange {
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        self.first <= ip && ip <= self.last
    }

    pub fn iter(&self) -> impl Iterator<Item = Ipv4Addr> {
        (u32::from(self.first)..=u32::from(self.last)).map(Ipv4Addr::from)
    }
}

/// The admin network every core zone has its primary NIC on.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct AdminNetwork {
    pub uuid: String,
    pub netmask: Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: Option<Ipv4Addr>,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            datacenter_name: "coal".to_string(),
            dns_domain: "joyent.us".to_string(),
            admin_uuid: "930896af-bf8c-48d4-885c-6573a94b1853".to_string(),
            provision_ips: IpRange {
                first: Ipv4Addr::new(127, 1, 1, 1),
                last: Ipv4Addr::new(127, 1, 1, 254),
            },
            admin_network: AdminNetwork {
                uuid: "326494fa-7860-4fc1-b82e-fa363bdcfac7".to_string(),
                netmask: Ipv4Addr::new(255, 0, 0, 0),
                prefix_len: 8,
                gateway: None,
            },
            job_duration_ms: 1000,
            platform: "20240222T000958Z".to_string(),
        }
    }
}

impl WorldConfig {
    /// `<service>.<datacenter_name>.<dns_domain>`, the name binder serves for a service.
    pub fn service_domain(&self, service: &str) -> String {
        format!("{service}.{}.{}", self.datacenter_name, self.dns_domain)
    }
}
