//! A ZooKeeper session with the datacenter's ensemble (binder's servers),
//! opened on first use from a connection string `ip:port,…`, as manatee-adm
//! and registrar connect (zookeeper-client crate).
//!
//! Reads (`get`, `children`, `stat`, `exists`) and one write, manatee's:
//! `set_with_history`, a test-and-set plus its history node. A failure is one line
//! that says which of the usual things went wrong: every member refuses
//! connections, members answer but do not serve (no quorum), the session
//! expired, or the znode does not exist. To tell the first two apart the
//! members are asked `srvr` (`zk_admin.rs`), as an operator would.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Mutex;
use zookeeper_client as zkc;

use crate::dc::gate::{MutationGate, Permit, RecordedRequest, Refusal};
use crate::dc::zk_admin::{self, ZkAdminError};

/// The session timeout asked for; the server caps it between its
/// min/maxSessionTimeout (Triton: 4 s … 40 s; the lab: 1 s … 10 s).
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// One read, connection included, gives up after this.
const CALL_TIMEOUT: Duration = Duration::from_secs(8);

/// A read whose session was lost (the ensemble re-electing after a member
/// went: under load, reads failed for a good half second) is asked again
/// after this pause, until CALL_TIMEOUT.
const RETRY_PAUSE: Duration = Duration::from_millis(300);

/// When a majority of the members answer but none serves, the ensemble is
/// electing a leader (seconds, after a member's server is lost): a call
/// waits this long for it before it says there is no quorum.
const ELECTION_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZkError {
    #[error(
        "no ZooKeeper members are known (set ZK_IPS, or give the profile a `zk` list or its `binder` addresses)"
    )]
    NoMembers,

    #[error("ZooKeeper {ensemble}: connection refused by every member (is ZooKeeper running?)")]
    Refused { ensemble: String },

    #[error(
        "ZooKeeper {ensemble}: the server answers but does not serve requests (no quorum: {detail})"
    )]
    NoQuorum {
        ensemble: String,
        detail: String,
        /// How many members answer (serving or not): a majority of them
        /// is an ensemble electing a leader, which a moment will fix.
        answering: usize,
    },

    #[error(
        "ZooKeeper {ensemble}: the session expired (the ensemble dropped it); the next call opens a new one"
    )]
    SessionExpired { ensemble: String },

    #[error("ZooKeeper {ensemble}: no node {path}")]
    NoNode { ensemble: String, path: String },

    #[error("ZooKeeper {ensemble}: {path} changed since it was read (version {version})")]
    BadVersion {
        ensemble: String,
        path: String,
        version: i32,
    },

    #[error("ZooKeeper {ensemble}: setData {path}: not sent (dry run)")]
    NotSent { ensemble: String, path: String },

    #[error("ZooKeeper {ensemble}: setData {path}: refused: checks may not change the datacenter")]
    Denied { ensemble: String, path: String },

    #[error("ZooKeeper {ensemble}: {path}: {detail}")]
    Failed {
        ensemble: String,
        path: String,
        detail: String,
    },
}

/// A znode's stat, named as ZooKeeper names its fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ZnodeStat {
    pub czxid: i64,
    pub mzxid: i64,
    pub pzxid: i64,
    /// Milliseconds since the epoch.
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    pub cversion: i32,
    pub aversion: i32,
    /// The owning session (hex) of an ephemeral node; None for a persistent one.
    pub ephemeral_owner: Option<String>,
    pub data_length: i32,
    pub num_children: i32,
}

impl From<&zkc::Stat> for ZnodeStat {
    fn from(s: &zkc::Stat) -> ZnodeStat {
        ZnodeStat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            pzxid: s.pzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion,
            aversion: s.aversion,
            ephemeral_owner: (s.ephemeral_owner != 0).then(|| format!("{:#x}", s.ephemeral_owner)),
            data_length: s.data_length,
            num_children: s.num_children,
        }
    }
}

/// The ensemble and, once opened, the session with it.
#[derive(Clone)]
pub struct ZkEnsemble {
    members: Vec<String>,
    session_timeout: Duration,
    session: Arc<Mutex<Option<zkc::Client>>>,
    /// The datacenter's mutation gate: every write asks it first.
    gate: MutationGate,
}

