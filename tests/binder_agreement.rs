//! Joyent's own binder judges the lab's binder DNS: started on a loopback
//! address of its own and pointed at a member of a live `ha` lab's
//! ZooKeeper, it must answer every question exactly as the lab's binder
//! member on that ZooKeeper does — rcode, flags, every record of every
//! section with its TTL — for every service, host, SRV and reverse name
//! registrar wrote, and for the names and types binder refuses. Then once
//! more after a moray stops, so both drop the same record.
//!
//! binder is not on npm: this test runs when BINDER_DIR names a binder
//! checkout prepared by `scripts/real-binder/install.sh`, and says it was
//! skipped otherwise.

mod lab_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};
use lab_support::{BIN, Lab, eventually};
use serde_json::Value;

/// Where the real binder listens: loopback, outside every lab's block.
const REAL: &str = "127.254.53.1:5353";

/// The real binder, stopped by its PID when the test ends, passed or not.
struct RealBinder(Child);

impl Drop for RealBinder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_real_binder(dir: &str, zk_host: &str, domain: &str, dc: &str) -> RealBinder {
    let (host, port) = REAL.split_once(':').expect("ip:port");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/real-binder/serve.js");
    let child = Command::new("node")
        .args([script, dir, host, port, domain, dc])
        .env("ZK_HOST", zk_host)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node: is Node.js installed?");
    RealBinder(child)
}

/// How a question travels.
#[derive(Clone, Copy, PartialEq)]
enum Via {
    Udp,
    Tcp,
}

/// One question, the answer as comparable text: the header's rcode and
/// flags, then each section's records sorted (binder shuffles A records),
/// each as `name ttl class type rdata`.
fn ask(server: SocketAddr, name: &str, rtype: RecordType, edns: bool) -> Result<String, String> {
    ask_via(Via::Udp, server, name, rtype, edns)
}

fn ask_via(
    via: Via,
    server: SocketAddr,
    name: &str,
    rtype: RecordType,
    edns: bool,
) -> Result<String, String> {
    let mut query = Message::query();
    query.add_query(Query::query(
        Name::from_ascii(name).map_err(|e| e.to_string())?,
        rtype,
    ));
    query.metadata.recursion_desired = true;
    if edns {
        let mut e = Edns::new();
        e.set_max_payload(4096);
        query.set_edns(e);
    }
    let bytes = query.to_vec().map_err(|e| e.to_string())?;
    let reply = match via {
        Via::Udp => udp(server, &bytes),
        Via::Tcp => tcp(server, &bytes),
    }
    .map_err(|e| format!("{server}: {e}"))?;
    let answer = Message::from_vec(&reply).map_err(|e| e.to_string())?;
    let m = &answer.metadata;
    let mut text = format!(
        "{:?} aa={} tc={} rd={} ra={} edns={}\n",
        m.response_code,
        m.authoritative,
        m.truncation,
        m.recursion_desired,
        m.recursion_available,
        answer.edns.is_some()
    );
    for (section, records) in [
        ("answer", &answer.answers),
        ("authority", &answer.authorities),
        ("additional", &answer.additionals),
    ] {
        let mut lines: Vec<String> = records
            .iter()
            .map(|r| r.to_string().to_lowercase())
            .collect();
        lines.sort();
        for line in lines {
            text.push_str(&format!("{section}: {line}\n"));
        }
    }
    Ok(text)
}

fn udp(server: SocketAddr, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.set_read_timeout(Some(Duration::from_secs(2)))?;
    socket.send_to(bytes, server)?;
    let mut buf = vec![0u8; 65535];
    let (n, _) = socket.recv_from(&mut buf)?;
    buf.truncate(n);
    Ok(buf)
}

