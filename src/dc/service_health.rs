//! The health of every core instance and service, as `sdcadm check-health`
//! reports it and a little more (ha-core.md §7.4): per instance its VM's
//! state, its server's status, whether binder answers its address, and its
//! `/ping` where Triton checks one; per service how many instances are
//! healthy and whether losing one more would take the service down.
//!
//! Everything is asked at once: SAPI, VMAPI (one list of the instances'
//! VMs), CNAPI and binder's zone first, then every binder member and every
//! ping together, each bounded, so a dead instance costs one timeout, not
//! one per instance.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use url::Url;

use super::binder_dns::{MemberAddresses, Zone, lookup_a_each};
use super::binder_status::{dns_servers, zone};
use super::error::DcError;
use super::http::ApiClient;
use super::query::query;
use super::{Datacenter, Vm};
use crate::api::Api;

/// How long one instance's `/ping` may take.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Services that register outside binder's zone: manatee's record is under
/// `/moray` for its sitter, not a name clients resolve (ha-core.md §5.4).
const NOT_IN_BINDER: [&str; 1] = ["manatee"];

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InstanceHealth {
    pub service: String,
    pub alias: String,
    pub instance: String,
    /// The server's hostname (its uuid when CNAPI does not know it).
    pub server: String,
    pub server_status: String,
    pub vm_state: String,
    pub ip: Option<String>,
    /// `registered`, `not checked`, or which binder members miss it.
    pub binder: String,
    /// `ok`, `not checked` (no `/ping` for this service), or why not.
    pub ping: String,
    pub healthy: bool,
    /// Why it is not healthy, one line each.
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceHealth {
    pub service: String,
    pub healthy: usize,
    pub total: usize,
    /// `2 of 3 healthy`.
    pub summary: String,
    /// Losing one more healthy instance would leave the service down.
    pub at_risk: bool,
    /// What losing one more does, for people.
    pub one_more_loss: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthReport {
    pub healthy: bool,
    pub services: Vec<ServiceHealth>,
    pub instances: Vec<InstanceHealth>,
}

/// One instance as SAPI, VMAPI and CNAPI describe it.
struct Found {
    service: String,
    alias: String,
    instance: String,
    vm: Option<Vm>,
    server: String,
    server_status: String,
    /// What VMAPI or CNAPI could not say, and why.
    unknown: Vec<String>,
}

/// Fails only when SAPI, which lists the instances, cannot be read.
pub async fn check(dc: &Datacenter) -> Result<HealthReport, DcError> {
    let vm_only = query(&[("type", "vm")]);
    let every = Vec::new();
    let (services, instances, servers) = futures::join!(
        dc.sapi.list_services(&vm_only),
        dc.sapi.list_instances(&vm_only),
        dc.cnapi.list_servers(&every),
    );
    // Without SAPI there is nothing to check; without VMAPI or CNAPI the
    // instances are still listed, with what could not be known and why.
    let (services, instances) = (services?, instances?);
    let names: BTreeMap<&str, &str> = services
        .iter()
        .map(|s| (s.uuid.as_str(), s.name.as_str()))
        .collect();
    let uuids: Vec<&str> = instances.iter().map(|i| i.uuid.as_str()).collect();
    let vms = if uuids.is_empty() {
        Ok(Vec::new())
    } else {
        dc.vmapi.list(&query(&[("uuids", &uuids.join(","))])).await
    };
    let mut unknown = Vec::new();
    let vms = vms.unwrap_or_else(|e| {
        unknown.push(format!("VM state unknown: {e}"));
        Vec::new()
    });
    let servers = servers.unwrap_or_else(|e| {
        unknown.push(format!("server status unknown: {e}"));
        Vec::new()
    });
    let mut vms: BTreeMap<String, Vm> = vms.into_iter().map(|v| (v.uuid.clone(), v)).collect();
    let found: Vec<Found> = instances
        .iter()
        .filter_map(|i| {
            let service = names.get(i.service_uuid.as_str())?.to_string();
            let vm = vms.remove(&i.uuid);
            let server_uuid = vm.as_ref().and_then(|v| v.server_uuid.clone());
            let server = server_uuid
                .as_deref()
                .and_then(|u| servers.iter().find(|s| s.uuid == u));
            Some(Found {
                service,
                alias: alias_of(&i.params).unwrap_or_else(|| i.uuid.clone()),
                instance: i.uuid.clone(),
                server: server
                    .map(|s| s.hostname.clone())
                    .or(server_uuid)
                    .unwrap_or_else(|| "?".to_string()),
                server_status: server.map_or("unknown".to_string(), |s| s.status.clone()),
                vm,
                unknown: unknown.clone(),
            })
        })
        .collect();
    let binder = binder_answers(dc, &found).await;
    let pings = futures::future::join_all(found.iter().map(|f| ping(dc, f))).await;
    let mut report: Vec<InstanceHealth> = found
        .into_iter()
        .zip(pings)
        .map(|(f, ping)| judge(f, &binder, ping))
        .collect();
    report.sort_by(|a, b| (&a.service, &a.alias).cmp(&(&b.service, &b.alias)));
    let services = summarise(&report);
    Ok(HealthReport {
        healthy: report.iter().all(|i| i.healthy),
        services,
        instances: report,
    })
}

fn alias_of(params: &serde_json::Map<String, Value>) -> Option<String> {
    params.get("alias")?.as_str().map(str::to_string)
}

/// The primary NIC's address of a VM.
fn ip_of(vm: &Vm) -> Option<String> {
    let nics = vm.extra.get("nics")?.as_array()?;
    let primary = nics
        .iter()
        .find(|n| n.get("primary") == Some(&Value::Bool(true)))
        .or(nics.first())?;
    primary.get("ip")?.as_str().map(str::to_string)
}

/// What binder said of each service: every member's answer, or why
/// binder could not be asked at all.
type BinderAnswers = Result<BTreeMap<String, Vec<MemberAddresses>>, String>;

async fn binder_answers(dc: &Datacenter, found: &[Found]) -> BinderAnswers {
    let (servers, zone): (Vec<SocketAddr>, Zone) =
        futures::try_join!(dns_servers(dc), zone(dc)).map_err(|e| e.to_string())?;
    let services: BTreeSet<&str> = found
        .iter()
        .map(|f| f.service.as_str())
        .filter(|s| !NOT_IN_BINDER.contains(s))
        .collect();
    let asks = services.into_iter().map(|service| {
        let servers = &servers;
        let name = zone.qualify(service);
        async move {
            let answers = match name {
                Ok(name) => lookup_a_each(servers, &name).await,
                Err(why) => vec![MemberAddresses {
                    server: "binder".to_string(),
                    addresses: Vec::new(),
                    error: Some(why),
                }],
            };
            (service.to_string(), answers)
        }
    });
    Ok(futures::future::join_all(asks).await.into_iter().collect())
}

/// `/ping` of the instance itself, for the APIs whose ping Triton checks
/// and the lab answers (sapi, vmapi, cnapi, imgapi); None for the others.
async fn ping(dc: &Datacenter, f: &Found) -> Option<String> {
    let api = Api::ALL.into_iter().find(|a| a.service() == f.service)?;
    let client: &ApiClient = match api {
        Api::Sapi => dc.sapi.client(),
        Api::Vmapi => dc.vmapi.client(),
        Api::Cnapi => dc.cnapi.client(),
        Api::Imgapi => return Some(ping_imgapi(dc, f).await),
    };
    Some(ping_at(client, f).await)
}

/// Without `imgapi_url` there is no IMGAPI client to copy, so no ping.
async fn ping_imgapi(dc: &Datacenter, f: &Found) -> String {
    match dc.imgapi.client() {
        Ok(client) => ping_at(client, f).await,
        Err(_) => "not checked (no imgapi_url)".to_string(),
    }
}

async fn ping_at(client: &ApiClient, f: &Found) -> String {
    let Some(ip) = f.vm.as_ref().and_then(ip_of) else {
        return "not checked (no address known)".to_string();
    };
    // The configured URL keeps its port (a lab not run as root); another
    // instance answers on port 80, as Triton's APIs do.
    let base = if client.base().host_str() == Some(ip.as_str()) {
        client.base().clone()
    } else {
        match Url::parse(&format!("http://{ip}/")) {
            Ok(url) => url,
            Err(e) => return format!("no URL for {ip}: {e}"),
        }
    };
    match super::health::ping(&client.at_instance(base, PING_TIMEOUT)).await {
        Ok(h) if h.ok => "ok".to_string(),
        Ok(h) => h.summary,
        Err(e) => e.to_string(),
    }
}

fn judge(f: Found, binder: &BinderAnswers, ping: Option<String>) -> InstanceHealth {
    let mut problems = f.unknown.clone();
    let vm_state = match &f.vm {
        Some(vm) => vm.state.clone(),
        None if f.unknown.is_empty() => "missing".to_string(),
        None => "unknown".to_string(),
    };
    let ip = f.vm.as_ref().and_then(ip_of);
    if vm_state != "running" && vm_state != "unknown" {
        problems.push(format!("its VM is {vm_state}"));
    }
    if f.server_status != "running" && f.unknown.is_empty() {
        problems.push(format!("server {} is {}", f.server, f.server_status));
    }
    let binder = registered(&f.service, ip.as_deref(), binder);
    if binder != "registered" && !binder.starts_with("not checked") {
        problems.push(binder.clone());
    }
    let ping = ping.unwrap_or_else(|| "not checked".to_string());
    if ping != "ok" && !ping.starts_with("not checked") {
        problems.push(format!("/ping: {ping}"));
    }
    InstanceHealth {
        healthy: problems.is_empty(),
        service: f.service,
        alias: f.alias,
        instance: f.instance,
        server: f.server,
        server_status: f.server_status,
        vm_state,
        ip,
        binder,
        ping,
        problems,
    }
}

/// `registered` when every binder member answers the address.
fn registered(service: &str, ip: Option<&str>, binder: &BinderAnswers) -> String {
    if NOT_IN_BINDER.contains(&service) {
        return "not checked".to_string();
    }
    let answers = match binder {
        Ok(all) => all.get(service).map(Vec::as_slice).unwrap_or_default(),
        Err(why) => return format!("binder not asked: {why}"),
    };
    let Some(ip) = ip else {
        return "not checked (no address known)".to_string();
    };
    let missing: Vec<String> = answers
        .iter()
        .filter(|m| !m.addresses.iter().any(|a| a == ip))
        .map(|m| match &m.error {
            Some(e) => format!("{} ({e})", m.server),
            None => m.server.clone(),
        })
        .collect();
    if answers.is_empty() {
        "no binder member to ask".to_string()
    } else if missing.is_empty() {
        "registered".to_string()
    } else if missing.len() == answers.len() && answers.iter().all(|m| m.error.is_none()) {
        format!("not in binder: no member answers {ip}")
    } else {
        format!("not in binder at {}", missing.join(", "))
    }
}

/// How many healthy instances a service needs to serve: a majority for
/// ZooKeeper, a primary and a sync for manatee, one for the rest.
fn needed(service: &str, total: usize) -> usize {
    match service {
        "binder" | "zookeeper" => total / 2 + 1,
        "manatee" if total >= 2 => 2,
        _ => 1,
    }
}

fn summarise(instances: &[InstanceHealth]) -> Vec<ServiceHealth> {
    let mut by_service: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for i in instances {
        let entry = by_service.entry(&i.service).or_default();
        entry.1 += 1;
        if i.healthy {
            entry.0 += 1;
        }
    }
    by_service
        .into_iter()
        .map(|(service, (healthy, total))| {
            let need = needed(service, total);
            let at_risk = healthy < need + 1;
            let one_more_loss = if healthy < need {
                format!("down already: needs {need} healthy")
            } else if at_risk {
                format!("takes it down (needs {need} healthy)")
            } else {
                format!("survives ({} healthy left, needs {need})", healthy - 1)
            };
            ServiceHealth {
                service: service.to_string(),
                healthy,
                total,
                summary: format!("{healthy} of {total} healthy"),
                at_risk,
                one_more_loss,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(service: &str, healthy: bool) -> InstanceHealth {
        InstanceHealth {
            service: service.to_string(),
            alias: String::new(),
            instance: String::new(),
            server: String::new(),
            server_status: "running".to_string(),
            vm_state: "running".to_string(),
            ip: None,
            binder: "registered".to_string(),
            ping: "ok".to_string(),
            healthy,
            problems: Vec::new(),
        }
    }

    #[test]
    fn a_service_is_at_risk_when_one_more_loss_takes_it_down() {
        let all = [
            instance("papi", true),
            instance("papi", false),
            instance("binder", true),
            instance("binder", true),
            instance("binder", true),
            instance("moray", true),
            instance("moray", true),
            instance("moray", true),
        ];
        let services = summarise(&all);
        let papi = services.iter().find(|s| s.service == "papi").unwrap();
        assert_eq!(papi.summary, "1 of 2 healthy");
        assert!(papi.at_risk);
        let binder = services.iter().find(|s| s.service == "binder").unwrap();
        assert!(!binder.at_risk, "3 of 3, majority 2: {binder:?}");
        assert_eq!(binder.one_more_loss, "survives (2 healthy left, needs 2)");
        let moray = services.iter().find(|s| s.service == "moray").unwrap();
        assert!(!moray.at_risk);
    }

    #[test]
    fn binder_registration_names_the_members_that_miss_it() {
        let answers: BinderAnswers = Ok([(
            "papi".to_string(),
            vec![
                MemberAddresses {
                    server: "10.0.0.1:53".into(),
                    addresses: vec!["10.0.0.9".into()],
                    error: None,
                },
                MemberAddresses {
                    server: "10.0.0.2:53".into(),
                    addresses: Vec::new(),
                    error: Some("silent".into()),
                },
            ],
        )]
        .into());
        assert_eq!(
            registered("papi", Some("10.0.0.9"), &answers),
            "not in binder at 10.0.0.2:53 (silent)"
        );
        assert_eq!(registered("manatee", None, &answers), "not checked");
    }
}
