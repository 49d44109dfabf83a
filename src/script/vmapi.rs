//! `vmapi::` — VMs (Triton's VMAPI). Actions answer with the job to wait for.

use std::sync::Arc;

use rhai::{Dynamic, ImmutableString, Map, Module, NativeCallContext};

use super::convert::{Result, at, from_map, query, to_map};
use super::ctx::ScriptCtx;
use super::record_value::rows;
use super::register::func;
use super::vm_record::VmRecord;

pub fn module(ctx: &Arc<ScriptCtx>) -> Module {
    let mut m = Module::new();
    m.set_doc("/// VMAPI: VMs, and the jobs that change them.");

    let c = ctx.clone();
    func(
        "ping",
        &[],
        "Map",
        "VMAPI's health: #{api, ok, status, summary, body}.",
    )
    .set_into_module(&mut m, move |cx: NativeCallContext| {
        at(
            &cx,
            c.call_dc(|dc| dc.vmapi.ping()).and_then(|v| to_map(&v)),
        )
    });

    let c = ctx.clone();
    func("list", &[], "Array", LIST).set_into_module(&mut m, move |cx: NativeCallContext| {
        at(&cx, list(&c, &Map::new()))
    });
    let c = ctx.clone();
    func("list", &["filters: Map"], "Array", LIST)
        .set_into_module(&mut m, move |cx: NativeCallContext, filters: Map| {
            at(&cx, list(&c, &filters))
        });

    let c = ctx.clone();
    func("by_alias", &["alias: String"], "Map", BY_ALIAS).set_into_module(
        &mut m,
        move |cx: NativeCallContext, alias: ImmutableString| at(&cx, by_alias(&c, &alias)),
    );

    let c = ctx.clone();
    func("count", &[], "i64", COUNT).set_into_module(&mut m, move |cx: NativeCallContext| {
        at(&cx, count(&c, &Map::new()))
    });
    let c = ctx.clone();
    func("count", &["filters: Map"], "i64", COUNT)
        .set_into_module(&mut m, move |cx: NativeCallContext, filters: Map| {
            at(&cx, count(&c, &filters))
        });

    let c = ctx.clone();
    func(
        "get",
        &["uuid: String"],
        "Map",
        "One VM by UUID (every field VMAPI has).",
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.vmapi.get(&uuid)).and_then(|v| to_map(&v)),
            )
        },
    );

    let c = ctx.clone();
    func("create", &["payload: Map"], "Map", CREATE)
        .set_into_module(&mut m, move |cx: NativeCallContext, payload: Map| {
            at(&cx, create(&c, payload))
        });

    let c = ctx.clone();
    func(
        "start",
        &["uuid: String"],
        "Map",
        "Starts a VM; returns #{vm_uuid, job_uuid}.",
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.vmapi.start(&uuid))
                    .and_then(|v| to_map(&v)),
            )
        },
    );
    let c = ctx.clone();
    func(
        "stop",
        &["uuid: String"],
        "Map",
        "Stops a VM; returns #{vm_uuid, job_uuid}.",
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.vmapi.stop(&uuid))
                    .and_then(|v| to_map(&v)),
            )
        },
    );
    let c = ctx.clone();
    func(
        "reboot",
        &["uuid: String"],
        "Map",
        "Reboots a VM; returns #{vm_uuid, job_uuid}.",
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.vmapi.reboot(&uuid))
                    .and_then(|v| to_map(&v)),
            )
        },
    );
    let c = ctx.clone();
    func("delete", &["uuid: String"], "Map", DELETE).set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.vmapi.delete(&uuid))
                    .and_then(|v| to_map(&v)),
            )
        },
    );
    m
}

