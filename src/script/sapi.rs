//! `sapi::` — applications, services and instances (Triton's SAPI).

use std::sync::Arc;

use rhai::{Dynamic, ImmutableString, Map, Module, NativeCallContext};

use super::convert::{Result, at, from_map, is_uuid, one, query, to_map};
use super::ctx::ScriptCtx;
use super::record_value::typed_rows;
use super::register::func;
use crate::dc::sapi::{Application, NewInstance, ProvisionMode, Service, UpdateRequest};

pub fn module(ctx: &Arc<ScriptCtx>) -> Module {
    let mut m = Module::new();
    m.set_doc("/// SAPI: applications → services → instances.");

    let c = ctx.clone();
    func(
        "ping",
        &[],
        "Map",
        "SAPI's health: #{api, ok, status, summary, body}.",
    )
    .set_into_module(&mut m, move |cx: NativeCallContext| {
        at(&cx, c.call_dc(|dc| dc.sapi.ping()).and_then(|v| to_map(&v)))
    });

    let c = ctx.clone();
    func(
        "mode",
        &[],
        "String",
        "SAPI's mode: \"full\", or \"proto\" during setup.",
    )
    .set_into_module(&mut m, move |cx: NativeCallContext| {
        at(&cx, c.call_dc(|dc| dc.sapi.get_mode()))
    });

    let c = ctx.clone();
    func("applications", &[], "Array", APPLICATIONS)
        .set_into_module(&mut m, move |cx: NativeCallContext| {
            at(&cx, applications(&c, &Map::new()))
        });
    let c = ctx.clone();
    func("applications", &["filters: Map"], "Array", APPLICATIONS)
        .set_into_module(&mut m, move |cx: NativeCallContext, filters: Map| {
            at(&cx, applications(&c, &filters))
        });
    let c = ctx.clone();
    func("application", &["uuid_or_name: String"], "Map", APPLICATION).set_into_module(
        &mut m,
        move |cx: NativeCallContext, id: ImmutableString| {
            at(&cx, application(&c, &id).and_then(|a| to_map(&a)))
        },
    );

    let c = ctx.clone();
    func("services", &[], "Array", SERVICES)
        .set_into_module(&mut m, move |cx: NativeCallContext| {
            at(&cx, services(&c, &Map::new()))
        });
    let c = ctx.clone();
    func("services", &["filters: Map"], "Array", SERVICES)
        .set_into_module(&mut m, move |cx: NativeCallContext, filters: Map| {
            at(&cx, services(&c, &filters))
        });
    let c = ctx.clone();
    func("service", &["uuid_or_name: String"], "Map", SERVICE).set_into_module(
        &mut m,
        move |cx: NativeCallContext, id: ImmutableString| {
            at(&cx, service(&c, &id).and_then(|a| to_map(&a)))
        },
    );

    let c = ctx.clone();
    func("service_named", &["name: String"], "Map", SERVICE_NAMED).set_into_module(
        &mut m,
        move |cx: NativeCallContext, name: ImmutableString| {
            at(&cx, service_named(&c, &name).and_then(|s| to_map(&s)))
        },
    );
    let c = ctx.clone();
    func("instance_named", &["alias: String"], "Map", INSTANCE_NAMED).set_into_module(
        &mut m,
        move |cx: NativeCallContext, alias: ImmutableString| at(&cx, instance_named(&c, &alias)),
    );

    let c = ctx.clone();
    func("instances", &[], "Array", INSTANCES)
        .set_into_module(&mut m, move |cx: NativeCallContext| {
            at(&cx, instances(&c, Map::new()))
        });
    let c = ctx.clone();
    func("instances", &["filters: Map"], "Array", INSTANCES)
        .set_into_module(&mut m, move |cx: NativeCallContext, filters: Map| {
            at(&cx, instances(&c, filters))
        });
    let c = ctx.clone();
    func(
        "instance",
        &["uuid: String"],
        "Map",
        "One SAPI instance by UUID (= its VM's UUID).",
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.sapi.get_instance(&uuid))
                    .and_then(|v| to_map(&v)),
            )
        },
    );

    let c = ctx.clone();
    func("create_instance", &["instance: Map"], "Map", CREATE).set_into_module(
        &mut m,
        move |cx: NativeCallContext, instance: Map| {
            at(&cx, create_instance(&c, instance, ProvisionMode::Blocking))
        },
    );
    let c = ctx.clone();
    func(
        "create_instance",
        &["instance: Map", "options: Map"],
        "Map",
        CREATE_ASYNC,
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, instance: Map, options: Map| {
            at(&cx, create_instance_with(&c, instance, &options))
        },
    );

    let c = ctx.clone();
    func(
        "update_application",
        &["uuid_or_name: String", "changes: Map"],
        "Map",
        UPDATE_APPLICATION,
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, id: ImmutableString, changes: Map| {
            at(&cx, update_application(&c, &id, changes))
        },
    );
    let c = ctx.clone();
    func(
        "update_service",
        &["uuid_or_name: String", "changes: Map"],
        "Map",
        UPDATE_SERVICE,
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, id: ImmutableString, changes: Map| {
            at(&cx, update_service(&c, &id, changes))
        },
    );
    let c = ctx.clone();
    func(
        "update_instance",
        &["uuid: String", "changes: Map"],
        "Map",
        UPDATE_INSTANCE,
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString, changes: Map| {
            at(&cx, update_instance(&c, &uuid, changes))
        },
    );

    let c = ctx.clone();
    func(
        "upgrade_instance",
        &["uuid: String", "image_uuid: String"],
        "Map",
        UPGRADE_INSTANCE,
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString, image: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.sapi.upgrade_instance(&uuid, &image))
                    .and_then(|v| to_map(&v)),
            )
        },
    );

    let c = ctx.clone();
    func("delete_instance", &["uuid: String"], "()", DELETE).set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString| {
            at(&cx, c.call_dc(|dc| dc.sapi.delete_instance(&uuid)))
        },
    );

    let c = ctx.clone();
    func("config", &["uuid: String"], "Map", CONFIG).set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.sapi.get_config(&uuid))
                    .and_then(|v| to_map(&v)),
            )
        },
    );
    let c = ctx.clone();
    func("payload", &["uuid: String"], "Map", PAYLOAD).set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.sapi.get_payload(&uuid))
                    .and_then(|v| to_map(&v)),
            )
        },
    );
    m
}

