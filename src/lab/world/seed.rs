//! Building a layout: what labcore calls to put servers, the `sdc` application, core services
//! and their instances into a fresh world.

use std::net::Ipv4Addr;

use chrono::{Duration, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::sapi::{Application, Instance, Service, ServiceKind, payload};
use super::server::{Agent, Server};
use super::vm::VmState;
use super::{World, WorldError};

#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub hostname: String,
    /// Generated when None.
    pub uuid: Option<String>,
    pub admin_ip: Ipv4Addr,
    pub headnode: bool,
    pub setup: bool,
    pub ram_mib: u64,
}

impl ServerSpec {
    /// A set-up, running compute node (or headnode) with 64 GiB of RAM.
    pub fn new(hostname: &str, admin_ip: Ipv4Addr, headnode: bool) -> ServerSpec {
        ServerSpec {
            hostname: hostname.to_string(),
            uuid: None,
            admin_ip,
            headnode,
            setup: true,
            ram_mib: 65536,
        }
    }
}

#[derive(Clone, Debug)]
pub struct ApplicationSpec {
    pub name: String,
    pub uuid: Option<String>,
    pub owner_uuid: String,
    pub params: Map<String, Value>,
    pub metadata: Map<String, Value>,
}

impl ApplicationSpec {
    /// Triton's `sdc` application with the metadata headnode setup puts there (apis.md §1.2):
    /// datacenter_name, dns_domain, ufds_admin_uuid, `<SVC>_SERVICE` names, sapi-url, the
    /// UFDS and rabbitmq credentials, ….
    /// Labcore adds what depends on the layout (binder_admin_ips, ZK_SERVERS, *_admin_ips).
    pub fn sdc(world: &World) -> ApplicationSpec {
        let c = &world.config;
        let mut metadata = Map::new();
        metadata.insert("datacenter_name".into(), json!(c.datacenter_name));
        metadata.insert("dns_domain".into(), json!(c.dns_domain));
        metadata.insert(
            "region_name".into(),
            json!(format!("{}region", c.datacenter_name)),
        );
        metadata.insert("ufds_admin_uuid".into(), json!(c.admin_uuid));
        for svc in [
            "sapi", "vmapi", "cnapi", "workflow", "binder", "moray", "imgapi", "napi", "papi",
            "ufds", "amon", "manatee",
        ] {
            metadata.insert(format!("{svc}_domain"), json!(c.service_domain(svc)));
            metadata.insert(
                format!("{}_SERVICE", svc.to_uppercase()),
                json!(c.service_domain(svc)),
            );
        }
        metadata.insert("manatee_shard".into(), json!("sdc"));
        // The secrets headnode setup generates and a real sdc application
        // carries: UFDS's root and admin passwords and rabbitmq's
        // `login:password:host:port`. Each lab has its own.
        let secret = || Uuid::new_v4().simple().to_string();
        metadata.insert("ufds_ldap_root_pw".into(), json!(secret()));
        metadata.insert("ufds_admin_pw".into(), json!(secret()));
        metadata.insert(
            "rabbitmq".into(),
            json!(format!(
                "rabbit:{}:{}:5672",
                secret(),
                c.service_domain("rabbitmq")
            )),
        );
        metadata.insert(
            "sapi-url".into(),
            json!(format!("http://{}", c.service_domain("sapi"))),
        );
        let params = json!({
            "brand": "joyent-minimal",
            "zfs_storage_pool_name": "zones",
            "owner_uuid": c.admin_uuid,
        });
        ApplicationSpec {
            name: "sdc".to_string(),
            uuid: None,
            owner_uuid: c.admin_uuid.clone(),
            params: params.as_object().cloned().unwrap_or_default(),
            metadata,
        }
    }
}

/// A core-zone package (`sdc_1024`, `sdc_db`, …): name, MiB, GiB, caps and billing id.
#[derive(Clone, Debug, PartialEq)]
pub struct Package {
    pub name: &'static str,
    pub ram_mib: u64,
    pub swap_mib: u64,
    pub quota_gib: u64,
    pub cpu_cap: u64,
    pub zfs_io_priority: u64,
    pub billing_id: &'static str,
}

