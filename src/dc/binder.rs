//! Finding the APIs the way Triton's own tools do: `sapi.<dc>.<domain>`,
//! `vmapi.…`, `cnapi.…` resolve only through binder (apis.md §1.1), so they
//! are asked of binder directly, never of this host's resolver.
//!
//! Binder answers A queries with the admin IPs of the live instances of a
//! service; the APIs listen on plain HTTP, port 80, on those IPs.
//!
//! [`lookup_a`] and [`lookup_srv`] ask binder any name of its zone, one
//! query on the wire per binder (no cache, no search list), so an instance
//! that leaves ZooKeeper leaves the next answer.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use hickory_resolver::Resolver;
use hickory_resolver::config::{
    ConnectionConfig, LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig,
    ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use url::Url;

use super::Endpoints;
use super::error::{DcError, one_line};

/// Binder's DNS port.
const DNS_PORT: u16 = 53;
/// The APIs' port on their admin IPs.
const API_PORT: u16 = 80;
/// How long one query waits for one binder before asking again.
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
/// The whole resolution gives up after this, however many binders there are.
const DEADLINE: Duration = Duration::from_secs(5);

/// Parses the profile's `binder` entries: `ip` (port 53) or `ip:port`.
pub fn parse_binders(entries: &[String]) -> Result<Vec<SocketAddr>, DcError> {
    if entries.is_empty() {
        return Err(DcError::Config {
            detail: "binder is an empty list (give binder_admin_ips from the headnode config)"
                .to_string(),
        });
    }
    entries.iter().map(|entry| parse_binder(entry)).collect()
}

fn parse_binder(entry: &str) -> Result<SocketAddr, DcError> {
    let text = entry.trim();
    text.parse::<SocketAddr>()
        .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, DNS_PORT)))
        .map_err(|_| DcError::Config {
            detail: format!(
                "binder address {entry:?} is not an IP or IP:port (binder_admin_ips in the headnode config)"
            ),
        })
}

fn binder_error(binders: &[SocketAddr], detail: String) -> DcError {
    DcError::Binder {
        servers: binders.to_vec(),
        detail,
    }
}

impl Endpoints {
    /// Resolves the three APIs through `binders` for datacenter
    /// `datacenter_name` in `dns_domain` (the SAPI `sdc` application's
    /// `datacenter_name` and `dns_domain`). With several live instances of
    /// an API, the first address binder gives is used. Gives up after a few
    /// seconds.
    pub async fn from_binder(
        binders: &[SocketAddr],
        datacenter_name: &str,
        dns_domain: &str,
    ) -> Result<Endpoints, DcError> {
        let failed = |detail: String| binder_error(binders, detail);
        let Some(first) = binders.first() else {
            return Err(failed("no binder address given".to_string()));
        };
        check_label("datacenter_name", datacenter_name)?;
        check_label("dns_domain", dns_domain)?;
        let resolver = resolver(binders).map_err(failed)?;
        let url = |service: &'static str| {
            let name = format!("{service}.{datacenter_name}.{dns_domain}");
            let resolver = &resolver;
            async move {
                let ip = lookup(resolver, &name)
                    .await
                    .map_err(|why| failed(why.describe(&name, service, *first)))?;
                let base = format!("http://{}/", SocketAddr::new(ip, API_PORT));
                Url::parse(&base).map_err(|e| {
                    failed(format!("{name} resolved to {ip}, which makes no URL: {e}"))
                })
            }
        };
        let all = async { futures::try_join!(url("sapi"), url("vmapi"), url("cnapi")) };
        let (sapi, vmapi, cnapi) = tokio::time::timeout(DEADLINE, all).await.map_err(|_| {
            failed(format!(
                "no answer within {}s (is binder running and reachable? check `{}`)",
                DEADLINE.as_secs(),
                dig(*first, &format!("sapi.{datacenter_name}.{dns_domain}"))
            ))
        })??;
        Ok(Endpoints {
            sapi,
            vmapi,
            cnapi,
            zk_hosts: Vec::new(),
            binder_dns: binders.to_vec(),
        })
    }

    /// [`Endpoints::from_binder`] for callers that are not async: runs on a
    /// thread of its own, so it may be called from anywhere, even from
    /// inside a runtime.
    pub fn from_binder_blocking(
        binders: &[SocketAddr],
        datacenter_name: &str,
        dns_domain: &str,
    ) -> Result<Endpoints, DcError> {
        let failed = |detail: String| binder_error(binders, detail);
        std::thread::scope(|scope| {
            let resolving = scope.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| failed(format!("cannot start a runtime to ask binder: {e}")))?;
                rt.block_on(Endpoints::from_binder(binders, datacenter_name, dns_domain))
            });
            resolving
                .join()
                .unwrap_or_else(|_| Err(failed("the resolving thread panicked".to_string())))
        })
    }
}

