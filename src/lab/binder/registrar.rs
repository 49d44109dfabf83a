//! A lab instance's registrar: its own ZooKeeper session, holding the
//! records registrar holds for the real instance (`registration.rs`),
//! registered in registrar's steps and kept with its heartbeat
//! (ha-core.md §5.3).
//!
//! Stopping the instance is `svcadm disable registrar`: its host record goes
//! at once. A power loss (`kill`) drops the connection without a word, and
//! the record stays until ZooKeeper expires the session (10 s in the lab).
//! A lost session is what makes registrar exit and SMF restart it: here the
//! loop registers again on a new session.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use zookeeper_client as zkc;

use super::registration::{Naming, Registration, registration};
use crate::lab::error::LabError;
use crate::lab::instance_process::{Health, InstanceProcess};
use crate::lab::world::{SharedWorld, World};
use crate::lab::{zk_session, zookeeper_process};

/// Registrar's own setting; the lab's ZooKeeper caps it at 10 s.
const SESSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Registrar stats its nodes this often.
const HEARTBEAT: Duration = Duration::from_secs(3);
/// Between unlinking the old nodes and creating the new ones.
const SETTLE: Duration = Duration::from_secs(1);

pub struct RegistrarProcess {
    alias: String,
    world: SharedWorld,
    running: Option<Running>,
    state: Arc<Mutex<State>>,
}

struct Running {
    task: JoinHandle<()>,
    stop: oneshot::Sender<()>,
}

#[derive(Clone, Debug)]
enum State {
    Registering(String),
    Registered,
}

/// How one session ended.
enum Ended {
    /// Asked to stop: the records are removed.
    Stopped,
    /// The session or the connection was lost: register again.
    Lost(String),
}

impl RegistrarProcess {
    pub fn new(alias: &str, world: SharedWorld) -> RegistrarProcess {
        RegistrarProcess {
            alias: alias.to_string(),
            world,
            running: None,
            state: Arc::new(Mutex::new(State::Registering("not started".into()))),
        }
    }
}

/// The aliases of the instances whose real counterparts run registrar:
/// every instance of the `sdc` application that has a VM.
pub fn registering_aliases(w: &World) -> Vec<String> {
    w.instances()
        .iter()
        .filter_map(|i| i.alias())
        .filter(|alias| w.vm_by_alias(alias).is_some())
        .map(str::to_string)
        .collect()
}

/// What this instance registers, and with which ensemble.
fn plan(w: &World, alias: &str) -> Result<(Registration, String), String> {
    let instance = w
        .instances()
        .iter()
        .find(|i| i.alias() == Some(alias))
        .ok_or_else(|| format!("no instance {alias}"))?;
    let service = w
        .service_name_of(&instance.uuid)
        .ok_or_else(|| format!("{alias} has no service"))?;
    let vm = w
        .vm_by_alias(alias)
        .ok_or_else(|| format!("{alias} has no VM"))?;
    let ip = vm
        .primary_ip()
        .ok_or_else(|| format!("{alias} has no IP"))?;
    let naming = Naming {
        datacenter_name: w.config.datacenter_name.clone(),
        dns_domain: w.config.dns_domain.clone(),
    };
    let ensemble = zookeeper_process::ensemble(w).join(",");
    if ensemble.is_empty() {
        return Err("SAPI names no ZooKeeper (ZK_SERVERS is empty)".into());
    }
    Ok((registration(&naming, service, &vm.uuid, ip), ensemble))
}

impl InstanceProcess for RegistrarProcess {
    fn alias(&self) -> &str {
        &self.alias
    }

