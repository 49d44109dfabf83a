//! Running jobs: creating them, and performing each task of their chain when it falls due.
//!
//! Preconditions are checked *inside* the job, like the real workflows: stopping a stopped VM
//! is accepted over HTTP and the job then fails at `common.ensure_vm_state`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::World;
use super::job::{Execution, Job, JobKind};
use super::vm::VmState;

/// What CNAPI answers a task sent to a server without heartbeat; the workflow task fails with it.
const SERVER_NOT_RUNNING: &str = "Operation attempted on server which is not running";

/// Who a job works on, copied out of the job so the world can be borrowed mutably.
struct Target {
    kind: JobKind,
    vm_uuid: Option<String>,
    server_uuid: Option<String>,
    idempotent: bool,
    /// The image a reprovision puts under the VM.
    image_uuid: Option<String>,
}

impl World {
    /// Queues a job; it runs over `config.job_duration_ms`. Returns the job uuid.
    ///
    /// `extra` is merged into the job's `params` (e.g. the provision payload).
    pub fn start_job(
        &mut self,
        kind: JobKind,
        vm_uuid: Option<&str>,
        server_uuid: Option<&str>,
        idempotent: bool,
        extra: Map<String, Value>,
        request_id: &str,
    ) -> String {
        let uuid = Uuid::new_v4().to_string();
        let mut params = extra;
        params.insert("task".into(), json!(kind.task()));
        let vm = vm_uuid.and_then(|u| self.vm(u));
        if let Some(vm) = vm {
            params.insert(
                "target".into(),
                json!(format!("/{}-{}", kind.task(), vm.uuid)),
            );
            params.insert("vm_uuid".into(), json!(vm.uuid));
            params.insert("owner_uuid".into(), json!(vm.owner_uuid));
            params.insert("server_uuid".into(), json!(vm.server_uuid));
            params.insert("current_state".into(), json!(vm.state.as_str()));
        } else if let Some(s) = server_uuid {
            params.insert("server_uuid".into(), json!(s));
        }
        if idempotent {
            params.insert("idempotent".into(), json!(true));
        }
        params.insert("x-request-id".into(), json!(request_id));
        let server_uuid = server_uuid
            .map(str::to_string)
            .or_else(|| vm.and_then(|v| v.server_uuid.clone()));
        self.jobs.push(Job {
            uuid: uuid.clone(),
            kind,
            vm_uuid: vm_uuid.map(str::to_string),
            server_uuid,
            idempotent,
            params,
            created_at: Utc::now(),
            duration_ms: self.config.job_duration_ms,
            execution: Execution::Queued,
            chain_results: Vec::new(),
        });
        uuid
    }

    /// The earliest moment any unfinished job changes.
    pub fn next_job_due(&self) -> Option<DateTime<Utc>> {
        self.jobs.iter().filter_map(Job::next_due).min()
    }

    /// Runs every job task that is due by `now`. Returns true if any job changed.
    pub fn advance(&mut self, now: DateTime<Utc>) -> bool {
        let mut changed = false;
        for i in 0..self.jobs.len() {
            if self.jobs[i].execution.is_terminal() {
                continue;
            }
            let target = Target {
                kind: self.jobs[i].kind,
                vm_uuid: self.jobs[i].vm_uuid.clone(),
                server_uuid: self.jobs[i].server_uuid.clone(),
                idempotent: self.jobs[i].idempotent,
                image_uuid: self.jobs[i]
                    .params
                    .get("image_uuid")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            };
            loop {
                let before = self.jobs[i].execution;
                let Some(task) = self.jobs[i].next_task(now) else {
                    changed |= before != self.jobs[i].execution;
                    break;
                };
                let outcome = self.perform(&target, task);
                self.jobs[i].record(task, outcome);
                changed = true;
                if self.jobs[i].execution == Execution::Failed
                    && let (JobKind::Provision, Some(vm)) = (target.kind, &target.vm_uuid)
                {
                    self.update_vm(vm, |v| v.state = VmState::Failed);
                }
                if self.jobs[i].execution.is_terminal() {
                    break;
                }
            }
        }
        changed
    }

    fn server_check(&self, t: &Target) -> Result<(), String> {
        let Some(uuid) = &t.server_uuid else {
            return Err("VM has no server_uuid".to_string());
        };
        match self.server(uuid) {
            None => Err(format!("Server {uuid} not found")),
            Some(s) if !s.running => Err(SERVER_NOT_RUNNING.to_string()),
            Some(_) => Ok(()),
        }
    }

