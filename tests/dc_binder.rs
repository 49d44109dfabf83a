//! Endpoints found through binder: a tiny DNS responder on 127.0.0.1 plays
//! binder, answering A queries for the names it knows and REFUSED (binder's
//! answer for an unknown name) for the others.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use tokio::net::UdpSocket;
use tritonsh::dc::Endpoints;

/// Starts the responder; returns its `ip:port`.
async fn binder(names: &[(&str, Ipv4Addr)]) -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let addr = socket.local_addr().expect("addr");
    let names: HashMap<String, Ipv4Addr> =
        names.iter().map(|(n, ip)| (n.to_string(), *ip)).collect();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            if let Some(answer) = answer(&buf[..n], &names) {
                let _ = socket.send_to(&answer, peer).await;
            }
        }
    });
    addr.to_string()
}

/// A DNS answer to `query` (RFC 1035 §4.1): the question echoed, one A
/// record if the name is known, REFUSED otherwise.
fn answer(query: &[u8], names: &HashMap<String, Ipv4Addr>) -> Option<Vec<u8>> {
    let mut labels = Vec::new();
    let mut at = 12;
    loop {
        let len = *query.get(at)? as usize;
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_lowercase());
        at += len;
    }
    let question = query.get(12..at + 4)?;
    let qtype = u16::from_be_bytes([query[at], query[at + 1]]);
    let found = names.get(&labels.join(".")).filter(|_| qtype == 1);
    let mut out = Vec::new();
    out.extend_from_slice(&query[..2]); // id
    out.extend_from_slice(
        if found.is_some() || names.contains_key(&labels.join(".")) {
            &[0x81, 0x80] // response, recursion desired + available, NOERROR
        } else {
            &[0x81, 0x85] // REFUSED
        },
    );
    out.extend_from_slice(&[0, 1, 0, found.is_some() as u8, 0, 0, 0, 0]);
    out.extend_from_slice(question);
    if let Some(ip) = found {
        out.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        out.extend_from_slice(&ip.octets());
    }
    Some(out)
}

#[tokio::test]
async fn endpoints_from_binder() {
    let binder = binder(&[
        ("sapi.coal.joyent.us", Ipv4Addr::new(127, 0, 0, 32)),
        ("vmapi.coal.joyent.us", Ipv4Addr::new(127, 0, 0, 27)),
        ("cnapi.coal.joyent.us", Ipv4Addr::new(127, 0, 0, 22)),
    ])
    .await;
    let endpoints = Endpoints::from_binder(&binder, "coal", "joyent.us")
        .await
        .expect("resolved");
    assert_eq!(endpoints.sapi.as_str(), "http://127.0.0.32/");
    assert_eq!(endpoints.vmapi.as_str(), "http://127.0.0.27/");
    assert_eq!(endpoints.cnapi.as_str(), "http://127.0.0.22/");
}

#[tokio::test]
async fn an_unregistered_service_is_named() {
    let binder = binder(&[
        ("sapi.coal.joyent.us", Ipv4Addr::new(127, 0, 0, 32)),
        ("vmapi.coal.joyent.us", Ipv4Addr::new(127, 0, 0, 27)),
    ])
    .await;
    let err = Endpoints::from_binder(&binder, "coal", "joyent.us")
        .await
        .expect_err("no cnapi");
    let line = err.to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(
        line.starts_with(&format!("datacenter configuration: cannot resolve cnapi.coal.joyent.us through binder {binder}: ")),
        "{line}"
    );
    assert!(line.contains("check `lab status`"), "{line}");
}

#[tokio::test]
async fn a_binder_that_is_not_there() {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().expect("addr");
    drop(socket);
    let err = Endpoints::from_binder(&addr.to_string(), "coal", "joyent.us")
        .await
        .expect_err("nobody home");
    assert!(
        err.to_string().contains(&format!("through binder {addr}")),
        "{err}"
    );
}