    fn role(&self) -> &'static str {
        "registrar"
    }

    fn start(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            if self.running.as_ref().is_some_and(|r| !r.task.is_finished()) {
                return Ok(());
            }
            let alias = self.alias.clone();
            let (registration, ensemble) = self
                .world
                .with(|w| plan(w, &alias))
                .map_err(|why| LabError::Other(format!("registrar of {alias}: {why}")))?;
            set(
                &self.state,
                State::Registering("connecting to ZooKeeper".into()),
            );
            let (stop, stopped) = oneshot::channel();
            let task = tokio::spawn(run(registration, ensemble, self.state.clone(), stopped));
            self.running = Some(Running { task, stop });
            Ok(())
        }
        .boxed()
    }

    fn stop(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            if let Some(running) = self.running.take() {
                let _ = running.stop.send(());
                let mut task = running.task;
                if tokio::time::timeout(Duration::from_secs(3), &mut task)
                    .await
                    .is_err()
                {
                    task.abort();
                }
            }
            set(&self.state, State::Registering("stopped".into()));
            Ok(())
        }
        .boxed()
    }

    fn kill(&mut self) -> BoxFuture<'_, Result<(), LabError>> {
        async move {
            // The session is detached: dropping it sends no close, so
            // ZooKeeper keeps the records until the session expires.
            if let Some(running) = self.running.take() {
                running.task.abort();
            }
            set(&self.state, State::Registering("killed".into()));
            Ok(())
        }
        .boxed()
    }

    fn port(&self) -> Option<u16> {
        None
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        let state = self.state.lock().map(|s| s.clone()).map_err(|_| ());
        let running = self.running.is_some();
        async move {
            match (running, state) {
                (false, _) => Health::Down,
                (true, Ok(State::Registered)) => Health::Up,
                (true, Ok(State::Registering(why))) => {
                    Health::Failing(format!("registrar has not registered yet: {why}"))
                }
                (true, Err(_)) => Health::Failing("registrar's state is unreadable".into()),
            }
        }
        .boxed()
    }
}

fn set(state: &Mutex<State>, new: State) {
    if let Ok(mut s) = state.lock() {
        *s = new;
    }
}

/// Registers, heartbeats, and registers again after a lost session, until
/// asked to stop.
async fn run(
    registration: Registration,
    ensemble: String,
    state: Arc<Mutex<State>>,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        let failed = |why: String| set(&state, State::Registering(why));
        let Some(client) =
            zk_session::connect(&ensemble, SESSION_TIMEOUT, &mut stopped, failed).await
        else {
            return;
        };
        match session(&client, &registration, &state, &mut stopped).await {
            Ended::Stopped => {
                let _ = client.delete(&registration.host_path, None).await;
                return;
            }
            Ended::Lost(why) => set(&state, State::Registering(why)),
        }
    }
}

/// Registrar's steps on one session, then its heartbeat.
async fn session(
    client: &zkc::Client,
    r: &Registration,
    state: &Mutex<State>,
    stopped: &mut oneshot::Receiver<()>,
) -> Ended {
    // 1. Unlink the old nodes; 2. wait.
    if let Err(e) = ignore(client.delete(&r.host_path, None).await, zkc::Error::NoNode) {
        return Ended::Lost(format!("unlinking {}: {e}", r.host_path));
    }
    tokio::select! {
        _ = &mut *stopped => return Ended::Stopped,
        _ = tokio::time::sleep(SETTLE) => {}
    }
    // 3. mkdirp the parents; 4. the ephemeral; 5. the service record.
    if let Err(e) = mkdirp(client, &r.path).await {
        return Ended::Lost(format!("creating {}: {e}", r.path));
    }
    let host = serde_json::to_vec(&r.host_record).unwrap_or_default();
    let ephemeral = zkc::CreateMode::Ephemeral.with_acls(zkc::Acls::anyone_all());
    if let Err(e) = client.create(&r.host_path, &host, &ephemeral).await {
        return Ended::Lost(format!("creating {}: {e}", r.host_path));
    }
    if let Some(service) = &r.service_record {
        let data = serde_json::to_vec(service).unwrap_or_default();
        if let Err(e) = client.set_data(&r.path, &data, None).await {
            return Ended::Lost(format!("writing {}: {e}", r.path));
        }
    }
    set(state, State::Registered);
    loop {
        tokio::select! {
            _ = &mut *stopped => return Ended::Stopped,
            _ = tokio::time::sleep(HEARTBEAT) => {}
        }
        match client.check_stat(&r.host_path).await {
            Ok(Some(_)) => {}
            Ok(None) => return Ended::Lost(format!("{} vanished", r.host_path)),
            Err(e) => return Ended::Lost(format!("heartbeat: {e}")),
        }
    }
}

async fn mkdirp(client: &zkc::Client, path: &str) -> Result<(), zkc::Error> {
    let persistent = zkc::CreateMode::Persistent.with_acls(zkc::Acls::anyone_all());
    let mut prefix = String::new();
    for label in path.split('/').filter(|l| !l.is_empty()) {
        prefix.push('/');
        prefix.push_str(label);
        ignore(
            client.create(&prefix, &[], &persistent).await.map(|_| ()),
            zkc::Error::NodeExists,
        )?;
    }
    Ok(())
}

/// `Ok` for the one error that means "already as wanted".
fn ignore(result: Result<(), zkc::Error>, harmless: zkc::Error) -> Result<(), zkc::Error> {
    match result {
        Err(e) if e == harmless => Ok(()),
        other => other,
    }
}
