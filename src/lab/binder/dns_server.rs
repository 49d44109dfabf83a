//! A binder member's DNS server: hickory's server for the wire, binder's
//! answers (`answer.rs`) from this member's mirror.
//!
//! Headers as mname writes them: the query's flags echoed, QR set, RA
//! cleared, AA only with an authority record.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hickory_proto::op::{Edns, Header, MessageType, Metadata, ResponseCode};
use hickory_proto::rr::rdata::{A, PTR, SOA, SRV};
use hickory_proto::rr::{Name, RData, Record as WireRecord, RecordType};
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo, Server};
use hickory_server::zone_handler::MessageResponseBuilder;

use super::answer::{self, Data, QueryType, Rcode, Record, Zone};
use super::mirror::Mirror;

pub struct BinderDns {
    pub mirror: Arc<RwLock<Mirror>>,
    pub zone: Zone,
}

/// Binds UDP and TCP on `ip`: on `port` when given (a restart keeps its
/// address), else on 53 when allowed, else on a port the system picks (the
/// same for both). Returns the server and its address.
pub async fn serve(
    ip: IpAddr,
    port: Option<u16>,
    handler: BinderDns,
) -> std::io::Result<(Server<BinderDns>, SocketAddr)> {
    let udp = match tokio::net::UdpSocket::bind((ip, port.unwrap_or(53))).await {
        Ok(socket) => socket,
        Err(e) if port.is_none() && e.kind() == std::io::ErrorKind::PermissionDenied => {
            tokio::net::UdpSocket::bind((ip, 0)).await?
        }
        Err(e) => return Err(e),
    };
    let address = udp.local_addr()?;
    let tcp = tokio::net::TcpListener::bind(address).await?;
    let mut server = Server::new(handler);
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 64);
    Ok((server, address))
}

#[async_trait::async_trait]
impl RequestHandler for BinderDns {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let mut metadata = Metadata::response_from_request(&request.metadata);
        metadata.authentic_data = request.metadata.authentic_data;
        metadata.message_type = MessageType::Response;
        // mname answers EDNS with an OPT of its own, capping the payload at 1470.
        let edns = request.edns.as_ref().map(|asked| {
            let mut edns = Edns::new();
            edns.set_max_payload(asked.max_payload().min(1470));
            edns
        });
        let mut builder = MessageResponseBuilder::from_message_request(request);
        if let Some(edns) = &edns {
            builder.edns(edns);
        }
        let Ok(info) = request.request_info() else {
            metadata.response_code = ResponseCode::FormErr;
            return send(&mut response_handle, builder.build_no_records(metadata)).await;
        };
        let original = info.query.original();
        let asked = original.name().to_ascii();
        let asked = asked.strip_suffix('.').unwrap_or(&asked);
        let qtype = match original.query_type() {
            RecordType::A => QueryType::A,
            RecordType::SRV => QueryType::Srv,
            RecordType::PTR => QueryType::Ptr,
            _ => QueryType::Other,
        };
        let reply = {
            let mirror = self.mirror.read().unwrap_or_else(|p| p.into_inner());
            answer::answer(&mirror, &self.zone, asked, qtype, seed())
        };
        metadata.response_code = match reply.rcode {
            Rcode::NoError => ResponseCode::NoError,
            Rcode::ServFail => ResponseCode::ServFail,
            Rcode::NxDomain => ResponseCode::NXDomain,
            Rcode::NotImp => ResponseCode::NotImp,
            Rcode::Refused => ResponseCode::Refused,
        };
        metadata.authoritative = reply.authoritative;
        let (answers, authority, additionals) = match (
            wire(&reply.answers),
            wire(&reply.authority),
            wire(&reply.additionals),
        ) {
            (Some(a), Some(n), Some(d)) => (a, n, d),
            // A name from ZooKeeper that is not a DNS name.
            _ => {
                metadata.response_code = ResponseCode::ServFail;
                (Vec::new(), Vec::new(), Vec::new())
            }
        };
        let response = builder.build(
            metadata,
            answers.iter(),
            authority.iter(),
            std::iter::empty(),
            additionals.iter(),
        );
        send(&mut response_handle, response).await
    }
}

async fn send<'a, R: ResponseHandler>(
    handle: &mut R,
    response: hickory_server::zone_handler::MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a WireRecord> + Send + 'a,
        impl Iterator<Item = &'a WireRecord> + Send + 'a,
        impl Iterator<Item = &'a WireRecord> + Send + 'a,
        impl Iterator<Item = &'a WireRecord> + Send + 'a,
    >,
) -> ResponseInfo {
    let metadata = *response.metadata();
    match handle.send_response(response).await {
        Ok(info) => info,
        Err(_) => Header {
            metadata,
            counts: Default::default(),
        }
        .into(),
    }
}

fn wire(records: &[Record]) -> Option<Vec<WireRecord>> {
    records.iter().map(to_wire).collect()
}

fn to_wire(record: &Record) -> Option<WireRecord> {
    let name = dns_name(&record.name)?;
    let data = match &record.data {
        Data::A(ip) => RData::A(A(*ip)),
        Data::Srv {
            priority,
            weight,
            port,
            target,
        } => RData::SRV(SRV::new(*priority, *weight, *port, dns_name(target)?)),
        Data::Ptr(target) => RData::PTR(PTR(dns_name(target)?)),
        Data::Soa { domain, minimum } => RData::SOA(SOA::new(
            dns_name(domain)?,
            dns_name(&format!("hostmaster.{domain}"))?,
            0,
            86400,
            7200,
            1_209_600,
            *minimum,
        )),
    };
    Some(WireRecord::from_rdata(name, record.ttl, data))
}

fn dns_name(name: &str) -> Option<Name> {
    Name::from_ascii(format!("{name}.")).ok()
}

/// Binder shuffles with Math.random: any changing number will do.
fn seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}
