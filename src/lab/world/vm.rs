//! A VMAPI VM record and its "full" JSON rendering (apis.md §3.1).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ordered::Obj;
use super::time::iso;

/// VMAPI `state`. `active` is a filter-only pseudo-state and not here.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum VmState {
    Provisioning,
    Running,
    Stopped,
    Failed,
    Destroyed,
}

impl VmState {
    pub fn as_str(self) -> &'static str {
        match self {
            VmState::Provisioning => "provisioning",
            VmState::Running => "running",
            VmState::Stopped => "stopped",
            VmState::Failed => "failed",
            VmState::Destroyed => "destroyed",
        }
    }

    /// `state=active` means neither destroyed nor failed.
    pub fn is_active(self) -> bool {
        !matches!(self, VmState::Destroyed | VmState::Failed)
    }

    /// The raw zone state VMAPI shows beside `state`.
    pub fn zone_state(self) -> Option<&'static str> {
        match self {
            VmState::Provisioning | VmState::Failed => None,
            VmState::Running => Some("running"),
            VmState::Stopped => Some("installed"),
            VmState::Destroyed => Some("destroyed"),
        }
    }
}

/// One NIC of a VM.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Nic {
    pub interface: String,
    pub mac: String,
    pub vlan_id: u32,
    pub nic_tag: String,
    pub gateway: Option<String>,
    pub netmask: String,
    pub ip: String,
    pub prefix_len: u8,
    pub mtu: u32,
    pub network_uuid: String,
    pub primary: bool,
}

/// The stored VM. Field names follow VMAPI; rendering adds derived keys (zonepath, zone_state, …).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Vm {
    pub uuid: String,
    pub alias: Option<String>,
    pub autoboot: Option<bool>,
    pub brand: String,
    pub billing_id: Option<String>,
    pub cpu_cap: Option<u64>,
    pub cpu_shares: Option<u64>,
    pub create_timestamp: DateTime<Utc>,
    pub customer_metadata: Map<String, Value>,
    pub delegate_dataset: bool,
    pub destroyed: Option<DateTime<Utc>>,
    pub firewall_enabled: bool,
    pub internal_metadata: Map<String, Value>,
    pub last_modified: Option<DateTime<Utc>>,
    pub max_locked_memory: Option<u64>,
    pub max_lwps: Option<u64>,
    pub max_physical_memory: Option<u64>,
    pub max_swap: Option<u64>,
    pub nics: Vec<Nic>,
    pub owner_uuid: String,
    pub platform_buildstamp: Option<String>,
    pub quota: Option<u64>,
    pub resolvers: Vec<String>,
    pub server_uuid: Option<String>,
    pub state: VmState,
    pub tags: Map<String, Value>,
    pub zfs_io_priority: Option<u64>,
    pub image_uuid: Option<String>,
    pub boot_timestamp: Option<DateTime<Utc>>,
    pub maintain_resolvers: Option<bool>,
    pub package_name: Option<String>,
    pub package_version: Option<String>,
    pub pid: Option<u32>,
}

impl Vm {
    pub fn primary_ip(&self) -> Option<&str> {
        self.nics
            .iter()
            .find(|n| n.primary)
            .or(self.nics.first())
            .map(|n| n.ip.as_str())
    }

    /// True once the VM has been created on its server (it has a zone dataset).
    fn installed(&self) -> bool {
        !matches!(self.state, VmState::Provisioning | VmState::Failed)
    }