fn tcp(server: SocketAddr, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect_timeout(&server, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let len = u16::try_from(bytes.len()).expect("a short query");
    stream.write_all(&len.to_be_bytes())?;
    stream.write_all(bytes)?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len)?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

fn tritonsh_json(lab: &Lab, code: &str) -> Value {
    let out = Command::new(BIN)
        .args(["--json", "-c", code])
        .env("TRITONSH_LAB", lab.dir.as_os_str())
        .env("NO_COLOR", "1")
        .output()
        .expect("run tritonsh");
    assert!(
        out.status.success(),
        "{code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Every question worth asking of this lab: each service registrar wrote
/// (A and SRV), each host below it (A), each host's reverse name (PTR),
/// and the corners: unknown names, names outside the domain, other types,
/// the domain itself, mixed case.
fn questions(lab: &Lab, zone: &str, ips: &[String]) -> Vec<(String, RecordType)> {
    let root = format!("/{}", zone.split('.').rev().collect::<Vec<_>>().join("/"));
    let services: Vec<String> =
        serde_json::from_value(tritonsh_json(lab, &format!("zk::children(\"{root}\")")))
            .expect("service names");
    let mut asked = Vec::new();
    for service in &services {
        let name = format!("{service}.{zone}.");
        asked.push((name.clone(), RecordType::A));
        let data = tritonsh_json(lab, &format!("zk::get(\"{root}/{service}\")"));
        if let Some(srv) = data["service"]["service"].as_object() {
            let (srvce, proto) = (srv["srvce"].as_str(), srv["proto"].as_str());
            if let (Some(srvce), Some(proto)) = (srvce, proto) {
                asked.push((format!("{srvce}.{proto}.{name}"), RecordType::SRV));
            }
        }
        let hosts: Vec<String> = serde_json::from_value(tritonsh_json(
            lab,
            &format!("zk::children(\"{root}/{service}\")"),
        ))
        .unwrap_or_default();
        for host in hosts {
            asked.push((format!("{host}.{name}"), RecordType::A));
        }
    }
    for ip in ips {
        let reversed: Vec<&str> = ip.split('.').rev().collect();
        asked.push((
            format!("{}.in-addr.arpa.", reversed.join(".")),
            RecordType::PTR,
        ));
    }
    asked.push(("127.in-addr.arpa.".into(), RecordType::PTR));
    asked.push(("1.0.0.10.in-addr.arpa.".into(), RecordType::PTR));
    for corner in [
        format!("nosuchservice.{zone}."),
        format!("x.nosuchservice.{zone}."),
        format!("{zone}."),
        format!("SaPi.{}.", zone.to_uppercase()),
        "www.example.com.".into(),
        ".".into(),
    ] {
        asked.push((corner, RecordType::A));
    }
    for other in [
        RecordType::AAAA,
        RecordType::TXT,
        RecordType::MX,
        RecordType::SOA,
        RecordType::NS,
        RecordType::ANY,
    ] {
        asked.push((format!("sapi.{zone}."), other));
    }
    asked.push((format!("_moray._tcp.sapi.{zone}."), RecordType::SRV));
    asked.push((format!("moray.{zone}."), RecordType::SRV));
    asked.push((format!("sapi.{zone}."), RecordType::PTR));
    asked
}

/// Asks both, each question with and without EDNS; the differences.
fn disagreements(lab_dns: SocketAddr, asked: &[(String, RecordType)]) -> Vec<String> {
    let real: SocketAddr = REAL.parse().expect("address");
    let mut differ = Vec::new();
    for (name, rtype) in asked {
        for edns in [false, true] {
            let theirs = ask(real, name, *rtype, edns);
            let mut ours = ask(lab_dns, name, *rtype, edns);
            if srv_cut_short(&theirs, &ours) {
                // The one difference we keep, on purpose: mname compresses
                // SRV targets, which RFC 2782 forbids and hickory does not
                // do, so a 512-byte answer of binder's is longer here and
                // comes back truncated; a client asks again over TCP.
                ours = ask_via(Via::Tcp, lab_dns, name, *rtype, edns);
            }
            if theirs != ours {
                differ.push(format!(
                    "{rtype} {name} (edns {edns}):\n  binder:\n{}\n  lab:\n{}",
                    indent(&theirs),
                    indent(&ours)
                ));
            }
        }
    }
    differ
}

/// binder's answer fit in 512 bytes, ours was truncated.
fn srv_cut_short(theirs: &Result<String, String>, ours: &Result<String, String>) -> bool {
    let (Ok(theirs), Ok(ours)) = (theirs, ours) else {
        return false;
    };
    theirs.contains("tc=false") && ours.contains("tc=true") && theirs.contains(" in srv ")
}

fn indent(answer: &Result<String, String>) -> String {
    match answer {
        Ok(text) => text.lines().map(|l| format!("    {l}\n")).collect(),
        Err(e) => format!("    no answer: {e}\n"),
    }
}

#[test]
fn the_real_binder_and_the_labs_binder_answer_alike() {
    let Ok(dir) = std::env::var("BINDER_DIR") else {
        eprintln!(
            "skipped: set BINDER_DIR to a binder checkout prepared by scripts/real-binder/install.sh"
        );
        return;
    };
    let lab = Lab::up("binder-judge", &["--profile", "ha"]);
    let status = lab.status();
    let zone = format!(
        "{}.{}",
        status["datacenter_name"].as_str().expect("datacenter_name"),
        status["dns_domain"].as_str().expect("dns_domain")
    );
    let binder0 = Lab::instance(&status, "binder0");
    let zk_host = binder0["ip"].as_str().expect("binder0's ip").to_string();
    let lab_dns: SocketAddr = binder0["dns"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .expect("binder0's DNS address");
    let ips: Vec<String> = status["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .filter_map(|i| i["ip"].as_str().map(str::to_string))
        .collect();
    let _real = start_real_binder(
        &dir,
        &zk_host,
        status["dns_domain"].as_str().unwrap_or_default(),
        status["datacenter_name"].as_str().unwrap_or_default(),
    );

    // Both have read the tree once every moray answers in both.
    let moray = format!("moray.{zone}.");
    let real: SocketAddr = REAL.parse().expect("address");
    let settled = eventually(Duration::from_secs(30), || {
        let theirs = ask(real, &moray, RecordType::A, false).ok()?;
        let ours = ask(lab_dns, &moray, RecordType::A, false).ok()?;
        (theirs == ours && theirs.matches("answer:").count() == 3).then_some(())
    });
    assert!(settled.is_some(), "binder never answered the three morays");

    let asked = questions(&lab, &zone, &ips);
    assert!(asked.len() > 60, "too few questions: {asked:?}");
    eprintln!("{} questions, each with and without EDNS", asked.len());
    let differ = disagreements(lab_dns, &asked);
    assert!(differ.is_empty(), "{}", differ.join("\n"));

    // A stopped moray leaves both answers alike.
    lab.must(&["lab", "fault", "stop", "moray1"]);
    let gone = eventually(Duration::from_secs(30), || {
        let theirs = ask(real, &moray, RecordType::A, false).ok()?;
        (theirs.matches("answer:").count() == 2).then_some(())
    });
    assert!(gone.is_some(), "binder kept moray1");
    let differ = disagreements(lab_dns, &asked);
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
