//! `binder::` — asking binder, the datacenter's DNS, as a client of the
//! core services does, and the health of its members.

use std::sync::Arc;

use rhai::{Array, Dynamic, ImmutableString, Module, NativeCallContext};

use super::convert::{at, to_map};
use super::ctx::ScriptCtx;
use super::register::func;
use crate::dc::binder_dns::{lookup_a, lookup_a_each, lookup_each, lookup_srv};
use crate::dc::binder_status::{dns_servers, status, zone};
use crate::dc::{Datacenter, DcError};

pub fn module(ctx: &Arc<ScriptCtx>) -> Module {
    let mut m = Module::new();
    m.set_doc("/// Binder: names resolved through the datacenter's DNS, and its members' health.");

    let c = ctx.clone();
    func("lookup", &["name: String"], "Array", LOOKUP).set_into_module(
        &mut m,
        move |cx: NativeCallContext, name: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| async move {
                    let (servers, name) = ask(dc, &name, false).await?;
                    lookup_a(&servers, &name).await
                })
                .map(|ips| {
                    ips.into_iter()
                        .map(|ip| Dynamic::from(ip.to_string()))
                        .collect::<Array>()
                }),
            )
        },
    );

    let c = ctx.clone();
    func("lookup_each", &["name: String"], "Array", LOOKUP_EACH).set_into_module(
        &mut m,
        move |cx: NativeCallContext, name: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| async move {
                    let (servers, name) = ask(dc, &name, false).await?;
                    Ok::<_, DcError>(lookup_a_each(&servers, &name).await)
                })
                .and_then(|answers| to_map(&answers)),
            )
        },
    );

    let c = ctx.clone();
    func("srv", &["name: String"], "Array", SRV).set_into_module(
        &mut m,
        move |cx: NativeCallContext, name: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| async move {
                    let (servers, name) = ask(dc, &name, true).await?;
                    lookup_srv(&servers, &name).await
                })
                .and_then(|records| to_map(&records)),
            )
        },
    );

    let c = ctx.clone();
    func("each", &["name: String"], "Array", EACH).set_into_module(
        &mut m,
        move |cx: NativeCallContext, name: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| async move {
                    let (servers, zone) = futures::try_join!(dns_servers(dc), zone(dc))?;
                    let names = zone
                        .qualify(&name)
                        .and_then(|a| Ok((a, zone.srv_name(&name)?)));
                    let (a_name, srv_name) = names.map_err(|detail| DcError::Binder {
                        servers: servers.clone(),
                        detail,
                    })?;
                    Ok::<_, DcError>(lookup_each(&servers, &a_name, &srv_name).await)
                })
                .and_then(|answers| to_map(&answers)),
            )
        },
    );

    let c = ctx.clone();
    func("status", &[], "Array", STATUS).set_into_module(&mut m, move |cx: NativeCallContext| {
        at(&cx, c.call_dc(status).and_then(|members| to_map(&members)))
    });
    m
}

/// The servers to ask and the full name to ask them.
async fn ask(
    dc: &Datacenter,
    name: &str,
    srv: bool,
) -> Result<(Vec<std::net::SocketAddr>, String), DcError> {
    let (servers, zone) = futures::try_join!(dns_servers(dc), zone(dc))?;
    let name = if srv {
        zone.srv_name(name)
    } else {
        zone.qualify(name)
    };
    match name {
        Ok(name) => Ok((servers, name)),
        Err(detail) => Err(DcError::Binder { servers, detail }),
    }
}

const LOOKUP: &str = "The addresses binder gives for a name (its A records), sorted: the live\n\
instances of a service. A short name completes to NAME.<datacenter_name>.<dns_domain>.\n\
An unknown name is an error (binder answers REFUSED), as is a name outside the zone.\n\
Example: binder::lookup(\"moray\")";

const LOOKUP_EACH: &str = "Every binder member asked the same name at once, each on its own:\n\
#{server, addresses, error}; error says why a member gave no answer (silent, REFUSED).\n\
Members mirror ZooKeeper each through its own watch: this shows one that lags.\n\
Example: binder::lookup_each(\"papi\").filter(|m| !(\"127.1.0.30\" in m.addresses))";

const SRV: &str = "A service's SRV records: #{target, port, priority, weight, address}, the\n\
address from binder's additional records. A short name asks _NAME._tcp.NAME.<dc>.<domain>.\n\
Example: binder::srv(\"moray\").map(|r| `${r.address}:${r.port}`)";

const EACH: &str = "What every binder member answers for a service, each asked on its own (a client\n\
may be given any of them): #{member (ip:port), a (addresses), srv (#{target, port, priority,\n\
weight, address}), problem (why an answer is missing, or ())}. A short name asks NAME.<dc>.<domain>\n\
(A) and _NAME._tcp.NAME.<dc>.<domain> (SRV).\n\
Example: binder::each(\"moray\").filter(|m| !(\"10.99.99.40\" in m.a))";

const STATUS: &str = "Every binder member, asked at once (the VMs from VMAPI, the real tag query):\n\
#{alias, vm_uuid, vm_state, server, address, ruok, mode, zxid, latency, outstanding,\n\
node_count, followers (leader), dns_address, dns (answers sapi.<dc>.<domain>), problem}.\n\
mode is leader, follower, standalone, \"not serving\" (no quorum) or \"down\".\n\
With VMAPI gone (the headnode down) the members are the configured ZooKeeper list, by address.\n\
Example: binder::status().filter(|m| m.problem != ())";
