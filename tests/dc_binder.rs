//! Endpoints found through binder: a tiny DNS responder on 127.0.0.1 plays
//! binder, answering A queries for the names it knows and NXDOMAIN for the
//! others; then the real binary, given a profile naming that binder, reaches
//! a canned SAPI where binder's answer leads.

mod dc_support;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::Output;

use dc_support::{Answer, Canned};
use tokio::net::UdpSocket;
use tritonsh::api::Api;
use tritonsh::dc::Endpoints;

/// Starts the responder; returns its address.
async fn binder(names: &[(&str, Ipv4Addr)]) -> SocketAddr {
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
    addr
}

/// A binder that receives queries and never answers; dropped with the
/// returned socket.
fn silent_binder() -> (std::net::UdpSocket, SocketAddr) {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().expect("addr");
    (socket, addr)
}

/// A DNS answer to `query` (RFC 1035 §4.1): the id and question echoed,
/// one A record if the name is known, NXDOMAIN otherwise.
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
    let qtype = u16::from_be_bytes([question[question.len() - 4], question[question.len() - 3]]);
    let name = labels.join(".");
    let found = names.get(&name).filter(|_| qtype == 1);
    let mut out = Vec::new();
    out.extend_from_slice(query.get(..2)?); // id
    if names.contains_key(&name) {
        out.extend_from_slice(&[0x81, 0x80]); // response, RD, RA, NOERROR
    } else {
        out.extend_from_slice(&[0x81, 0x83]); // NXDOMAIN
    }
    out.extend_from_slice(&[0, 1, 0, found.is_some() as u8, 0, 0, 0, 0]);
    out.extend_from_slice(question);
    if let Some(ip) = found {
        // Name by pointer to the question, type A, class IN, TTL 60, 4 bytes.
        out.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        out.extend_from_slice(&ip.octets());
    }
    Some(out)
}

const SAPI_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 32);
const VMAPI_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 27);
const CNAPI_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 22);

#[tokio::test]
async fn endpoints_from_binder() {
    let binder = binder(&[
        ("sapi.coal.joyent.us", SAPI_IP),
        ("vmapi.coal.joyent.us", VMAPI_IP),
        ("cnapi.coal.joyent.us", CNAPI_IP),
    ])
    .await;
    let endpoints = Endpoints::from_binder(&[binder], "coal", "joyent.us")
        .await
        .expect("resolved");
    assert_eq!(
        endpoints.url(Api::Sapi).map(|u| u.as_str()),
        Some("http://127.0.0.32/")
    );
    assert_eq!(
        endpoints.url(Api::Vmapi).map(|u| u.as_str()),
        Some("http://127.0.0.27/")
    );
    assert_eq!(
        endpoints.url(Api::Cnapi).map(|u| u.as_str()),
        Some("http://127.0.0.22/")
    );
    assert!(endpoints.zk_hosts.is_empty());
}

#[tokio::test]
async fn an_unregistered_service_is_named_in_one_line() {
    let binder = binder(&[
        ("sapi.coal.joyent.us", SAPI_IP),
        ("cnapi.coal.joyent.us", CNAPI_IP),
    ])
    .await;
    let err = Endpoints::from_binder(&[binder], "coal", "joyent.us")
        .await
        .expect_err("no vmapi");
    let port = binder.port();
    assert_eq!(
        err.to_string(),
        format!(
            "binder {binder}: no A record for vmapi.coal.joyent.us (is vmapi registered? \
             check `dig @127.0.0.1 -p {port} vmapi.coal.joyent.us`)"
        )
    );
}

#[tokio::test]
async fn a_wrong_datacenter_name_finds_nothing() {
    let binder = binder(&[("sapi.coal.joyent.us", SAPI_IP)]).await;
    let err = Endpoints::from_binder(&[binder], "east", "joyent.us")
        .await
        .expect_err("wrong dc");
    let line = err.to_string();
    assert!(line.contains("no A record for "), "{line}");
    assert!(line.contains(".east.joyent.us"), "{line}");
}

#[tokio::test]
async fn a_silent_binder_times_out_with_its_address() {
    let (_socket, silent) = silent_binder();
    let err = Endpoints::from_binder(&[silent], "coal", "joyent.us")
        .await
        .expect_err("nobody answers");
    let line = err.to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(
        line.starts_with(&format!("binder {silent}: no answer ")),
        "{line}"
    );
    assert!(line.contains("is binder running and reachable?"), "{line}");
}

