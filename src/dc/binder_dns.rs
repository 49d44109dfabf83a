//! Asking binder any name of its zone, as a client of the core services
//! does: A records (the live instances of a service) and SRV records
//! (their ports, with the addresses binder sends along). One query on the
//! wire per binder, no cache and no search list, so an instance that
//! leaves ZooKeeper leaves the next answer.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::binder::{Miss, QUERY_TIMEOUT, binder_error, check_label, dig};
use super::error::{DcError, one_line};

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
    Ok(a_records(&ask_any(binders, name, RecordType::A).await?))
}

/// The SRV records of `name` (already qualified), sorted by target and port.
pub async fn lookup_srv(binders: &[SocketAddr], name: &str) -> Result<Vec<SrvRecord>, DcError> {
    Ok(srv_records(&ask_any(binders, name, RecordType::SRV).await?))
}

/// What one binder answers for a service: its A records for `a_name` and
/// its SRV records for `srv_name`, or why it did not answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberAnswer {
    /// Where it was asked: `ip:port`.
    pub member: String,
    pub a: Vec<IpAddr>,
    pub srv: Vec<SrvRecord>,
    /// Why an answer is missing, in one line; None when both came.
    pub problem: Option<String>,
}

/// Every binder asked at once, each on its own: a client of a service may
/// be given any of them as its resolver, so each must know every instance.
pub async fn lookup_each(
    binders: &[SocketAddr],
    a_name: &str,
    srv_name: &str,
) -> Vec<MemberAnswer> {
    let one = |server: SocketAddr| async move {
        let (a, srv) = futures::join!(
            ask_one(server, a_name, RecordType::A),
            ask_one(server, srv_name, RecordType::SRV)
        );
        let problem = match (&a, &srv) {
            (Err(e), _) | (_, Err(e)) => Some(e.to_string()),
            _ => None,
        };
        MemberAnswer {
            member: server.to_string(),
            a: a.map(|m| a_records(&m)).unwrap_or_default(),
            srv: srv.map(|m| srv_records(&m)).unwrap_or_default(),
            problem,
        }
    };
    futures::future::join_all(binders.iter().map(|s| one(*s))).await
}

fn a_records(answer: &Message) -> Vec<IpAddr> {
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
    ips
}

/// What one binder member answered for a name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberAddresses {
    /// The member's DNS address, `ip:port`.
    pub server: String,
    /// Its A records, sorted; empty when it answered none or not at all.
    pub addresses: Vec<String>,
    /// Why it gave no usable answer (silent, REFUSED, …), in one line.
    pub error: Option<String>,
}

/// The A records of `name` (already qualified) from every binder at once,
/// each on its own: members each mirror ZooKeeper through their own watch,
/// so a client may be sent to any of them, and one lagging is worth seeing.
pub async fn lookup_a_each(binders: &[SocketAddr], name: &str) -> Vec<MemberAddresses> {
    let asks = binders.iter().map(|server| async move {
        let (addresses, error) = match ask(*server, name, RecordType::A, QUERY_TIMEOUT).await {
            Ok(m) if m.metadata.response_code == ResponseCode::NoError => (a_records(&m), None),
            Ok(m) => (
                Vec::new(),
                Some(format!("answers {} for {name}", m.metadata.response_code)),
            ),
            Err(miss) => (Vec::new(), Some(miss.describe(name, "it", *server))),
        };
        MemberAddresses {
            server: server.to_string(),
            addresses: addresses.iter().map(ToString::to_string).collect(),
            error,
        }
    });
    futures::future::join_all(asks).await
}

fn srv_records(answer: &Message) -> Vec<SrvRecord> {
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
    records
}

/// Whether the binder at `server` answers `name` with an address, within
/// `timeout`: Err says why not, in one line.
/// A silent server is asked twice, half the time each: one lost datagram
/// must not make a member look mute.
pub async fn answers(server: SocketAddr, name: &str, timeout: Duration) -> Result<(), String> {
    let mut found = ask(server, name, RecordType::A, timeout / 2).await;
    if matches!(found, Err(Miss::Silent)) {
        found = ask(server, name, RecordType::A, timeout / 2).await;
    }
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
            Ok(message) => return answered(*server, name, rtype, message),
            Err(miss) => last = Some((*server, miss)),
        }
    }
    let (server, miss) = last.unwrap_or((*first, Miss::Silent));
    Err(binder_error(binders, miss.describe(name, "binder", server)))
}

/// One binder, asked once.
async fn ask_one(server: SocketAddr, name: &str, rtype: RecordType) -> Result<Message, DcError> {
    match ask(server, name, rtype, QUERY_TIMEOUT).await {
        Ok(message) => answered(server, name, rtype, message),
        Err(miss) => Err(binder_error(
            &[server],
            miss.describe(name, "binder", server),
        )),
    }
}

/// A DNS answer: NOERROR is the message, any other code an error that
/// says what binder meant by it.
fn answered(
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    message: Message,
) -> Result<Message, DcError> {
    let dig = dig(server, &format!("{name} {rtype}"));
    let failed = |detail: String| binder_error(&[server], detail);
    match message.metadata.response_code {
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
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