const LIST: &str = "VMs, every page (VMAPI answers 1000 at a time).\n\
Filters go to VMAPI as they are: state, alias (a prefix match!), owner_uuid, server_uuid,\n\
\"tag.smartdc_role\", fields, limit, offset, query, predicate, …\n\
Example: vmapi::list(#{\"tag.smartdc_role\": \"binder\", state: \"active\"})";
const BY_ALIAS: &str = "The VM with exactly this alias, destroyed VMs skipped, or () when there is none\n\
(VMAPI's alias= filter is a prefix match: alias=moray1 also finds moray10). A failed VM\n\
is not an instance: it is returned only when no other VM has the alias.\n\
Example: vmapi::by_alias(\"moray1\").server_uuid";
const COUNT: &str = "How many VMs match the filters (one HEAD request; nothing listed).\n\
Example: vmapi::count(#{state: \"running\"})";
const CREATE: &str = "Queues a VM provision (VMAPI CreateVm); returns #{vm_uuid, job_uuid}.\n\
The VM exists once the job succeeds: jobs::wait(r.job_uuid, 600).";
const DELETE: &str = "Queues the destruction of a VM; returns #{vm_uuid, job_uuid}.";

fn list(c: &ScriptCtx, filters: &Map) -> Result<Dynamic> {
    let q = query("vmapi::list", filters)?;
    let vms = c.call_dc(|dc| dc.vmapi.list_as::<VmRecord>(&q))?;
    Ok(rows(c.dc()?.gate().mode(), vms.into_iter().map(|vm| vm.0)))
}

fn by_alias(c: &ScriptCtx, alias: &str) -> Result<Dynamic> {
    let q = vec![("alias".to_string(), alias.to_string())];
    let found: Vec<crate::dc::vm::Vm> = c
        .call_dc(|dc| dc.vmapi.list(&q))?
        .into_iter()
        .filter(|vm| vm.alias.as_deref() == Some(alias) && vm.state != "destroyed")
        .collect();
    let mut found = without_failed(found);
    match found.len() {
        0 => Ok(Dynamic::UNIT),
        1 => to_map(&found.remove(0)),
        n => Err(format!(
            "{n} VMs are named {alias}: {} (use a uuid)",
            found
                .iter()
                .map(|vm| vm.uuid.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
        .into()),
    }
}

/// A failed provision leaves a VM behind that is no instance: once
/// another VM has the alias (the retry), the failed ones are not counted;
/// alone, the last failed one says what happened.
fn without_failed(mut vms: Vec<crate::dc::vm::Vm>) -> Vec<crate::dc::vm::Vm> {
    let (failed, live): (Vec<_>, Vec<_>) = vms.drain(..).partition(|vm| vm.state == "failed");
    if live.is_empty() {
        failed.into_iter().last().into_iter().collect()
    } else {
        live
    }
}

fn create(c: &ScriptCtx, payload: Map) -> Result<Dynamic> {
    let body: serde_json::Value = from_map("vmapi::create", "payload", &payload.into())?;
    to_map(&c.call_dc(|dc| dc.vmapi.create(&body))?)
}

fn count(c: &ScriptCtx, filters: &Map) -> Result<rhai::INT> {
    let q = query("vmapi::count", filters)?;
    let n = c.call_dc(|dc| dc.vmapi.count(&q))?;
    Ok(rhai::INT::try_from(n).unwrap_or(rhai::INT::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm(uuid: &str, state: &str) -> crate::dc::vm::Vm {
        serde_json::from_value(serde_json::json!({
            "uuid": uuid, "alias": "binder2", "state": state, "server_uuid": null,
            "owner_uuid": "o", "tags": {}
        }))
        .expect("a VM")
    }

    #[test]
    fn a_failed_vm_counts_only_when_nothing_else_has_the_alias() {
        let uuids = |vms: Vec<crate::dc::vm::Vm>| -> Vec<String> {
            without_failed(vms).into_iter().map(|v| v.uuid).collect()
        };
        assert_eq!(
            uuids(vec![vm("a", "failed"), vm("b", "provisioning")]),
            ["b"]
        );
        assert_eq!(uuids(vec![vm("a", "failed"), vm("b", "failed")]), ["b"]);
        assert_eq!(
            uuids(vec![vm("a", "running"), vm("b", "stopped")]),
            ["a", "b"]
        );
        assert!(uuids(Vec::new()).is_empty());
    }
}
