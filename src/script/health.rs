//! `health()`: every core instance and service, as `tritonsh health` shows
//! them (see `dc::service_health`).

use std::sync::Arc;

use rhai::Engine;

use super::convert::to_map;
use super::ctx::ScriptCtx;
use super::register::func;
use crate::dc::service_health::check;

const DOC: &str = "The health of every core instance and service, all checked at once:\n\
#{healthy, causes, services: [#{service, healthy, unknown, total, summary, at_risk, one_more_loss}],\n\
instances: [#{service, alias, instance, server, server_status, vm_state, ip, binder, ping,\n\
healthy, verdict: \"healthy\"|\"unhealthy\"|\"unknown\", problems, unknown}]}. causes says once\n\
what kept something unknown (VMAPI does not answer: …). binder is `registered` when every member answers the instance's\n\
address; ping is checked for sapi, vmapi, cnapi and imgapi, `not checked` elsewhere.\n\
Example: health().instances.filter(|i| !i.healthy).select([\"alias\", \"server\", \"problems\"])";

pub fn register(engine: &mut Engine, ctx: &Arc<ScriptCtx>) {
    let c = ctx.clone();
    func("health", &[], "Map", DOC)
        .register_into_engine(engine, move || to_map(&c.call_dc(check)?));
}
