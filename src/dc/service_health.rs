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
    /// Known healthy: nothing wrong was found and nothing went unchecked.
    pub healthy: bool,
    /// `healthy`, `unhealthy` (a problem was found) or `unknown` (no
    /// problem was found, but something could not be checked).
    pub verdict: Verdict,
    /// Why it is not healthy, one line each.
    pub problems: Vec<String>,
    /// What could not be known of it, because of whom (`VM state (VMAPI)`).
    pub unknown: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Healthy,
    Unhealthy,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceHealth {
    pub service: String,
    pub healthy: usize,
    /// Instances that could not be judged (see the report's causes).
    pub unknown: usize,
    pub total: usize,
    /// `2 of 3 healthy`, `1 of 3 healthy, 2 unknown`.
    pub summary: String,
    /// Losing one more healthy instance would leave the service down.
    pub at_risk: bool,
    /// What losing one more does, for people.
    pub one_more_loss: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthReport {
    pub healthy: bool,
    /// What kept part of the picture from being known, said once (`VMAPI
    /// does not answer: …`) rather than on every instance.
    pub causes: Vec<String>,
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
    /// None when CNAPI could not be asked, or the server is not known.
    server_status: Option<String>,
    /// VMAPI answered: a VM it does not list is missing, not unknown.
    vms_known: bool,
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
    let mut causes = Vec::new();
    let vms_known = vms.is_ok();
    let vms = vms.unwrap_or_else(|e| {
        causes.push(format!("VMAPI does not answer: {e}"));
        Vec::new()
    });
    let servers_known = servers.is_ok();
    let servers = servers.unwrap_or_else(|e| {
        causes.push(format!("CNAPI does not answer: {e}"));
        Vec::new()
    });
    let mut vms: BTreeMap<String, Vm> = vms.into_iter().map(|v| (v.uuid.clone(), v)).collect();
    let found: Vec<Found> = instances
        .iter()
        .filter_map(|i| {
            let service = names.get(i.service_uuid.as_str())?.to_string();
            let vm = vms.remove(&i.uuid);
            // SAPI often knows where it put the instance, VMAPI or not.
            let server_uuid = vm
                .as_ref()
                .and_then(|v| v.server_uuid.clone())
                .or_else(|| param(&i.params, "server_uuid"));
            let server = server_uuid
                .as_deref()
                .and_then(|u| servers.iter().find(|s| s.uuid == u));
            let server_status = match server {
                Some(s) => Some(s.status.clone()),
                // CNAPI answered and does not know it: that is news.
                None if servers_known && server_uuid.is_some() => Some("unknown".to_string()),
                None => None,
            };
            Some(Found {
                service,
                alias: param(&i.params, "alias").unwrap_or_else(|| i.uuid.clone()),
                instance: i.uuid.clone(),
                server: server
                    .map(|s| s.hostname.clone())
                    .or(server_uuid)
                    .unwrap_or_else(|| "?".to_string()),
                server_status,
                vm,
                vms_known,
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
        causes,
        services,
        instances: report,
    })
}

fn param(params: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    params.get(key)?.as_str().map(str::to_string)
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
    let mut problems = Vec::new();
    let mut unknown = Vec::new();
    let vm_state = match &f.vm {
        Some(vm) => vm.state.clone(),
        None if f.vms_known => "missing".to_string(),
        None => {
            unknown.push("VM state (VMAPI)".to_string());
            "unknown".to_string()
        }
    };
    let ip = f.vm.as_ref().and_then(ip_of);
    if vm_state != "running" && vm_state != "unknown" {
        problems.push(format!("its VM is {vm_state}"));
    }
    let server_status = match f.server_status {
        Some(status) => {
            if status != "running" {
                problems.push(format!("server {} is {status}", f.server));
            }
            status
        }
        None => {
            unknown.push("server status (CNAPI)".to_string());
            "unknown".to_string()
        }
    };
    let (binder, known) = registered(&f.service, ip.as_deref(), binder);
    match known {
        Known::Fine => {}
        Known::Problem => problems.push(binder.clone()),
        Known::Unknown => unknown.push(format!("binder ({binder})")),
    }
    let ping = ping.unwrap_or_else(|| "not checked".to_string());
    if ping != "ok" && !ping.starts_with("not checked") {
        problems.push(format!("/ping: {ping}"));
    }
    let verdict = if !problems.is_empty() {
        Verdict::Unhealthy
    } else if !unknown.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Healthy
    };
    InstanceHealth {
        healthy: verdict == Verdict::Healthy,
        verdict,
        service: f.service,
        alias: f.alias,
        instance: f.instance,
        server: f.server,
        server_status,
        vm_state,
        ip,
        binder,
        ping,
        problems,
        unknown,
    }
}

/// What a binder answer says of the instance.
#[derive(Debug, PartialEq)]
enum Known {
    /// Registered, or not a thing to check.
    Fine,
    Problem,
    /// Binder could not be asked, or the address is not known.
    Unknown,
}

/// `registered` when every binder member that answers has the address. A
/// member that does not answer at all says nothing of the instance: it is
/// binder's own problem, reported as binder's.
fn registered(service: &str, ip: Option<&str>, binder: &BinderAnswers) -> (String, Known) {
    if NOT_IN_BINDER.contains(&service) {
        return ("not checked".to_string(), Known::Fine);
    }
    let answers = match binder {
        Ok(all) => all.get(service).map(Vec::as_slice).unwrap_or_default(),
        Err(why) => return (format!("binder not asked: {why}"), Known::Unknown),
    };
    let Some(ip) = ip else {
        return ("not checked (no address known)".to_string(), Known::Unknown);
    };
    let answering: Vec<&MemberAddresses> = answers.iter().filter(|m| m.error.is_none()).collect();
    let missing: Vec<&str> = answering
        .iter()
        .filter(|m| !m.addresses.iter().any(|a| a == ip))
        .map(|m| m.server.as_str())
        .collect();
    if answers.is_empty() {
        ("no binder member to ask".to_string(), Known::Unknown)
    } else if answering.is_empty() {
        ("no binder member answers".to_string(), Known::Unknown)
    } else if missing.is_empty() {
        ("registered".to_string(), Known::Fine)
    } else if missing.len() == answers.len() {
        (
            format!("not in binder: no member answers {ip}"),
            Known::Problem,
        )
    } else {
        (
            format!("not in binder at {}", missing.join(", ")),
            Known::Problem,
        )
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
    let mut by_service: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for i in instances {
        let [healthy, unknown, total] = by_service.entry(&i.service).or_default();
        *total += 1;
        match i.verdict {
            Verdict::Healthy => *healthy += 1,
            Verdict::Unknown => *unknown += 1,
            Verdict::Unhealthy => {}
        }
    }
    by_service
        .into_iter()
        .map(|(service, [healthy, unknown, total])| {
            let need = needed(service, total);
            let at_risk = healthy < need + 1;
            let one_more_loss = if healthy > need {
                format!("survives ({} healthy left, needs {need})", healthy - 1)
            } else if unknown > 0 {
                format!("not known: {unknown} could not be checked (needs {need} healthy)")
            } else if healthy < need {
                format!("down already: needs {need} healthy")
            } else {
                format!("takes it down (needs {need} healthy)")
            };
            let summary = if unknown == 0 {
                format!("{healthy} of {total} healthy")
            } else {
                format!("{healthy} of {total} healthy, {unknown} unknown")
            };
            ServiceHealth {
                service: service.to_string(),
                healthy,
                unknown,
                total,
                summary,
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
            verdict: if healthy {
                Verdict::Healthy
            } else {
                Verdict::Unhealthy
            },
            problems: Vec::new(),
            unknown: Vec::new(),
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
        // The silent member says nothing of papi: 10.0.0.1 has it.
        assert_eq!(
            registered("papi", Some("10.0.0.9"), &answers),
            ("registered".to_string(), Known::Fine)
        );
        assert_eq!(
            registered("papi", Some("10.0.0.8"), &answers),
            ("not in binder at 10.0.0.1:53".to_string(), Known::Problem)
        );
        assert_eq!(
            registered("manatee", None, &answers),
            ("not checked".to_string(), Known::Fine)
        );
        let silent: BinderAnswers = Ok([(
            "papi".to_string(),
            vec![MemberAddresses {
                server: "10.0.0.2:53".into(),
                addresses: Vec::new(),
                error: Some("silent".into()),
            }],
        )]
        .into());
        assert_eq!(
            registered("papi", Some("10.0.0.9"), &silent).1,
            Known::Unknown,
            "binder's silence is not the instance's fault"
        );
    }

    #[test]
    fn unknown_instances_are_not_counted_down() {
        let mut unknown = instance("papi", false);
        unknown.verdict = Verdict::Unknown;
        let services = summarise(&[instance("papi", true), unknown]);
        assert_eq!(services[0].summary, "1 of 2 healthy, 1 unknown");
        assert_eq!(
            services[0].one_more_loss,
            "not known: 1 could not be checked (needs 1 healthy)"
        );
        let mut unknown = instance("binder", false);
        unknown.verdict = Verdict::Unknown;
        let services = summarise(&[unknown.clone(), unknown.clone(), unknown]);
        assert!(
            !services[0].one_more_loss.starts_with("down already"),
            "{:?}",
            services[0]
        );
    }
}
