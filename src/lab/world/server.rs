//! A CNAPI server record and its renderings (apis.md §4.1–4.3).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::ordered::Obj;
use super::time::iso;
use super::vm::Vm;

/// An agent installed on a server (`agents[]`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Agent {
    pub name: String,
    pub version: String,
    pub image_uuid: String,
    pub uuid: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Server {
    pub uuid: String,
    pub hostname: String,
    pub headnode: bool,
    pub setup: bool,
    /// CNAPI `status`: running when true, `unknown` when false (no heartbeat).
    pub running: bool,
    pub admin_ip: String,
    pub admin_mac: String,
    pub ram_mib: u64,
    pub cpu_total_cores: u64,
    pub disk_gib: u64,
    pub serial_number: String,
    pub created: DateTime<Utc>,
    pub last_boot: DateTime<Utc>,
    pub platform: String,
    pub datacenter: String,
    pub reserved: bool,
    pub reservoir: bool,
    pub rack_identifier: String,
    pub comments: String,
    pub traits: Map<String, Value>,
    pub agents: Vec<Agent>,
    pub last_heartbeat: Option<DateTime<Utc>>,
}

/// Which optional groups a ListServers `extras=` asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Extras {
    pub agents: bool,
    pub vms: bool,
    pub memory: bool,
    pub disk: bool,
    pub sysinfo: bool,
    pub capacity: bool,
}

impl Extras {
    pub const ALL: Extras = Extras {
        agents: true,
        vms: true,
        memory: true,
        disk: true,
        sysinfo: true,
        capacity: true,
    };

    pub fn any(&self) -> bool {
        *self != Extras::default()
    }
}

