//! Binder's answer to one DNS question, computed from its mirror the way
//! binder's `lib/server.js` computes it (ha-core.md §5.5), including what
//! it does in its corners: REFUSED (not NXDOMAIN) for names it does not
//! have, so resolvers fall through; SERVFAIL before the first ZooKeeper
//! session and for records it cannot read; NOTIMP for query types other
//! than A, SRV and PTR — and, as in mname, for a record of a type binder
//! does not know; a TTL of 0 sent as 5.
//!
//! Pure: the DNS server (`dns_server.rs`) turns a `Reply` into wire format.

use std::net::Ipv4Addr;

use serde_json::Value;

use super::mirror::{HOST_TYPES, Mirror, Node};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryType {
    A,
    Srv,
    Ptr,
    Other,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcode {
    NoError,
    ServFail,
    NxDomain,
    NotImp,
    Refused,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    A(Ipv4Addr),
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Ptr(String),
    /// mname's SOA with its defaults: `hostmaster.<domain>`, serial 0.
    Soa {
        domain: String,
        minimum: u32,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub name: String,
    pub ttl: u32,
    pub data: Data,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub rcode: Rcode,
    pub answers: Vec<Record>,
    pub authority: Vec<Record>,
    pub additionals: Vec<Record>,
    /// mname sets AA only when it adds an authority record.
    pub authoritative: bool,
}

impl Reply {
    fn new(rcode: Rcode) -> Reply {
        Reply {
            rcode,
            answers: Vec::new(),
            authority: Vec::new(),
            additionals: Vec::new(),
            authoritative: false,
        }
    }

    fn answer(&mut self, name: &str, ttl: u32, data: Data) {
        self.rcode = Rcode::NoError;
        self.answers.push(rr(name, ttl, data));
    }
}

fn rr(name: &str, ttl: u32, data: Data) -> Record {
    Record {
        name: name.to_string(),
        // mname writes `ttl || 5`.
        ttl: if ttl == 0 { 5 } else { ttl },
        data,
    }
}

/// Where binder answers for: the `dnsDomain` of its config. (Its
/// `datacenterName` only feeds a doubled-suffix check that never fires:
/// binder tests the suffix on a string it has just appended "..." to.)
#[derive(Clone, Debug)]
pub struct Zone {
    pub dns_domain: String,
}

/// The record types a service's A and SRV answers list.
const MEMBER_TYPES: &[&str] = &[
    "load_balancer",
    "moray_host",
    "ops_host",
    "rr_host",
    "redis_host",
];

/// Answers `name` (as asked, without the final dot). `seed` drives the
/// shuffle of a service's members.
pub fn answer(mirror: &Mirror, zone: &Zone, name: &str, qtype: QueryType, seed: u64) -> Reply {
    match qtype {
        QueryType::A | QueryType::Srv => resolve(mirror, zone, name, qtype, seed),
        QueryType::Ptr => resolve_ptr(mirror, name),
        QueryType::Other => Reply::new(Rcode::NotImp),
    }
}

fn resolve_ptr(mirror: &Mirror, name: &str) -> Reply {
    let mut labels: Vec<&str> = name.split('.').collect();
    labels.reverse();
    if labels.len() < 2 || labels[0] != "arpa" || labels[1] != "in-addr" {
        return Reply::new(Rcode::Refused);
    }
    if !mirror.is_ready() {
        return Reply::new(Rcode::ServFail);
    }
    let address = labels[2..].join(".");
    let Some((host, record)) = mirror.reverse_lookup(&address) else {
        return Reply::new(Rcode::Refused);
    };
    let ttl = record.map_or(30, |r| record_ttl(r, 30));
    let mut reply = Reply::new(Rcode::NotImp);
    reply.answer(name, ttl, Data::Ptr(host.to_string()));
    reply
}

fn resolve(mirror: &Mirror, zone: &Zone, name: &str, qtype: QueryType, seed: u64) -> Reply {
    let mut domain = name.to_string();
    let mut wanted = None;
    if qtype == QueryType::Srv {
        match split_srv(name) {
            Some((service, proto, rest)) if !rest.is_empty() => {
                wanted = Some((service.to_string(), proto.to_string()));
                domain = rest.to_string();
            }
            _ => return Reply::new(Rcode::Refused),
        }
    }
    // Before lowercasing, as binder does.
    if !domain.ends_with(&format!(".{}", zone.dns_domain)) {
        return Reply::new(Rcode::Refused);
    }
    if !mirror.is_ready() {
        return Reply::new(Rcode::ServFail);
    }
    let domain = domain.to_lowercase();
    if !domain
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c))
    {
        return Reply::new(Rcode::Refused);
    }
    let Some(node) = mirror.lookup(&domain) else {
        return Reply::new(Rcode::Refused);
    };
    let Some((record, kind)) = node.record.as_ref().and_then(typed) else {
        return Reply::new(Rcode::ServFail);
    };
    let mut ttl = record_ttl(record, 30);
    let mut reply = Reply::new(Rcode::NotImp);
    if wanted.is_some() && kind != "service" {
        reply.rcode = Rcode::NoError;
        reply.authority.push(rr(
            &domain,
            ttl,
            Data::Soa {
                domain: zone.dns_domain.clone(),
                minimum: ttl,
            },
        ));
        reply.authoritative = true;
        return reply;
    }
    match kind {
        "database" => {
            match record["database"]["primary"]
                .as_str()
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().and_then(|h| h.parse().ok()))
            {
                Some(ip) => reply.answer(&domain, ttl, Data::A(ip)),
                None => reply.rcode = Rcode::ServFail,
            }
        }
        k if HOST_TYPES.contains(&k) => match address(&record[k]) {
            Some(ip) => reply.answer(&domain, ttl, Data::A(ip)),
            None => reply.rcode = Rcode::ServFail,
        },
        "service" => {
            let mut service = &record["service"];
            if service.get("service").is_some_and(Value::is_object) {
                service = &service["service"];
            }
            if let Some(t) = service.get("ttl").and_then(Value::as_u64) {
                ttl = clamp(t);
            }
            if let Some((srvce, proto)) = &wanted
                && (service["srvce"].as_str() != Some(srvce.as_str())
                    || service["proto"].as_str() != Some(proto.as_str()))
            {
                reply.rcode = Rcode::NxDomain;
                return reply;
            }
            reply.rcode = Rcode::NoError;
            let mut members: Vec<&Node> = node
                .children
                .iter()
                .filter_map(|c| mirror.lookup(c))
                .filter(|n| {
                    n.record
                        .as_ref()
                        .and_then(|r| r["type"].as_str())
                        .is_some_and(|t| MEMBER_TYPES.contains(&t))
                })
                .collect();
            shuffle(&mut members, seed);
            for member in members {
                let Some((krec, ktype)) = member.record.as_ref().and_then(typed) else {
                    reply.rcode = Rcode::ServFail;
                    break;
                };
                let host = &krec[ktype];
                if host["address"].is_null() {
                    continue;
                }
                let Some(ip) = address(host) else {
                    reply.rcode = Rcode::ServFail;
                    break;
                };
                let mut ports: Vec<u16> = host["ports"]
                    .as_array()
                    .map(|p| {
                        p.iter()
                            .filter_map(|p| p.as_u64())
                            .map(|p| p as u16)
                            .collect()
                    })
                    .unwrap_or_default();
                if ports.is_empty() {
                    ports = service["port"]
                        .as_u64()
                        .map(|p| p as u16)
                        .into_iter()
                        .collect();
                }
                let rttl = record_ttl(krec, ttl);
                if wanted.is_some() {
                    let target = format!("{}.{domain}", member.name);
                    for port in ports {
                        reply.answer(
                            name,
                            ttl,
                            Data::Srv {
                                priority: 0,
                                weight: 10,
                                port,
                                target: target.clone(),
                            },
                        );
                    }
                    reply.additionals.push(rr(&target, rttl, Data::A(ip)));
                } else {
                    reply.answer(&domain, ttl.min(rttl), Data::A(ip));
                }
            }
        }
        // An unknown type: binder logs it and answers nothing, and mname's
        // default rcode is NOTIMP.
        _ => {}
    }
    reply
}

