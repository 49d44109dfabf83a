//! An API twin (SAPI, VMAPI, CNAPI) served on its instance's admin IP, the
//! way the real service answers on its zone's address. Stopping it closes
//! the listener: clients then see "connection refused", as with a stopped
//! zone.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use axum::Router;
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::lab::error::LabError;
use crate::lab::instance_process::{Health, InstanceProcess};

/// The port the real APIs use; binding it needs root (or CAP_NET_BIND_SERVICE).
const HTTP_PORT: u16 = 80;

pub struct ApiListener {
    alias: String,
    ip: Ipv4Addr,
    /// Once chosen, kept: the published URL must not change when the
    /// instance restarts.
    port: Option<u16>,
    router: Router,
    running: Option<Running>,
}

struct Running {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl ApiListener {
    pub fn new(alias: &str, ip: Ipv4Addr, port: Option<u16>, router: Router) -> ApiListener {
        ApiListener {
            alias: alias.to_string(),
            ip,
            port,
            router,
            running: None,
        }
    }

    /// `http://IP` on port 80 (as the real URLs are), else `http://IP:PORT`.
    pub fn url(&self) -> String {
        match self.port {
            Some(HTTP_PORT) | None => format!("http://{}", self.ip),
            Some(port) => format!("http://{}:{port}", self.ip),
        }
    }

    async fn bind(&self) -> Result<TcpListener, LabError> {
        let mut candidates = Vec::new();
        if let Some(port) = self.port {
            candidates.push(port);
        }
        candidates.extend([HTTP_PORT, 0]);
        let mut last_error = None;
        for port in candidates {
            let addr = SocketAddrV4::new(self.ip, port);
            match TcpListener::bind(addr).await {
                Ok(listener) => return Ok(listener),
                Err(e)
                    if matches!(e.kind(), ErrorKind::PermissionDenied | ErrorKind::AddrInUse) =>
                {
                    last_error = Some((addr, e));
                }
                Err(cause) => {
                    return Err(LabError::Listen {
                        addr: addr.to_string(),
                        cause,
                    });
                }
            }
        }
        let (addr, cause) = last_error.unwrap_or_else(|| {
            (
                SocketAddrV4::new(self.ip, 0),
                std::io::Error::other("no port to try"),
            )
        });
        Err(LabError::Listen {
            addr: addr.to_string(),
            cause,
        })
    }
}

impl InstanceProcess for ApiListener {
    fn alias(&self) -> &str {
        &self.alias
    }

    fn role(&self) -> &'static str {
        "api"
    }

    fn start(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            if self.running.is_some() {
                return Ok(());
            }
            let listener = self.bind().await?;
            let bound = listener.local_addr().map_err(|cause| LabError::Listen {
                addr: self.ip.to_string(),
                cause,
            })?;
            self.port = Some(bound.port());
            let shutdown = CancellationToken::new();
            let service = self.router.clone().into_make_service();
            let signal = shutdown.clone().cancelled_owned();
            let task = tokio::spawn(async move {
                let _ = axum::serve(listener, service)
                    .with_graceful_shutdown(signal)
                    .await;
            });
            self.running = Some(Running { shutdown, task });
            Ok(())
        }
        .boxed()
    }

    fn stop(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            if let Some(running) = self.running.take() {
                running.shutdown.cancel();
                let abort = running.task.abort_handle();
                // In-flight requests get a moment to finish; a client holding
                // a connection open must not keep a stopped API answering.
                if tokio::time::timeout(Duration::from_secs(2), running.task)
                    .await
                    .is_err()
                {
                    abort.abort();
                }
            }
            Ok(())
        }
        .boxed()
    }

    fn port(&self) -> Option<u16> {
        self.port
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        async move {
            let (Some(port), Some(_)) = (self.port, self.running.as_ref()) else {
                return Health::Down;
            };
            let addr = SocketAddr::from((self.ip, port));
            match tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(addr)).await {
                Ok(Ok(_)) => Health::Up,
                Ok(Err(e)) => Health::Failing(format!("connect {addr}: {e}")),
                Err(_) => Health::Failing(format!("connect {addr}: no answer within 1s")),
            }
        }
        .boxed()
    }
}