#[tokio::test]
async fn a_second_binder_answers_when_the_first_is_silent() {
    let (_socket, silent) = silent_binder();
    let live = binder(&[
        ("sapi.coal.joyent.us", SAPI_IP),
        ("vmapi.coal.joyent.us", VMAPI_IP),
        ("cnapi.coal.joyent.us", CNAPI_IP),
    ])
    .await;
    let endpoints = Endpoints::from_binder(&[silent, live], "coal", "joyent.us")
        .await
        .expect("the live binder answers");
    assert_eq!(
        endpoints.url(Api::Vmapi).map(|u| u.as_str()),
        Some("http://127.0.0.27/")
    );
}

#[tokio::test]
async fn names_that_are_not_dns_names_are_refused_before_asking() {
    let (_socket, silent) = silent_binder();
    let err = Endpoints::from_binder(&[silent], "co al", "joyent.us")
        .await
        .expect_err("bad name");
    assert!(
        err.to_string()
            .starts_with("datacenter configuration: datacenter_name \"co al\" is not a DNS name"),
        "{err}"
    );
}

/// A private config/state/data home for one run of the binary.
struct Home(PathBuf);

impl Home {
    fn new(name: &str, config: &str) -> Home {
        let dir =
            std::env::temp_dir().join(format!("tritonsh-dc-binder-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("config/tritonsh")).expect("config dir");
        std::fs::write(dir.join("config/tritonsh/config.toml"), config).expect("config");
        Home(dir)
    }

    async fn run(&self, args: &[&str]) -> Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_tritonsh"))
            .args(args)
            .env("XDG_CONFIG_HOME", self.0.join("config"))
            .env("XDG_STATE_HOME", self.0.join("state"))
            .env("XDG_DATA_HOME", self.0.join("data"))
            .env("NO_COLOR", "1")
            .env_remove("TRITONSH_LAB")
            .env_remove("TRITONSH_PROFILE")
            .output()
            .await
            .expect("run tritonsh")
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn profile(binder: SocketAddr) -> String {
    format!(
        "[profiles.x]\nbinder = [\"{binder}\"]\ndatacenter_name = \"coal\"\n\
         dns_domain = \"joyent.us\"\nzk = [\"127.0.0.1:2181\"]\n"
    )
}

/// A canned SAPI on port 80 of a loopback address of its own (binder's A
/// records carry no port: the APIs listen on 80). Binding port 80 needs
/// root, which the test machines have.
async fn canned_sapi_on_port_80() -> (Canned, Ipv4Addr) {
    let pid = std::process::id();
    let ip = Ipv4Addr::new(127, 80, (pid % 250) as u8, (pid / 250 % 250) as u8 + 1);
    let canned = Canned::start_at(&format!("{ip}:80"), |seen| match seen.path() {
        "/mode" => Answer::json(200, "\"full\""),
        _ => Answer::json(
            404,
            r#"{"code":"ResourceNotFound","message":"no such thing"}"#,
        ),
    })
    .await;
    (canned, ip)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_reaches_sapi_through_binder() {
    let (sapi, ip) = canned_sapi_on_port_80().await;
    let binder = binder(&[
        ("sapi.coal.joyent.us", ip),
        ("vmapi.coal.joyent.us", ip),
        ("cnapi.coal.joyent.us", ip),
    ])
    .await;
    let home = Home::new("reach", &profile(binder));
    let out = home.run(&["--profile", "x", "-c", "sapi::mode()"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {stdout} stderr {stderr}"
    );
    assert_eq!(stdout.trim(), "full", "stderr {stderr}");
    let paths: Vec<String> = sapi.requests().iter().map(|s| s.path().into()).collect();
    assert_eq!(paths, ["/mode"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_names_the_service_binder_does_not_know() {
    let binder = binder(&[
        ("sapi.coal.joyent.us", SAPI_IP),
        ("cnapi.coal.joyent.us", CNAPI_IP),
    ])
    .await;
    let home = Home::new("unknown", &profile(binder));
    let out = home.run(&["--profile", "x", "-c", "vmapi::list()"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr {stderr}");
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(
        stderr.contains(&format!(
            "binder {binder}: no A record for vmapi.coal.joyent.us"
        )),
        "{stderr}"
    );
}
