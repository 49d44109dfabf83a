//! Workflow jobs as VMAPI shows them (apis.md §3.9): a planned chain of tasks run over time.
//!
//! A job's timeline is fixed at creation (`created_at` + `duration_ms`), so progress can be
//! computed from the clock alone — after a lab restart an overdue job simply finishes. What a
//! task *does* (check a VM's state, start it, …) is decided by the world when the task runs.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::ordered::Obj;
use super::time::iso;

/// What the job is for; decides its name and its task chain.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    Provision,
    Start,
    Stop,
    Reboot,
    Destroy,
    /// A new image under the same VM: its root dataset is replaced and it
    /// boots again, keeping its uuid, IPs and delegated dataset.
    Reprovision,
    ServerReboot,
}

impl JobKind {
    /// `<workflow>-<version>` as the real workflows are named.
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Provision => "provision-8.2.4",
            JobKind::Start => "start-7.0.8",
            JobKind::Stop => "stop-7.0.8",
            JobKind::Reboot => "reboot-7.0.6",
            JobKind::Destroy => "destroy-7.1.6",
            JobKind::Reprovision => "reprovision-7.0.4",
            JobKind::ServerReboot => "server-reboot-1.2.0",
        }
    }

    /// The `task` param (what `GET /jobs?task=` matches).
    pub fn task(self) -> &'static str {
        match self {
            JobKind::Provision => "provision",
            JobKind::Start => "start",
            JobKind::Stop => "stop",
            JobKind::Reboot => "reboot",
            JobKind::Destroy => "destroy",
            JobKind::Reprovision => "reprovision",
            JobKind::ServerReboot => "server-reboot",
        }
    }

    pub fn timeout(self) -> u64 {
        match self {
            JobKind::Provision => 3810,
            JobKind::Destroy => 350,
            JobKind::ServerReboot => 3600,
            _ => 530,
        }
    }

    /// Task names, in order.
    pub fn chain(self) -> &'static [&'static str] {
        const VM_PREFIX: [&str; 4] = [
            "common.validate_params",
            "common.setup_request",
            "cnapi.acquire_vm_ticket",
            "cnapi.wait_on_vm_ticket",
        ];
        match self {
            JobKind::Provision => &[
                "common.validate_params",
                "workflow.set_job_action",
                "imgapi.generate_passwords",
                "cnapi.ensure_image",
                "cnapi.wait_task_ensure_image",
                "prepare_payload",
                "cnapi.provision_vm",
                "cnapi.wait_task",
                "volapi.add_volumes_references",
                "vmapi.put_vm",
                "fwapi.update",
                "cnapi.release_vm_ticket",
            ],
            JobKind::Start => &[
                VM_PREFIX[0],
                VM_PREFIX[1],
                VM_PREFIX[2],
                VM_PREFIX[3],
                "common.ensure_vm_state",
                "cnapi.start_vm",
                "cnapi.wait_task",
                "vmapi.check_state",
                "cnapi.release_vm_ticket",
            ],
            JobKind::Stop => &[
                VM_PREFIX[0],
                VM_PREFIX[1],
                VM_PREFIX[2],
                VM_PREFIX[3],
                "common.ensure_vm_state",
                "cnapi.stop_vm",
                "cnapi.wait_task",
                "vmapi.check_state",
                "cnapi.release_vm_ticket",
            ],
            JobKind::Reboot => &[
                VM_PREFIX[0],
                VM_PREFIX[1],
                VM_PREFIX[2],
                VM_PREFIX[3],
                "common.ensure_vm_state",
                "cnapi.reboot_vm",
                "cnapi.wait_task",
                "cnapi.release_vm_ticket",
            ],
            JobKind::Destroy => &[
                VM_PREFIX[0],
                VM_PREFIX[1],
                VM_PREFIX[2],
                VM_PREFIX[3],
                "cnapi.destroy_vm",
                "cnapi.wait_task",
                "vmapi.put_vm",
                "cnapi.release_vm_ticket",
            ],
            JobKind::Reprovision => &[
                VM_PREFIX[0],
                VM_PREFIX[1],
                VM_PREFIX[2],
                VM_PREFIX[3],
                "cnapi.ensure_image",
                "cnapi.wait_task_ensure_image",
                "cnapi.reprovision_vm",
                "cnapi.wait_task",
                "vmapi.put_vm",
                "cnapi.release_vm_ticket",
            ],
            JobKind::ServerReboot => &[
                "cnapi.check_server",
                "cnapi.reboot_server",
                "cnapi.wait_server_up",
            ],
        }
    }
}