/// A name part from the profile must be plain DNS labels, or the query
/// would ask for something else than the operator thinks.
fn check_label(key: &str, value: &str) -> Result<(), DcError> {
    let ok = !value.is_empty()
        && value.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(DcError::Config {
            detail: format!(
                "{key} {value:?} is not a DNS name (letters, digits, - and dots; see `sdc` metadata in SAPI)"
            ),
        })
    }
}

/// The zone binder answers for: `<datacenter_name>.<dns_domain>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    suffix: String,
}

impl Zone {
    /// The SAPI `sdc` application's `datacenter_name` and `dns_domain`.
    pub fn new(datacenter_name: &str, dns_domain: &str) -> Result<Zone, DcError> {
        check_label("datacenter_name", datacenter_name)?;
        check_label("dns_domain", dns_domain)?;
        Ok(Zone {
            suffix: format!("{datacenter_name}.{dns_domain}").to_ascii_lowercase(),
        })
    }

    /// `coal.joyent.us`.
    pub fn suffix(&self) -> &str {
        &self.suffix
    }

    /// A short name (`moray`, no dot) completes to `moray.<dc>.<domain>`;
    /// a full name must be in the zone, since binder answers nothing else.
    /// The error is one line about the name.
    pub fn qualify(&self, name: &str) -> Result<String, String> {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        let full = if name.contains('.') {
            name
        } else {
            format!("{name}.{}", self.suffix)
        };
        let inside = full
            .strip_suffix(&self.suffix)
            .is_some_and(|head| head.is_empty() || head.ends_with('.'));
        let labels_ok = full.split('.').all(|label| {
            !label.is_empty()
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
        if !labels_ok {
            return Err(format!(
                "{full:?} is not a DNS name (letters, digits, - and _ between dots)"
            ));
        }
        if !inside {
            return Err(format!(
                "{full} is outside {}: binder answers only for names under it (give a short name such as \"moray\")",
                self.suffix
            ));
        }
        Ok(full)
    }

    /// The name of a service's SRV records as registrar writes them:
    /// `_moray._tcp.moray.<dc>.<domain>` for `moray`; a full name as given.
    pub fn srv_name(&self, name: &str) -> Result<String, String> {
        let short = name.trim();
        if !short.is_empty() && !short.contains('.') {
            return self.qualify(&format!("_{short}._tcp.{short}.{}", self.suffix));
        }
        self.qualify(short)
    }
}

/// One SRV record, with the address binder sent along for its target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SrvRecord {
    pub target: String,
    pub port: u16,
    pub priority: u16,
    pub weight: u16,
    /// From the answer's additional A records; None if binder sent none.
    pub address: Option<IpAddr>,
}

/// The A records of `name` (already qualified), sorted. Each binder is
/// asked in turn until one answers; an empty list is binder's NOERROR
/// with no record.
pub async fn lookup_a(binders: &[SocketAddr], name: &str) -> Result<Vec<IpAddr>, DcError> {
    let answer = ask_any(binders, name, RecordType::A).await?;
    let mut ips: Vec<IpAddr> = answer
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect();
    ips.sort();
    ips.dedup();
    Ok(ips)
}

/// The SRV records of `name` (already qualified), sorted by target and port.
pub async fn lookup_srv(binders: &[SocketAddr], name: &str) -> Result<Vec<SrvRecord>, DcError> {
    let answer = ask_any(binders, name, RecordType::SRV).await?;
    let address = |target: &Name| {
        answer.additionals.iter().find_map(|r| match &r.data {
            RData::A(a) if r.name.eq_case(target) => Some(IpAddr::V4(a.0)),
            _ => None,
        })
    };
    let mut records: Vec<SrvRecord> = answer
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(srv) => Some(SrvRecord {
                target: srv.target.to_ascii().trim_end_matches('.').to_string(),
                port: srv.port,
                priority: srv.priority,
                weight: srv.weight,
                address: address(&srv.target),
            }),
            _ => None,
        })
        .collect();
    records.sort_by(|a, b| (&a.target, a.port).cmp(&(&b.target, b.port)));
    Ok(records)
}

