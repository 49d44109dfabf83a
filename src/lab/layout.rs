//! The datacenters a new lab is seeded with (`--profile ha|fresh`).
//!
//! Both have the same servers: a headnode, three compute nodes and one
//! spare that is not set up yet. `fresh` is a datacenter right after
//! headnode setup: one instance of every core service, on the headnode.
//! `ha` is the layout the HA procedures (sdcadm post-setup ha-binder,
//! ha-manatee, create moray) leave behind: binder, manatee and moray with
//! three instances each, on the headnode and the first two compute nodes.

use std::net::Ipv4Addr;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::lab::address_block::AddressBlock;
use crate::lab::settings::{LabSettings, Profile};
use crate::lab::world::{
    ApplicationSpec, CustomerVms, InstanceSpec, IpRange, Package, ServerSpec, ServiceSpec, World,
    WorldConfig, WorldError,
};

pub const HEADNODE: &str = "headnode";
/// Set-up compute nodes; the HA services use the first two.
pub const COMPUTE_NODES: [&str; 3] = ["cn1", "cn2", "cn3"];
/// Booted but never set up: where a replacement instance would go.
pub const SPARE: &str = "cn4";

/// Services with three instances in the HA layout.
const HA_SERVICES: [&str; 3] = ["binder", "manatee", "moray"];

/// Triton's core services (sdc-headnode's list), each a VM service.
const CORE_SERVICES: [&str; 21] = [
    "adminui",
    "amon",
    "amonredis",
    "assets",
    "binder",
    "cloudapi",
    "cnapi",
    "dhcpd",
    "fwapi",
    "imgapi",
    "mahi",
    "manatee",
    "moray",
    "napi",
    "papi",
    "rabbitmq",
    "sapi",
    "sdc",
    "ufds",
    "vmapi",
    "workflow",
];

/// Agent services: SAPI lists them (with `Accept-Version: ~2`); no VMs.
const AGENT_SERVICES: [&str; 4] = ["cn-agent", "vm-agent", "net-agent", "config-agent"];

/// Where addresses go inside the lab's 127.A.0.0/16: servers first, then
/// core instances, then what the twins hand out at runtime, then customers.
mod addresses {
    pub const FIRST_SERVER: u32 = 1;
    pub const FIRST_INSTANCE: u32 = 20;
    /// Host numbers (see `AddressBlock::host`) of the provisioning range.
    pub const PROVISION_FIRST: u32 = 255;
    pub const PROVISION_LAST: u32 = 254 * 8;
    /// Third octet of the first customer VM address; customers run nothing,
    /// so their addresses are never bound.
    pub const CUSTOMER_ROW: u8 = 64;
}

/// The most customer VMs `lab up --vms` seeds: one address each from
/// 127.A.64.1 to the end of the lab's block. More would spill into the next
/// lab's block and, long before u32::MAX, exhaust the daemon's memory.
pub const MAX_CUSTOMER_VMS: u32 = (256 - addresses::CUSTOMER_ROW as u32) * 256 - 1;

pub fn seed(settings: &LabSettings, block: AddressBlock) -> Result<World, WorldError> {
    let config = WorldConfig {
        provision_ips: IpRange {
            first: block.host(addresses::PROVISION_FIRST),
            last: block.host(addresses::PROVISION_LAST),
        },
        job_duration_ms: settings.provision_delay_ms,
        ..WorldConfig::default()
    };
    let mut world = World::new(config);
    let servers = std::iter::once(HEADNODE)
        .chain(COMPUTE_NODES)
        .chain([SPARE]);
    for (n, hostname) in (addresses::FIRST_SERVER..).zip(servers) {
        let mut spec = ServerSpec::new(hostname, block.host(n), hostname == HEADNODE);
        spec.setup = hostname != SPARE;
        world.add_server(spec)?;
    }

    let placements = placements(settings.profile);
    let ips: Vec<Ipv4Addr> = (addresses::FIRST_INSTANCE..)
        .take(placements.len())
        .map(|n| block.host(n))
        .collect();

    let mut app = ApplicationSpec::sdc(&world);
    add_layout_metadata(&mut app, &placements, &ips, &world);
    let app_uuid = world.add_application(app)?;

    for name in CORE_SERVICES {
        let package = match name {
            "manatee" => &Package::SDC_DB,
            "moray" | "ufds" => &Package::SDC_8192,
            _ => &Package::SDC_1024,
        };
        let image = Uuid::new_v4().to_string();
        world.add_service(ServiceSpec::core(&world, name, &app_uuid, &image, package))?;
    }
    for name in AGENT_SERVICES {
        let image = Uuid::new_v4().to_string();
        world.add_service(ServiceSpec::agent(name, &app_uuid, &image))?;
    }
    for (placement, ip) in placements.iter().zip(&ips) {
        let uuid = world.add_instance(InstanceSpec {
            service: placement.service.to_string(),
            alias: placement.alias(),
            server: placement.server.to_string(),
            ip: *ip,
            uuid: None,
            running: true,
        })?;
        // Each binder's myid, as ha-binder sets it (= its `num` in ZK_SERVERS).
        if placement.service == "binder"
            && let Some(instance) = world.instance_mut(&uuid)
        {
            instance
                .metadata
                .insert("ZK_ID".into(), Value::from(placement.number + 1));
        }
        // A lone manatee runs in one-node-write mode, as headnode setup
        // leaves it; ha-manatee deletes the key (ha-core.md §2.9, §7.2).
        if placement.service == "manatee"
            && settings.profile == Profile::Fresh
            && let Some(instance) = world.instance_mut(&uuid)
        {
            instance
                .metadata
                .insert("ONE_NODE_WRITE_MODE".into(), Value::Bool(true));
        }
    }

    if settings.vms > 0 {
        let mut customers = CustomerVms::new(settings.vms as usize);
        customers.first_ip = Ipv4Addr::new(127, block.a, addresses::CUSTOMER_ROW, 1);
        world.add_customer_vms(&customers);
    }
    // Seeding is not news: nothing has to react to it.
    world.take_changes();
    Ok(world)
}