/// `execution`: queued → running → succeeded | failed.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Execution {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl Execution {
    pub fn as_str(self) -> &'static str {
        match self {
            Execution::Queued => "queued",
            Execution::Running => "running",
            Execution::Succeeded => "succeeded",
            Execution::Failed => "failed",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Execution::Succeeded | Execution::Failed)
    }
}

/// One executed task: `error` is `""` on success, `result` is `""` on failure.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ChainResult {
    pub name: String,
    pub result: String,
    pub error: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
}

impl ChainResult {
    fn render(&self) -> Obj {
        let mut o = Obj::new();
        o.put("result", self.result.clone());
        match &self.error {
            None => o.put("error", ""),
            Some(m) => o.put("error", json!({"name": "Error", "message": m})),
        }
        o.put("name", self.name.clone());
        o.put("started_at", iso(&self.started_at));
        o.put("finished_at", iso(&self.finished_at));
        o
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Job {
    pub uuid: String,
    pub kind: JobKind,
    pub vm_uuid: Option<String>,
    pub server_uuid: Option<String>,
    /// start/stop/reboot with `idempotent=true`: the wrong state is a no-op, not a failure.
    pub idempotent: bool,
    pub params: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub execution: Execution,
    pub chain_results: Vec<ChainResult>,
}

impl Job {
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// Message of the last chain result's error, when the job failed.
    pub fn error_message(&self) -> Option<&str> {
        self.chain_results.last().and_then(|c| c.error.as_deref())
    }

    fn running_at(&self) -> DateTime<Utc> {
        self.created_at + Duration::milliseconds((self.duration_ms / 10) as i64)
    }

    /// When task `i` of the chain finishes.
    fn task_due(&self, i: usize) -> DateTime<Utc> {
        let n = self.kind.chain().len().max(1) as i64;
        let span = (self.duration_ms as i64) * 9 / 10;
        self.running_at() + Duration::milliseconds(span * (i as i64 + 1) / n)
    }

    /// The next moment this job changes, or None once it is terminal.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        match self.execution {
            Execution::Queued => Some(self.running_at()),
            Execution::Running => Some(self.task_due(self.chain_results.len())),
            _ => None,
        }
    }

    /// Moves to `running` if due. Returns the next task to run if it is due by `now`.
    pub(super) fn next_task(&mut self, now: DateTime<Utc>) -> Option<&'static str> {
        if self.execution == Execution::Queued && now >= self.running_at() {
            self.execution = Execution::Running;
        }
        if self.execution != Execution::Running {
            return None;
        }
        let i = self.chain_results.len();
        let name = self.kind.chain().get(i)?;
        (now >= self.task_due(i)).then_some(*name)
    }

    /// Records the outcome of the task `next_task` returned.
    pub(super) fn record(&mut self, name: &str, outcome: Result<String, String>) {
        let i = self.chain_results.len();
        let started_at = if i == 0 {
            self.running_at()
        } else {
            self.task_due(i - 1)
        };
        let finished_at = self.task_due(i);
        let (result, error) = match outcome {
            Ok(r) => (r, None),
            Err(e) => (String::new(), Some(e)),
        };
        let failed = error.is_some();
        self.chain_results.push(ChainResult {
            name: name.to_string(),
            result,
            error,
            started_at,
            finished_at,
        });
        if failed {
            self.execution = Execution::Failed;
        } else if self.chain_results.len() == self.kind.chain().len() {
            self.execution = Execution::Succeeded;
        }
    }

    /// The job as VMAPI's `GET /jobs/:uuid` returns it.
    pub fn render(&self) -> Obj {
        let mut o = Obj::new();
        o.put("name", self.name());
        o.put("uuid", self.uuid.clone());
        o.put("execution", self.execution.as_str());
        o.put("params", Value::Object(self.params.clone()));
        o.put("exec_after", iso(&self.created_at));
        o.put("created_at", iso(&self.created_at));
        o.put("timeout", self.kind.timeout());
        o.put_list(
            "chain_results",
            self.chain_results.iter().map(ChainResult::render).collect(),
        );
        o
    }
}
