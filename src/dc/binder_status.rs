//! The binder cluster as "Test the binder cluster" sees it, member by
//! member: which binder VMs there are (VMAPI, the real tag encoding), and
//! for each, asked at once with short timeouts, ZooKeeper's `ruok` and
//! `srvr` (`mntr` on the leader for its followers) and whether its DNS
//! answers `sapi.<dc>.<domain>`.
//!
//! The seed's VMAPI query asks for running VMs only; here stopped binder
//! VMs are asked for too, so a member whose VM is down is named in the
//! report rather than missing from it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::binder_dns::{self, Zone};
use super::error::DcError;
use super::query::query;
use super::{Datacenter, zk_admin};

/// Binder VMs in any state but destroyed or failed.
pub const BINDER_VMS: &str =
    "(&(tags=*-smartdc_role=binder-*)(!(state=destroyed))(!(state=failed)))";

/// Binder's DNS port, where the profile or the lab says nothing else.
const DNS_PORT: u16 = 53;

/// How long one member's DNS gets to answer (two tries).
const DNS_TIMEOUT: Duration = Duration::from_secs(2);

/// A binder VM: where it runs and its admin IP.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BinderVm {
    pub alias: String,
    pub uuid: String,
    pub state: String,
    pub server_uuid: Option<String>,
    /// The admin NIC's IP (the first NIC's when none is tagged admin).
    pub ip: Option<IpAddr>,
}

/// One member of the binder cluster.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberStatus {
    pub alias: String,
    pub vm_uuid: String,
    /// The VM's state in VMAPI.
    pub vm_state: String,
    /// The hostname of its server (its UUID when CNAPI does not know it).
    pub server: String,
    /// The admin IP.
    pub address: String,
    /// `imok`: the JVM is up (even without quorum).
    pub ruok: bool,
    /// leader, follower, standalone, observer, "not serving" or "down".
    pub mode: String,
    pub zxid: Option<String>,
    /// As `srvr` prints it: `min/avg/max` in ms.
    pub latency: Option<String>,
    pub outstanding: Option<u64>,
    pub node_count: Option<u64>,
    /// The leader's followers (`mntr`).
    pub followers: Option<u64>,
    /// Where its DNS is asked: `ip:port`.
    pub dns_address: String,
    /// Whether its DNS answers `sapi.<dc>.<domain>` with an address.
    pub dns: bool,
    /// What is wrong, in one line; None when all is well.
    pub problem: Option<String>,
}

/// The binder VMs VMAPI knows (see [`BINDER_VMS`]), by alias.
pub async fn binder_vms(dc: &Datacenter) -> Result<Vec<BinderVm>, DcError> {
    let vms: Vec<Value> = dc.vmapi.list_as(&query(&[("query", BINDER_VMS)])).await?;
    let mut found: Vec<BinderVm> = vms.iter().map(binder_vm).collect();
    found.sort_by(|a, b| a.alias.cmp(&b.alias));
    Ok(found)
}

fn binder_vm(vm: &Value) -> BinderVm {
    let text = |key: &str| vm.get(key).and_then(Value::as_str).map(str::to_string);
    let nics = vm.get("nics").and_then(Value::as_array);
    let admin = nics.and_then(|nics| {
        nics.iter()
            .find(|n| n.get("nic_tag").and_then(Value::as_str) == Some("admin"))
            .or_else(|| nics.first())
    });
    let uuid = text("uuid").unwrap_or_default();
    BinderVm {
        alias: text("alias").unwrap_or_else(|| uuid.clone()),
        uuid,
        state: text("state").unwrap_or_else(|| "unknown".into()),
        server_uuid: text("server_uuid"),
        ip: admin.and_then(|n| n.get("ip")?.as_str()?.parse().ok()),
    }
}

/// The zone binder serves, from the SAPI `sdc` application's metadata;
/// when SAPI does not answer (the headnode is down), as the profile or the
/// lab names it.
pub async fn zone(dc: &Datacenter) -> Result<Zone, DcError> {
    match sapi_zone(dc).await {
        Err(e) if e.call().is_some() => match &dc.endpoints().zone {
            Some((name, domain)) => Zone::new(name, domain),
            None => Err(e),
        },
        found => found,
    }
}

async fn sapi_zone(dc: &Datacenter) -> Result<Zone, DcError> {
    let apps = dc
        .sapi
        .list_applications(&query(&[("name", "sdc")]))
        .await?;
    let Some(sdc) = apps.first() else {
        return Err(DcError::Config {
            detail: "SAPI has no sdc application (GET /applications?name=sdc)".into(),
        });
    };
    let text = |key: &str| {
        sdc.metadata
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| DcError::Config {
                detail: format!("the sdc application's metadata has no {key}"),
            })
    };
    Zone::new(text("datacenter_name")?, text("dns_domain")?)
}

/// The ZooKeeper members as configured, standing in for the binder VMs
/// VMAPI would list: named by address, state unknown.
fn configured_members(dc: &Datacenter) -> Vec<BinderVm> {
    dc.zk
        .members()
        .iter()
        .filter_map(|m| m.rsplit_once(':')?.0.parse::<IpAddr>().ok())
        .map(|ip| BinderVm {
            alias: ip.to_string(),
            uuid: String::new(),
            state: "unknown (VMAPI does not answer)".into(),
            server_uuid: None,
            ip: Some(ip),
        })
        .collect()
}

