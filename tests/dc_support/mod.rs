//! A tiny HTTP/1.1 server on 127.0.0.1:0 that answers canned responses and
//! remembers what it was asked: enough to put the dc clients in front of
//! every kind of bad answer without a real API.

#![allow(dead_code)] // each test file uses a different part

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tritonsh::dc::{Datacenter, Endpoints, HttpOptions, MutationGate};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent on the request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// Decoded query pairs.
    pub fn query(&self) -> Vec<(String, String)> {
        match self.target.split_once('?') {
            Some((_, q)) => url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect(),
            None => Vec::new(),
        }
    }

    pub fn param(&self, key: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// What the server does with a request.
pub enum Answer {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Keep the connection open and never answer.
    Silent,
    /// Answer, but only after a pause.
    Later(Duration, Box<Answer>),
}

impl Answer {
    pub fn json(status: u16, body: impl Into<String>) -> Answer {
        Answer::raw(status, "application/json", body)
    }

    pub fn raw(status: u16, content_type: &str, body: impl Into<String>) -> Answer {
        Answer::Respond {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into().into_bytes(),
        }
    }

    pub fn empty(status: u16) -> Answer {
        Answer::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Answer {
        if let Answer::Respond { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

type Handler = dyn Fn(&Seen) -> Answer + Send + Sync;

pub struct Canned {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    connections: Arc<AtomicUsize>,
}

impl Canned {
    pub async fn start(handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Canned {
        Canned::start_at("127.0.0.1:0", handler).await
    }

    /// Listens on `addr` (e.g. `127.0.0.33:80`, where binder's A records
    /// lead: the APIs' port is fixed).
    pub async fn start_at(
        addr: &str,
        handler: impl Fn(&Seen) -> Answer + Send + Sync + 'static,
    ) -> Canned {
        let listener = TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        let addr = listener.local_addr().expect("local addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (seen2, connections2) = (seen.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                connections2.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, handler.clone(), seen2.clone()));
            }
        });
        Canned {
            addr,
            seen,
            connections,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// A datacenter whose three APIs all point at this server.
    pub fn datacenter(&self, options: HttpOptions) -> Datacenter {
        datacenter_at(&self.url(), options, MutationGate::default())
    }
}

pub fn datacenter_at(url: &str, options: HttpOptions, gate: MutationGate) -> Datacenter {
    let endpoints = Endpoints::all_at(url).expect("endpoints");
    Datacenter::with_options(endpoints, gate, options).expect("datacenter")
}

/// Short timeouts and retry pauses so tests stay fast.
pub fn fast_options() -> HttpOptions {
    HttpOptions {
        timeout: Duration::from_secs(5),
        long_timeout: Duration::from_secs(5),
        read_retries: 2,
        retry_backoff: Duration::from_millis(10),
        page_concurrency: 4,
    }
}

async fn serve(mut stream: TcpStream, handler: Arc<Handler>, seen: Arc<Mutex<Vec<Seen>>>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    seen.lock().expect("lock").push(request.clone());
    let mut answer = handler(&request);
    while let Answer::Later(pause, then) = answer {
        tokio::time::sleep(pause).await;
        answer = *then;
    }
    match answer {
        Answer::Later(..) => {}
        Answer::Silent => tokio::time::sleep(Duration::from_secs(120)).await,
        Answer::Respond {
            status,
            headers,
            body,
        } => {
            let mut head = format!("HTTP/1.1 {status} Canned\r\nConnection: close\r\n");
            for (name, value) in &headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            if request.method != "HEAD"
                || !headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            {
                head.push_str(&format!(
                    "Content-Length: {}\r\n",
                    if request.method == "HEAD" {
                        0
                    } else {
                        body.len()
                    }
                ));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes()).await;
            if request.method != "HEAD" {
                let _ = stream.write_all(&body).await;
            }
            let _ = stream.shutdown().await;
        }
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_string();
    let target = request_line.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

/// A VM record as VMAPI renders it (trimmed to a realistic dozen keys).
pub fn vm_json(i: usize) -> String {
    format!(
        r#"{{"uuid":"{:08x}-0000-4000-8000-000000000000","alias":"vm{i}","autoboot":true,"brand":"joyent-minimal","state":"running","server_uuid":"564d4374-d703-b97b-ca9f-7375f05f337c","owner_uuid":"930896af-bf8c-48d4-885c-6573a94b1853","tags":{{"smartdc_role":"moray","smartdc_type":"core"}},"max_physical_memory":1024,"quota":10,"nics":[{{"interface":"net0","ip":"10.99.99.{}","primary":true}}],"customer_metadata":{{}},"internal_metadata":{{}}}}"#,
        i,
        i % 250
    )
}
