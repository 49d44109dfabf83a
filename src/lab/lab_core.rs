//! The running lab: the datacenter model, the processes behind its
//! instances, and the files that publish and keep them.

mod zone;

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{Mutex, Notify};

use crate::api::{Api, ApiUrls};
use crate::lab::address_block::AddressBlock;
use crate::lab::api_listener::ApiListener;
use crate::lab::binder::dns_process::{BinderDnsProcess, DnsAddresses};
use crate::lab::binder::registrar::{RegistrarProcess, registering_aliases};
use crate::lab::control_protocol::FaultKind;
use crate::lab::error::LabError;
use crate::lab::lab_dir::{LabDir, write_private};
use crate::lab::layout;
use crate::lab::manatee::peer_process::{ManateePeerProcess, manatee_aliases};
use crate::lab::mutation_watch;
use crate::lab::processes::Processes;
use crate::lab::request_log::RequestLog;
use crate::lab::settings::LabSettings;
use crate::lab::status::{LabInstance, LabStatus};
use crate::lab::twin::{self, Twin};
use crate::lab::world::{SharedWorld, VmState, World, WorldError};
use crate::lab::zone_command::ZoneRequest;
use crate::lab::zookeeper_process::{self, ZookeeperProcess};

/// A 3-member ensemble elects a leader in about 4 s; a loaded machine
/// starting three JVMs at once needs more.
const HEALTHY_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// An API the lab serves ([`Api::ALL`]), on the admin IP of its first
/// instance.
struct ApiEndpoint {
    api: Api,
    alias: String,
    ip: Ipv4Addr,
}

pub struct LabCore {
    dir: LabDir,
    world: SharedWorld,
    apis: Vec<ApiEndpoint>,
    processes: Mutex<Processes>,
    settings: std::sync::Mutex<LabSettings>,
    /// One save at a time, so an older world never overwrites a newer one.
    saving: Mutex<()>,
    /// Poked after every request that may have changed the world.
    requests_changed: Arc<Notify>,
    stopping: AtomicBool,
    /// Each running binder member's DNS address.
    dns: DnsAddresses,
    /// `(alias, role)` of the services disabled with `svcadm disable`: they
    /// stay stopped while their instance runs.
    disabled: std::sync::Mutex<BTreeSet<(String, String)>>,
    /// The manatee peers stalled with `lab fault stall`.
    stalled: std::sync::Mutex<BTreeSet<String>>,
}

impl LabCore {
    /// Loads the lab's world (or seeds a new one), then starts what should run.
    /// `report` hears what it waits for, whenever that changes.
    pub async fn open(
        dir: LabDir,
        settings: LabSettings,
        block: AddressBlock,
        moved_from: Option<AddressBlock>,
        report: fn(&str),
    ) -> Result<Arc<LabCore>, LabError> {
        let mut world = load_or_seed(&dir, &settings, block, moved_from)?;
        world.config.job_duration_ms = settings.provision_delay_ms;
        world.catalog_images(chrono::Utc::now());
        let world = SharedWorld::new(world);
        let log = RequestLog::open(&dir.request_log())?;
        let requests_changed = Arc::new(Notify::new());

        // `x-server-name` is the serving zone's uuid, as on the real thing.
        let mut twin = Twin::new(world.clone());
        let (zone_commands, mut zone_requests) = tokio::sync::mpsc::channel::<ZoneRequest>(16);
        twin.zone_commands = Some(zone_commands);
        let mut apis = Vec::new();
        for api in Api::ALL {
            let service = api.service();
            let (alias, ip, uuid) = api_instance(&world, service).ok_or_else(|| {
                LabError::Other(format!(
                    "the lab's world has no {service} instance with an admin IP (move {} away to start a fresh lab)",
                    dir.world_file().display()
                ))
            })?;
            twin.zones.insert(api, uuid);
            apis.push(ApiEndpoint { api, alias, ip });
        }
        let mut processes = Processes::default();
        for endpoint in &apis {
            let (api, alias, ip) = (endpoint.api, endpoint.alias.clone(), endpoint.ip);
            let router = twin::router(api, twin.clone());
            let router = mutation_watch::wrap(router, requests_changed.clone());
            let router = log.wrap(api.service(), router);
            let port = settings.ports.get(&alias).copied();
            processes.add(Box::new(ApiListener::new(&alias, ip, port, router)));
        }

        let core = Arc::new(LabCore {
            dir,
            world,
            apis,
            processes: Mutex::new(processes),
            settings: std::sync::Mutex::new(settings),
            saving: Mutex::new(()),
            requests_changed,
            stopping: AtomicBool::new(false),
            dns: DnsAddresses::default(),
            disabled: Default::default(),
            stalled: Default::default(),
        });
        // Each zone command runs on its own, as in separate zones: a
        // rebuild that waits for a session to expire holds up no other.
        // The task ends with the core.
        let weak = Arc::downgrade(&core);
        tokio::spawn(async move {
            while let Some((command, answer)) = zone_requests.recv().await {
                let Some(core) = weak.upgrade() else { break };
                tokio::spawn(async move {
                    let _ = answer.send(core.zone_command(command).await);
                });
            }
        });
        report("starting the instances' processes");
        let failures = core.reconcile().await;
        if let Some(first) = failures.first() {
            core.processes.lock().await.stop_all(report).await;
            return Err(LabError::Other(first.clone()));
        }
        if let Err(sick) = core.wait_healthy(report).await {
            core.processes.lock().await.stop_all(report).await;
            return Err(LabError::Other(sick));
        }
        Ok(core)
    }

