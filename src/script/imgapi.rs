//! `imgapi::` — the datacenter's images (Triton's IMGAPI).

use std::sync::Arc;

use rhai::{Dynamic, ImmutableString, Map, Module, NativeCallContext};

use super::convert::{Result, at, query, to_map};
use super::ctx::ScriptCtx;
use super::register::func;

pub fn module(ctx: &Arc<ScriptCtx>) -> Module {
    let mut m = Module::new();
    m.set_doc("/// IMGAPI: the images core services and VMs are provisioned from.");

    let c = ctx.clone();
    func(
        "ping",
        &[],
        "Map",
        "IMGAPI's health: #{api, ok, status, summary, body}.",
    )
    .set_into_module(&mut m, move |cx: NativeCallContext| {
        at(
            &cx,
            c.call_dc(|dc| dc.imgapi.ping()).and_then(|v| to_map(&v)),
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
    func("get", &["uuid: String"], "Map", GET).set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.imgapi.get(&uuid))
                    .and_then(|v| to_map(&v)),
            )
        },
    );

    let c = ctx.clone();
    func("latest", &["name: String"], "Map", LATEST).set_into_module(
        &mut m,
        move |cx: NativeCallContext, name: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.imgapi.latest(&name))
                    .and_then(|v| match v {
                        Some(image) => to_map(&image),
                        None => Ok(Dynamic::UNIT),
                    }),
            )
        },
    );
    m
}

const LIST: &str = "Images, oldest first: #{uuid, name, version, state, published_at, …}.\n\
Filters: name, version, state (active unless given; all for every state), os, type, owner.\n\
Example: imgapi::list(#{name: \"papi\"}).select([\"uuid\", \"version\", \"published_at\"])";
const GET: &str = "One image by UUID; an unknown one is an error (IMGAPI answers 404).\n\
Example: imgapi::get(sapi::service_named(\"papi\").params.image_uuid).version";
const LATEST: &str = "The newest active image with this name (by published_at), or () when\n\
IMGAPI has none: what `sdcadm up SERVICE` would pick.\n\
Example: imgapi::latest(\"papi\").uuid";

fn list(c: &ScriptCtx, filters: &Map) -> Result<Dynamic> {
    let q = query("imgapi::list", filters)?;
    to_map(&c.call_dc(|dc| dc.imgapi.list(&q))?)
}
