//! The ZooKeeper sessions the lab's in-zone agents hold (registrar, the
//! manatee sitter): detached, so that a power loss (the task aborted) sends
//! no close and the agent's ephemeral nodes stay until the session expires,
//! as they do when a real server dies.

use std::time::Duration;

use tokio::sync::oneshot;
use zookeeper_client as zkc;

/// Between attempts to reach the ensemble.
const RETRY: Duration = Duration::from_secs(1);

/// A session to `ensemble`, retried until it connects; each failure is told
/// to `failed`. None once `stopped` fires first.
pub async fn connect(
    ensemble: &str,
    timeout: Duration,
    stopped: &mut oneshot::Receiver<()>,
    mut failed: impl FnMut(String),
) -> Option<zkc::Client> {
    loop {
        let connected = zkc::Client::connector()
            .with_session_timeout(timeout)
            .with_detached()
            .connect(ensemble);
        let result = tokio::select! {
            _ = &mut *stopped => return None,
            c = connected => c,
        };
        match result {
            Ok(client) => return Some(client),
            Err(e) => failed(format!("ZooKeeper {ensemble}: {e}")),
        }
        tokio::select! {
            _ = &mut *stopped => return None,
            _ = tokio::time::sleep(RETRY) => {}
        }
    }
}
