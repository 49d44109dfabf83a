//! Turning a CreateVm payload into a VM record (what VMAPI writes, then what the job fills in).

use std::net::Ipv4Addr;

use chrono::Utc;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::World;
use super::vm::{Nic, Vm, VmState};

/// A number given as JSON number or numeric string (SAPI params carry `"quota": "10"`).
pub fn loose_u64(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn string(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn object(v: Option<&Value>) -> Map<String, Value> {
    match v {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    }
}

impl World {
    /// A VM record for `payload` on `server_uuid`, with an admin NIC on `ip` when given.
    ///
    /// Defaults follow VMAPI when no package is given: `max_swap = max(2*ram, 256)`,
    /// `quota = 10`, `cpu_shares = ram/128`.
    pub fn new_vm(
        &self,
        payload: &Map<String, Value>,
        server_uuid: &str,
        ip: Option<Ipv4Addr>,
        state: VmState,
    ) -> Vm {
        let uuid = string(payload.get("uuid")).unwrap_or_else(|| Uuid::new_v4().to_string());
        let ram = loose_u64(payload.get("max_physical_memory"))
            .or_else(|| loose_u64(payload.get("ram")))
            .unwrap_or(1024);
        let nics = ip
            .map(|ip| {
                let o = ip.octets();
                vec![Nic {
                    interface: "net0".to_string(),
                    mac: format!("90:b8:d0:{:02x}:{:02x}:{:02x}", o[1], o[2], o[3]),
                    vlan_id: 0,
                    nic_tag: "admin".to_string(),
                    gateway: self.config.admin_network.gateway.map(|g| g.to_string()),
                    netmask: self.config.admin_network.netmask.to_string(),
                    ip: ip.to_string(),
                    prefix_len: self.config.admin_network.prefix_len,
                    mtu: 1500,
                    network_uuid: self.config.admin_network.uuid.clone(),
                    primary: true,
                }]
            })
            .unwrap_or_default();
        let now = Utc::now();
        let running = state == VmState::Running;
        let resolvers = match payload.get("resolvers") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        Vm {
            uuid,
            alias: string(payload.get("alias")),
            autoboot: (state != VmState::Provisioning).then_some(running),
            brand: string(payload.get("brand")).unwrap_or_else(|| "joyent-minimal".to_string()),
            billing_id: string(payload.get("billing_id")),
            cpu_cap: loose_u64(payload.get("cpu_cap")),
            cpu_shares: loose_u64(payload.get("cpu_shares")).or(Some((ram / 128).max(1))),
            create_timestamp: now,
            customer_metadata: object(payload.get("customer_metadata")),
            delegate_dataset: payload.get("delegate_dataset") == Some(&Value::Bool(true)),
            destroyed: None,
            firewall_enabled: payload.get("firewall_enabled") == Some(&Value::Bool(true)),
            internal_metadata: object(payload.get("internal_metadata")),
            last_modified: (state != VmState::Provisioning).then_some(now),
            max_locked_memory: loose_u64(payload.get("max_locked_memory")).or(Some(ram)),
            max_lwps: loose_u64(payload.get("max_lwps")).or(Some(2000)),
            max_physical_memory: Some(ram),
            max_swap: loose_u64(payload.get("max_swap")).or(Some((2 * ram).max(256))),
            nics,
            owner_uuid: string(payload.get("owner_uuid"))
                .unwrap_or_else(|| self.config.admin_uuid.clone()),
            platform_buildstamp: (state != VmState::Provisioning)
                .then(|| self.config.platform.clone()),
            quota: loose_u64(payload.get("quota")).or(Some(10)),
            resolvers,
            server_uuid: Some(server_uuid.to_string()),
            state,
            tags: object(payload.get("tags")),
            zfs_io_priority: loose_u64(payload.get("zfs_io_priority")).or(Some(100)),
            image_uuid: string(payload.get("image_uuid")),
            boot_timestamp: running.then_some(now),
            maintain_resolvers: payload.get("maintain_resolvers").and_then(Value::as_bool),
            package_name: string(payload.get("package_name")),
            package_version: string(payload.get("package_version")),
            pid: None,
        }
    }
}