const UPGRADE_INSTANCE: &str = "Reprovisions an instance's VM to another image (SAPI UpgradeInstance).\n\
SAPI waits for VMAPI's reprovision job, so this takes as long as the VM takes to boot\n\
again; the instance keeps its uuid and IPs. The answer is the instance as it was: SAPI\n\
records the image nowhere, so update the service's params.image_uuid for new instances.\n\
Example: sapi::upgrade_instance(sapi::instance_named(\"papi1\").uuid, imgapi::latest(\"papi\").uuid)";
const APPLICATIONS: &str = "SAPI applications (Triton's is \"sdc\").\n\
Filters: name, owner_uuid, include_master (SAPI knows no others).\n\
Example: sapi::applications(#{name: \"sdc\"})";
const APPLICATION: &str = "One SAPI application by UUID or by name.\n\
Example: sapi::application(\"sdc\").metadata.datacenter_name";
const SERVICES: &str = "SAPI services.\n\
Filters: name, application_uuid, type (\"vm\" or \"agent\"), include_master.\n\
Example: sapi::services(#{type: \"vm\"}).select([\"name\", \"uuid\"])";
const SERVICE: &str = "One SAPI service by UUID or by name.\n\
Example: sapi::service(\"binder\").params.image_uuid";
const SERVICE_NAMED: &str = "The service with exactly this name; an error that lists the services when there is none.\n\
Example: sapi::service_named(\"moray\").params.image_uuid";
const INSTANCE_NAMED: &str = "The instance whose alias (params.alias) or UUID is exactly this, or () when there is none.\n\
Example: let i = sapi::instance_named(\"moray2\"); if i == () { print(\"no moray2\") }";
const INSTANCES: &str = "SAPI instances (an instance's UUID is its VM's UUID; its alias is params.alias).\n\
Filters: service (a service name or UUID), service_uuid, type, include_master.\n\
Example: sapi::instances(#{service: \"manatee\"}).get(\"params.alias\")";
const CREATE: &str = "Provisions an instance and waits for its VM (minutes).\n\
instance: #{service_uuid, params: #{alias, server_uuid, …}, metadata: #{…}}; returns the instance.";
const CREATE_ASYNC: &str = "Provisions an instance; #{\"async\": true} returns without waiting (quoted: async is a reserved word in Rhai).\n\
The instance then has job_uuid: wait with jobs::wait(inst.job_uuid, 600).";
const UPDATE_SERVICE: &str = "Changes a service's params, metadata or manifests.\n\
changes: #{action: \"update\"|\"replace\"|\"delete\", params: #{…}, metadata: #{…}}. Existing VMs are not changed.";
const UPDATE_APPLICATION: &str = "Changes an application's params, metadata or manifests, like update_service\n\
(sapiadm update). Example: sapi::update_application(\"sdc\", #{metadata: #{ZK_SERVERS: servers}})";
const UPDATE_INSTANCE: &str =
    "Changes an instance's params/metadata/manifests, like update_service.";
