//! Bulk customer VMs, so listing and paging can be exercised at datacenter scale.

use std::net::Ipv4Addr;

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::World;
use super::vm::VmState;

/// `lab up --vms N`: N customer VMs spread over the compute nodes.
#[derive(Clone, Debug)]
pub struct CustomerVms {
    pub count: usize,
    pub owner_uuid: String,
    /// Aliases are `<prefix><n>` (n from 1).
    pub alias_prefix: String,
    /// First address of the external NICs; the rest follow. These VMs run nothing, so their
    /// addresses are never bound.
    pub first_ip: Ipv4Addr,
}

impl CustomerVms {
    pub fn new(count: usize) -> CustomerVms {
        CustomerVms {
            count,
            owner_uuid: "d1f2c9a4-3c0b-4a64-9d43-8a0a2f5b7e10".to_string(),
            alias_prefix: "vm".to_string(),
            first_ip: Ipv4Addr::new(127, 100, 0, 1),
        }
    }
}

const ROLES: [&str; 4] = ["web", "db", "cache", "batch"];

impl World {
    /// Adds customer VMs round-robin over the set-up compute nodes (the headnode only when
    /// there is nothing else); every tenth is stopped. Records no changes: nothing runs
    /// behind them. Returns their uuids.
    pub fn add_customer_vms(&mut self, spec: &CustomerVms) -> Vec<String> {
        let mut targets: Vec<String> = self
            .servers
            .iter()
            .filter(|s| s.setup && !s.headnode)
            .map(|s| s.uuid.clone())
            .collect();
        if targets.is_empty() {
            targets = self.servers.iter().map(|s| s.uuid.clone()).collect();
        }
        let Some(_) = targets.first() else {
            return Vec::new();
        };
        let base = u32::from(spec.first_ip);
        let mut uuids = Vec::with_capacity(spec.count);
        for i in 0..spec.count {
            let role = ROLES[i % ROLES.len()];
            let payload = json!({
                "uuid": Uuid::new_v4().to_string(),
                "alias": format!("{}{}", spec.alias_prefix, i + 1),
                "owner_uuid": spec.owner_uuid,
                "brand": "joyent",
                "max_physical_memory": 1024,
                "quota": 25,
                "cpu_cap": 100,
                "billing_id": "6d6b0a51-f3d2-4c8b-8a8c-5b6a1a8e2c11",
                "package_name": "g4-highcpu-1G",
                "package_version": "1.0.0",
                "image_uuid": "2b683a82-a066-11e3-97ab-2faa44701c5a",
                "tags": {"role": role, "tier": (i % 3) as u64},
                "resolvers": ["8.8.8.8"],
            });
            let payload: Map<String, Value> = payload.as_object().cloned().unwrap_or_default();
            let state = if i % 10 == 9 {
                VmState::Stopped
            } else {
                VmState::Running
            };
            let server = &targets[i % targets.len()];
            let ip = Ipv4Addr::from(base.wrapping_add(i as u32));
            let mut vm = self.new_vm(&payload, server, Some(ip), state);
            for nic in &mut vm.nics {
                nic.nic_tag = "external".to_string();
            }
            uuids.push(vm.uuid.clone());
            self.insert_vm(vm);
        }
        uuids
    }
}