impl std::fmt::Debug for ZkEnsemble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZkEnsemble")
            .field("members", &self.members)
            .finish()
    }
}

impl ZkEnsemble {
    /// `members` as `ip:port` (or `ip`, for port 2181); the session timeout
    /// asked for ([`SESSION_TIMEOUT`] unless a check wants a shorter one);
    /// the gate every write passes (the datacenter's).
    pub fn new(members: &[String], session_timeout: Duration, gate: MutationGate) -> ZkEnsemble {
        ZkEnsemble {
            members: members.iter().map(|m| zk_admin::with_port(m)).collect(),
            session_timeout,
            session: Arc::new(Mutex::new(None)),
            gate,
        }
    }

    pub fn members(&self) -> &[String] {
        &self.members
    }

    /// The connection string: `ip:port,ip:port,…`.
    pub fn connect_string(&self) -> String {
        self.members.join(",")
    }

    /// The znode's data and stat.
    pub async fn get(&self, path: &str) -> Result<(Vec<u8>, ZnodeStat), ZkError> {
        self.call(path, Retry::OnConnectionLoss, |client, path| async move {
            client
                .get_data(&path)
                .await
                .map(|(data, stat)| (data, ZnodeStat::from(&stat)))
        })
        .await
    }

    /// The znode's children, sorted.
    pub async fn children(&self, path: &str) -> Result<Vec<String>, ZkError> {
        let mut children = self
            .call(path, Retry::OnConnectionLoss, |client, path| async move {
                client.list_children(&path).await
            })
            .await?;
        children.sort();
        Ok(children)
    }

    pub async fn stat(&self, path: &str) -> Result<ZnodeStat, ZkError> {
        match self.exists(path).await? {
            Some(stat) => Ok(stat),
            None => Err(ZkError::NoNode {
                ensemble: self.connect_string(),
                path: path.to_string(),
            }),
        }
    }

    /// Every znode under `path` (itself included), sorted: what a backup
    /// must keep and a reconfiguration must not lose. A node deleted while
    /// the tree is read is left out.
    pub async fn tree(&self, path: &str) -> Result<Vec<String>, ZkError> {
        let mut found = Vec::new();
        let mut queue = vec![path.to_string()];
        while let Some(node) = queue.pop() {
            let children = match self.children(&node).await {
                Ok(children) => children,
                Err(ZkError::NoNode { .. }) if node != path => continue,
                Err(e) => return Err(e),
            };
            let parent = node.trim_end_matches('/');
            queue.extend(children.iter().map(|c| format!("{parent}/{c}")));
            found.push(node);
        }
        found.sort();
        Ok(found)
    }

    /// The stat, or None when the znode does not exist.
    pub async fn exists(&self, path: &str) -> Result<Option<ZnodeStat>, ZkError> {
        self.call(path, Retry::OnConnectionLoss, |client, path| async move {
            client
                .check_stat(&path)
                .await
                .map(|stat| stat.as_ref().map(ZnodeStat::from))
        })
        .await
    }

    /// manatee's write (ha-core §1.4): in one `multi`, `setData(path,
    /// data, version)` — refused if anyone wrote since `version` was read —
    /// and a PERSISTENT_SEQUENTIAL `history_prefix` node with the same data.
    /// `change` is what the write changes, as a plan shows it. Returns the
    /// history node's path.
    pub async fn set_with_history(
        &self,
        path: &str,
        data: &[u8],
        version: i32,
        history_prefix: &str,
        change: serde_json::Value,
    ) -> Result<String, ZkError> {
        let request = RecordedRequest {
            api: "ZooKeeper",
            method: "setData".into(),
            path: path.to_string(),
            body: Some(change),
        };
        let permit = self.gate.permit(request).map_err(|refusal| {
            let (ensemble, path) = (self.connect_string(), path.to_string());
            match refusal {
                Refusal::NotSent => ZkError::NotSent { ensemble, path },
                Refusal::Denied => ZkError::Denied { ensemble, path },
            }
        })?;
        self.multi_set_with_history(permit, path, data, version, history_prefix)
            .await
    }