/// `_moray._tcp.moray.coal.joyent.us` → (`_moray`, `_tcp`, the rest).
fn split_srv(name: &str) -> Option<(&str, &str, &str)> {
    let mut parts = name.splitn(3, '.');
    let (service, proto, rest) = (parts.next()?, parts.next()?, parts.next()?);
    let valid = |label: &str| label.starts_with('_') && !label[1..].contains('_');
    (valid(service) && valid(proto)).then_some((service, proto, rest))
}

/// A record binder can serve: `type` is a string and `record[type]` an object.
fn typed(record: &Value) -> Option<(&Value, &str)> {
    let kind = record.get("type")?.as_str()?;
    record.get(kind)?.as_object()?;
    Some((record, kind))
}

/// The record's TTL: its own `ttl`, then its typed part's, else `default`.
fn record_ttl(record: &Value, default: u32) -> u32 {
    let mut ttl = default;
    if let Some(t) = record.get("ttl").and_then(Value::as_u64) {
        ttl = clamp(t);
    }
    let kind = record["type"].as_str().unwrap_or_default();
    if let Some(t) = record
        .get(kind)
        .and_then(|r| r.get("ttl"))
        .and_then(Value::as_u64)
    {
        ttl = clamp(t);
    }
    ttl
}

fn clamp(ttl: u64) -> u32 {
    u32::try_from(ttl).unwrap_or(u32::MAX)
}

