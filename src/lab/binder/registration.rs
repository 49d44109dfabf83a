//! What registrar writes for a lab instance (ha-core.md §5.3, §5.4): the
//! ZooKeeper path of its name, the ephemeral host record named after the
//! zone's hostname (the VM UUID), and the persistent service record.
//!
//! Every lab instance of a core service registers the way its real
//! counterpart's SAPI registrar template says: moray as `moray_host` with
//! its four ports and `_moray._tcp` on 2020, binder as `rr_host` on 53 with
//! `_dns._udp`, manatee as a `db_host` under `/moray` (outside binder's
//! mirror: clients find the primary through manatee's state, not DNS), and
//! the rest as `rr_host` with `_<service>._tcp` on port 80.

use serde_json::{Value, json};

/// One instance's registration.
#[derive(Clone, Debug, PartialEq)]
pub struct Registration {
    /// The name registered: `moray.coal.joyent.us` (or `moray` for manatee).
    pub domain: String,
    /// `/us/joyent/coal/moray`: the service node, parent of the host node.
    pub path: String,
    /// The host record's node: `<path>/<vm uuid>`.
    pub host_path: String,
    pub host_record: Value,
    /// Written at `path`; manatee's registration has none.
    pub service_record: Option<Value>,
}

/// The datacenter's names, from the sdc application's metadata.
#[derive(Clone, Debug)]
pub struct Naming {
    pub datacenter_name: String,
    pub dns_domain: String,
}

impl Naming {
    /// `moray` → `moray.coal.joyent.us`.
    pub fn service_domain(&self, service: &str) -> String {
        format!("{service}.{}.{}", self.datacenter_name, self.dns_domain)
    }
}

/// How one service registers.
struct Template {
    host_type: &'static str,
    host_ttl: Option<u64>,
    ports: Vec<u16>,
    /// `(srvce, proto, port)` of the service record.
    service: Option<(String, &'static str, u16)>,
}

fn template(service: &str) -> Template {
    match service {
        "moray" => Template {
            host_type: "moray_host",
            host_ttl: Some(30),
            ports: vec![2021, 2022, 2023, 2024],
            service: Some(("_moray".into(), "_tcp", 2020)),
        },
        "binder" => Template {
            host_type: "rr_host",
            host_ttl: Some(60),
            ports: vec![53],
            service: Some(("_dns".into(), "_udp", 53)),
        },
        "manatee" => Template {
            host_type: "db_host",
            host_ttl: Some(60),
            ports: Vec::new(),
            service: None,
        },
        other => Template {
            host_type: "rr_host",
            host_ttl: Some(60),
            ports: vec![80],
            service: Some((format!("_{other}"), "_tcp", 80)),
        },
    }
}

/// `moray.coal.joyent.us` → `/us/joyent/coal/moray` (registrar lowercases).
pub fn domain_to_path(domain: &str) -> String {
    let labels: Vec<String> = domain.split('.').rev().map(str::to_lowercase).collect();
    format!("/{}", labels.join("/"))
}

/// The registration of instance `hostname` (its VM UUID) of `service` at
/// `address`.
pub fn registration(naming: &Naming, service: &str, hostname: &str, address: &str) -> Registration {
    let t = template(service);
    let domain = if service == "manatee" {
        "moray".to_string()
    } else {
        naming.service_domain(service)
    };
    let path = domain_to_path(&domain);
    let mut inner = json!({ "address": address });
    if !t.ports.is_empty() {
        inner["ports"] = json!(t.ports);
    }
    let mut host_record = json!({ "type": t.host_type, "address": address });
    if let Some(ttl) = t.host_ttl {
        host_record["ttl"] = json!(ttl);
    }
    host_record[t.host_type] = inner;
    let service_record = t.service.map(|(srvce, proto, port)| {
        json!({
            "type": "service",
            "service": {
                "type": "service",
                "service": { "srvce": srvce, "proto": proto, "port": port, "ttl": 60 },
                "ttl": 60
            }
        })
    });
    Registration {
        host_path: format!("{path}/{}", hostname.to_lowercase()),
        domain,
        path,
        host_record,
        service_record,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        serde_json::from_str(&crate::fixtures::text(name)).unwrap()
    }

    fn coal() -> Naming {
        Naming {
            datacenter_name: "coal".into(),
            dns_domain: "joyent.us".into(),
        }
    }

    #[test]
    fn records_are_registrars_own() {
        let r = registration(
            &coal(),
            "moray",
            "7b4e3d4c-0000-4000-8000-000000000001",
            "10.99.99.17",
        );
        assert_eq!(r.path, "/us/joyent/coal/moray");
        assert_eq!(
            r.host_path,
            "/us/joyent/coal/moray/7b4e3d4c-0000-4000-8000-000000000001"
        );
        assert_eq!(r.host_record, fixture("registrar-moray-host.json"));
        assert_eq!(
            r.service_record,
            Some(fixture("registrar-service-moray.json"))
        );

        let r = registration(&coal(), "binder", "x", "10.99.99.11");
        assert_eq!(r.host_record, fixture("registrar-rr-host-binder.json"));
        let r = registration(&coal(), "vmapi", "x", "10.99.99.27");
        assert_eq!(r.host_record, fixture("registrar-rr-host.json"));
        assert_eq!(
            r.service_record.unwrap()["service"]["service"]["srvce"],
            "_vmapi"
        );

        let r = registration(&coal(), "manatee", "X", "10.99.99.16");
        assert_eq!(
            (r.domain.as_str(), r.host_path.as_str()),
            ("moray", "/moray/x")
        );
        assert_eq!(r.host_record, fixture("registrar-db-host.json"));
        assert_eq!(r.service_record, None);
    }
}