    fn perform(&mut self, t: &Target, task: &str) -> Result<String, String> {
        let vm_uuid = t.vm_uuid.clone().unwrap_or_default();
        let state = self.vm(&vm_uuid).map(|v| v.state);
        let now = Utc::now();
        let task_id = || Uuid::new_v4().to_string();
        match (t.kind, task) {
            (_, "common.validate_params") => Ok("All parameters OK!".into()),
            (_, "common.setup_request") => Ok("Request has been setup!".into()),
            (_, "workflow.set_job_action") => Ok("Action set".into()),
            (_, "imgapi.generate_passwords") => {
                Ok("No need to generate passwords for image".into())
            }
            (_, "cnapi.acquire_vm_ticket") | (_, "cnapi.wait_on_vm_ticket") => Ok("OK".into()),
            (_, "cnapi.release_vm_ticket") => Ok("OK - CNAPI ticket released successfully".into()),
            (_, "prepare_payload") => Ok("Payload prepared successfully".into()),
            (_, "volapi.add_volumes_references") => Ok("OK".into()),
            (_, "fwapi.update") => Ok("No properties affecting FWAPI found: not updating".into()),
            (_, "vmapi.put_vm") => Ok(format!("put VM {vm_uuid} to VMAPI")),
            (JobKind::Provision | JobKind::Reprovision, "cnapi.ensure_image") => self
                .server_check(t)
                .map(|_| "Ensure image task queued!".into()),
            (_, "cnapi.wait_task_ensure_image") => Ok("Job succeeded!".into()),
            (JobKind::Provision, "cnapi.provision_vm") => self
                .server_check(t)
                .map(|_| format!("Provision task: {} queued!", task_id())),
            (JobKind::Provision, "cnapi.wait_task") => {
                let platform = self.config.platform.clone();
                self.update_vm(&vm_uuid, |v| {
                    v.state = VmState::Running;
                    v.autoboot = Some(true);
                    v.boot_timestamp = Some(now);
                    v.platform_buildstamp = Some(platform);
                })
                .map(|_| "Job succeeded!".to_string())
                .ok_or_else(|| "VM not found".to_string())
            }
            // The zone halts while its root is replaced: what runs in it stops.
            (JobKind::Reprovision, "cnapi.reprovision_vm") => {
                self.server_check(t)?;
                self.update_vm(&vm_uuid, |v| {
                    v.state = VmState::Stopped;
                })
                .map(|_| format!("Reprovision task id: {} queued!", task_id()))
                .ok_or_else(|| "VM not found".to_string())
            }
            (JobKind::Reprovision, "cnapi.wait_task") => {
                let image = t.image_uuid.clone();
                self.update_vm(&vm_uuid, |v| {
                    v.image_uuid = image;
                    v.state = VmState::Running;
                    v.autoboot = Some(true);
                    v.boot_timestamp = Some(now);
                })
                .map(|_| "Job succeeded!".to_string())
                .ok_or_else(|| "VM not found".to_string())
            }
            (JobKind::Start | JobKind::Stop | JobKind::Reboot, "common.ensure_vm_state") => {
                let Some(state) = state else {
                    return Err("VM not found".into());
                };
                let (verb, wanted) = match t.kind {
                    JobKind::Start => ("start", VmState::Stopped),
                    JobKind::Stop => ("stop", VmState::Running),
                    _ => ("reboot", VmState::Running),
                };
                if state == wanted || t.idempotent {
                    Ok(format!("VM is {}", state.as_str()))
                } else {
                    Err(format!(
                        "Cannot {verb} a VM from a '{}' state",
                        state.as_str()
                    ))
                }
            }
            (_, "cnapi.start_vm" | "cnapi.stop_vm" | "cnapi.reboot_vm" | "cnapi.destroy_vm") => {
                let what = task.trim_start_matches("cnapi.").trim_end_matches("_vm");
                let what = format!("{}{}", what[..1].to_uppercase(), &what[1..]);
                self.server_check(t)
                    .map(|_| format!("{what} task id: {} queued!", task_id()))
            }
            (JobKind::Start, "cnapi.wait_task") => {
                self.update_vm(&vm_uuid, |v| {
                    if v.state != VmState::Running {
                        v.boot_timestamp = Some(now);
                    }
                    v.state = VmState::Running;
                    v.autoboot = Some(true);
                });
                Ok("Job succeeded!".into())
            }
            (JobKind::Stop, "cnapi.wait_task") => {
                self.update_vm(&vm_uuid, |v| {
                    v.state = VmState::Stopped;
                    v.autoboot = Some(false);
                });
                Ok("Job succeeded!".into())
            }
            (JobKind::Reboot, "cnapi.wait_task") => {
                if state == Some(VmState::Running) {
                    self.reboot_vm(&vm_uuid);
                }
                Ok("Job succeeded!".into())
            }
            (JobKind::Destroy, "cnapi.wait_task") => {
                self.update_vm(&vm_uuid, |v| {
                    v.state = VmState::Destroyed;
                    v.destroyed = Some(now);
                    v.autoboot = Some(false);
                });
                Ok("Job succeeded!".into())
            }
            (_, "vmapi.check_state") => Ok(format!(
                "VM is {}",
                self.vm(&vm_uuid).map_or("unknown", |v| v.state.as_str())
            )),
            (JobKind::ServerReboot, "cnapi.check_server") => {
                self.server_check(t).map(|_| "Server is running".into())
            }
            (JobKind::ServerReboot, "cnapi.reboot_server") => {
                Ok(format!("Reboot task id: {} queued!", task_id()))
            }
            (JobKind::ServerReboot, "cnapi.wait_server_up") => {
                let server = t.server_uuid.clone().unwrap_or_default();
                if let Some(s) = self.server_mut(&server) {
                    s.last_boot = now;
                }
                let running: Vec<String> = self
                    .vms_on_server(&server)
                    .iter()
                    .filter(|v| v.state == VmState::Running)
                    .map(|v| v.uuid.clone())
                    .collect();
                for vm in running {
                    self.reboot_vm(&vm);
                }
                Ok("Server is running again".into())
            }
            (_, other) => Ok(format!("{other}: OK")),
        }
    }

    /// A reboot is a stop and a start: both are recorded so the lab restarts what runs inside.
    fn reboot_vm(&mut self, uuid: &str) {
        let now = Utc::now();
        self.update_vm(uuid, |v| v.state = VmState::Stopped);
        self.update_vm(uuid, |v| {
            v.state = VmState::Running;
            v.boot_timestamp = Some(now);
        });
    }
}