    /// The full rendering VMAPI returns from GetVm and ListVms, keys in VMAPI's order.
    pub fn render(&self) -> Obj {
        let installed = self.installed();
        let zfs_filesystem = installed.then(|| format!("zones/{}", self.uuid));
        let datasets: Vec<String> = if installed && self.delegate_dataset {
            vec![format!("zones/{}/data", self.uuid)]
        } else {
            Vec::new()
        };
        let mut m = Obj::new();
        m.put("uuid", Value::from(self.uuid.clone()));
        m.put("alias", opt_str(&self.alias));
        m.put("autoboot", self.autoboot.map_or(Value::Null, Value::from));
        m.put("brand", Value::from(self.brand.clone()));
        m.put("billing_id", opt_str(&self.billing_id));
        m.put("cpu_cap", opt_num(self.cpu_cap));
        m.put("cpu_shares", opt_num(self.cpu_shares));
        m.put("create_timestamp", Value::from(iso(&self.create_timestamp)));
        m.put(
            "customer_metadata",
            Value::Object(self.customer_metadata.clone()),
        );
        m.put("datasets", Value::from(datasets));
        m.put("destroyed", opt_time(&self.destroyed));
        m.put("firewall_enabled", Value::from(self.firewall_enabled));
        m.put(
            "internal_metadata",
            Value::Object(self.internal_metadata.clone()),
        );
        m.put("last_modified", opt_time(&self.last_modified));
        m.put(
            "limit_priv",
            if installed {
                Value::from("default")
            } else {
                Value::Null
            },
        );
        m.put("max_locked_memory", opt_num(self.max_locked_memory));
        m.put("max_lwps", opt_num(self.max_lwps));
        m.put("max_physical_memory", opt_num(self.max_physical_memory));
        m.put("max_swap", opt_num(self.max_swap));
        // NICs show up once the provision job has put the VM (the IP is reserved before).
        let nics = if self.state == VmState::Provisioning {
            Vec::new()
        } else {
            self.nics.iter().map(render_nic).collect()
        };
        m.put_list("nics", nics);
        m.put("owner_uuid", Value::from(self.owner_uuid.clone()));
        m.put("platform_buildstamp", opt_str(&self.platform_buildstamp));
        m.put("quota", opt_num(self.quota));
        // VMAPI fills `ram` from max_physical_memory (core zones only set the latter).
        m.put("ram", opt_num(self.max_physical_memory));
        m.put("resolvers", Value::from(self.resolvers.clone()));
        m.put("server_uuid", opt_str(&self.server_uuid));
        m.put("snapshots", Value::Array(Vec::new()));
        m.put("state", Value::from(self.state.as_str()));
        m.put("tags", Value::Object(self.tags.clone()));
        m.put(
            "zfs_filesystem",
            zfs_filesystem.clone().map_or(Value::Null, Value::from),
        );
        m.put("zfs_io_priority", opt_num(self.zfs_io_priority));
        m.put(
            "zone_state",
            self.state.zone_state().map_or(Value::Null, Value::from),
        );
        m.put(
            "zonepath",
            zfs_filesystem.map_or(Value::Null, |f| Value::from(format!("/{f}"))),
        );
        m.put(
            "zpool",
            if installed {
                Value::from("zones")
            } else {
                Value::Null
            },
        );
        if let Some(t) = &self.boot_timestamp {
            m.put("boot_timestamp", Value::from(iso(t)));
        }
        if let Some(b) = self.maintain_resolvers {
            m.put("maintain_resolvers", Value::from(b));
        }
        if let Some(p) = &self.package_name {
            m.put("package_name", Value::from(p.clone()));
        }
        if let Some(p) = &self.package_version {
            m.put("package_version", Value::from(p.clone()));
        }
        if let Some(pid) = self.pid {
            m.put("pid", Value::from(pid));
        }
        m.put("image_uuid", opt_str(&self.image_uuid));
        m
    }
}

fn render_nic(n: &Nic) -> Obj {
    let mut m = Obj::new();
    m.put("interface", Value::from(n.interface.clone()));
    m.put("mac", Value::from(n.mac.clone()));
    m.put("vlan_id", Value::from(n.vlan_id));
    m.put("nic_tag", Value::from(n.nic_tag.clone()));
    if let Some(g) = &n.gateway {
        m.put("gateway", Value::from(g.clone()));
        m.put("gateways", Value::from(vec![g.clone()]));
    }
    m.put("netmask", Value::from(n.netmask.clone()));
    m.put("ip", Value::from(n.ip.clone()));
    m.put(
        "ips",
        Value::from(vec![format!("{}/{}", n.ip, n.prefix_len)]),
    );
    m.put("mtu", Value::from(n.mtu));
    m.put("network_uuid", Value::from(n.network_uuid.clone()));
    m.put("primary", Value::from(n.primary));
    m
}

fn opt_str(v: &Option<String>) -> Value {
    v.clone().map_or(Value::Null, Value::from)
}

fn opt_num(v: Option<u64>) -> Value {
    v.map_or(Value::Null, Value::from)
}

fn opt_time(v: &Option<DateTime<Utc>>) -> Value {
    v.as_ref().map_or(Value::Null, |t| Value::from(iso(t)))
}