/// Binder's DNS servers: the profile's or the lab's, else each running
/// binder VM's admin IP at port 53.
pub async fn dns_servers(dc: &Datacenter) -> Result<Vec<SocketAddr>, DcError> {
    let configured = &dc.endpoints().binder_dns;
    if !configured.is_empty() {
        return Ok(configured.clone());
    }
    let vms = binder_vms(dc).await?;
    let servers: Vec<SocketAddr> = vms
        .iter()
        .filter(|vm| vm.state == "running")
        .filter_map(|vm| Some(SocketAddr::new(vm.ip?, DNS_PORT)))
        .collect();
    if servers.is_empty() {
        return Err(DcError::Config {
            detail:
                "no running binder VM has an admin IP (VMAPI query (tags=*-smartdc_role=binder-*))"
                    .into(),
        });
    }
    Ok(servers)
}

/// Every binder member's status, asked at once. With VMAPI gone (the
/// headnode down) the members are the ZooKeeper list the profile or the
/// lab gives, each named by its address; with CNAPI gone, servers by UUID.
pub async fn status(dc: &Datacenter) -> Result<Vec<MemberStatus>, DcError> {
    let all_servers = Vec::new();
    let (vms, servers, zone) = futures::join!(
        binder_vms(dc),
        dc.cnapi.list_servers(&all_servers),
        zone(dc)
    );
    let zone = zone?;
    let vms = match vms {
        Ok(vms) => vms,
        Err(e) if e.call().is_some() && !dc.zk.members().is_empty() => configured_members(dc),
        Err(e) => return Err(e),
    };
    let hostnames: HashMap<String, String> = servers
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.uuid, s.hostname))
        .collect();
    let sapi_name = format!("sapi.{}", zone.suffix());
    let configured = dc.endpoints().binder_dns.clone();
    let members = vms.iter().map(|vm| {
        let server = vm
            .server_uuid
            .as_ref()
            .map(|uuid| hostnames.get(uuid).cloned().unwrap_or_else(|| uuid.clone()))
            .unwrap_or_else(|| "(no server)".into());
        let dns = vm.ip.map(|ip| {
            configured
                .iter()
                .find(|s| s.ip() == ip)
                .copied()
                .unwrap_or(SocketAddr::new(ip, DNS_PORT))
        });
        member(vm, server, dns, &sapi_name)
    });
    Ok(futures::future::join_all(members).await)
}

async fn member(
    vm: &BinderVm,
    server: String,
    dns: Option<SocketAddr>,
    sapi_name: &str,
) -> MemberStatus {
    let mut status = MemberStatus {
        alias: vm.alias.clone(),
        vm_uuid: vm.uuid.clone(),
        vm_state: vm.state.clone(),
        server,
        address: vm.ip.map(|ip| ip.to_string()).unwrap_or_default(),
        ruok: false,
        mode: "down".into(),
        zxid: None,
        latency: None,
        outstanding: None,
        node_count: None,
        followers: None,
        dns_address: dns.map(|d| d.to_string()).unwrap_or_default(),
        dns: false,
        problem: None,
    };
    let (Some(ip), Some(dns)) = (vm.ip, dns) else {
        status.problem = Some(format!("{} has no admin IP in VMAPI", vm.alias));
        return status;
    };
    let zk_address = SocketAddr::new(ip, zk_admin::CLIENT_PORT).to_string();
    let (zk, answered) = tokio::join!(
        zk_admin::report_one(&zk_address),
        binder_dns::answers(dns, sapi_name, DNS_TIMEOUT)
    );
    status.ruok = zk.ruok;
    status.mode = zk.mode;
    status.zxid = zk.zxid;
    if let (Some(min), Some(avg), Some(max)) = (zk.latency_min, zk.latency_avg, zk.latency_max) {
        status.latency = Some(format!("{min}/{avg}/{max}"));
    }
    status.outstanding = zk.outstanding;
    status.node_count = zk.node_count;
    status.followers = zk.followers;
    status.dns = answered.is_ok();
    let mut problems = Vec::new();
    if vm.state != "running" && !vm.state.starts_with("unknown") {
        problems.push(format!("VM {} is {}", vm.alias, vm.state));
    }
    problems.extend(zk.problem);
    if let Err(why) = answered {
        problems.push(format!("DNS {dns} {why}"));
    }
    if !problems.is_empty() {
        status.problem = Some(problems.join("; "));
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_nic_gives_the_address() {
        let vm = serde_json::json!({
            "uuid": "u1", "alias": "binder1", "state": "running", "server_uuid": "s1",
            "nics": [{"ip": "10.0.0.9", "nic_tag": "external"}, {"ip": "10.99.99.12", "nic_tag": "admin"}],
        });
        let found = binder_vm(&vm);
        assert_eq!(found.ip, "10.99.99.12".parse().ok());
        assert_eq!(found.alias, "binder1");
        let bare = binder_vm(&serde_json::json!({"uuid": "u2"}));
        assert_eq!((bare.alias.as_str(), bare.ip), ("u2", None));
    }
}