const DELETE: &str =
    "Deletes an instance: SAPI destroys its VM first and waits for that (minutes).";
const CONFIG: &str = "The config an instance's config-agent sees: #{manifests, metadata}.";
const PAYLOAD: &str = "The VMAPI CreateVm body SAPI would send for an instance.";

fn applications(c: &ScriptCtx, filters: &Map) -> Result<Dynamic> {
    let q = query("sapi::applications", filters)?;
    let found = c.call_dc(|dc| dc.sapi.list_applications(&q))?;
    Ok(typed_rows(c.dc()?.gate().mode(), &found)?)
}

fn application(c: &ScriptCtx, id: &str) -> Result<Application> {
    if is_uuid(id) {
        return c.call_dc(|dc| dc.sapi.get_application(id));
    }
    let q = vec![("name".to_string(), id.to_string())];
    let found = c.call_dc(|dc| dc.sapi.list_applications(&q))?;
    one(found, "SAPI application", id, "sapi::applications()", |a| {
        &a.uuid
    })
}

fn services(c: &ScriptCtx, filters: &Map) -> Result<Dynamic> {
    let q = query("sapi::services", filters)?;
    let found = c.call_dc(|dc| dc.sapi.list_services(&q))?;
    Ok(typed_rows(c.dc()?.gate().mode(), &found)?)
}

fn service(c: &ScriptCtx, id: &str) -> Result<Service> {
    if is_uuid(id) {
        return c.call_dc(|dc| dc.sapi.get_service(id));
    }
    let q = vec![("name".to_string(), id.to_string())];
    let found = c.call_dc(|dc| dc.sapi.list_services(&q))?;
    one(found, "SAPI service", id, "sapi::services()", |s| &s.uuid)
}

fn service_named(c: &ScriptCtx, name: &str) -> Result<Service> {
    let q = vec![("name".to_string(), name.to_string())];
    let found = c.call_dc(|dc| dc.sapi.list_services(&q))?;
    if found.is_empty() {
        let everything = Vec::new();
        let mut names: Vec<String> = c
            .call_dc(|dc| dc.sapi.list_services(&everything))?
            .into_iter()
            .map(|s| s.name)
            .collect();
        names.sort();
        return Err(format!(
            "SAPI has no service named {name} (services: {})",
            names.join(", ")
        )
        .into());
    }
    one(found, "SAPI service", name, "sapi::services()", |s| &s.uuid)
}

