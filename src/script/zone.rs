//! `zone::` — commands inside a core zone, run through CNAPI's
//! CommandExecute with `zlogin`, as Triton's tools do from the headnode.

use std::sync::Arc;

use rhai::{Dynamic, ImmutableString, Module, NativeCallContext};

use super::convert::{Result, at, is_uuid, to_map};
use super::ctx::ScriptCtx;
use super::register::func;

pub fn module(ctx: &Arc<ScriptCtx>) -> Module {
    let mut m = Module::new();
    m.set_doc("/// Commands inside zones (CNAPI CommandExecute + zlogin).");

    let c = ctx.clone();
    func("exec", &["vm: String", "command: String"], "Map", EXEC).set_into_module(
        &mut m,
        move |cx: NativeCallContext, vm: ImmutableString, command: ImmutableString| {
            at(&cx, exec(&c, &vm, &command))
        },
    );
    let c = ctx.clone();
    func(
        "svcadm",
        &["vm: String", "verb: String", "fmri: String"],
        "Map",
        SVCADM,
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext,
              vm: ImmutableString,
              verb: ImmutableString,
              fmri: ImmutableString| { at(&cx, svcadm(&c, &vm, &verb, &fmri)) },
    );
    m
}

const EXEC: &str = "Runs a command in a zone (VM alias or UUID); returns #{stdout, stderr, exit_code}.\n\
A non-zero exit is an answer, not an error. The lab runs only svcadm and config-agent's sync.\n\
Example: zone::exec(\"binder1\", \"/opt/smartdc/config-agent/build/node/bin/node /opt/smartdc/config-agent/agent.js -s\")";
const SVCADM: &str = "svcadm enable|disable|restart FMRI in a zone (waits for the state, -s); an error if it fails.\n\
Example: zone::svcadm(\"binder1\", \"restart\", \"zookeeper\")";

/// A VM alias is looked up exactly (VMAPI's alias= is a prefix match).
fn vm_uuid(c: &ScriptCtx, vm: &str) -> Result<String> {
    if is_uuid(vm) {
        return Ok(vm.to_string());
    }
    let q = vec![("alias".to_string(), vm.to_string())];
    let found: Vec<String> = c
        .call_dc(|dc| dc.vmapi.list(&q))?
        .into_iter()
        .filter(|v| v.alias.as_deref() == Some(vm) && v.state != "destroyed")
        .map(|v| v.uuid)
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("no VM named {vm} (vmapi::list() lists them)").into()),
        many => Err(format!(
            "{} VMs are named {vm}: {} (use a uuid)",
            many.len(),
            many.join(", ")
        )
        .into()),
    }
}

fn record(out: crate::dc::cnapi::ExecOutput) -> Result<Dynamic> {
    to_map(&serde_json::json!({
        "stdout": out.stdout,
        "stderr": out.stderr,
        "exit_code": out.exit_code,
    }))
}

fn exec(c: &ScriptCtx, vm: &str, command: &str) -> Result<Dynamic> {
    let uuid = vm_uuid(c, vm)?;
    record(c.call_dc(|dc| dc.zone_exec(&uuid, command))?)
}

fn svcadm(c: &ScriptCtx, vm: &str, verb: &str, fmri: &str) -> Result<Dynamic> {
    let uuid = vm_uuid(c, vm)?;
    record(c.call_dc(|dc| dc.svcadm(&uuid, verb, fmri))?)
}