impl Package {
    pub const SDC_1024: Package = Package {
        name: "sdc_1024",
        ram_mib: 1024,
        swap_mib: 2048,
        quota_gib: 10,
        cpu_cap: 300,
        zfs_io_priority: 10,
        billing_id: "4769a8f9-de51-4c1e-885f-c3920cc68137",
    };
    pub const SDC_DB: Package = Package {
        name: "sdc_db",
        ram_mib: 2048,
        swap_mib: 4096,
        quota_gib: 50,
        cpu_cap: 400,
        zfs_io_priority: 20,
        billing_id: "b2cd4ca7-ad7f-4a98-adeb-7adc9978a875",
    };
    pub const SDC_8192: Package = Package {
        name: "sdc_8192",
        ram_mib: 8192,
        swap_mib: 8192,
        quota_gib: 10,
        cpu_cap: 400,
        zfs_io_priority: 20,
        billing_id: "16425b42-b818-11e2-90d4-87477f18a688",
    };
}

#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub name: String,
    pub uuid: Option<String>,
    pub application_uuid: String,
    pub kind: ServiceKind,
    pub params: Map<String, Value>,
    pub metadata: Map<String, Value>,
}

impl ServiceSpec {
    /// A core VM service the way sdc-headnode defines one: package params, `networks:
    /// ["admin"]`, tags `{smartdc_role, smartdc_type: core}`, a delegated dataset, and
    /// metadata `SERVICE_NAME`/`SERVICE_DOMAIN`.
    pub fn core(
        world: &World,
        name: &str,
        application_uuid: &str,
        image_uuid: &str,
        package: &Package,
    ) -> ServiceSpec {
        let p = json!({
            "archive_on_delete": true,
            "package_name": package.name,
            "image_uuid": image_uuid,
            "maintain_resolvers": true,
            "networks": ["admin"],
            "tags": {"smartdc_role": name, "smartdc_type": "core"},
            "delegate_dataset": true,
            "customer_metadata": {},
            "cpu_shares": package.ram_mib,
            "cpu_cap": package.cpu_cap,
            "zfs_io_priority": package.zfs_io_priority,
            "max_lwps": 1000,
            "max_physical_memory": package.ram_mib,
            "max_locked_memory": package.ram_mib,
            "max_swap": package.swap_mib,
            "quota": package.quota_gib.to_string(),
            "package_version": "1.0.0",
            "billing_id": package.billing_id,
        });
        let m = json!({
            "SERVICE_NAME": name,
            "SERVICE_DOMAIN": world.config.service_domain(name),
            "user-script": "#!/usr/bin/bash\n# lab core zone user-script\n",
        });
        ServiceSpec {
            name: name.to_string(),
            uuid: None,
            application_uuid: application_uuid.to_string(),
            kind: ServiceKind::Vm,
            params: p.as_object().cloned().unwrap_or_default(),
            metadata: m.as_object().cloned().unwrap_or_default(),
        }
    }