fn address(host: &Value) -> Option<Ipv4Addr> {
    host["address"].as_str()?.parse().ok()
}

/// Fisher–Yates, as binder shuffles, driven by a small xorshift.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let j = (state % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::super::mirror::tests::node;
    use super::super::registration::{Naming, registration};
    use super::*;

    fn zone() -> Zone {
        Zone {
            dns_domain: "joyent.us".into(),
        }
    }

    /// A mirror as registrar leaves ZooKeeper: two morays, one binder.
    fn mirror() -> Mirror {
        let naming = Naming {
            datacenter_name: "coal".into(),
            dns_domain: "joyent.us".into(),
        };
        let mut nodes = vec![node("/us/joyent", ""), node("/us/joyent/coal", "")];
        for (service, host, ip) in [
            ("moray", "m1", "10.0.0.1"),
            ("moray", "m2", "10.0.0.2"),
            ("binder", "b0", "10.0.0.9"),
        ] {
            let r = registration(&naming, service, host, ip);
            nodes.push(node(&r.path, &r.service_record.unwrap().to_string()));
            nodes.push(node(&r.host_path, &r.host_record.to_string()));
        }
        nodes.push(node(
            "/us/joyent/coal/odd",
            r#"{"type":"weird","weird":{}}"#,
        ));
        nodes.push(node("/us/joyent/coal/bad", r#"{"type":"host"}"#));
        let mut m = Mirror::new("joyent.us");
        m.refresh(&nodes);
        m
    }

    fn ask(name: &str, qtype: QueryType) -> Reply {
        answer(&mirror(), &zone(), name, qtype, 7)
    }

    fn addresses(reply: &Reply) -> Vec<String> {
        let mut v: Vec<String> = reply
            .answers
            .iter()
            .map(|r| match &r.data {
                Data::A(ip) => format!("{} {ip} {}", r.name, r.ttl),
                Data::Srv { port, target, .. } => format!("{} {target}:{port} {}", r.name, r.ttl),
                other => format!("{other:?}"),
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_service_answers_every_member_with_the_smaller_ttl() {
        let r = ask("moray.coal.joyent.us", QueryType::A);
        assert_eq!(r.rcode, Rcode::NoError);
        assert_eq!(
            addresses(&r),
            [
                "moray.coal.joyent.us 10.0.0.1 30",
                "moray.coal.joyent.us 10.0.0.2 30"
            ]
        );
        assert!(!r.authoritative);
        let r = ask("m1.moray.coal.joyent.us", QueryType::A);
        assert_eq!(addresses(&r), ["m1.moray.coal.joyent.us 10.0.0.1 30"]);
    }

    #[test]
    fn srv_lists_every_port_with_the_hosts_as_additionals() {
        let r = ask("_moray._tcp.moray.coal.joyent.us", QueryType::Srv);
        assert_eq!(r.rcode, Rcode::NoError);
        assert_eq!(r.answers.len(), 8, "4 ports × 2 morays");
        assert!(r.answers.iter().all(|a| a.ttl == 60
            && matches!(
                &a.data,
                Data::Srv {
                    priority: 0,
                    weight: 10,
                    ..
                }
            )));
        let mut extra: Vec<String> = r
            .additionals
            .iter()
            .map(|a| format!("{} {}", a.name, a.ttl))
            .collect();
        extra.sort();
        assert_eq!(
            extra,
            ["m1.moray.coal.joyent.us 30", "m2.moray.coal.joyent.us 30"]
        );
        assert_eq!(
            ask("_dns._tcp.binder.coal.joyent.us", QueryType::Srv).rcode,
            Rcode::NxDomain
        );
        let r = ask("_x._tcp.m1.moray.coal.joyent.us", QueryType::Srv);
        assert_eq!(
            (r.rcode, r.authoritative, r.authority.len()),
            (Rcode::NoError, true, 1)
        );
        assert_eq!(
            ask("moray.coal.joyent.us", QueryType::Srv).rcode,
            Rcode::Refused
        );
    }

    #[test]
    fn the_corners_binder_answers_in() {
        for (name, qtype, rcode) in [
            ("nope.coal.joyent.us", QueryType::A, Rcode::Refused),
            ("moray.coal.example.com", QueryType::A, Rcode::Refused),
            ("MORAY.COAL.JOYENT.US", QueryType::A, Rcode::Refused),
            ("Moray.coal.joyent.us", QueryType::A, Rcode::NoError),
            ("mo ray.coal.joyent.us", QueryType::A, Rcode::Refused),
            ("coal.joyent.us", QueryType::A, Rcode::ServFail),
            ("bad.coal.joyent.us", QueryType::A, Rcode::ServFail),
            ("odd.coal.joyent.us", QueryType::A, Rcode::NotImp),
            ("moray.coal.joyent.us", QueryType::Other, Rcode::NotImp),
            ("9.0.0.10.in-addr.arpa", QueryType::Ptr, Rcode::NoError),
            ("1.1.1.1.in-addr.arpa", QueryType::Ptr, Rcode::Refused),
            ("example.com", QueryType::Ptr, Rcode::Refused),
        ] {
            assert_eq!(ask(name, qtype).rcode, rcode, "{name} {qtype:?}");
        }
        let r = ask("9.0.0.10.in-addr.arpa", QueryType::Ptr);
        assert_eq!(
            r.answers[0].data,
            Data::Ptr("b0.binder.coal.joyent.us".into())
        );
        let not_ready = Mirror::new("joyent.us");
        assert_eq!(
            answer(&not_ready, &zone(), "moray.coal.joyent.us", QueryType::A, 1).rcode,
            Rcode::ServFail
        );
    }

    #[test]
    fn the_shuffle_keeps_every_member() {
        let mut v: Vec<u32> = (0..10).collect();
        shuffle(&mut v, 12345);
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        assert_ne!(v, sorted, "shuffled");
    }
}