impl Server {
    pub fn status(&self) -> &'static str {
        if self.running { "running" } else { "unknown" }
    }

    fn sysinfo(&self) -> Value {
        let boot_params = if self.headnode {
            json!({"console": "vga", "headnode": "true", "admin_nic": self.admin_mac,
                   "rabbitmq": "guest:guest:rabbitmq.coal.joyent.us:5672", "boot_args": "", "bootargs": ""})
        } else {
            json!({"hostname": self.hostname, "admin_nic": self.admin_mac, "console": "ttyb",
                   "rabbitmq": "guest:guest:rabbitmq.coal.joyent.us:5672", "boot_args": "", "bootargs": ""})
        };
        let agents: Vec<Value> = self
            .agents
            .iter()
            .map(|a| json!({"name": a.name, "version": a.version}))
            .collect();
        json!({
            "Live Image": self.platform,
            "System Type": "SunOS",
            "Boot Time": self.last_boot.timestamp().to_string(),
            "Datacenter Name": self.datacenter,
            "SDC Version": "7.0",
            "Manufacturer": "Lab",
            "Product": "Loopback Server",
            "Serial Number": self.serial_number,
            "Setup": if self.setup { "true" } else { "false" },
            "VM Capable": true,
            "CPU Type": "Loopback CPU",
            "CPU Virtualization": "vmx",
            "CPU Physical Cores": 1.max(self.cpu_total_cores / 8),
            "UUID": self.uuid,
            "Hostname": self.hostname,
            "CPU Total Cores": self.cpu_total_cores,
            "MiB of Memory": self.ram_mib.to_string(),
            "Zpool": "zones",
            "Zpool Disks": "c1t0d0",
            "Zpool Profile": "striped",
            "Zpool Creation": self.created.timestamp(),
            "Zpool Size in GiB": self.disk_gib,
            "Zpool Encrypted": false,
            "Disks": {"c1t0d0": {"Size in GB": self.disk_gib + self.disk_gib / 10}},
            "Boot Parameters": boot_params,
            "SDC Agents": agents,
            "Network Interfaces": {
                "net0": {"MAC Address": self.admin_mac, "ip4addr": self.admin_ip,
                         "Link Status": "up", "NIC Names": ["admin"]}
            },
            "Virtual Network Interfaces": {},
            "Link Aggregations": {}
        })
    }

    /// CNAPI's rendering: the stored keys, then `status`, then the requested extras.
    ///
    /// `vms` are the non-destroyed VMs on this server; `with_heartbeat` adds `last_heartbeat`
    /// (any extras, and GetServer).
    pub fn render(&self, extras: Extras, vms: &[&Vm]) -> Obj {
        let mut o = Obj::new();
        if extras.sysinfo {
            o.put("sysinfo", self.sysinfo());
        }
        o.put("ram", self.ram_mib);
        o.put("current_platform", self.platform.clone());
        o.put("headnode", self.headnode);
        o.put("boot_platform", self.platform.clone());
        o.put("datacenter", self.datacenter.clone());
        o.put("overprovision_ratios", json!({"ram": 1}));
        o.put("reservation_ratio", 0.15);
        o.put("reservoir", self.reservoir);
        o.put("traits", Value::Object(self.traits.clone()));
        o.put("rack_identifier", self.rack_identifier.clone());
        o.put("comments", self.comments.clone());
        o.put("uuid", self.uuid.clone());
        o.put("hostname", self.hostname.clone());
        o.put("reserved", self.reserved);
        o.put(
            "boot_params",
            json!({"rabbitmq": "guest:guest:rabbitmq.coal.joyent.us:5672"}),
        );
        o.put("kernel_flags", json!({}));
        o.put(
            "default_console",
            if self.headnode { "vga" } else { "serial" },
        );
        o.put("serial", "ttyb");
        o.put("setup", self.setup);
        o.put("setting_up", false);
        o.put("system_type", "SunOS");
        o.put("last_boot", iso(&self.last_boot));
        o.put("created", iso(&self.created));
        if extras.agents {
            o.put(
                "agents",
                serde_json::to_value(&self.agents).unwrap_or(Value::Null),
            );
        }
        if extras.vms {
            let mut map = BTreeMap::new();
            for vm in vms {
                map.insert(
                    vm.uuid.clone(),
                    json!({
                        "brand": vm.brand,
                        "cpu_cap": vm.cpu_cap,
                        "last_modified": vm.last_modified.as_ref().map(iso),
                        "max_physical_memory": vm.max_physical_memory,
                        "owner_uuid": vm.owner_uuid,
                        "quota": vm.quota,
                        "state": vm.state.as_str(),
                        "uuid": vm.uuid,
                        "zone_state": vm.state.zone_state(),
                    }),
                );
            }
            o.put("vms", serde_json::to_value(map).unwrap_or(Value::Null));
        }
        o.put("transitional_status", "");
        if extras.any() {
            o.put(
                "last_heartbeat",
                self.last_heartbeat
                    .as_ref()
                    .map_or(Value::Null, |t| Value::from(iso(t))),
            );
        }
        o.put("status", self.status());
        let total = self.ram_mib * 1024 * 1024;
        let used_mib: u64 = vms.iter().filter_map(|v| v.max_physical_memory).sum();
        if extras.memory {
            o.put("memory_available_bytes", total * 4 / 5);
            o.put("memory_arc_bytes", total / 20);
            o.put("memory_total_bytes", total);
            o.put(
                "memory_provisionable_bytes",
                (total as i64) * 85 / 100 - (used_mib as i64) * 1024 * 1024,
            );
        }
        if extras.disk {
            let pool = self.disk_gib * 1024 * 1024 * 1024;
            let quota_gib: u64 = vms.iter().filter_map(|v| v.quota).sum();
            for (k, v) in [
                ("disk_cores_quota_bytes", 107374182400u64),
                ("disk_cores_quota_used_bytes", 0),
                ("disk_installed_images_used_bytes", 412090368),
                ("disk_kvm_quota_bytes", 0),
                ("disk_kvm_quota_used_bytes", 0),
                ("disk_kvm_zvol_used_bytes", 0),
                ("disk_kvm_zvol_volsize_bytes", 0),
                ("disk_pool_alloc_bytes", pool / 20),
                ("disk_pool_size_bytes", pool),
                ("disk_system_used_bytes", 4294967296),
                ("disk_zone_quota_bytes", quota_gib * 1024 * 1024 * 1024),
                ("disk_zone_quota_used_bytes", quota_gib * 1024 * 1024 * 100),
            ] {
                o.put(k, v);
            }
        }
        if extras.capacity {
            o.put("unreserved_cpu", self.cpu_total_cores * 100);
            o.put(
                "unreserved_ram",
                (self.ram_mib as i64) * 85 / 100 - used_mib as i64,
            );
            o.put("unreserved_disk", self.disk_gib * 1024);
        }
        o
    }
}
