//! The lab's datacenter: servers, SAPI objects, VMs and workflow jobs, in memory.
//!
//! One `World` holds everything the SAPI, VMAPI and CNAPI twins show. It is plain data
//! (serde), so the lab can save it to its directory and load it again. Every mutation that
//! matters to the processes behind instances (a binder VM starting, a server going down, …)
//! is recorded as a `Change`; `SharedWorld` broadcasts them to whoever subscribed.
//!
//! Seeding (`add_server`, `add_application`, `add_service`, `add_instance`,
//! `add_customer_vms`) and faults (`set_server_running`, `set_vm_running`) are for the lab
//! itself; the twins use the lower-level methods (`insert_vm`, `start_job`, `advance`, …).

mod change;
mod config;
mod customers;
mod error;
mod faults;
mod images;
mod job;
mod ordered;
mod provision;
mod run;
mod sapi;
mod seed;
mod server;
mod shared;
pub mod tags;
mod time;
mod vm;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, OnceLock};

use chrono::Utc;
use serde::{Deserialize, Serialize};

pub use change::Change;
pub use config::{AdminNetwork, IpRange, WorldConfig};
pub use customers::CustomerVms;
pub use error::WorldError;
pub use images::Image;
pub use job::{ChainResult, Execution, Job, JobKind};
pub use ordered::Obj;
pub use provision::loose_u64;
pub use sapi::{Application, Instance, Manifest, Service, ServiceKind, merge, payload};
pub use seed::{ApplicationSpec, InstanceSpec, Package, ServerSpec, ServiceSpec};
pub use server::{Agent, Extras, Server};
pub use shared::SharedWorld;
pub use time::iso;
pub use vm::{Nic, Vm, VmState};

/// A VM plus its cached renderings (rebuilt lazily after every change).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct VmEntry {
    vm: Vm,
    #[serde(skip)]
    json: OnceLock<Arc<str>>,
    #[serde(skip)]
    tags: OnceLock<Arc<str>>,
}