/// Whether the binder at `server` answers `name` with an address, within
/// `timeout`: Err says why not, in one line.
pub async fn answers(server: SocketAddr, name: &str, timeout: Duration) -> Result<(), String> {
    let found = ask(server, name, RecordType::A, timeout).await;
    match found {
        Ok(m) if m.metadata.response_code != ResponseCode::NoError => {
            Err(format!("answers {} for {name}", m.metadata.response_code))
        }
        Ok(m) if m.answers.is_empty() => Err(format!("no A record for {name}")),
        Ok(_) => Ok(()),
        Err(miss) => Err(miss.describe(name, "it", server)),
    }
}

/// Asks each binder in turn; the first DNS answer counts. NXDOMAIN and
/// REFUSED are answers, and errors here.
async fn ask_any(
    binders: &[SocketAddr],
    name: &str,
    rtype: RecordType,
) -> Result<Message, DcError> {
    let Some(first) = binders.first() else {
        return Err(binder_error(binders, "no binder address known".into()));
    };
    let mut last = None;
    for server in binders {
        match ask(*server, name, rtype, QUERY_TIMEOUT).await {
            Ok(message) => {
                let code = message.metadata.response_code;
                let dig = dig(*server, &format!("{name} {rtype}"));
                let failed = |detail: String| binder_error(&[*server], detail);
                return match code {
                    ResponseCode::NoError => Ok(message),
                    ResponseCode::Refused => Err(failed(format!(
                        "REFUSED {name}: binder knows no service or host by that name (check `{dig}`)"
                    ))),
                    ResponseCode::NXDomain => Err(failed(format!(
                        "NXDOMAIN {name}: no such name (check `{dig}`)"
                    ))),
                    ResponseCode::ServFail => Err(failed(format!(
                        "SERVFAIL {name}: binder has no ZooKeeper data yet, or bad data (check `{dig}`)"
                    ))),
                    other => Err(failed(format!(
                        "answered {other} for {name} (check `{dig}`)"
                    ))),
                };
            }
            Err(miss) => last = Some((*server, miss)),
        }
    }
    let (server, miss) = last.unwrap_or((*first, Miss::Silent));
    Err(binder_error(binders, miss.describe(name, "binder", server)))
}

/// One query to one server over UDP (with EDNS), retried over TCP when
/// the answer is truncated.
async fn ask(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    timeout: Duration,
) -> Result<Message, Miss> {
    let qname = Name::from_ascii(format!("{name}."))
        .map_err(|e| Miss::Other(format!("{name} is not a DNS name: {e}")))?;
    let mut query = Message::query();
    query.add_query(Query::query(qname, rtype));
    let mut edns = Edns::new();
    edns.set_max_payload(4096);
    query.set_edns(edns);
    let bytes = query
        .to_vec()
        .map_err(|e| Miss::Other(one_line(&e.to_string(), 200)))?;
    let id = query.metadata.id;
    let exchange = async {
        let answer = udp(server, &bytes, id).await?;
        if answer.metadata.truncation {
            tcp(server, &bytes).await
        } else {
            Ok(answer)
        }
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| Miss::Silent)?
}