    /// Waits until every process that should run answers (ZooKeeper: serves
    /// requests, which needs its quorum); the first complaint if not in time.
    /// `report` hears the first complaint each time it changes.
    async fn wait_healthy(&self, report: fn(&str)) -> Result<(), String> {
        let started = std::time::Instant::now();
        let mut reported = String::new();
        loop {
            let sick = {
                let processes = self.processes.lock().await;
                processes
                    .unhealthy(|alias, role| self.should_run(alias, role))
                    .await
            };
            match sick.into_iter().next() {
                None => return Ok(()),
                Some(first) if started.elapsed() > HEALTHY_WITHIN => return Err(first),
                Some(first) => {
                    if first != reported {
                        report(&format!("waiting for {first}"));
                        reported = first;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
    }

    pub fn world(&self) -> &SharedWorld {
        &self.world
    }

    /// Wakes after a request that may have changed the world.
    pub fn requests_changed(&self) -> Arc<Notify> {
        self.requests_changed.clone()
    }

    /// Starts and stops processes to match the world; returns what failed.
    pub async fn reconcile(&self) -> Vec<String> {
        let mut processes = self.processes.lock().await;
        // A binder provisioned through SAPI gets its ZooKeeper like the seeded ones.
        for alias in binder_aliases(&self.world) {
            if !processes.has(&alias, zookeeper_process::ROLE) {
                processes.add(Box::new(ZookeeperProcess::new(
                    &alias,
                    self.world.clone(),
                    &self.dir,
                )));
                processes.add(Box::new(BinderDnsProcess::new(
                    &alias,
                    self.world.clone(),
                    self.dns.clone(),
                )));
            }
        }
        // Every manatee instance, seeded or provisioned, runs a peer.
        for alias in self.world.with(|w| manatee_aliases(w)) {
            if !processes.has(&alias, "manatee-sitter") {
                processes.add(Box::new(ManateePeerProcess::new(
                    &alias,
                    self.world.clone(),
                    &self.dir,
                )));
            }
        }
        // Every instance registers, as registrar does in its zone.
        for alias in self.world.with(|w| registering_aliases(w)) {
            if !processes.has(&alias, "registrar") {
                processes.add(Box::new(RegistrarProcess::new(&alias, self.world.clone())));
            }
        }
        self.forget_gone_zones();
        let failures = processes
            .reconcile(|alias, role| self.should_run(alias, role))
            .await;
        let ports = processes.ports();
        drop(processes);
        if let Ok(mut settings) = self.settings.lock() {
            settings.ports.extend(ports);
        }
        failures
    }

    /// A destroyed zone takes its SMF state with it: a new zone with the
    /// same alias (sdcadm's `<alias>tmp` made again) starts with every
    /// service enabled.
    fn forget_gone_zones(&self) {
        let live: BTreeSet<String> = self.world.with(|w| {
            w.vms()
                .filter(|vm| vm.state.is_active())
                .filter_map(|vm| vm.alias.clone())
                .collect()
        });
        if let Ok(mut disabled) = self.disabled.lock() {
            disabled.retain(|(alias, _)| live.contains(alias));
        }
    }

    /// A process runs when its instance's VM runs, its server is up, and
    /// nobody disabled it with svcadm.
    fn should_run(&self, alias: &str, role: &str) -> bool {
        let disabled = self
            .disabled
            .lock()
            .map(|d| d.contains(&(alias.to_string(), role.to_string())))
            .unwrap_or(false);
        !disabled && self.instance_runs(alias)
    }

    /// An instance runs when its VM runs and its server is up.
    fn instance_runs(&self, alias: &str) -> bool {
        self.world.with(|w| {
            w.vm_by_alias(alias).is_some_and(|vm| {
                vm.state == VmState::Running
                    && vm
                        .server_uuid
                        .as_deref()
                        .and_then(|uuid| w.server(uuid))
                        .is_some_and(|server| server.running)
            })
        })
    }

    pub async fn status(&self) -> LabStatus {
        let processes = self.processes.lock().await;
        let urls = self
            .apis
            .iter()
            .map(|endpoint| {
                let url = match processes.port(&endpoint.alias) {
                    Some(80) | None => format!("http://{}", endpoint.ip),
                    Some(port) => format!("http://{}:{port}", endpoint.ip),
                };
                (endpoint.api, url)
            })
            .collect();
        drop(processes);
        let mut status = self.world.with(|w| LabStatus {
            urls: ApiUrls(urls),
            datacenter_name: w.config.datacenter_name.clone(),
            dns_domain: w.config.dns_domain.clone(),
            zk: zookeeper_process::ensemble(w),
            dns: None,
            instances: instances(w),
        });
        let dns = self.dns.lock().map(|d| d.clone()).unwrap_or_default();
        let stalled = self.stalled.lock().map(|s| s.clone()).unwrap_or_default();
        for instance in &mut status.instances {
            instance.dns = dns.get(&instance.alias).map(|a| a.to_string());
            if stalled.contains(&instance.alias) {
                instance.fault = Some("stalled".into());
            }
        }
        // binder0's, or the first member's that runs.
        status.dns = status
            .instances
            .iter()
            .filter(|i| i.service == "binder")
            .find_map(|i| i.dns.clone());
        zookeeper_process::add_modes(&mut status.instances).await;
        status
    }

    /// Applies a fault and brings the processes in line; the answer (or the
    /// refusal) is one line for the operator.
    pub async fn fault(&self, kind: FaultKind, target: &str) -> Result<String, String> {
        let message = match kind {
            FaultKind::ServerDown | FaultKind::ServerUp => {
                let up = kind == FaultKind::ServerUp;
                let known = self.world.with(|w| w.find_server(target).is_some());
                if !known {
                    return Err(format!(
                        "no server named {target} (lab status lists the servers of its instances; CNAPI lists all)"
                    ));
                }
                self.world
                    .with(|w| w.set_server_running(target, up))
                    .map_err(|e| e.to_string())?;
                if !up {
                    self.power_off(target).await;
                }
                if up {
                    format!(
                        "server {target} is up: CNAPI reports it running and its instances start"
                    )
                } else {
                    self.world.with(|w| down_message(w, target))
                }
            }
            FaultKind::Stop | FaultKind::Start => {
                let running = kind == FaultKind::Start;
                let known = self
                    .world
                    .with(|w| w.instances().iter().any(|i| i.alias() == Some(target)));
                if !known {
                    return Err(format!(
                        "no instance named {target} (lab status lists them)"
                    ));
                }
                let was_stalled = running && self.set_stalled(target, false).await?;
                self.world
                    .with(|w| w.set_vm_running(target, running))
                    .map_err(|e| e.to_string())?;
                match (running, was_stalled) {
                    (true, true) => format!(
                        "{target} replicates to its downstream again; its stopped walsenders continue"
                    ),
                    (true, false) => format!("instance {target} started"),
                    (false, _) => format!("instance {target} stopped"),
                }
            }
            FaultKind::Stall => {
                let is_manatee = self
                    .world
                    .with(|w| manatee_aliases(w).iter().any(|a| a == target));
                if !is_manatee {
                    return Err(format!(
                        "no manatee instance named {target}: only a manatee peer stalls (lab status lists them)"
                    ));
                }
                if !self.instance_runs(target) {
                    return Err(format!(
                        "{target} is not running: a stall needs its PostgreSQL up (lab fault start {target} first)"
                    ));
                }
                self.set_stalled(target, true).await?;
                format!(
                    "{target} stalled: its PostgreSQL and sitter answer, ZooKeeper keeps its role, but it sends its downstream nothing until `lab fault start {target}`"
                )
            }
        };
        let failures = self.reconcile().await;
        self.save().await.map_err(|e| e.to_string())?;
        match failures.first() {
            Some(failure) => Err(format!("{message}, but {failure}")),
            None => Ok(message),
        }
    }

    /// Sets or lifts the stall of a manatee peer; true when that changed it.
    async fn set_stalled(&self, alias: &str, on: bool) -> Result<bool, String> {
        let changed = match self.stalled.lock() {
            Ok(mut stalled) if on => stalled.insert(alias.to_string()),
            Ok(mut stalled) => stalled.remove(alias),
            Err(_) => return Err("the lab's list of stalled peers is unreadable".into()),
        };
        if changed {
            let mut processes = self.processes.lock().await;
            processes
                .stall(alias, on)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(changed)
    }

    /// A server going down is a power loss for what runs on it: its
    /// processes are killed, all at once, not stopped in order.
    async fn power_off(&self, server: &str) {
        let on_server: Vec<String> = self.world.with(|w| {
            let Some(uuid) = w.find_server(server).map(|s| s.uuid.clone()) else {
                return Vec::new();
            };
            w.vms_on_server(&uuid)
                .iter()
                .filter_map(|vm| vm.alias.clone())
                .collect()
        });
        let mut processes = self.processes.lock().await;
        processes
            .power_off(|alias| on_server.iter().any(|a| a == alias))
            .await;
    }

    /// Writes the world, the settings and the published status. Called on
    /// every change (debounced) and on the way down.
    pub async fn save(&self) -> Result<(), LabError> {
        let _one_at_a_time = self.saving.lock().await;
        let status = self.status().await;
        let world = self
            .world
            .with(|w| w.to_json())
            .map_err(|e| LabError::Other(e.to_string()))?;
        let settings = self
            .settings
            .lock()
            .map(|s| s.clone())
            .map_err(|_| LabError::Other("the lab settings are unreadable".into()))?;
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || {
            write_private(&dir.world_file(), world.as_bytes())?;
            dir.write_json(&dir.settings_file(), &settings)?;
            dir.write_json(&dir.status_file(), &status)
        })
        .await
        .map_err(|e| LabError::Other(format!("saving the lab was interrupted: {e}")))?
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Stops every process and saves; `report` hears each step.
    pub async fn shutdown(&self, report: fn(&str)) -> Result<(), LabError> {
        self.stopping.store(true, Ordering::SeqCst);
        self.processes.lock().await.stop_all(report).await;
        report("saving the datacenter");
        self.save().await
    }
}

fn load_or_seed(
    dir: &LabDir,
    settings: &LabSettings,
    block: AddressBlock,
    moved_from: Option<AddressBlock>,
) -> Result<World, LabError> {
    let path = dir.world_file();
    let bad = |message: String| LabError::BadFile {
        path: path.clone(),
        message,
    };
    match std::fs::read_to_string(&path) {
        Ok(mut text) => {
            if let Some(old) = moved_from {
                text = move_addresses(&text, old, block);
            }
            World::from_json(&text).map_err(|e| match e {
                WorldError::Persist(why) => bad(why),
                other => bad(other.to_string()),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            layout::seed(settings, block).map_err(|e| LabError::Other(e.to_string()))
        }
        Err(e) => Err(LabError::io("read", &path, e)),
    }
}

/// Rewrites every 127.OLD.y.z in the saved world to 127.NEW.y.z: the lab's
/// block was taken by another lab while this one was down.
fn move_addresses(text: &str, old: AddressBlock, new: AddressBlock) -> String {
    let from = format!("127.{}.", old.a);
    let to = format!("127.{}.", new.a);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&from) {
        let preceded_by_digit = rest[..at]
            .chars()
            .next_back()
            .or_else(|| out.chars().next_back())
            .is_some_and(|c| c.is_ascii_digit() || c == '.');
        out.push_str(&rest[..at]);
        out.push_str(if preceded_by_digit { &from } else { &to });
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

/// The alias, admin IP and uuid of the instance that serves `service`:
/// `<svc>0` if it exists, else the first instance with an IP.
fn api_instance(world: &SharedWorld, service: &str) -> Option<(String, Ipv4Addr, String)> {
    world.with(|w| {
        let mut candidates: Vec<(String, Ipv4Addr, String)> = w
            .instances()
            .iter()
            .filter(|i| w.service_name_of(&i.uuid) == Some(service))
            .filter_map(|i| {
                let alias = i.alias()?.to_string();
                let ip = w.vm_by_alias(&alias)?.primary_ip()?.parse().ok()?;
                Some((alias, ip, i.uuid.clone()))
            })
            .collect();
        candidates.sort();
        let first = format!("{service}0");
        candidates
            .iter()
            .find(|(alias, _, _)| *alias == first)
            .or(candidates.first())
            .cloned()
    })
}

/// The active binder instances: each runs a ZooKeeper server.
fn binder_aliases(world: &SharedWorld) -> Vec<String> {
    world.with(|w| {
        w.instances()
            .iter()
            .filter(|i| w.service_name_of(&i.uuid) == Some("binder"))
            .filter_map(|i| i.alias())
            .filter(|alias| w.vm_by_alias(alias).is_some())
            .map(str::to_string)
            .collect()
    })
}

fn instances(w: &World) -> Vec<LabInstance> {
    w.instances()
        .iter()
        .filter_map(|i| {
            let alias = i.alias()?;
            let vm = w.vm_by_alias(alias)?;
            let server = vm
                .server_uuid
                .as_deref()
                .and_then(|uuid| w.server(uuid))
                .map(|s| s.hostname.clone())
                .unwrap_or_default();
            Some(LabInstance {
                alias: alias.to_string(),
                service: w.service_name_of(&i.uuid).unwrap_or_default().to_string(),
                server,
                ip: vm.primary_ip().unwrap_or_default().to_string(),
                state: vm.state.as_str().to_string(),
                zk_mode: None,
                dns: None,
                fault: None,
            })
        })
        .collect()
}

/// What a server going down does. When APIs run on it (the headnode, in a
/// lab that is not HA) they stop answering with it: CNAPI cannot report
/// the server unknown if CNAPI itself is gone.
fn down_message(world: &World, target: &str) -> String {
    let apis: Vec<String> = world
        .find_server(target)
        .map(|s| world.vms_on_server(&s.uuid))
        .unwrap_or_default()
        .iter()
        .filter_map(|vm| vm.alias.as_deref())
        .filter_map(|alias| {
            let service = alias.trim_end_matches(|c: char| c.is_ascii_digit());
            ["sapi", "vmapi", "cnapi"]
                .contains(&service)
                .then(|| alias.to_string())
        })
        .collect();
    let cnapi_left = world.instances().iter().any(|i| {
        i.alias()
            .is_some_and(|a| a.starts_with("cnapi") && !apis.iter().any(|down| down == a))
    });
    match (apis.is_empty(), cnapi_left) {
        (true, _) => format!(
            "server {target} is down: CNAPI reports it unknown and its instances are stopped"
        ),
        (false, true) => format!(
            "server {target} is down: its instances are stopped, and {} on it stop answering; CNAPI reports it unknown",
            apis.join(", ")
        ),
        (false, false) => format!(
            "server {target} is down: its instances are stopped, and every API on it stops answering ({}), so nothing reports the server until it is back",
            apis.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_addresses_rewrites_only_whole_addresses() {
        let text = r#"{"ip":"127.5.0.20","ips":"127.5.0.21,127.5.0.22","other":"10.127.5.1"}"#;
        let moved = move_addresses(text, AddressBlock { a: 5 }, AddressBlock { a: 9 });
        assert_eq!(
            moved,
            r#"{"ip":"127.9.0.20","ips":"127.9.0.21,127.9.0.22","other":"10.127.5.1"}"#
        );
    }
}