    /// An agent service (`cn-agent`, `vm-agent`, …): no VMs, hidden from Accept-Version ~1.
    pub fn agent(name: &str, application_uuid: &str, image_uuid: &str) -> ServiceSpec {
        let p = json!({
            "tags": {"smartdc_role": name, "smartdc_type": "core"},
            "image_uuid": image_uuid,
        });
        let m = json!({"SERVICE_NAME": name});
        ServiceSpec {
            name: name.to_string(),
            uuid: None,
            application_uuid: application_uuid.to_string(),
            kind: ServiceKind::Agent,
            params: p.as_object().cloned().unwrap_or_default(),
            metadata: m.as_object().cloned().unwrap_or_default(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct InstanceSpec {
    /// Service name or uuid.
    pub service: String,
    pub alias: String,
    /// Server hostname or uuid.
    pub server: String,
    /// The instance's own admin IP (labcore allocates these).
    pub ip: Ipv4Addr,
    pub uuid: Option<String>,
    pub running: bool,
}

impl World {
    /// Adds a server record; returns its uuid.
    pub fn add_server(&mut self, spec: ServerSpec) -> Result<String, WorldError> {
        if self.find_server(&spec.hostname).is_some() {
            return Err(WorldError::Duplicate(format!("hostname {}", spec.hostname)));
        }
        let uuid = spec.uuid.unwrap_or_else(|| Uuid::new_v4().to_string());
        let o = u32::from(spec.admin_ip).to_be_bytes();
        let now = Utc::now();
        let agent = |name: &str, version: &str| Agent {
            name: name.to_string(),
            version: version.to_string(),
            image_uuid: Uuid::new_v4().to_string(),
            uuid: Uuid::new_v4().to_string(),
        };
        self.servers.push(Server {
            uuid: uuid.clone(),
            hostname: spec.hostname.clone(),
            headnode: spec.headnode,
            setup: spec.setup,
            running: true,
            admin_ip: spec.admin_ip.to_string(),
            admin_mac: format!("00:50:56:{:02x}:{:02x}:{:02x}", o[1], o[2], o[3]),
            ram_mib: spec.ram_mib,
            cpu_total_cores: 16,
            disk_gib: 1612,
            serial_number: format!("LAB{:03}{:03}", o[2], o[3]),
            created: now - Duration::days(30),
            last_boot: now - Duration::hours(1),
            platform: self.config.platform.clone(),
            datacenter: self.config.datacenter_name.clone(),
            reserved: false,
            reservoir: false,
            rack_identifier: String::new(),
            comments: String::new(),
            traits: Map::new(),
            agents: vec![
                agent("cn-agent", "2.15.1"),
                agent("vm-agent", "1.13.0"),
                agent("net-agent", "2.2.0"),
                agent("config-agent", "1.10.0"),
            ],
            last_heartbeat: Some(now),
        });
        Ok(uuid)
    }

    /// Adds an application; returns its uuid.
    pub fn add_application(&mut self, spec: ApplicationSpec) -> Result<String, WorldError> {
        let uuid = spec.uuid.unwrap_or_else(|| Uuid::new_v4().to_string());
        if self.application(&uuid).is_some() {
            return Err(WorldError::Duplicate(format!("application uuid {uuid}")));
        }
        self.applications.push(Application {
            uuid: uuid.clone(),
            name: spec.name,
            owner_uuid: spec.owner_uuid,
            params: spec.params,
            metadata: spec.metadata,
            manifests: Map::new(),
            extra: Map::new(),
        });
        Ok(uuid)
    }

    /// Adds a service; returns its uuid.
    pub fn add_service(&mut self, spec: ServiceSpec) -> Result<String, WorldError> {
        if self.application(&spec.application_uuid).is_none() {
            return Err(WorldError::NoApplication(spec.application_uuid));
        }
        if self.service_by_name(&spec.name).is_some() {
            return Err(WorldError::Duplicate(format!("service name {}", spec.name)));
        }
        let uuid = spec.uuid.unwrap_or_else(|| Uuid::new_v4().to_string());
        self.services.push(Service {
            uuid: uuid.clone(),
            name: spec.name,
            application_uuid: spec.application_uuid,
            params: spec.params,
            metadata: spec.metadata,
            manifests: Map::new(),
            master: None,
            kind: spec.kind,
        });
        Ok(uuid)
    }

    /// Adds a SAPI instance and its VM (running or stopped) on a server; returns the uuid.
    ///
    /// The VM is built from the instance's provision payload (apis.md §2.3), as if SAPI had
    /// provisioned it, with one admin NIC carrying `spec.ip`.
    pub fn add_instance(&mut self, spec: InstanceSpec) -> Result<String, WorldError> {
        let svc = self
            .services
            .iter()
            .find(|s| s.uuid == spec.service || s.name == spec.service)
            .cloned()
            .ok_or_else(|| WorldError::NoService(spec.service.clone()))?;
        let app = self
            .application(&svc.application_uuid)
            .cloned()
            .ok_or_else(|| WorldError::NoApplication(svc.application_uuid.clone()))?;
        let server_uuid = self
            .find_server(&spec.server)
            .map(|s| s.uuid.clone())
            .ok_or_else(|| WorldError::NoServer(spec.server.clone()))?;
        if self.vm_by_alias(&spec.alias).is_some() {
            return Err(WorldError::Duplicate(format!("alias {}", spec.alias)));
        }
        let uuid = spec.uuid.unwrap_or_else(|| Uuid::new_v4().to_string());
        let mut params = Map::new();
        params.insert("alias".into(), json!(spec.alias));
        params.insert("server_uuid".into(), json!(server_uuid));
        let inst = Instance {
            uuid: uuid.clone(),
            service_uuid: svc.uuid.clone(),
            params,
            metadata: Map::new(),
            manifests: None,
            master: None,
            kind: svc.kind,
        };
        let body = payload(&app, &svc, &inst);
        self.insert_instance(inst);
        if svc.kind == ServiceKind::Vm {
            let state = if spec.running {
                VmState::Running
            } else {
                VmState::Stopped
            };
            let mut vm = self.new_vm(&body, &server_uuid, Some(spec.ip), state);
            vm.autoboot = Some(spec.running);
            self.insert_vm(vm.clone());
            self.record_vm_state(&vm, VmState::Provisioning, state);
        }
        Ok(uuid)
    }
}