fn io_miss(e: std::io::Error) -> Miss {
    Miss::Unreachable(super::zk_admin::reason(&e))
}

async fn udp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<Message, Miss> {
    let local: SocketAddr = if server.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(io_miss)?;
    socket.connect(server).await.map_err(io_miss)?;
    socket.send(bytes).await.map_err(io_miss)?;
    let mut buf = vec![0u8; 65535];
    loop {
        let n = socket.recv(&mut buf).await.map_err(io_miss)?;
        // A stray datagram (an old answer) is not ours: keep waiting.
        if let Ok(message) = Message::from_vec(&buf[..n])
            && message.metadata.id == id
        {
            return Ok(message);
        }
    }
}

async fn tcp(server: SocketAddr, bytes: &[u8]) -> Result<Message, Miss> {
    let mut stream = TcpStream::connect(server).await.map_err(io_miss)?;
    let len = u16::try_from(bytes.len()).map_err(|_| Miss::Other("query too long".into()))?;
    stream
        .write_all(&len.to_be_bytes())
        .await
        .map_err(io_miss)?;
    stream.write_all(bytes).await.map_err(io_miss)?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.map_err(io_miss)?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).await.map_err(io_miss)?;
    Message::from_vec(&buf).map_err(|e| Miss::Other(format!("a malformed answer: {e}")))
}

/// A resolver that asks `binders` only: no system configuration, no hosts
/// file, no search domains.
fn resolver(binders: &[SocketAddr]) -> Result<Resolver<TokioRuntimeProvider>, String> {
    let name_servers = binders
        .iter()
        .map(|server| {
            let mut udp = ConnectionConfig::udp();
            udp.port = server.port();
            // Binder answers on TCP too; large answers are retried there.
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = server.port();
            NameServerConfig::new(server.ip(), true, vec![udp, tcp])
        })
        .collect();
    let mut options = ResolverOpts::default();
    options.timeout = QUERY_TIMEOUT;
    options.attempts = 2;
    options.ip_strategy = LookupIpStrategy::Ipv4Only;
    options.use_hosts_file = ResolveHosts::Never;
    options.ndots = 0;
    Resolver::builder_with_config(
        ResolverConfig::from_name_servers(name_servers),
        TokioRuntimeProvider::default(),
    )
    .with_options(options)
    .build()
    .map_err(|e| {
        format!(
            "cannot set up a resolver: {}",
            one_line(&e.to_string(), 200)
        )
    })
}

/// Why a name did not resolve.
enum Miss {
    NoRecord,
    Refused,
    Answered(String),
    Silent,
    Unreachable(String),
    Other(String),
}

impl Miss {
    fn describe(&self, name: &str, service: &str, binder: SocketAddr) -> String {
        let dig = dig(binder, name);
        match self {
            Miss::NoRecord => {
                format!("no A record for {name} (is {service} registered? check `{dig}`)")
            }
            Miss::Refused => format!(
                "refused to answer for {name} (are datacenter_name and dns_domain right? check `{dig}`)"
            ),
            Miss::Answered(code) => format!("answered {code} for {name} (check `{dig}`)"),
            Miss::Silent => {
                format!("no answer for {name} (is binder running and reachable? check `{dig}`)")
            }
            Miss::Unreachable(cause) => format!(
                "cannot reach it for {name}: {cause} (is binder running? check the profile's binder and `{dig}`)"
            ),
            Miss::Other(cause) => format!("cannot resolve {name}: {cause} (check `{dig}`)"),
        }
    }
}

