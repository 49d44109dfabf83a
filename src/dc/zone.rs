//! Commands inside zones, as Triton's tools run them from the headnode
//! (`sdc-oneachnode -n SERVER 'zlogin VM …'`), but over HTTP: CNAPI's
//! CommandExecute on the zone's server, with a script that `zlogin`s.

use super::Datacenter;
use super::cnapi::ExecOutput;
use super::error::DcError;

impl Datacenter {
    /// Runs `command` in the zone of VM `vm_uuid` on its server. A command
    /// that ran and failed is an answer (its exit code), not an error.
    pub async fn zone_exec(&self, vm_uuid: &str, command: &str) -> Result<ExecOutput, DcError> {
        let zone = |detail: String| DcError::Zone {
            vm: vm_uuid.to_string(),
            detail,
        };
        if command.trim().is_empty() || command.contains('\n') {
            return Err(zone("the command must be one non-empty line".into()));
        }
        let vm = self.vmapi.get(vm_uuid).await?;
        let server = vm
            .server_uuid
            .ok_or_else(|| zone("VMAPI gives it no server: it was never provisioned".into()))?;
        if vm.state != "running" {
            return Err(zone(format!(
                "it is {}: zlogin needs a running zone (start it first)",
                vm.state
            )));
        }
        let script = format!("#!/bin/bash\nzlogin {vm_uuid} {command}\n");
        self.cnapi.execute(&server, &script).await
    }

    /// `svcadm VERB FMRI` in the zone; a non-zero exit is an error with
    /// svcadm's own words.
    pub async fn svcadm(
        &self,
        vm_uuid: &str,
        verb: &str,
        fmri: &str,
    ) -> Result<ExecOutput, DcError> {
        if !["enable", "disable", "restart"].contains(&verb) {
            return Err(DcError::Zone {
                vm: vm_uuid.to_string(),
                detail: format!("svcadm {verb}: the verbs are enable, disable and restart"),
            });
        }
        let out = self
            .zone_exec(vm_uuid, &format!("/usr/sbin/svcadm {verb} -s {fmri}"))
            .await?;
        if out.exit_code != 0 {
            return Err(DcError::Zone {
                vm: vm_uuid.to_string(),
                detail: format!(
                    "svcadm {verb} {fmri} exited {}: {}",
                    out.exit_code,
                    out.stderr.trim().replace('\n', " ")
                ),
            });
        }
        Ok(out)
    }
}