impl VmEntry {
    fn new(vm: Vm) -> VmEntry {
        VmEntry {
            vm,
            json: OnceLock::new(),
            tags: OnceLock::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct World {
    pub config: WorldConfig,
    servers: Vec<Server>,
    applications: Vec<Application>,
    services: Vec<Service>,
    instances: Vec<Instance>,
    manifests: Vec<Manifest>,
    /// Keyed by uuid: iteration order is uuid order, VMAPI's default sort key.
    vms: BTreeMap<String, VmEntry>,
    jobs: Vec<Job>,
    /// IMGAPI's catalog; absent from worlds saved before it existed.
    #[serde(default)]
    images: Vec<Image>,
    #[serde(skip)]
    changes: Vec<Change>,
}

impl World {
    pub fn new(config: WorldConfig) -> World {
        World {
            config,
            servers: Vec::new(),
            applications: Vec::new(),
            services: Vec::new(),
            instances: Vec::new(),
            manifests: Vec::new(),
            vms: BTreeMap::new(),
            jobs: Vec::new(),
            images: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// The world as JSON, to save in the lab directory.
    pub fn to_json(&self) -> Result<String, WorldError> {
        serde_json::to_string(self).map_err(|e| WorldError::Persist(e.to_string()))
    }

    /// A world saved by `to_json`.
    pub fn from_json(text: &str) -> Result<World, WorldError> {
        serde_json::from_str(text).map_err(|e| WorldError::Persist(e.to_string()))
    }

    /// Changes recorded since the last call, oldest first.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    // ----- servers -----

    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    pub fn server(&self, uuid: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.uuid == uuid)
    }

    /// A server by uuid or hostname.
    pub fn find_server(&self, uuid_or_hostname: &str) -> Option<&Server> {
        self.servers
            .iter()
            .find(|s| s.uuid == uuid_or_hostname || s.hostname == uuid_or_hostname)
    }

    pub fn server_mut(&mut self, uuid: &str) -> Option<&mut Server> {
        self.servers.iter_mut().find(|s| s.uuid == uuid)
    }

    /// CNAPI ServerDelete: removes the record only; VMs keep their `server_uuid`.
    pub fn forget_server(&mut self, uuid: &str) -> Option<Server> {
        let i = self.servers.iter().position(|s| s.uuid == uuid)?;
        let s = self.servers.remove(i);
        self.changes.push(Change::ServerForgotten {
            uuid: s.uuid.clone(),
            hostname: s.hostname.clone(),
        });
        Some(s)
    }

    /// The non-destroyed VMs on a server (CNAPI's `vms` extra).
    pub fn vms_on_server(&self, uuid: &str) -> Vec<&Vm> {
        self.vms
            .values()
            .map(|e| &e.vm)
            .filter(|v| v.server_uuid.as_deref() == Some(uuid) && v.state != VmState::Destroyed)
            .collect()
    }

    // ----- SAPI -----

    pub fn applications(&self) -> &[Application] {
        &self.applications
    }

    pub fn application(&self, uuid: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.uuid == uuid)
    }

    pub fn application_by_name(&self, name: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.name == name)
    }

    pub fn application_mut(&mut self, uuid: &str) -> Option<&mut Application> {
        self.applications.iter_mut().find(|a| a.uuid == uuid)
    }

    pub fn insert_application(&mut self, app: Application) {
        self.applications.push(app);
    }

    pub fn remove_application(&mut self, uuid: &str) -> Option<Application> {
        let i = self.applications.iter().position(|a| a.uuid == uuid)?;
        Some(self.applications.remove(i))
    }

    pub fn services(&self) -> &[Service] {
        &self.services
    }

    pub fn service(&self, uuid: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.uuid == uuid)
    }

    pub fn service_by_name(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    pub fn service_mut(&mut self, uuid: &str) -> Option<&mut Service> {
        self.services.iter_mut().find(|s| s.uuid == uuid)
    }

    pub fn insert_service(&mut self, svc: Service) {
        self.services.push(svc);
    }

    pub fn remove_service(&mut self, uuid: &str) -> Option<Service> {
        let i = self.services.iter().position(|s| s.uuid == uuid)?;
        Some(self.services.remove(i))
    }

    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    pub fn instance(&self, uuid: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.uuid == uuid)
    }

    pub fn instance_mut(&mut self, uuid: &str) -> Option<&mut Instance> {
        self.instances.iter_mut().find(|i| i.uuid == uuid)
    }

    /// The SAPI service name of an instance (or of the VM with that uuid).
    pub fn service_name_of(&self, instance_uuid: &str) -> Option<&str> {
        let inst = self.instance(instance_uuid)?;
        self.service(&inst.service_uuid).map(|s| s.name.as_str())
    }

    pub fn insert_instance(&mut self, inst: Instance) {
        let service = self
            .service(&inst.service_uuid)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        self.changes.push(Change::InstanceAdded {
            uuid: inst.uuid.clone(),
            service,
            alias: inst.alias().map(str::to_string),
        });
        self.instances.push(inst);
    }

    pub fn remove_instance(&mut self, uuid: &str) -> Option<Instance> {
        let i = self.instances.iter().position(|x| x.uuid == uuid)?;
        let service = self.service_name_of(uuid).unwrap_or_default().to_string();
        let inst = self.instances.remove(i);
        self.changes.push(Change::InstanceRemoved {
            uuid: inst.uuid.clone(),
            service,
            alias: inst.alias().map(str::to_string),
        });
        Some(inst)
    }

    pub fn manifests(&self) -> &[Manifest] {
        &self.manifests
    }

    pub fn manifest(&self, uuid: &str) -> Option<&Manifest> {
        self.manifests.iter().find(|m| m.uuid == uuid)
    }

    pub fn insert_manifest(&mut self, m: Manifest) {
        self.manifests.push(m);
    }

    pub fn remove_manifest(&mut self, uuid: &str) -> Option<Manifest> {
        let i = self.manifests.iter().position(|m| m.uuid == uuid)?;
        Some(self.manifests.remove(i))
    }

    // ----- VMs -----

    pub fn vm_count(&self) -> usize {
        self.vms.len()
    }

    pub fn vm(&self, uuid: &str) -> Option<&Vm> {
        self.vms.get(uuid).map(|e| &e.vm)
    }

    /// All VMs in uuid ascending order.
    pub fn vms(&self) -> impl DoubleEndedIterator<Item = &Vm> {
        self.vms.values().map(|e| &e.vm)
    }

    /// The active (not destroyed/failed) VM with this alias, if any.
    pub fn vm_by_alias(&self, alias: &str) -> Option<&Vm> {
        self.vms()
            .find(|v| v.state.is_active() && v.alias.as_deref() == Some(alias))
    }

    /// The full VMAPI JSON of a VM, cached until the VM changes.
    pub fn vm_json(&self, uuid: &str) -> Option<Arc<str>> {
        let e = self.vms.get(uuid)?;
        Some(
            e.json
                .get_or_init(|| Arc::from(e.vm.render().to_json_string()))
                .clone(),
        )
    }

    /// The VM's tags in moray's one-string form (`-k=v-`), cached.
    pub fn vm_tags_encoded(&self, uuid: &str) -> Option<Arc<str>> {
        let e = self.vms.get(uuid)?;
        Some(
            e.tags
                .get_or_init(|| Arc::from(tags::encode(&e.vm.tags)))
                .clone(),
        )
    }

    /// Renders every VM's JSON now, so the first listing after a start is as fast as the rest.
    pub fn warm_caches(&self) {
        for uuid in self.vms.keys() {
            self.vm_json(uuid);
            self.vm_tags_encoded(uuid);
        }
    }

    pub fn insert_vm(&mut self, vm: Vm) {
        self.vms.insert(vm.uuid.clone(), VmEntry::new(vm));
    }

    /// Changes a VM through `f`, refreshing its caches, `last_modified`, and recording a state
    /// change. Returns None if there is no such VM.
    pub fn update_vm<R>(&mut self, uuid: &str, f: impl FnOnce(&mut Vm) -> R) -> Option<R> {
        let entry = self.vms.get_mut(uuid)?;
        let before = entry.vm.state;
        let r = f(&mut entry.vm);
        entry.vm.last_modified = Some(Utc::now());
        entry.json = OnceLock::new();
        entry.tags = OnceLock::new();
        let after = entry.vm.state;
        if before != after {
            let vm = entry.vm.clone();
            self.record_vm_state(&vm, before, after);
        }
        Some(r)
    }

    fn record_vm_state(&mut self, vm: &Vm, from: VmState, to: VmState) {
        let service = self.service_name_of(&vm.uuid).map(str::to_string);
        self.changes.push(Change::VmState {
            vm_uuid: vm.uuid.clone(),
            alias: vm.alias.clone(),
            service,
            server_uuid: vm.server_uuid.clone(),
            ip: vm.primary_ip().map(str::to_string),
            from,
            to,
        });
    }

    /// A free address from `config.provision_ips`: not on a live VM's NIC nor a server.
    pub fn allocate_ip(&self) -> Option<Ipv4Addr> {
        let used: std::collections::HashSet<&str> = self
            .vms
            .values()
            .filter(|e| e.vm.state != VmState::Destroyed)
            .flat_map(|e| e.vm.nics.iter().map(|n| n.ip.as_str()))
            .chain(self.servers.iter().map(|s| s.admin_ip.as_str()))
            .collect();
        self.config
            .provision_ips
            .iter()
            .find(|ip| !used.contains(ip.to_string().as_str()))
    }

    // ----- jobs -----

    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    pub fn job(&self, uuid: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.uuid == uuid)
    }
}