    async fn multi_set_with_history(
        &self,
        _permit: Permit,
        path: &str,
        data: &[u8],
        version: i32,
        history_prefix: &str,
    ) -> Result<String, ZkError> {
        let bad_version = || ZkError::BadVersion {
            ensemble: self.connect_string(),
            path: path.to_string(),
            version,
        };
        let history = history_prefix.to_string();
        let result = self
            .call(path, Retry::Never, |client, path| {
                let history = history.clone();
                async move {
                    let sequential =
                        zkc::CreateMode::PersistentSequential.with_acls(zkc::Acls::anyone_all());
                    let mut multi = client.new_multi_writer();
                    multi.add_set_data(&path, data, Some(version))?;
                    multi.add_create(&history, data, &sequential)?;
                    match multi.commit().await {
                        Ok(results) => Ok(Ok(results)),
                        Err(zkc::MultiWriteError::OperationFailed {
                            index: 0,
                            source: zkc::Error::BadVersion,
                        }) => Ok(Err(())),
                        Err(e) => Err(zkc::Error::from(e)),
                    }
                }
            })
            .await?;
        let results = result.map_err(|()| bad_version())?;
        Ok(results
            .into_iter()
            .find_map(|r| match r {
                zkc::MultiWriteResult::Create { path, .. } => Some(path),
                _ => None,
            })
            .unwrap_or_default())
    }

