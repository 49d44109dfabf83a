//! Faults the lab injects: a server losing its heartbeat, a VM stopped behind VMAPI's back.

use chrono::Utc;

use super::vm::VmState;
use super::{Change, World, WorldError};

impl World {
    /// Marks a server up or down (CNAPI `status` running/unknown) and stops or restarts its VMs.
    ///
    /// Going down stops every running VM on it (autoboot is kept); coming back up boots the VMs
    /// whose autoboot is set, as a rebooted compute node does. Returns the changes.
    pub fn set_server_running(
        &mut self,
        uuid_or_hostname: &str,
        running: bool,
    ) -> Result<Vec<Change>, WorldError> {
        let mark = self.changes.len();
        let server = self
            .servers
            .iter_mut()
            .find(|s| s.uuid == uuid_or_hostname || s.hostname == uuid_or_hostname)
            .ok_or_else(|| WorldError::NoServer(uuid_or_hostname.to_string()))?;
        if server.running != running {
            server.running = running;
            let now = Utc::now();
            if running {
                server.last_boot = now;
                server.last_heartbeat = Some(now);
            }
            let (uuid, hostname) = (server.uuid.clone(), server.hostname.clone());
            self.changes.push(Change::ServerStatus {
                uuid: uuid.clone(),
                hostname,
                running,
            });
            let vms: Vec<String> = self
                .vms_on_server(&uuid)
                .iter()
                .filter(|v| {
                    if running {
                        v.state == VmState::Stopped && v.autoboot == Some(true)
                    } else {
                        v.state == VmState::Running
                    }
                })
                .map(|v| v.uuid.clone())
                .collect();
            for vm in vms {
                self.update_vm(&vm, |v| {
                    if running {
                        v.state = VmState::Running;
                        v.boot_timestamp = Some(now);
                    } else {
                        v.state = VmState::Stopped;
                    }
                });
            }
        }
        Ok(self.changes[mark..].to_vec())
    }

    /// Stops or starts a VM (by alias or uuid) directly, as an operator's `vmadm` would.
    pub fn set_vm_running(
        &mut self,
        alias_or_uuid: &str,
        running: bool,
    ) -> Result<Vec<Change>, WorldError> {
        let mark = self.changes.len();
        let uuid = self
            .vm(alias_or_uuid)
            .or_else(|| self.vm_by_alias(alias_or_uuid))
            .map(|v| (v.uuid.clone(), v.state))
            .ok_or_else(|| WorldError::NoVm(alias_or_uuid.to_string()))?;
        match uuid.1 {
            VmState::Running | VmState::Stopped => {}
            other => return Err(WorldError::VmBusy(uuid.0, other.as_str())),
        }
        // As VMAPI's start does: nothing starts on a server that is down.
        let down = self
            .vm(&uuid.0)
            .and_then(|v| v.server_uuid.as_deref())
            .and_then(|s| self.server(s))
            .filter(|s| !s.running);
        if let Some(server) = down.filter(|_| running) {
            return Err(WorldError::ServerDown(
                alias_or_uuid.to_string(),
                server.hostname.clone(),
            ));
        }
        let now = Utc::now();
        self.update_vm(&uuid.0, |v| {
            if running && v.state != VmState::Running {
                v.boot_timestamp = Some(now);
            }
            v.state = if running {
                VmState::Running
            } else {
                VmState::Stopped
            };
            v.autoboot = Some(running);
        });
        Ok(self.changes[mark..].to_vec())
    }
}