/// One instance to create: `<service><number>` on `server`.
pub struct Placement {
    pub service: &'static str,
    pub number: usize,
    pub server: &'static str,
}

impl Placement {
    pub fn alias(&self) -> String {
        format!("{}{}", self.service, self.number)
    }
}

pub fn placements(profile: Profile) -> Vec<Placement> {
    let mut out = Vec::new();
    for service in CORE_SERVICES {
        let servers: &[&'static str] = match profile {
            Profile::Ha if HA_SERVICES.contains(&service) => {
                &[HEADNODE, COMPUTE_NODES[0], COMPUTE_NODES[1]]
            }
            _ => &[HEADNODE],
        };
        for (number, server) in servers.iter().enumerate() {
            out.push(Placement {
                service,
                number,
                server,
            });
        }
    }
    out
}

/// What headnode setup and the HA procedures record in the `sdc`
/// application about the layout: the admin IPs of each service and the
/// ZooKeeper ensemble (apis.md §1.2).
fn add_layout_metadata(
    app: &mut ApplicationSpec,
    placements: &[Placement],
    ips: &[Ipv4Addr],
    world: &World,
) {
    let ips_of = |service: &str| -> Vec<String> {
        placements
            .iter()
            .zip(ips)
            .filter(|(p, _)| p.service == service)
            .map(|(_, ip)| ip.to_string())
            .collect()
    };
    for service in CORE_SERVICES {
        app.metadata.insert(
            format!("{service}_admin_ips"),
            Value::from(ips_of(service).join(",")),
        );
    }
    let binders = ips_of("binder");
    let zk_servers: Vec<Value> = binders
        .iter()
        .enumerate()
        .map(|(i, ip)| json!({"host": ip, "port": 2181, "num": i + 1, "last": i + 1 == binders.len()}))
        .collect();
    app.metadata
        .insert("ZK_SERVERS".into(), Value::from(zk_servers));
    app.metadata
        .insert("binder_admin_ips".into(), Value::from(binders.join(",")));
    if let Some(headnode) = world.servers().iter().find(|s| s.headnode) {
        app.metadata
            .insert("admin_ip".into(), Value::from(headnode.admin_ip.clone()));
    }
    if let Some(assets) = ips_of("assets").first() {
        app.metadata
            .insert("assets_admin_ip".into(), Value::from(assets.clone()));
        app.metadata
            .insert("assets-ip".into(), Value::from(assets.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ha_has_three_of_binder_manatee_moray_on_headnode_and_two_cns() {
        let ha = placements(Profile::Ha);
        for service in HA_SERVICES {
            let here: Vec<_> = ha.iter().filter(|p| p.service == service).collect();
            assert_eq!(here.len(), 3, "{service}");
            assert_eq!(here[0].server, HEADNODE);
            assert_eq!(here[2].alias(), format!("{service}2"));
            assert_eq!(here[2].server, "cn2");
        }
        let sapi: Vec<_> = ha.iter().filter(|p| p.service == "sapi").collect();
        assert_eq!(sapi.len(), 1);
        assert_eq!(sapi[0].alias(), "sapi0");
    }

    #[test]
    fn each_binder_has_the_zk_id_of_its_zk_servers_entry() {
        let settings = LabSettings::from_request(&crate::lab::settings::NewLab::default());
        let world = seed(&settings, AddressBlock { a: 9 }).expect("seeds");
        let app = world.application_by_name("sdc").expect("sdc");
        let servers = app.metadata["ZK_SERVERS"].as_array().expect("a list");
        assert_eq!(servers.len(), 3);
        for entry in servers {
            let host = entry["host"].as_str().expect("host");
            let vm = world
                .vms()
                .find(|v| v.primary_ip() == Some(host))
                .expect("a binder VM");
            let instance = world.instance(&vm.uuid).expect("instance");
            assert_eq!(instance.metadata["ZK_ID"], entry["num"]);
            assert_eq!(entry["port"], 2181);
        }
    }

    #[test]
    fn fresh_has_one_instance_per_core_service() {
        let fresh = placements(Profile::Fresh);
        assert_eq!(fresh.len(), CORE_SERVICES.len());
        assert!(fresh.iter().all(|p| p.server == HEADNODE && p.number == 0));
    }
}