    async fn call<T, F, Fut>(&self, path: &str, retry: Retry, op: F) -> Result<T, ZkError>
    where
        F: Fn(zkc::Client, String) -> Fut,
        Fut: std::future::Future<Output = Result<T, zkc::Error>>,
    {
        let failed = |detail: String| ZkError::Failed {
            ensemble: self.connect_string(),
            path: path.to_string(),
            detail,
        };
        if !path.starts_with('/') {
            return Err(failed(
                "a znode path starts with / (for example /manatee/sdc/state)".into(),
            ));
        }
        let started = tokio::time::Instant::now();
        let mut deadline = started + CALL_TIMEOUT;
        // Once a session was lost the ensemble is asked again until the
        // deadline; an ensemble never reached fails at once, with why —
        // unless it is electing a leader, which is waited out.
        let mut was_connected = false;
        let mut said_waiting = false;
        let mut wait_out_election = |error: &ZkError, may_wait: bool| {
            let ZkError::NoQuorum { answering, .. } = error else {
                return false;
            };
            let limit = started + ELECTION_WAIT;
            let electing = may_wait
                && *answering > self.members.len() / 2
                && tokio::time::Instant::now() + RETRY_PAUSE < limit;
            if electing && !said_waiting {
                eprintln!(
                    "ZooKeeper {}: {answering} of {} members answer and are electing a leader; waiting up to {} s",
                    self.connect_string(),
                    self.members.len(),
                    ELECTION_WAIT.as_secs()
                );
                said_waiting = true;
            }
            electing
        };
        loop {
            let attempt = async {
                let client = self.client().await?;
                op(client, path.to_string()).await.map_err(|e| (e, true))
            };
            match tokio::time::timeout_at(deadline, attempt).await {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err((error, had_session))) => {
                    was_connected |= had_session;
                    let again = retry == Retry::OnConnectionLoss
                        && was_connected
                        && is_connection_trouble(&error)
                        && tokio::time::Instant::now() + RETRY_PAUSE < deadline;
                    if again {
                        *self.session.lock().await = None;
                        tokio::time::sleep(RETRY_PAUSE).await;
                        continue;
                    }
                    let error = self.explain(path, error, had_session).await;
                    // A write never reached a server without a session.
                    let may_wait = retry == Retry::OnConnectionLoss || !had_session;
                    if wait_out_election(&error, may_wait) {
                        deadline = deadline.max(started + ELECTION_WAIT);
                        tokio::time::sleep(RETRY_PAUSE).await;
                        continue;
                    }
                    return Err(error);
                }
                Err(_) => {
                    let waited = format!("no answer within {}s", CALL_TIMEOUT.as_secs());
                    let error = self.diagnose(path, waited).await;
                    if wait_out_election(&error, retry == Retry::OnConnectionLoss) {
                        deadline = deadline.max(started + ELECTION_WAIT);
                        continue;
                    }
                    return Err(error);
                }
            }
        }
    }

    /// The open session, or a new one when there is none (or it was closed);
    /// an expired one is reported, then dropped. An error says whether a
    /// session existed (then it is dropped on a connection loss, so the
    /// next call starts clean).
    async fn client(&self) -> Result<zkc::Client, (zkc::Error, bool)> {
        let mut session = self.session.lock().await;
        if let Some(client) = session.as_ref() {
            match client.state() {
                // Said once: whatever relied on the session (its ephemeral
                // nodes, its watches) is gone. The next call starts afresh.
                zkc::SessionState::Expired => {
                    *session = None;
                    return Err((zkc::Error::SessionExpired, true));
                }
                zkc::SessionState::Closed | zkc::SessionState::AuthFailed => *session = None,
                _ => return Ok(client.clone()),
            }
        }
        if self.members.is_empty() {
            return Err((zkc::Error::NoHosts, false));
        }
        let client = zkc::Client::connector()
            .with_session_timeout(self.session_timeout)
            .with_connection_timeout(Duration::from_secs(2))
            .with_fail_eagerly()
            .connect(&self.connect_string())
            .await
            .map_err(|e| (e, false))?;
        *session = Some(client.clone());
        Ok(client)
    }

    async fn explain(&self, path: &str, error: zkc::Error, had_session: bool) -> ZkError {
        let ensemble = self.connect_string();
        match error {
            _ if self.members.is_empty() => ZkError::NoMembers,
            zkc::Error::NoNode => ZkError::NoNode {
                ensemble,
                path: path.to_string(),
            },
            zkc::Error::SessionExpired => {
                *self.session.lock().await = None;
                ZkError::SessionExpired { ensemble }
            }
            ref e if is_connection_trouble(e) => {
                if had_session {
                    *self.session.lock().await = None;
                }
                self.diagnose(path, error.to_string()).await
            }
            other => ZkError::Failed {
                ensemble,
                path: path.to_string(),
                detail: other.to_string(),
            },
        }
    }

    /// Why no member gave a session (or an answer), asked the way an
    /// operator would, `srvr` on each: all refuse connections, some answer
    /// without serving, or what each one did instead; `fallback` (what the
    /// client said) when every member looks healthy.
    async fn diagnose(&self, path: &str, fallback: String) -> ZkError {
        let answers =
            futures::future::join_all(self.members.iter().map(|m| zk_admin::srvr(m))).await;
        let ensemble = self.connect_string();
        if answers
            .iter()
            .all(|a| matches!(a, Err(ZkAdminError::Refused { .. })))
        {
            return ZkError::Refused { ensemble };
        }
        let not_serving: Vec<&str> = self
            .members
            .iter()
            .zip(&answers)
            .filter(|(_, a)| matches!(a, Err(ZkAdminError::NotServing { .. })))
            .map(|(m, _)| m.as_str())
            .collect();
        if !not_serving.is_empty() && answers.iter().all(Result::is_err) {
            let detail = format!("{} not currently serving requests", not_serving.join(", "));
            let answering = answers
                .iter()
                .filter(|a| a.is_ok() || matches!(a, Err(ZkAdminError::NotServing { .. })))
                .count();
            return ZkError::NoQuorum {
                ensemble,
                detail,
                answering,
            };
        }
        let problems: Vec<String> = answers
            .iter()
            .filter_map(|a| a.as_ref().err().map(ToString::to_string))
            .collect();
        let detail = if problems.is_empty() {
            fallback
        } else {
            format!("{fallback}: {}", problems.join("; "))
        };
        ZkError::Failed {
            ensemble,
            path: path.to_string(),
            detail,
        }
    }
}

/// Reads are asked again after a lost session; a write is not, as it may
/// have been applied before its answer was lost.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    OnConnectionLoss,
    Never,
}

/// No answer because of the connection, not because of the request.
fn is_connection_trouble(error: &zkc::Error) -> bool {
    matches!(
        error,
        zkc::Error::NoHosts
            | zkc::Error::Timeout
            | zkc::Error::ConnectionLoss
            | zkc::Error::ClientClosed
    )
}