/// Instances come and go (a step asks whether one exists yet), so absence
/// is an answer, not an error.
fn instance_named(c: &ScriptCtx, alias: &str) -> Result<Dynamic> {
    let everything = Vec::new();
    let all = c.call_dc(|dc| dc.sapi.list_instances(&everything))?;
    let found: Vec<_> = all
        .into_iter()
        .filter(|i| {
            i.uuid == alias || i.params.get("alias").and_then(|a| a.as_str()) == Some(alias)
        })
        .collect();
    if found.is_empty() {
        return Ok(Dynamic::UNIT);
    }
    to_map(&one(
        found,
        "SAPI instance",
        alias,
        "sapi::instances()",
        |i| &i.uuid,
    )?)
}

/// `service: NAME` is ours, not SAPI's: it becomes `service_uuid`.
fn instances(c: &ScriptCtx, mut filters: Map) -> Result<Dynamic> {
    if let Some(name) = filters.remove("service") {
        let name = name.into_immutable_string().map_err(|t| {
            format!("sapi::instances: filter service must be a name or uuid, not {t}")
        })?;
        filters.insert("service_uuid".into(), service(c, &name)?.uuid.into());
    }
    let q = query("sapi::instances", &filters)?;
    let found = c.call_dc(|dc| dc.sapi.list_instances(&q))?;
    Ok(typed_rows(c.dc()?.gate().mode(), &found)?)
}

fn create_instance(c: &ScriptCtx, instance: Map, mode: ProvisionMode) -> Result<Dynamic> {
    let body: NewInstance = from_map("sapi::create_instance", "instance", &instance.into())?;
    to_map(&c.call_dc(|dc| dc.sapi.create_instance(&body, mode))?)
}

fn create_instance_with(c: &ScriptCtx, instance: Map, options: &Map) -> Result<Dynamic> {
    // A misspelt option would otherwise provision, and wait, as if unsaid.
    if let Some(key) = options.keys().find(|k| k.as_str() != "async") {
        return Err(format!(
            "sapi::create_instance: unknown option '{key}' (the only one is \"async\")"
        )
        .into());
    }
    let is_async = match options.get("async") {
        None => false,
        Some(v) => v.as_bool().map_err(|t| {
            format!("sapi::create_instance: option async must be true or false, not {t}")
        })?,
    };
    let mode = if is_async {
        ProvisionMode::Async
    } else {
        ProvisionMode::Blocking
    };
    create_instance(c, instance, mode)
}

fn update_service(c: &ScriptCtx, id: &str, changes: Map) -> Result<Dynamic> {
    let changes = update_request("sapi::update_service", changes)?;
    let uuid = if is_uuid(id) {
        id.to_string()
    } else {
        service(c, id)?.uuid
    };
    to_map(&c.call_dc(|dc| dc.sapi.update_service(&uuid, &changes))?)
}

fn update_application(c: &ScriptCtx, id: &str, changes: Map) -> Result<Dynamic> {
    let changes = update_request("sapi::update_application", changes)?;
    let uuid = if is_uuid(id) {
        id.to_string()
    } else {
        application(c, id)?.uuid
    };
    to_map(&c.call_dc(|dc| dc.sapi.update_application(&uuid, &changes))?)
}

fn update_instance(c: &ScriptCtx, uuid: &str, changes: Map) -> Result<Dynamic> {
    let changes = update_request("sapi::update_instance", changes)?;
    to_map(&c.call_dc(|dc| dc.sapi.update_instance(uuid, &changes))?)
}

fn update_request(function: &str, changes: Map) -> Result<UpdateRequest> {
    const KEYS: &[&str] = &["action", "params", "metadata", "manifests"];
    if let Some(key) = changes.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "{function}: {key} cannot be changed (only action, params, metadata, manifests)"
        )
        .into());
    }
    from_map(function, "changes", &changes.into())
}