/// The command an operator runs to ask binder the same question.
fn dig(binder: SocketAddr, name: &str) -> String {
    match binder.port() {
        DNS_PORT => format!("dig @{} {name}", binder.ip()),
        port => format!("dig @{} -p {port} {name}", binder.ip()),
    }
}

async fn lookup(resolver: &Resolver<TokioRuntimeProvider>, name: &str) -> Result<IpAddr, Miss> {
    // The trailing dot makes the name absolute: no search domains.
    match resolver.lookup_ip(format!("{name}.")).await {
        Ok(found) => found.iter().next().ok_or(Miss::NoRecord),
        Err(NetError::Dns(DnsError::NoRecordsFound(_))) => Err(Miss::NoRecord),
        Err(NetError::Dns(DnsError::ResponseCode(code))) => {
            if code == hickory_resolver::proto::op::ResponseCode::Refused {
                Err(Miss::Refused)
            } else {
                Err(Miss::Answered(code.to_string()))
            }
        }
        Err(NetError::Timeout) => Err(Miss::Silent),
        Err(NetError::Io(e)) => Err(Miss::Unreachable(one_line(&e.to_string(), 200))),
        Err(other) => Err(Miss::Other(one_line(&other.to_string(), 200))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binder_addresses() {
        assert_eq!(
            parse_binder("10.99.99.11").ok(),
            "10.99.99.11:53".parse().ok()
        );
        assert_eq!(
            parse_binder(" 127.0.0.1:5353 ").ok(),
            "127.0.0.1:5353".parse().ok()
        );
        let err = parse_binder("binder.coal.joyent.us").expect_err("a name");
        assert!(err.to_string().contains("is not an IP or IP:port"), "{err}");
        let err = parse_binders(&[]).expect_err("empty");
        assert!(err.to_string().contains("empty list"), "{err}");
    }

    #[test]
    fn dig_names_the_port_only_when_unusual() {
        let name = "vmapi.coal.joyent.us";
        let standard = "127.1.0.5:53".parse().ok();
        let unusual = "127.0.0.1:5353".parse().ok();
        assert_eq!(
            standard.map(|b| dig(b, name)).as_deref(),
            Some("dig @127.1.0.5 vmapi.coal.joyent.us")
        );
        assert_eq!(
            unusual.map(|b| dig(b, name)).as_deref(),
            Some("dig @127.0.0.1 -p 5353 vmapi.coal.joyent.us")
        );
    }

    #[test]
    fn names_must_be_dns_labels() {
        assert!(check_label("dns_domain", "joyent.us").is_ok());
        assert!(check_label("datacenter_name", "us-east-1").is_ok());
        for bad in ["", "co al", "joyent..us", "a/b"] {
            let err = check_label("dns_domain", bad).expect_err(bad);
            assert!(err.to_string().contains("is not a DNS name"), "{err}");
        }
    }

    #[test]
    fn short_names_complete_and_others_must_be_in_the_zone() {
        let zone = Zone::new("coal", "joyent.us").expect("a zone");
        assert_eq!(zone.qualify("moray").as_deref(), Ok("moray.coal.joyent.us"));
        assert_eq!(
            zone.qualify("SAPI.coal.joyent.us.").as_deref(),
            Ok("sapi.coal.joyent.us")
        );
        assert_eq!(
            zone.srv_name("moray").as_deref(),
            Ok("_moray._tcp.moray.coal.joyent.us")
        );
        let err = zone.qualify("www.google.com").expect_err("outside");
        assert!(err.contains("is outside coal.joyent.us"), "{err}");
        let err = zone
            .qualify("xcoal.joyent.us")
            .expect_err("not a subdomain");
        assert!(err.contains("is outside"), "{err}");
        let err = zone.qualify("a b").expect_err("a space");
        assert!(err.contains("is not a DNS name"), "{err}");
    }
}
