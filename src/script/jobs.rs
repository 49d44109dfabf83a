//! `jobs::` — workflow jobs: what a VMAPI 202 started, and how it ended.

use std::sync::Arc;
use std::time::Duration;

use rhai::{Dynamic, FLOAT, INT, ImmutableString, Map, Module, NativeCallContext};

use super::convert::{Result, at, query, to_map};
use super::ctx::ScriptCtx;
use super::register::func;

pub fn module(ctx: &Arc<ScriptCtx>) -> Module {
    let mut m = Module::new();
    m.set_doc("/// Workflow jobs, read through VMAPI.");

    let c = ctx.clone();
    func(
        "get",
        &["uuid: String"],
        "Map",
        "One job: #{uuid, name, execution, chain_results, …}.",
    )
    .set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString| {
            at(
                &cx,
                c.call_dc(|dc| dc.jobs.get(&uuid)).and_then(|v| to_map(&v)),
            )
        },
    );

    let c = ctx.clone();
    func("list", &["filters: Map"], "Array", LIST).set_into_module(
        &mut m,
        move |cx: NativeCallContext, filters: Map| {
            at(
                &cx,
                query("jobs::list", &filters)
                    .and_then(|q| c.call_dc(|dc| dc.jobs.list(&q)))
                    .and_then(|v| to_map(&v)),
            )
        },
    );

    let c = ctx.clone();
    func("wait", &["uuid: String", "seconds: i64"], "Map", WAIT).set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString, seconds: INT| {
            at(&cx, wait(&c, &uuid, seconds as FLOAT))
        },
    );
    let c = ctx.clone();
    func("wait", &["uuid: String", "seconds: f64"], "Map", WAIT).set_into_module(
        &mut m,
        move |cx: NativeCallContext, uuid: ImmutableString, seconds: FLOAT| {
            at(&cx, wait(&c, &uuid, seconds))
        },
    );
    m
}

const LIST: &str = "Jobs, newest first: #{uuid, name, execution, params, chain_results, …}.\n\
Filters (VMAPI's): vm_uuid, task (provision, start, stop, reboot, reprovision, destroy, …), execution.\n\
Example: jobs::list(#{vm_uuid: vmapi::by_alias(\"papi1\").uuid, task: \"reprovision\"})";

const WAIT: &str = "Waits at most `seconds` for a job to finish.\n\
Returns #{outcome: \"succeeded\"|\"failed\"|\"running\", message, job}: \"running\" means the wait\n\
ended first — neither a success nor a failure.\n\
Example: jobs::wait(vmapi::stop(uuid).job_uuid, 120).outcome";

fn wait(c: &ScriptCtx, uuid: &str, seconds: FLOAT) -> Result<Dynamic> {
    // `Duration::from_secs_f64` panics on values too big for a Duration.
    let max = Duration::try_from_secs_f64(seconds).map_err(|_| {
        format!("jobs::wait: seconds must be 0 or more and under 1e19, not {seconds}")
    })?;
    let outcome = c.call_dc(|dc| dc.jobs.wait(uuid, max))?;
    let mut result = Map::new();
    result.insert("outcome".into(), outcome.label().into());
    result.insert("message".into(), outcome.message().into());
    result.insert("job".into(), to_map(outcome.job())?);
    Ok(result.into())
}
