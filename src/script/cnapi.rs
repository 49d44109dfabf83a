//! `cnapi::` — servers, i.e. compute nodes (Triton's CNAPI).

use std::sync::Arc;

use rhai::{Dynamic, ImmutableString, Map, Module, NativeCallContext};

use super::convert::{Result, at, is_uuid, one, query, to_map};
use super::ctx::ScriptCtx;
use super::record_value::typed_rows;
use super::register::func;

pub fn module(ctx: &Arc<ScriptCtx>) -> Module {
    let mut m = Module::new();
    m.set_doc("/// CNAPI: the servers (compute nodes) of the datacenter.");

    let c = ctx.clone();
    func(
        "ping",
        &[],
        "Map",
        "CNAPI's health: #{api, ok, status, summary, body}.",
    )
    .set_into_module(&mut m, move |cx: NativeCallContext| {
        at(
            &cx,
            c.call_dc(|dc| dc.cnapi.ping()).and_then(|v| to_map(&v)),
        )
    });

    let c = ctx.clone();
    func("servers", &[], "Array", SERVERS).set_into_module(&mut m, move |cx: NativeCallContext| {
        at(&cx, servers(&c, &Map::new()))
    });
    let c = ctx.clone();
    func("servers", &["filters: Map"], "Array", SERVERS)
        .set_into_module(&mut m, move |cx: NativeCallContext, filters: Map| {
            at(&cx, servers(&c, &filters))
        });

    let c = ctx.clone();
    func("server", &["uuid_or_hostname: String"], "Map", SERVER)
        .set_into_module(&mut m, move |cx: NativeCallContext, id: ImmutableString| {
            at(&cx, server(&c, &id))
        });

    let c = ctx.clone();
    func("forget", &["uuid_or_hostname: String"], "()", FORGET).set_into_module(
        &mut m,
        move |cx: NativeCallContext, id: ImmutableString| {
            at(
                &cx,
                server_uuid(&c, &id).and_then(|uuid| c.call_dc(|dc| dc.cnapi.delete_server(&uuid))),
            )
        },
    );
    m
}

const SERVERS: &str = "Servers, every page.\n\
Filters (CNAPI refuses others): uuids, setup, headnode, reserved, reservoir, hostname,\n\
extras (\"sysinfo,vms,…\"), fields, limit, offset.\n\
Example: cnapi::servers(#{setup: true}).select([\"hostname\", \"status\"])";
const SERVER: &str = "One server by UUID or hostname, with everything CNAPI knows.\n\
That is sysinfo, vms, agents and capacity too.\n\
Example: cnapi::server(\"headnode\").status";
const FORGET: &str = "Removes CNAPI's record of a server (by UUID or hostname), as\n\
`sdc-cnapi /servers/UUID -X DELETE` does after the server is lost for good.\n\
Nothing reaches the machine; a live server registers itself again.\n\
Example: cnapi::forget(\"cn2\")";

fn servers(c: &ScriptCtx, filters: &Map) -> Result<Dynamic> {
    let q = query("cnapi::servers", filters)?;
    let found = c.call_dc(|dc| dc.cnapi.list_servers(&q))?;
    Ok(typed_rows(c.dc()?.gate().mode(), &found)?)
}

/// A server's UUID from its UUID or hostname.
fn server_uuid(c: &ScriptCtx, id: &str) -> Result<String> {
    if is_uuid(id) {
        return Ok(id.to_string());
    }
    let q = vec![("hostname".to_string(), id.to_string())];
    let found = c.call_dc(|dc| dc.cnapi.list_servers(&q))?;
    Ok(one(found, "CNAPI server", id, "cnapi::servers()", |s| &s.uuid)?.uuid)
}

fn server(c: &ScriptCtx, id: &str) -> Result<Dynamic> {
    let uuid = server_uuid(c, id)?;
    // The list gives a summary; the full record comes from GetServer.
    to_map(&c.call_dc(|dc| dc.cnapi.get_server(&uuid))?)
}
