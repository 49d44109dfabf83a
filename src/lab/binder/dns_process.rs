//! A binder instance's DNS server with its mirror: started and stopped with
//! the instance like its ZooKeeper, reading only its own co-located member
//! (binder talks to 127.0.0.1:2181 in its zone).
//!
//! The mirror is re-read from ZooKeeper on every change under it, so a
//! deleted registration leaves the answers at once. A read that fails (the
//! member lost its quorum, or is down) leaves the mirror as it was: binder
//! answers with the last data it had.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use hickory_server::server::Server;
use tokio::task::JoinHandle;
use zookeeper_client as zkc;

use super::answer::Zone;
use super::dns_server::{self, BinderDns};
use super::mirror::{Mirror, ZkNode};
use crate::lab::error::LabError;
use crate::lab::instance_process::{Health, InstanceProcess};
use crate::lab::world::SharedWorld;
use crate::lab::zookeeper_process::CLIENT_PORT;

/// A re-read even without a change event.
const SAFETY_REFRESH: Duration = Duration::from_secs(5);
/// Between attempts to reach the member.
const RETRY: Duration = Duration::from_millis(500);

/// Each running member's DNS address, by alias, for `lab status`.
pub type DnsAddresses = Arc<Mutex<BTreeMap<String, SocketAddr>>>;

pub struct BinderDnsProcess {
    alias: String,
    world: SharedWorld,
    published: DnsAddresses,
    /// Kept across restarts, so a member keeps its address.
    port: Option<u16>,
    running: Option<Running>,
}

struct Running {
    server: Server<BinderDns>,
    refresher: JoinHandle<()>,
}

impl BinderDnsProcess {
    pub fn new(alias: &str, world: SharedWorld, published: DnsAddresses) -> BinderDnsProcess {
        BinderDnsProcess {
            alias: alias.to_string(),
            world,
            published,
            port: None,
            running: None,
        }
    }

    fn publish(&self, address: Option<SocketAddr>) {
        if let Ok(mut all) = self.published.lock() {
            match address {
                Some(a) => all.insert(self.alias.clone(), a),
                None => all.remove(&self.alias),
            };
        }
    }
}

impl InstanceProcess for BinderDnsProcess {
    fn alias(&self) -> &str {
        &self.alias
    }

    fn role(&self) -> &'static str {
        "binder-dns"
    }

    fn start(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            if self.running.is_some() {
                return Ok(());
            }
            let alias = self.alias.clone();
            let (ip, dns_domain) = self
                .world
                .with(|w| {
                    let ip = w
                        .vm_by_alias(&alias)?
                        .primary_ip()?
                        .parse::<IpAddr>()
                        .ok()?;
                    Some((ip, w.config.dns_domain.clone()))
                })
                .ok_or_else(|| LabError::Other(format!("binder DNS of {alias}: it has no IP")))?;
            let mirror = Arc::new(RwLock::new(Mirror::new(&dns_domain)));
            let handler = BinderDns {
                mirror: mirror.clone(),
                zone: Zone { dns_domain },
            };
            let (server, address) =
                dns_server::serve(ip, self.port, handler)
                    .await
                    .map_err(|e| {
                        LabError::Other(format!(
                            "binder DNS of {alias}: cannot listen on {ip}: {}",
                            crate::lab::error::reason(&e)
                        ))
                    })?;
            self.port = Some(address.port());
            let member = format!("{ip}:{CLIENT_PORT}");
            let refresher = tokio::spawn(keep_mirror(member, mirror));
            self.running = Some(Running { server, refresher });
            self.publish(Some(address));
            Ok(())
        }
        .boxed()
    }

    fn stop(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            if let Some(mut running) = self.running.take() {
                running.refresher.abort();
                let _ = running.server.shutdown_gracefully().await;
            }
            self.publish(None);
            Ok(())
        }
        .boxed()
    }

    fn port(&self) -> Option<u16> {
        None
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        let up = self.running.is_some();
        async move { if up { Health::Up } else { Health::Down } }.boxed()
    }
}

/// Keeps `mirror` in line with the member's tree, for as long as it runs:
/// re-read on every change a persistent recursive watch reports (binder's
/// watchers, in one), and every few seconds in case an event was lost
/// across a reconnection (ZOOKEEPER-4698).
async fn keep_mirror(member: String, mirror: Arc<RwLock<Mirror>>) {
    let root = mirror
        .read()
        .map(|m| m.root_path())
        .unwrap_or_else(|p| p.into_inner().root_path());
    loop {
        let connected = zkc::Client::connector()
            .with_session_timeout(Duration::from_secs(30))
            .with_connection_timeout(Duration::from_secs(1))
            .connect(&member)
            .await;
        let Ok(client) = connected else {
            tokio::time::sleep(RETRY).await;
            continue;
        };
        let Ok(mut watcher) = client
            .watch(&root, zkc::AddWatchMode::PersistentRecursive)
            .await
        else {
            tokio::time::sleep(RETRY).await;
            continue;
        };
        loop {
            // A failed read (no quorum) keeps the mirror as it was.
            if let Ok(nodes) = read_tree(&client, &root).await {
                let mut m = mirror.write().unwrap_or_else(|p| p.into_inner());
                m.refresh(&nodes);
            }
            match tokio::time::timeout(SAFETY_REFRESH, watcher.changed()).await {
                Ok(event) if event.session_state.is_terminated() => break,
                Ok(_) | Err(_) => {}
            }
        }
    }
}

/// Every node under `root`, with its data; nodes that vanish while being
/// read are skipped, and a missing root is an empty tree.
async fn read_tree(client: &zkc::Client, root: &str) -> Result<Vec<ZkNode>, zkc::Error> {
    let mut nodes = Vec::new();
    let mut queue = vec![root.to_string()];
    while let Some(path) = queue.pop() {
        let data = match client.get_data(&path).await {
            Ok((data, _)) => data,
            Err(zkc::Error::NoNode) => continue,
            Err(e) => return Err(e),
        };
        let children = match client.list_children(&path).await {
            Ok(children) => children,
            Err(zkc::Error::NoNode) => continue,
            Err(e) => return Err(e),
        };
        queue.extend(children.into_iter().map(|c| format!("{path}/{c}")));
        nodes.push(ZkNode { path, data });
    }
    Ok(nodes)
}
